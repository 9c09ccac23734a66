"""The environment the rehearsal runs in, and gives `chalice` and the configure
step: only the emulator is reachable from it, whatever this shell has set up.

Credentials, a profile, a config file or a service's own endpoint
(`AWS_ENDPOINT_URL_<SERVICE>`, `ignore_configured_endpoint_urls`) could each
send a request to a real account; none of them reaches the rehearsal.
"""

# Any credentials do for an emulator; these never sign a request AWS accepts.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def rehearsal_environ(environ: dict, endpoint: str, region: str) -> dict:
    """`environ` without any AWS_* variable of its own, plus fake credentials,
    no config or credentials file, `region`, and `endpoint` for every service."""
    kept = {name: value for name, value in environ.items() if not name.startswith("AWS_")}
    return {
        **kept,
        **FAKE_CREDENTIALS,
        # Not even ~/.aws/: its profiles and endpoint settings are the user's.
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": endpoint,
    }


def clients_not_at(clients: dict, endpoint: str) -> list:
    """`service (url)` for each of `clients` (boto3 clients by service name)
    that would send its requests elsewhere than `endpoint`."""
    wanted = endpoint.rstrip("/")
    return [
        f"{name} ({client.meta.endpoint_url})"
        for name, client in sorted(clients.items())
        if (client.meta.endpoint_url or "").rstrip("/") != wanted
    ]
