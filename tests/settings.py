"""Settings for the test run: the project's own, with the environment a test needs set first."""

import os

os.environ.setdefault("DEBUG", "1")
# Playwright's sync API runs an event loop in the test thread; the ORM calls beside it are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# No outside requests from test pages: the map draws region boundaries without tiles.
os.environ["KSBB_TILE_URL"] = ""
os.environ["EMAIL_URL"] = "consolemail://"
os.environ["CACHE_URL"] = "locmemcache://ksbb-tests"
# Tests see every change at once; tests/ksbb/test_snapshots.py turns the snapshots on to test them.
os.environ["KSBB_PUBLIC_SNAPSHOT_SECONDS"] = "0"
# No copies of pages either; tests/ksbb/test_http_cache.py turns the page cache on to test it.
os.environ["KSBB_PUBLIC_PAGE_SECONDS"] = "0"
# Jobs run after the commit in the test's process; tests/ksbb/test_worker.py runs the real worker.
os.environ["KSBB_JOBS_EAGER"] = "1"
# Messages to contact persons are kept in memory (recipients.messaging.LocmemBackend.outbox).
os.environ["KSBB_MESSAGING_BACKEND"] = "recipients.messaging.LocmemBackend"
# The replica-routing test adds its own replica alias; an operator's replica is never used.
os.environ.pop("REPLICA_DATABASE_URL", None)

from ksbb.settings import *  # noqa: E402, F403
from ksbb.settings import DATABASES  # noqa: E402

# A test makes dozens of users: their passwords hashed in microseconds rather than a quarter second
# each. The project's hasher stays second, for a test whose user signs in to a server started with
# the project's settings (tests/ksbb/test_serve.py).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# Tests never need a commit to survive a crash of the server.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
# Plain storage: whitenoise's manifest would make live_server answer 404 for hashed names.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
