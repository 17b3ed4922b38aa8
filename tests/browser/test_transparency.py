"""The public audit: open the transparency page, switch to English, download a CSV and read it."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from donations import services
from locations.registry import load_regions
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pledged(transactional_db):
    load_regions()
    factories.seed_categories()
    need = factories.NeedFactory(title="Paket sembako RW 07 Gambir", quantity_needed=100)
    services.pledge(
        need=need,
        collaborator=factories.CollaboratorFactory(public_name="Koperasi Terbuka"),
        quantity=40,
    )
    return need


def test_open_switch_to_english_and_download_a_csv(pledged, live_server, page, screenshot):
    page.goto(live_server.url + "/")
    # "Transparansi" once the lead updates the Indonesian catalogue; the English source until then.
    page.get_by_role("link", name=re.compile("^(Transparansi|Transparency)$")).click()
    expect(page.get_by_test_id("collaborators-total")).to_have_text("1")
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
