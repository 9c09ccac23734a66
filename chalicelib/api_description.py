"""The API's OpenAPI 3.1 description: `openapi.yaml` beside this module, served as JSON.

It lives in chalicelib/ because Chalice packages only this folder (and app.py)
for Lambda; tests/contract keeps it and the code in step.
"""

import functools
from pathlib import Path

DESCRIPTION_PATH = Path(__file__).with_name("openapi.yaml")


@functools.lru_cache(maxsize=1)
def api_description() -> dict:
    # Imported here: only GET /openapi.json needs YAML, once per container.
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with DESCRIPTION_PATH.open(encoding="utf-8") as source:
        return yaml.load(source, Loader=loader)
