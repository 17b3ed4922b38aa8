"""Environment for the test run, set before Django reads its settings."""

import os

os.environ.setdefault("DEBUG", "1")
# Playwright's sync API runs an event loop in the test thread; the ORM calls beside it are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# No outside requests from test pages: the map draws region boundaries without tiles.
os.environ["KSBB_TILE_URL"] = ""
os.environ["EMAIL_URL"] = "consolemail://"
