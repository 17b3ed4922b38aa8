"""The public audit: open the transparency page, switch to English, download a CSV and read it."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from donations import services
from locations.registry import load_regions
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pledged(transactional_db, tmp_path):
    load_regions()
    factories.seed_categories()
    gambir = tmp_path / "kecamatan.geojson"
    gambir.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"kode": "31.71.01"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [
                                    [106.80, -6.19],
                                    [106.84, -6.19],
                                    [106.84, -6.16],
                                    [106.80, -6.16],
                                    [106.80, -6.19],
                                ]
                            ],
                        },
                    }
                ],
            }
        )
    )
    call_command("import_regions", str(gambir), stdout=io.StringIO())
    need = factories.NeedFactory(title="Paket sembako RW 07 Gambir", quantity_needed=100)
    services.pledge(
        need=need,
        collaborator=factories.CollaboratorFactory(public_name="Koperasi Terbuka"),
        quantity=40,
    )
    return need


def test_open_switch_to_english_and_download_a_csv(pledged, live_server, page, screenshot):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Transparansi", exact=True).click()
    expect(page.get_by_test_id("collaborators-total")).to_have_text("1")
    # The choropleth shades Kecamatan Gambir, the one with a boundary, and explains its colours.
    # A locator assertion: wait_for_function runs through eval(), which the CSP refuses.
    expect(page.locator("#choropleth-map")).to_have_attribute("data-shapes", "1")
    expect(page.locator("#choropleth-legend li")).to_have_count(1)  # one collaborator: one class
    expect(page.locator("#choropleth-legend")).to_contain_text("0–1")
    page.get_by_label("Bahasa").select_option("en")
    page.get_by_role("button", name="Ganti").click()
    expect(page.get_by_role("heading", name="Transparency", exact=True)).to_be_visible()
    expect(page.locator("table.collaborators")).to_contain_text("Koperasi Terbuka")
    screenshot("transparency-en")

    with page.expect_download() as info:
        page.get_by_role("link", name="Pledges (CSV)").click()
    download = info.value
    assert download.suggested_filename == "ksbb-pledges.csv"
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["pledge_id", "need_id", "category"]
    assert rows[1][:3] == ["#activity+pledge+id", "#activity+id", "#sector+code"]
    assert rows[2][rows[0].index("collaborator_name")] == "Koperasi Terbuka"
