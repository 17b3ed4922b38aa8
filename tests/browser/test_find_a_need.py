"""A donor opens the map, sees markers, filters by category and kota, opens a popup, reaches the need."""

import re

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from playwright.sync_api import expect

from locations.models import Region, Site
from locations.registry import load_regions
from needs.models import AidType
from tests import factories
from tests.conftest import FIXTURES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal(transactional_db):
    """Needs in Jakarta Pusat and Jakarta Utara, in two categories, with Gambir's boundary."""
    load_regions()
    factories.seed_categories()
    call_command(
        "import_regions", str(FIXTURES / "boundaries.geojson"), "--level", "kelurahan", stdout=None
    )
    gambir = factories.SiteFactory(name="RW 03")
    akuarium = factories.SiteFactory(
        name="Kampung Akuarium",
        kind=Site.Kind.KAMPUNG,
        kelurahan=Region.objects.get(code="31.72.01.1001"),
        point=Point(106.8075, -6.1255, srid=4326),
    )
    sembako = AidType.objects.get(name="Paket sembako")
    drainase = AidType.objects.get(name="Perbaikan drainase")
    factories.NeedFactory(
        site=gambir, aid_type=sembako, title="Sembako untuk lansia RW 03", quantity_needed=120
    )
    factories.NeedFactory(
        site=akuarium, aid_type=drainase, title="Drainase Kampung Akuarium", quantity_needed=2
    )
    factories.NeedFactory(
        site=akuarium, aid_type=sembako, title="Sembako Kampung Akuarium", quantity_needed=80
    )


def markers(page) -> int:
    # A locator assertion: wait_for_function runs through eval(), which the CSP refuses.
    expect(page.locator("#need-map")).to_have_attribute("data-markers", re.compile(r"^\d+$"))
    return int(page.get_attribute("#need-map", "data-markers"))


def test_find_filter_and_open_a_need(portal, live_server, page, screenshot):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Peta kebutuhan").first.click()
    expect(page).to_have_url(re.compile(r"/peta/$"))
    assert markers(page) == 3
    expect(page.locator(".results .result")).to_have_count(3)
    expect(
        page.locator(".leaflet-overlay-pane path").first
    ).to_be_attached()  # kelurahan boundaries drawn
    screenshot("map-id-desktop")

    filters = page.locator("details.filters-box")
    if filters.get_attribute("open") is None:  # folded on a phone, open beside the map on a desk
        filters.locator("summary").click()
    page.get_by_label("Kategori").select_option("pangan")
    page.get_by_label("Kota").select_option("31.72")
    page.get_by_role("button", name="Terapkan filter").click()
    expect(page).to_have_url(re.compile(r"category=pangan.*kota=31\.72"))
    expect(page.locator(".results .result")).to_have_count(1)
    expect(page.locator(".results")).to_contain_text("Sembako Kampung Akuarium")
    # The kota narrows the kecamatan on offer to Jakarta Utara's six.
    expect(page.get_by_label("Kecamatan").locator("option")).to_have_count(7)
    assert markers(page) == 1

    page.locator(".need-pin").first.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Sembako Kampung Akuarium")
    expect(popup).to_contain_text("Penjaringan")
    expect(popup).to_contain_text("80")
    popup.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sembako Kampung Akuarium")
    expect(page.get_by_role("link", name="Dukung kebutuhan ini")).to_be_visible()


def test_the_map_on_a_phone(portal, live_server, phone, screenshot):
    requests = []
    phone.on("request", lambda request: requests.append(request.url))
    phone.goto(live_server.url + "/peta/")
    assert markers(phone) == 3
    # Every asset, the boundaries and the layer come from the portal itself: no CDN, no tiles in tests.
    outside = [url for url in requests if not url.startswith(live_server.url)]
    assert requests and not outside, outside
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("map-id-phone")


def test_the_list_and_filters_work_without_javascript(portal, live_server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/peta/?kota=31.71")
    expect(page.locator(".results .result")).to_have_count(1)
    expect(page.locator(".results")).to_contain_text("Sembako untuk lansia RW 03")
    page.get_by_role("link", name="Sembako untuk lansia RW 03").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sembako untuk lansia RW 03")
    context.close()
