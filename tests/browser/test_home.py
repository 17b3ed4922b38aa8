"""A visitor lands on the home page in Indonesian and switches it to English."""

import pytest
from playwright.sync_api import expect

from locations.registry import load_regions
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal(transactional_db):
    load_regions()
    factories.seed_categories()
    factories.NeedFactory(title="Paket sembako RW 01 Gambir")


def test_home_speaks_indonesian_and_switches_to_english(portal, live_server, page, screenshot):
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bantu warga Jakarta, tepat sasaran")
    expect(page.get_by_text("Jakarta Pusat")).to_be_visible()
    screenshot("home-id-desktop")

    page.get_by_label("Bahasa").select_option("en")
    page.get_by_role("button", name="Ganti").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Help Jakarta's residents, right on target"
    )
    screenshot("home-en-desktop")


def test_home_fits_a_phone(portal, live_server, phone, screenshot):
    phone.goto(live_server.url + "/")
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("home-id-phone")
