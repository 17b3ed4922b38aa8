"""Browser tests: Playwright drives Debian's Chromium against Django's live_server.

Playwright cannot download its own browsers here, so the launch points at /usr/bin/chromium, with
the flags that keep it from calling outside hosts. Screenshots go to artifacts/screenshots/.
"""

import os
from pathlib import Path

import pytest

from locations.registry import load_regions
from tests import factories
from tests.conftest import import_test_boundaries

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("KSBB_CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "id-ID", "timezone_id": "Asia/Jakarta"}


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under artifacts/screenshots/NAME.png (kept by the test run)."""

    def take(name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def phone(page):
    """The page at a common phone's size: most donors browse on a phone."""
    page.set_viewport_size({"width": 390, "height": 844})
    return page


@pytest.fixture
def live_gambir(transactional_db):
    """Jakarta's regions, Gambir's and Cideng's test boundaries and the categories, committed where
    the live server's requests see them."""
    load_regions()
    factories.seed_categories()
    import_test_boundaries()


@pytest.fixture
def need(transactional_db):
    """The browser's version of tests/conftest.py's need: an open need for 100 staple-food packages
    at an RW in Gambir, committed where the live server's requests see it."""
    load_regions()
    factories.seed_categories()
    return factories.NeedFactory(title="Paket sembako RW 05 Gambir", quantity_needed=100)
