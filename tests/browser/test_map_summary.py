"""A phone on a slow link and a large layer (needs.summary): the map draws the needs counted per
kelurahan from the page itself, asks for nothing more until the donor zooms in, then shows the
needs' markers; the filters, the unmet-need switch and the popups work as with the layer alone.
KSBB_MAP_SUMMARY_ABOVE is lowered so that three needs count as a large layer."""

import re

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from locations.models import Region, Site
from needs.models import AidType
from tests import factories
from tests.browser.axe import assert_clean, check_everywhere

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AKUARIUM = "31.72.01.1001"


@pytest.fixture
def portal(live_gambir, settings):
    """Two needs in Gambir (Jakarta Pusat), one in Penjaringan (Jakarta Utara); a large layer."""
    settings.KSBB_MAP_SUMMARY_ABOVE = 0
    sembako = AidType.objects.get(name="Paket sembako")
    drainase = AidType.objects.get(name="Perbaikan drainase")
    gambir = factories.SiteFactory(name="RW 03")
    akuarium = factories.SiteFactory(
        name="Kampung Akuarium",
        kind=Site.Kind.KAMPUNG,
        kelurahan=Region.objects.get(code=AKUARIUM),
        point=Point(106.8075, -6.1255, srid=4326),
    )
    factories.NeedFactory(site=gambir, aid_type=sembako, title="Sembako RW 03")
    factories.NeedFactory(site=gambir, aid_type=drainase, title="Drainase RW 03")
    factories.NeedFactory(site=akuarium, aid_type=sembako, title="Sembako Kampung Akuarium")


def layer_requests(page) -> list[str]:
    asked = []

    def keep(request):
        if "/api/v1/needs/layer/" in request.url:
            asked.append(request.url)

    page.on("request", keep)
    return asked


def test_the_counts_draw_first_and_the_needs_come_when_the_donor_zooms_in(
    portal, live_server, phone
):
    page = phone
    asked = layer_requests(page)
    page.goto(live_server.url + "/peta/")
    map_ = page.locator("#need-map")
    expect(map_).to_have_attribute("data-summary", "3")
    expect(map_).to_have_attribute("data-usable", re.compile(r"^\d+$"))
    expect(page.locator(".results .result")).to_have_count(3)  # the list, with the page
    counts = page.locator("#need-map .need-count")
    expect(counts.first).to_be_visible()
    total = sum(int(text) for text in counts.all_inner_texts())
    assert total == 3  # the bubbles, merged or not, count every need once
    expect(page.locator("#need-map .need-pin")).to_have_count(0)
    page.wait_for_timeout(300)
    assert asked == []  # nothing more until the donor zooms in

    # Tapping the Penjaringan bubble zooms to it: the needs themselves, from the layer.
    bubble = page.locator("#need-map .need-count", has_text=re.compile(r"^1$"))
    if bubble.count() == 0:  # merged with Gambir's at this width: open the merge first
        counts.first.click()
        expect(map_).to_have_attribute("data-markers", "3")
    else:
        bubble.first.dispatch_event("click")
        expect(map_).to_have_attribute("data-markers", "3")
    assert len(asked) == 1
    expect(page.locator("#need-map .need-count")).to_have_count(0)  # the counts gave way
    pin = page.locator("#need-map .need-pin").first
    expect(pin).to_be_visible()
    pin.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text("Sembako")


def test_the_filters_count_the_same_needs_as_their_list(portal, live_server, phone):
    page = phone
    page.goto(live_server.url + "/peta/?category=pangan")
    expect(page.locator("#need-map")).to_have_attribute("data-summary", "2")
    expect(page.locator(".results .result")).to_have_count(2)
    page.goto(live_server.url + "/peta/?kota=31.72")
    expect(page.locator("#need-map")).to_have_attribute("data-summary", "1")
    # One place: the map fits it close enough to show the need itself, from the layer.
    expect(page.locator("#need-map")).to_have_attribute("data-markers", "1")
    expect(page.locator("#need-map .need-pin")).to_have_count(1)


def test_the_unmet_need_switch_works_over_the_counts(portal, live_server, phone):
    page = phone
    page.goto(live_server.url + "/peta/")
    expect(page.locator("#need-map")).to_have_attribute("data-summary", "3")
    page.get_by_label("Kebutuhan belum tertutup per kelurahan").check()
    expect(page.locator("#need-map")).to_have_attribute("data-areas", re.compile(r"^\d+$"))
    expect(page.locator("#need-map .need-count")).to_have_count(0)
    page.get_by_label("Kebutuhan", exact=True).check()
    # The counts again, or the needs themselves if the shading's fit zoomed in to them meanwhile.
    expect(page.locator("#need-map .need-count, #need-map .need-pin").first).to_be_visible()
    expect(page.locator("#need-map")).not_to_have_attribute("data-areas", re.compile(".*"))
    expect(page.locator("#need-map path[data-code]")).to_have_count(0)


def test_the_counts_have_no_accessibility_violation(portal, live_server, browser):
    """The bubbles are buttons (Leaflet's keyboard markers) named by their number. On a desk the
    wider map fits the three needs close enough to show them instead: their markers are checked."""

    def counts_drawn(page):
        expect(page.locator("#need-map")).to_have_attribute("data-summary", "3")
        expect(page.locator("#need-map .need-count, #need-map .need-pin").first).to_be_visible()

    assert_clean(check_everywhere(browser, live_server.url, "/peta/", ready=counts_drawn))
