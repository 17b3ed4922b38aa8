"""A donor looks for where help is missing most: the map switched to "unmet need", the most
uncovered kelurahan tapped, one of its needs opened and shared; the needs closest to them; and the
map keeping its places when the tiles do not load."""

import re

import leaflet
import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from locations.models import Region
from needs.models import AidType
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GAMBIR, CIDENG = "31.71.01.1001", "31.71.01.1002"


@pytest.fixture
def portal(live_gambir):
    """Gambir with two needs for 150 people, Cideng with one for 400: Cideng is the least covered.
    Both have their boundary (tests/fixtures/boundaries.geojson)."""
    sembako = AidType.objects.get(name="Paket sembako")
    gambir = factories.SiteFactory(name="RW 03")
    cideng = factories.SiteFactory(
        name="RW 07",
        kelurahan=Region.objects.get(code=CIDENG),
        point=Point(106.806, -6.172, srid=4326),
    )
    factories.NeedFactory(site=gambir, aid_type=sembako, title="Sembako RW 03", beneficiaries=100)
    factories.NeedFactory(site=gambir, aid_type=sembako, title="Sembako lansia", beneficiaries=50)
    factories.NeedFactory(
        site=cideng, aid_type=sembako, title="Sembako warga Cideng", beneficiaries=400
    )


def test_a_donor_finds_the_least_covered_kelurahan_and_shares_a_need(portal, live_server, phone):
    page = phone
    page.goto(live_server.url + "/peta/")
    expect(page.locator("#need-map")).to_have_attribute("data-markers", "3")

    # Without a map, the same figures as a table: the least covered first.
    rows = page.locator(".coverage-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-code", CIDENG)
    expect(rows.first).to_contain_text("400")

    page.get_by_label("Kebutuhan belum tertutup per kelurahan").check()
    expect(page.locator("#need-map")).to_have_attribute("data-areas", "2")
    expect(page.locator("#need-map .need-pin")).to_have_count(0)  # the markers give way
    legend = page.locator("#coverage-legend")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("penerima manfaat belum tertutup")
    expect(page.locator("#status-legend")).to_be_hidden()

    # The darkest area is Cideng's; tapping it lists its needs.
    cideng = page.locator(f'#need-map path[data-code="{CIDENG}"]')
    gambir = page.locator(f'#need-map path[data-code="{GAMBIR}"]')
    expect(cideng).to_have_attribute("fill", "#08519c")
    assert gambir.get_attribute("fill") != "#08519c"
    cideng.click()
    popup = page.locator(".area-popup")
    expect(popup).to_contain_text("Cideng")
    expect(popup).to_contain_text("400 penerima manfaat belum tertutup")
    # The link's own click: a pointer's lands where the link was a frame ago, and the map may still
    # be panning the popup into view on a busy machine.
    popup.get_by_role("link", name="Sembako warga Cideng").dispatch_event("click")

    expect(page).to_have_url(re.compile(r"/kebutuhan/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sembako warga Cideng")
    og_title = page.locator('meta[property="og:title"]')
    expect(og_title).to_have_attribute("content", re.compile("Sembako warga Cideng"))
    expect(page.locator('meta[property="og:image"]')).to_have_attribute(
        "content", re.compile(r"/kartu-id\.png$")
    )
    expect(page.get_by_test_id("share-whatsapp")).to_have_attribute(
        "href", re.compile(r"^https://wa\.me/\?text=.*Sembako\+warga\+Cideng")
    )


def test_the_area_link_lists_its_needs_least_covered_first(portal, live_server, page):
    page.goto(live_server.url + "/peta/")
    page.get_by_label("Kebutuhan belum tertutup per kelurahan").check()
    page.locator(f'#need-map path[data-code="{GAMBIR}"]').click()
    page.locator(".area-popup").get_by_role("link", name="Lihat kebutuhan di sini").dispatch_event(
        "click"
    )
    expect(page).to_have_url(re.compile(rf"kelurahan={re.escape(GAMBIR)}.*sort=least_covered"))
    results = page.locator(".results .result h3")
    expect(results).to_have_text(["Sembako RW 03", "Sembako lansia"])  # 100 people, then 50
    # Back to the markers: the switch works both ways.
    page.get_by_label("Kebutuhan belum tertutup per kelurahan").check()
    expect(page.locator("#need-map")).to_have_attribute("data-areas", "1")
    page.get_by_label("Kebutuhan", exact=True).check()
    expect(page.locator("#need-map .leaflet-marker-icon")).to_have_count(1)  # one site: a cluster
    expect(page.locator("#need-map path[data-code]")).to_have_count(0)
    expect(page.locator("#coverage-legend")).to_be_hidden()
    expect(page.locator("#status-legend")).to_be_visible()


def test_closest_to_me_asks_for_the_place_only_when_tapped(portal, live_server, page, context):
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"longitude": 106.80612, "latitude": -6.17234})  # by RW 07 Cideng
    page.goto(live_server.url + "/peta/")
    expect(page).not_to_have_url(re.compile("near="))
    page.get_by_role("button", name="Terdekat dari saya").click()
    # Rounded to about a kilometre before it leaves the browser.
    expect(page).to_have_url(re.compile(r"near=106\.81%2C-6\.17"))
    expect(page).to_have_url(re.compile(r"sort=closest"))
    first = page.locator(".results .result").first
    expect(first).to_contain_text("Sembako warga Cideng")
    expect(first).to_contain_text("km")
    expect(page.locator(".sort-links [aria-current]")).to_have_text("Terdekat dari saya")


def test_closest_to_me_refused_says_so(portal, live_server, page, context):
    context.clear_permissions()
    page.goto(live_server.url + "/peta/")
    page.get_by_role("button", name="Terdekat dari saya").click()
    expect(page.locator("#closest-error")).to_have_text(
        "Lokasi Anda tidak dapat dibaca; pilih urutan lain."
    )
    expect(page).not_to_have_url(re.compile("near="))


def test_the_map_keeps_its_places_when_the_tiles_do_not_load(
    portal, live_server, page, monkeypatch
):
    """Tiles configured but unreachable (a phone offline, a tile server down): the kelurahan
    boundaries come from the portal itself, so the markers still sit in named places."""
    tiles = "https://tiles.invalid/{z}/{x}/{y}.png"
    monkeypatch.setitem(leaflet.app_settings, "TILES", [("Peta", tiles, {"attribution": "x"})])
    page.route(re.compile(r"^https://tiles\.invalid/"), lambda route: route.abort())
    page.goto(live_server.url + "/peta/")
    expect(page.locator("#need-map")).to_have_attribute("data-markers", "3")
    expect(page.locator("#need-map .leaflet-tile").first).to_be_attached()  # asked for, failed
    expect(page.locator("#need-map .leaflet-overlay-pane path")).to_have_count(2)
    page.get_by_label("Kebutuhan belum tertutup per kelurahan").check()
    expect(page.locator("#need-map")).to_have_attribute("data-areas", "2")


def test_zoomed_in_the_shading_is_per_rw_where_rw_boundaries_are_loaded(
    portal, live_server, page, tmp_path
):
    """RW 01 and RW 02 of Gambir loaded: close up, the map shades RWs, and zoomed out again,
    kelurahan; the note under the map says which."""
    from django.core.management import call_command

    from tests.locations.test_rw_areas import EAST, GAMBIR, WEST, _feature, _file

    path = _file(tmp_path, [_feature(GAMBIR, 1, WEST), _feature(GAMBIR, 2, EAST)])
    call_command("import_rw_areas", str(path), stdout=None)
    page.goto(live_server.url + "/peta/")
    page.get_by_label("Kebutuhan belum tertutup per kelurahan").check()
    need_map = page.locator("#need-map")
    expect(need_map).to_have_attribute("data-level", "rw")  # the areas fit close up
    expect(need_map.locator(f'path[data-code="{GAMBIR}-RW01"]')).to_have_count(1)
    expect(page.locator("#coverage-level")).to_contain_text("per RW")
    need_map.locator(f'path[data-code="{GAMBIR}-RW01"]').click()
    expect(page.locator(".area-popup")).to_contain_text("RW 01, Gambir")
    page.keyboard.press("Escape")
    expect(need_map).to_have_attribute("data-zoom", re.compile(r"^1[4-8]$"))
    _zoom_out_to(page, 12)
    expect(need_map).to_have_attribute("data-level", "kelurahan")
    expect(need_map.locator(f'path[data-code="{GAMBIR}"]')).to_have_count(1)
    expect(page.locator("#coverage-level")).to_contain_text("per kelurahan")


def _zoom_out_to(page, zoom: int) -> None:
    """Zoom out with the map's button, one level at a time: Leaflet drops a click that arrives
    while it is still finishing the last zoom, so a level not reached is clicked for again."""
    need_map = page.locator("#need-map")
    for _ in range(20):
        current = int(need_map.get_attribute("data-zoom"))
        if current <= zoom:
            return
        page.get_by_role("button", name="Zoom out").click()
        try:
            expect(need_map).to_have_attribute("data-zoom", str(current - 1), timeout=1500)
        except AssertionError:
            continue
    raise AssertionError(f"the map did not zoom out to {zoom}")


def test_back_to_the_markers_before_the_figures_arrive(portal, live_server, page):
    """On a slow line the donor may switch back before the areas' figures come: they must not be
    drawn over the markers when they do."""
    held = []

    def hold(route):
        held.append(route)

    page.route(re.compile(r"/api/v1/needs/coverage/"), hold)
    page.goto(live_server.url + "/peta/")
    expect(page.locator("#need-map")).to_have_attribute("data-markers", "3")
    page.get_by_label("Kebutuhan belum tertutup per kelurahan").check()
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the map did not ask for the areas' figures"
    page.get_by_label("Kebutuhan", exact=True).check()
    with page.expect_response(re.compile(r"/api/v1/needs/coverage/")):
        held[0].continue_()
    page.wait_for_timeout(300)  # the figures' promise settles after the response
    expect(page.locator("#need-map path[data-code]")).to_have_count(0)
    expect(page.locator("#need-map")).not_to_have_attribute("data-areas", re.compile(".*"))
    expect(page.locator("#status-legend")).to_be_visible()
