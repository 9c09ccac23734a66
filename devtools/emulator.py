"""The AWS emulator the project embeds: a moto server, with devtools/moto_patches.py applied.

`make run` starts it inside its own process (devtools/local_stack.py). The
benchmark runs it alone, `python -m devtools.emulator`, so that the app it
measures does not share an interpreter, and so a GIL, with the emulator: on AWS
the services run elsewhere too.
"""

import logging
import os

from devtools import moto_patches
from devtools.stack_process import wait_until_stopped


class Emulator:
    def __init__(self, port: int):
        from moto.server import ThreadedMotoServer

        moto_patches.apply()
        # One line per emulated request (and the event bridge polls every
        # second) would bury the app's own output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        host, bound_port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{bound_port}"

    def stop(self):
        self._server.stop()


def main():
    """Serve on 127.0.0.1:$MOTO_PORT (default 5000; 0 picks a free port) until stopped."""
    emulator = Emulator(int(os.environ.get("MOTO_PORT", "5000")))
    print(f"Emulator: {emulator.endpoint_url}  (Ctrl-C stops)", flush=True)
    try:
        wait_until_stopped()
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
