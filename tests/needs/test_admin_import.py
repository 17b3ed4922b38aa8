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
