"""Staff upload the government's needs file in the admin, check the preview, confirm the import."""

import pytest
from playwright.sync_api import expect

from needs.models import Need
from tests import factories
from tests.needs.test_import_needs import ROW, write_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bureau(live_gambir):
    return factories.UserFactory(username="biro", is_staff=True, is_superuser=True)


def test_upload_preview_confirm(bureau, live_server, page, tmp_path, settings, screenshot):
    settings.MEDIA_ROOT = tmp_path
    path = tmp_path / "kebutuhan.csv"
    write_csv(path, [ROW, {**ROW, "external_ref": "DKI-002", "quantity": "0"}], delimiter=";")

    page.goto(live_server.url + "/admin/login/?next=/admin/needs/need/")
    page.get_by_label("Nama pengguna").fill("biro")
    page.get_by_label("Sandi").fill("correct horse battery staple")
    page.get_by_role("button", name="Masuk").click()
    page.get_by_role("link", name="Impor kebutuhan").click()
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Pratinjau").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("1 akan dibuat")
    expect(page.locator("tr.import-refused")).to_contain_text("quantity")
    screenshot("admin-import-preview-id")
    assert not Need.objects.exists()
    page.get_by_role("button", name="Konfirmasi impor").click()
    expect(page.locator(".messagelist")).to_contain_text("1 dibuat")
    expect(page.locator("#result_list")).to_contain_text("Sembako RW 01")
