"""`make rehearse` (`python -m devtools.rehearse`): README's deploy and delete of
the dev stage, rehearsed against the emulator. See __main__.py for how to run it.

One job a module:
- __main__.py: the command: its environment, its refusals, what it prints;
- rehearsal.py: the run: provision, configure, deploy, check, delete, check;
- terraform.py: what infra/*.tf creates and `terraform output -json` prints;
- stage.py: what Chalice deploys for each function, from .chalice/config.json;
- deployment.py: what `chalice deploy` made and `chalice delete` left, checked;
- checks.py: running a check and reporting `ok` or `FAIL`;
- chalice_dir.py: snapshot and restore of .chalice/;
- errors.py: the error that stops the rehearsal.
"""
