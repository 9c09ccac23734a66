"""How the browser tests and the benchmark start Debian's Chromium.

Playwright cannot download a browser here, so both drive /usr/bin/chromium
(`apt-get install -y chromium`).
"""

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium tries to reach Google's
# hosts at every start, which a closed network refuses.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
