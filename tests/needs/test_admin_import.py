"""The admin's needs import: upload, preview per row, confirm; templates to download."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from needs.imports import COLUMNS
from needs.models import Need
from tests.needs.test_import_needs import ROW

pytestmark = pytest.mark.usefixtures("english")
URL = "/admin/needs/need/import/"


def upload(rows, name="needs.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


@pytest.fixture(autouse=True)
def _english(staff_client, settings, tmp_path):
    staff_client.cookies["django_language"] = "en"
    settings.MEDIA_ROOT = tmp_path


def test_preview_shows_each_row_and_writes_nothing_until_confirmed(staff_client, gambir):
    bad = {**ROW, "external_ref": "DKI-BAD", "kelurahan": "Atlantis"}
    response = staff_client.post(URL, {"file": upload([ROW, bad])})
    assert response.status_code == 200
    html = response.content.decode()
    assert "needs.csv: 1 to create, 0 to update, 0 unchanged, 1 refused." in html
    assert "Unknown kelurahan “Atlantis”." in html
    assert not Need.objects.exists()

    done = staff_client.post(URL, {"confirm": "1"}, follow=True)
    assert "Imported: 1 created, 0 updated, 0 unchanged, 1 refused." in done.content.decode()
    assert list(Need.objects.values_list("external_ref", flat=True)) == ["DKI-001"]


def test_confirming_without_a_previewed_file_imports_nothing(staff_client, gambir):
    response = staff_client.post(URL, {"confirm": "1"}, follow=True)
    assert "has expired; upload it again" in response.content.decode()
    assert not Need.objects.exists()


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (SimpleUploadedFile("needs.pdf", b"%PDF-1.4"), "Upload a .csv or .xlsx file."),
        (SimpleUploadedFile("needs.csv", b"nama,jumlah\nx,1\n"), "The header lacks the columns"),
    ],
)
def test_a_bad_file_is_refused_on_the_form(staff_client, gambir, file, message):
    response = staff_client.post(URL, {"file": file})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Need.objects.exists()


def test_templates_download_and_import_as_they_are(staff_client, gambir):
    csv_template = staff_client.get(URL + "template.csv")
    assert csv_template["Content-Disposition"] == 'attachment; filename="ksbb-needs-template.csv"'
    assert next(csv.reader(io.StringIO(csv_template.content.decode()))) == COLUMNS
    xlsx = staff_client.get(URL + "template.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]] == COLUMNS
    preview = staff_client.post(URL, {"file": SimpleUploadedFile("t.xlsx", xlsx.content)})
    assert "1 to create" in preview.content.decode()


def test_an_officer_without_add_permission_cannot_import(client, kelurahan_officer, gambir):
    client.force_login(kelurahan_officer)
    assert client.get(URL).status_code == 403


def test_a_staff_member_bound_to_an_area_imports_only_there(client, gambir, jakarta):
    """Staff with the right to add needs but an area of their own (a custom group): rows outside
    it, and needs already recorded outside it, are refused by line."""
    from django.contrib.auth.models import Permission

    from locations.models import StaffArea
    from tests import factories

    elsewhere = factories.NeedFactory(
        site=factories.SiteFactory(kelurahan=factories.kelurahan("31.72.01.1001")),
        external_ref="DKI-UTARA",
    )
    user = factories.UserFactory(username="impor.gambir", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_need", "view_need"]))
    StaffArea.objects.create(user=user, region=gambir)
    client.force_login(user)
    client.cookies["django_language"] = "en"
    outside = {**ROW, "external_ref": "DKI-002", "kelurahan": "31.72.01.1001"}
    moved = {**ROW, "external_ref": "DKI-UTARA"}
    html = client.post(URL, {"file": upload([ROW, outside, moved])}).content.decode()
    assert "1 to create, 0 to update, 0 unchanged, 2 refused." in html
    assert "is outside your area." in html and "belongs to a site outside your area." in html

    client.post(URL, {"confirm": "1"})
    assert set(Need.objects.values_list("external_ref", flat=True)) == {"DKI-001", "DKI-UTARA"}
    elsewhere.refresh_from_db()
    assert elsewhere.site.kelurahan.code == "31.72.01.1001"
