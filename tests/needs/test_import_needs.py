"""`manage.py import_needs FILE`: needs and sites from staff spreadsheets, refusals with reasons."""

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from donations import services
from locations.models import Site
from needs.imports import COLUMNS, import_needs, template_csv
from needs.models import Need

pytestmark = pytest.mark.usefixtures("english")

ROW = {
    "external_ref": "DKI-001",
    "kelurahan": "31.71.01.1001",
    "site_kind": "rw",
    "site_name": "RW 01",
    "latitude": "-6.1760",
    "longitude": "106.8225",
    "category": "pangan",
    "aid_type": "Paket sembako",
    "title": "Sembako RW 01",
    "quantity": "120",
    "unit": "paket",
    "beneficiaries": "120",
    "beneficiary_kind": "household",
    "criteria": "Penerima bansos",
    "period_start": "2020-10-01",
    "period_end": "2020-12-31",
}


def write_csv(path, rows, *, delimiter=",", bom=False):
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(path, *args) -> str:
    out = StringIO()
    call_command("import_needs", str(path), *args, stdout=out)
    return out.getvalue()


def test_a_row_creates_its_site_and_need(gambir, tmp_path):
    output = run(write_csv(tmp_path / "needs.csv", [ROW]))
    assert "1 rows: 1 created, 0 updated, 0 unchanged, 0 refused" in output
    need = Need.objects.get(external_ref="DKI-001")
    assert (need.quantity_needed, need.title, need.site.name, need.site.kind) == (
        120,
        "Sembako RW 01",
        "RW 01",
        "rw",
    )
    assert need.aid_type.category.slug == "pangan" and need.period_end.isoformat() == "2020-12-31"
    assert not need.site.location_is_approximate
    assert [h.history_change_reason for h in need.history.all()] == [
        "Imported"
    ]  # audited from birth


def test_importing_the_same_file_twice_changes_nothing(gambir, tmp_path):
    path = write_csv(
        tmp_path / "needs.csv", [ROW, {**ROW, "external_ref": "DKI-002", "site_name": "RW 02"}]
    )
    run(path)
    before = list(Need.objects.order_by("pk").values())
    assert "0 created, 0 updated, 2 unchanged, 0 refused" in run(path)
    assert list(Need.objects.order_by("pk").values()) == before
    assert Site.objects.count() == 2


def test_a_changed_row_updates_its_need(gambir, tmp_path):
    run(write_csv(tmp_path / "a.csv", [ROW]))
    output = run(write_csv(tmp_path / "b.csv", [{**ROW, "quantity": "150", "criteria": "Lansia"}]))
    assert "1 updated" in output
    need = Need.objects.get(external_ref="DKI-001")
    assert (need.quantity_needed, need.criteria) == (150, "Lansia")


def test_an_update_below_what_is_pledged_is_refused_with_the_reason(gambir, tmp_path, donor):
    run(write_csv(tmp_path / "a.csv", [ROW]))
    services.pledge(need=Need.objects.get(), collaborator=donor, quantity=100)
    output = run(write_csv(tmp_path / "b.csv", [{**ROW, "quantity": "80"}]))
    assert "1 refused" in output
    assert (
        "line 2 (DKI-001): 100 are already pledged; the quantity needed cannot be less than that."
        in output
    )
    assert Need.objects.get().quantity_needed == 120


def test_without_coordinates_a_new_site_stands_at_the_kelurahan_centre_flagged(gambir, tmp_path):
    output = run(write_csv(tmp_path / "a.csv", [{**ROW, "latitude": "", "longitude": ""}]))
    assert "1 new sites placed approximately" in output
    site = Site.objects.get()
    assert site.location_is_approximate and site.kelurahan.boundary.contains(site.point)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"kelurahan": "Atlantis"}, "Unknown kelurahan “Atlantis”."),
        ({"latitude": "-7.8", "longitude": "110.4"}, "The coordinates lie outside Jakarta."),
        (
            {"latitude": "-6.25", "longitude": "106.90"},
            "The coordinates lie outside Kelurahan Gambir.",
        ),
        ({"category": "Sandang"}, "Unknown category “Sandang”."),
        ({"aid_type": "Beras"}, "Unknown aid type “Beras” in Pangan."),
        ({"quantity": "0"}, "quantity must be more than zero."),
        ({"quantity": "-5"}, "quantity must be more than zero."),
        ({"quantity": "2,5"}, "quantity must be a whole number, not “2,5”."),
        (
            {"period_start": "31-31-2020"},
            "period_start “31-31-2020” is not a date (YYYY-MM-DD or DD/MM/YYYY).",
        ),
        ({"period_end": "2020-09-01"}, "period_end comes before period_start."),
        ({"site_kind": "mall"}, "Unknown site kind “mall”."),
        ({"unit": "karung"}, "The unit “karung” differs from the aid type's (paket)."),
        ({"title": "x" * 201}, "title is longer than 200 characters (it has 201)."),
        ({"quantity": "2147483648"}, "quantity is out of range: at most 2147483647."),
        ({"beneficiaries": "9" * 400}, "beneficiaries is out of range: at most 2147483647."),
        ({"latitude": "nan"}, "latitude must be a number of degrees, not “nan”."),
        ({"longitude": "1e400"}, "longitude must lie between -180 and 180 degrees."),
        ({"site_name": "RW\x0001"}, "site_name contains a control character (U+0000)."),
        ({"site_name": "RW\u200b01"}, "site_name contains an invisible character (U+200B)."),
        (
            {"criteria": "Lansia \u202e"},
            "criteria contains a character that changes the text's direction (U+202E).",
        ),
    ],
)
def test_each_refusal_names_its_line_and_reason_and_the_other_rows_still_import(
    gambir, tmp_path, change, reason
):
    good = {**ROW, "external_ref": "DKI-OK", "site_name": "RW 09"}
    output = run(write_csv(tmp_path / "a.csv", [{**ROW, **change}, good]))
    assert f"line 2 (DKI-001): {reason}" in output
    assert "1 created" in output and "1 refused" in output
    assert list(Need.objects.values_list("external_ref", flat=True)) == ["DKI-OK"]


def test_nothing_is_cut_short(gambir, tmp_path):
    """Values up to their column's length import whole; a default title that would be longer than
    the column is refused, not cut."""
    from tests import factories

    long_name = "Paket sembako lengkap untuk keluarga prasejahtera dan lansia"
    factories.AidTypeFactory(name=long_name)
    criteria = "\n".join(["Penerima bansos, lansia"] * 2000)
    full = {**ROW, "title": "T" * 200, "site_name": "S" * 150, "criteria": criteria}
    default = {
        **ROW,
        "external_ref": "DKI-002",
        "title": "",
        "aid_type": long_name,
        "site_name": "S" * 150,
    }
    output = run(write_csv(tmp_path / "a.csv", [default, full]))
    need = Need.objects.get(external_ref="DKI-001")
    assert (need.title, need.site.name, need.criteria) == (
        full["title"],
        full["site_name"],
        full["criteria"],
    )
    assert (
        "line 2 (DKI-002): title is empty, and the default title (aid type — site) would be "
        "longer than 200 characters: give a title." in output
    )


def test_a_duplicate_reference_in_the_file_is_refused(gambir, tmp_path):
    output = run(write_csv(tmp_path / "a.csv", [ROW, {**ROW, "site_name": "RW 05"}]))
    assert "line 3 (DKI-001): external_ref DKI-001 already appears on line 2." in output
    assert Need.objects.count() == 1


def test_bom_and_semicolons_and_names_instead_of_codes(gambir, tmp_path):
    row = {
        **ROW,
        "kelurahan": "CIDENG",
        "latitude": "",
        "longitude": "",
        "category": "Pangan",
        "quantity": "1.200",
    }
    output = run(write_csv(tmp_path / "a.csv", [row], delimiter=";", bom=True))
    assert "1 created" in output
    need = Need.objects.get()
    assert need.site.kelurahan.code == "31.71.01.1002" and need.quantity_needed == 1200


def test_xlsx(gambir, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    sheet.append(
        [ROW[c] for c in COLUMNS[:9]] + [120, "paket", 120, "household", "", "2020-10-01", ""]
    )
    workbook.save(tmp_path / "needs.xlsx")
    assert "1 created" in run(tmp_path / "needs.xlsx")
    assert Need.objects.get().quantity_needed == 120


def test_dry_run_reports_and_writes_nothing(gambir, tmp_path):
    output = run(write_csv(tmp_path / "a.csv", [ROW]), "--dry-run")
    assert output.startswith("Dry run, nothing written: 1 rows: 1 created")
    assert not Need.objects.exists() and not Site.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"nama,jumlah\nx,1\n", "The header lacks the columns"),
    ],
)
def test_an_unreadable_file_is_refused_whole(gambir, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        run(path)
    assert not Need.objects.exists()


def test_a_broken_xlsx_is_refused_whole(gambir, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(CommandError, match="not a readable XLSX"):
        run(path)


def test_the_template_imports_as_it_is(gambir, tmp_path):
    path = tmp_path / "template.csv"
    path.write_text(template_csv())
    report = import_needs(path)
    assert report.counts["created"] == 1, report.refused
