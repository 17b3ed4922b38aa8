"""Hostile text arriving by import: the needs import's preview (which quotes what it refuses) and
the pages that then show what the needs and sites imports wrote print it as text; and hostile cells
(controls, bidi overrides, numbers no column holds, over-long text) refused by row, in every column
of both importers, from CSV, XLSX and GeoJSON, by command and in the admin."""

import csv
import io
import json
import math
import re
import unicodedata
import zipfile
from html import unescape
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import models, transaction
from django.urls import reverse
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from locations import imports as site_imports
from locations.models import ContactPerson, Site
from locations.registry import load_regions
from locations.spreadsheets import DEGREES, TEXT, WHOLE_NUMBER
from needs import imports as needs_imports
from needs.imports import COLUMNS
from needs.models import Need
from tests import factories
from tests.conftest import import_test_boundaries
from tests.locations.test_import_sites import ROW as SITE_ROW
from tests.needs.test_import_needs import ROW as NEED_ROW
from tests.security.markup import PAYLOADS, injected, shows

IMPORT_URL = "/admin/needs/need/import/"


@pytest.fixture(params=list(PAYLOADS.values()), ids=list(PAYLOADS))
def payload(request):
    return request.param


def _csv(columns, rows) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_the_needs_import_preview_and_what_it_imports_print_text(
    staff_client, gambir, payload, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    rows = [
        {
            **NEED_ROW,
            "external_ref": "DKI-X1",
            "title": payload,
            "site_name": payload,
            "criteria": payload,
        },
        {**NEED_ROW, "external_ref": "DKI-X2", "kelurahan": payload},
        {**NEED_ROW, "external_ref": "DKI-X3", "category": payload},
        {**NEED_ROW, "external_ref": payload[:64], "quantity": payload},
    ]
    upload = SimpleUploadedFile("needs.csv", _csv(COLUMNS, rows), content_type="text/csv")
    preview = staff_client.post(IMPORT_URL, {"file": upload})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert injected(html) == []
    assert shows(html, payload)  # quoted in the refusals
    staff_client.post(IMPORT_URL, {"confirm": "1"})
    need = Need.objects.get(external_ref="DKI-X1")
    assert need.title == payload
    for url in (
        f"/kebutuhan/{need.pk}/",
        "/peta/",
        reverse("admin:needs_need_change", args=[need.pk]),
        reverse("admin:needs_need_changelist"),
    ):
        page = staff_client.get(url).content.decode()
        assert injected(page) == [], url
        assert shows(page, payload), url


def test_what_the_sites_import_writes_is_printed_as_text(staff_client, gambir, payload, tmp_path):
    path = tmp_path / "sites.csv"
    path.write_bytes(
        _csv(
            site_imports.COLUMNS,
            [
                {
                    "external_ref": "RW-X",
                    "kelurahan": "31.71.01.1001",
                    "site_kind": "rw",
                    "site_name": payload,
                    "address": payload,
                    "latitude": "-6.1760",
                    "longitude": "106.8225",
                    "contact_name": payload,
                    "contact_role": "rw_head",
                    "contact_phone": "+62 812 1111 2222",
                }
            ],
        )
    )
    call_command("import_sites", str(path), stdout=StringIO())
    site = Site.objects.get(external_ref="RW-X")
    contact = ContactPerson.objects.get(site=site)
    assert (site.name, site.address, contact.name) == (payload, payload, payload)
    for url in (
        reverse("admin:locations_site_change", args=[site.pk]),
        reverse("admin:locations_site_changelist"),
        reverse("admin:locations_contactperson_change", args=[contact.pk]),
        reverse("admin:locations_contactperson_changelist"),
    ):
        page = staff_client.get(url).content.decode()
        assert injected(page) == [], url
        assert shows(page, payload), url


# Hostile cells ------------------------------------------------------------------------------------
# A corpus of cells a careless or hostile supplier could send, generated here, placed into every
# column of both importers (the columns are read from the importers, so a new column is covered by
# itself), one file per column and format holding one row per hostile value and one good row, run
# through the commands (dry run and real) and the admin's preview and import. Never an exception; a
# value its column cannot hold refused with its line and a reason naming the column; a value a free
# column can hold stored exactly; the good row imported; nothing of the controls in the database.

CHARACTERS = {  # each put inside the column's good value, where no strip() takes it away
    "NUL": "\x00",
    "SOH": "\x01",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "NEL (C1)": "\x85",
    "line feed": "\n",
    "tab": "\t",
    "lone surrogate": "\ud800",
    "bidi override RLO": "\u202e",
    "bidi isolate LRI": "\u2066",
    "zero-width space": "\u200b",
    "BOM": "\ufeff",
}
NUMBERS = {
    "10**20": 10**20,
    "400 nines": "9" * 400,
    "1e400": "1e400",
    "inf": "inf",
    "-inf": "-inf",
    "nan": "nan",
}
# Infinite floats as an XLSX holds them (a number cell of 1E400). A NaN cannot be written so that
# openpyxl reads it: such a workbook is refused whole (test_an_unreadable_file_is_refused_whole).
XLSX_NUMBERS = {"float inf": math.inf, "float -inf": -math.inf}
LONG_TEXT = " ".join(["Penerima bansos lansia."] * 250)  # 5,999 characters
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# In the database: no control character but tab and line breaks (free text), no bidi control.
FORBIDDEN = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI}]")
# Outside the database too: what the command prints and the preview shows.
UNPRINTED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI}\ud800-\udfff]")
# Where an imported value is stored, to find it exactly as it was in the cell.
STORED = {
    "needs": {
        "external_ref": (Need, "external_ref"),
        "site_name": (Need, "site__name"),
        "title": (Need, "title"),
        "criteria": (Need, "criteria"),
    },
    "sites": {
        "external_ref": (Site, "external_ref"),
        "site_name": (Site, "name"),
        "address": (Site, "address"),
        "contact_name": (ContactPerson, "name"),
        "contact_phone": (ContactPerson, "phone"),
        "contact_email": (ContactPerson, "email"),
    },
}
# Stored columns with a pattern of their own, which may refuse a value every cell may hold.
PATTERNED = {"contact_phone", "contact_email"}
IMPORTERS = {
    # name: (columns and their cells, a good row, what makes row i a row of its own, a good row)
    "needs": (
        needs_imports.CELLS,
        NEED_ROW,
        lambda i: {"external_ref": f"DKI-H{i:02d}"},
        {**NEED_ROW, "external_ref": "DKI-OK", "site_name": "RW 09"},
    ),
    "sites": (
        site_imports.CELLS,
        SITE_ROW,
        lambda i: {"external_ref": f"RW-H{i:02d}", "site_name": f"RW {i + 10}"},
        {**SITE_ROW, "external_ref": "RW-OK", "site_name": "RW 99"},
    ),
}


def corpus(cell, good: str, fmt: str) -> list[tuple[str, object]]:
    """(description, value) of every hostile value a file of that format can carry."""
    values = [(f"{name} inside", good[:1] + char + good[1:]) for name, char in CHARACTERS.items()]
    values += [*NUMBERS.items(), *(XLSX_NUMBERS.items() if fmt == "xlsx" else [])]
    if cell.max_length:  # the model field's, read by the importer
        values.append((f"{cell.max_length + 1} characters", "x" * (cell.max_length + 1)))
    values.append((f"{len(LONG_TEXT):,} characters", LONG_TEXT))
    return [(d, v) for d, v in values if writable(v, fmt)]


def writable(value, fmt: str) -> bool:
    if not isinstance(value, str):
        return True
    try:
        # A lone surrogate cannot be written as UTF-8. openpyxl writes it as a character reference
        # no XML reader accepts, so the workbook is refused whole (see below); GeoJSON carries it
        # to the sites import (test_hostile_geojson_features_are_refused_by_feature).
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    # openpyxl refuses to write the C0 controls XML cannot hold (IllegalCharacterError), and no
    # reader of XML would read them: they reach the importers by CSV only.
    return fmt == "csv" or not ILLEGAL_CHARACTERS_RE.search(value)


def as_read(value) -> str:
    """The cell's text as the importers read it from either format."""
    if isinstance(value, float):
        return str(value)  # "inf", "-inf"
    return str(value).strip()


def refused_by_its_column(cell, text: str) -> bool:
    """Whether no row can hold the value in that column (docs/import.md)."""
    free_text = cell.kind == TEXT
    for char in text:
        category = unicodedata.category(char)
        if char in BIDI or category == "Cs":
            return True
        if category == "Cc" and not (free_text and char in "\t\n\r"):
            return True
        if category == "Cf" and not free_text:  # zero-width space, BOM
            return True
    if cell.max_length is not None and len(text) > cell.max_length:
        return True
    # No value of the corpus is a number of degrees or a whole number a column can hold.
    return cell.kind in (WHOLE_NUMBER, DEGREES)


def names(reason: str, column: str) -> bool:
    return column in reason or column.replace("_", " ") in reason


def write(path: Path, columns: list[str], rows: list[dict]) -> list[int]:
    """Write the rows as CSV or XLSX (by the path's suffix); the line number each row is read at."""
    if path.suffix == ".csv":
        out = io.StringIO(newline="")
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        lines = []
        for row in rows:
            lines.append(out.getvalue().count("\n") + 1)  # a cell's line feed takes a line more
            writer.writerow(row)
        path.write_bytes(out.getvalue().encode())
        return lines
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(columns)
    patches = {}
    for row in rows:
        cells = []
        for column in columns:
            value = row[column]
            if isinstance(value, float) and math.isinf(value):
                # openpyxl writes an infinite float as an empty cell; a hostile file holds 1E400.
                placeholder = 7654321.5 + len(patches)
                patches[f"<v>{placeholder}</v>"] = "<v>-1E400</v>" if value < 0 else "<v>1E400</v>"
                value = placeholder
            cells.append(value)
        sheet.append(cells)
    workbook.save(path)
    patch_sheet(path, patches)
    return list(range(2, len(rows) + 2))


def patch_sheet(path: Path, patches: dict[str, str]) -> None:
    """Replace text in the workbook's sheet XML, as a hand-made file could hold it."""
    with zipfile.ZipFile(path) as archive:
        parts = {item: archive.read(item.filename) for item in archive.infolist()}
    with zipfile.ZipFile(path, "w") as archive:
        for item, data in parts.items():
            if item.filename == "xl/worksheets/sheet1.xml":
                for old, new in patches.items():
                    assert old.encode() in data, old
                    data = data.replace(old.encode(), new.encode())
            archive.writestr(item, data)


def command_refusals(output: str) -> dict[int, str]:
    assert not UNPRINTED.search(output.replace("\n", " ")), output
    return {
        int(n): reason for n, reason in re.findall(r"^  line (\d+) \(.*?\): (.*)$", output, re.M)
    }


def preview_refusals(html: str) -> dict[int, str]:
    assert not UNPRINTED.search(re.sub(r"[\t\n\r]", " ", html))
    rows = re.findall(
        r'<tr class="import-refused"><td>(\d+)</td><td>.*?</td><td>.*?</td><td>(.*?)</td></tr>',
        html,
        re.S,
    )
    return {int(n): unescape(reason) for n, reason in rows}


def run(command: str, path: Path, *args) -> str:
    out = StringIO()
    call_command(command, str(path), *args, stdout=out)
    return out.getvalue()


def assert_nothing_hostile_stored() -> None:
    for model in (Need, Site, ContactPerson):
        columns = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
        ]
        for values in model.objects.values_list(*columns):
            for value in values:
                assert not FORBIDDEN.search(value or ""), (model.__name__, value)


def cases(importer: str) -> list:
    return [
        pytest.param(importer, column, fmt, id=f"{column}-{fmt}")
        for column in IMPORTERS[importer][0]
        for fmt in ("csv", "xlsx")
    ]


GOOD_ROWS = 600  # more than a batch of the needs import (500), which writes as it reads


def _good_rows(importer: str) -> list[dict]:
    if importer == "needs":
        return [{**NEED_ROW, "external_ref": f"DKI-{i:04d}"} for i in range(GOOD_ROWS)]
    return [
        {**SITE_ROW, "external_ref": f"RW-{i:04d}", "site_name": f"RW {i}"}
        for i in range(GOOD_ROWS)
    ]


def _csv_then(rows: list[dict], tmp_path: Path, tail: bytes) -> bytes:
    """The good rows, then what cannot be read."""
    return _csv(list(rows[0]), rows) + tail


def _xlsx_then(rows: list[dict], tmp_path: Path, last: dict, patches=None) -> bytes:
    """The good rows, then a last row, patched as a hand-made workbook could hold it."""
    path = tmp_path / "hostile.xlsx"
    write(path, list(rows[0]), [*rows, {**rows[0], **last}])
    patch_sheet(path, patches or {})
    return path.read_bytes()


# A file that cannot be read at all: refused whole, with a message, before a row of it is written.
UNREADABLE = {
    "UTF-16": (
        "csv",
        lambda rows, tmp: _csv(list(rows[0]), rows).decode().encode("utf-16"),
        "not UTF-8",
    ),
    "Latin-1 after good rows": (
        "csv",
        lambda rows, tmp: _csv_then(rows, tmp, "Menteng,Cikini\xe9\n".encode("latin-1")),
        "not UTF-8",
    ),
    "a cell beyond the CSV reader's limit after good rows": (
        "csv",
        lambda rows, tmp: _csv_then(rows, tmp, b"x" * 200_000 + b"\n"),
        "The CSV cannot be read",
    ),
    # openpyxl writes a lone surrogate as a character reference that no XML reader accepts.
    "a lone surrogate after good rows": (
        "xlsx",
        lambda rows, tmp: _xlsx_then(rows, tmp, {"site_name": "RW \ud800"}),
        "not a readable XLSX",
    ),
    "a NaN number cell after good rows": (
        "xlsx",
        lambda rows, tmp: _xlsx_then(
            rows, tmp, {"site_name": 7654321.5}, {"<v>7654321.5</v>": "<v>nan</v>"}
        ),
        "not a readable XLSX",
    ),
    "a cell past the shared strings after good rows": (
        "xlsx",
        lambda rows, tmp: _xlsx_then(
            rows, tmp, {"site_name": 7654321.5}, {'t="n"><v>7654321.5</v>': 't="s"><v>99</v>'}
        ),
        "not a readable XLSX",
    ),
}


@pytest.mark.usefixtures("english")
class TestHostileCells:
    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def places(cls, django_db_setup, django_db_blocker):
        """Jakarta's regions and Gambir's boundary, loaded once for the class in a transaction
        rolled back at its end (the `gambir` fixture, for 50-odd tests)."""
        with django_db_blocker.unblock(), transaction.atomic():
            load_regions()
            import_test_boundaries()
            # The provincial bureau (staff_client's), its password hashed once, not once a test.
            cls.staff = factories.UserFactory(username="provinsi", is_staff=True, is_superuser=True)
            yield
            transaction.set_rollback(True)

    def _check(self, importer, column, fmt, tmp_path, *, admin=None):
        cells, base, own, good = IMPORTERS[importer]
        cell = cells[column]
        values = corpus(cell, str(base[column]), fmt)
        rows = [{**base, **own(i), column: value} for i, (_d, value) in enumerate(values)]
        path = tmp_path / f"{importer}.{fmt}"
        *lines, good_line = write(path, list(cells), [*rows, good])
        command = f"import_{importer}"

        reports = []
        if admin:
            reports.append(preview_refusals(admin(path).content.decode()))
        dry = run(command, path, "--dry-run")
        assert not Site.objects.exists() and not Need.objects.exists()
        reports.append(command_refusals(dry))
        real = run(command, path)
        refusals = command_refusals(real)
        assert all(report == refusals for report in reports)  # the same, each way

        stored = STORED[importer]
        for line, (description, value) in zip(lines, values, strict=True):
            text, reason = as_read(value), refusals.get(line)
            where = f"{column} ← {description}, line {line}"
            if reason is not None:
                assert names(reason, column), f"{where}: {reason}"
            if refused_by_its_column(cell, text):
                assert reason is not None, f"{where}: imported"
            elif reason is None or (column in stored and column not in PATTERNED):
                assert column in stored, f"{where}: imported; STORED must say where {column} goes"
                model, lookup = stored[column]
                assert model.objects.filter(**{lookup: text}).exists(), f"{where}: not as it was"
        assert good_line not in refusals, refusals[good_line]
        assert_nothing_hostile_stored()
        return real

    @pytest.mark.parametrize(("importer", "column", "fmt"), cases("needs"))
    def test_needs(self, db, client, settings, tmp_path, importer, column, fmt):
        settings.MEDIA_ROOT = tmp_path / "media"
        client.force_login(self.staff)
        client.cookies["django_language"] = "en"

        def admin(path):
            upload = SimpleUploadedFile(path.name, path.read_bytes())
            preview = client.post(IMPORT_URL, {"file": upload})
            assert preview.status_code == 200
            assert not Need.objects.exists()
            return preview

        self._check(importer, column, fmt, tmp_path, admin=admin)
        assert Need.objects.filter(external_ref="DKI-OK", quantity_needed=120).exists()
        # The admin's import of the previewed file: every row as the command left it.
        done = client.post(IMPORT_URL, {"confirm": "1"}, follow=True)
        assert done.status_code == 200
        assert "0 created, 0 updated" in done.content.decode()

    @pytest.mark.parametrize(("importer", "column", "fmt"), cases("sites"))
    def test_sites(self, db, tmp_path, importer, column, fmt):
        self._check(importer, column, fmt, tmp_path)
        assert ContactPerson.objects.filter(site__external_ref="RW-OK", name="Pak Darto").exists()

    def test_each_stored_columns_limit_is_its_model_fields(self, db):
        for importer, stored in STORED.items():
            cells = IMPORTERS[importer][0]
            for column, (model, lookup) in stored.items():
                *path, name = lookup.split("__")
                for step in path:
                    model = model._meta.get_field(step).related_model
                assert cells[column].max_length == model._meta.get_field(name).max_length, column

    def test_hostile_geojson_features_are_refused_by_feature(self, db, tmp_path):
        """JSON carries what CSV and XLSX cannot: lone surrogates, infinite and NaN numbers, and
        features that are not objects at all."""
        properties = {k: v for k, v in SITE_ROW.items() if k not in ("latitude", "longitude")}

        def feature(i, coordinates=(106.8225, -6.176), **changes):
            own = {"external_ref": f"RW-J{i}", "site_name": f"RW {i + 10}"}
            return {
                "type": "Feature",
                "properties": {**properties, **own, **changes},
                "geometry": {"type": "Point", "coordinates": list(coordinates)},
            }

        features = [
            feature(1, site_name="RW \ud800 01"),
            feature(2, contact_name="Pak \x1b[2J Darto"),
            feature(3, external_ref="RW-\u202eJ3"),
            feature(4, coordinates=(math.inf, -6.176)),
            feature(5, coordinates=(106.8225, math.nan)),
            feature(6, coordinates=("106.8225\x00", -6.176)),
            5,
            {"type": "Feature", "properties": ["site_name"], "geometry": None},
            {"type": "Feature", "properties": {}, "geometry": "Point"},
            {**feature(10), "geometry": {"type": "Point", "coordinates": "106.8,-6.1"}},
            feature(99),
        ]
        path = tmp_path / "sites.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        refusals = command_refusals(run("import_sites", path))
        assert refusals == {
            1: "site_name contains an invalid character (U+D800).",
            2: "contact_name contains a control character (U+001B).",
            3: "external_ref contains a character that changes the text's direction (U+202E).",
            4: "longitude must be a number of degrees, not “inf”.",
            5: "latitude must be a number of degrees, not “nan”.",
            6: "longitude contains a control character (U+0000).",
            7: "This is not a GeoJSON Feature object.",
            8: "This is not a GeoJSON Feature object.",
            9: "This is not a GeoJSON Feature object.",
            10: "Only Point geometries can place a site.",
        }
        assert list(Site.objects.values_list("external_ref", flat=True)) == ["RW-J99"]
        assert_nothing_hostile_stored()

    @pytest.mark.parametrize("importer", ["needs", "sites"])
    @pytest.mark.parametrize(("fmt", "content", "message"), UNREADABLE.values(), ids=UNREADABLE)
    def test_an_unreadable_file_is_refused_whole(
        self, db, client, settings, tmp_path, importer, fmt, content, message
    ):
        settings.MEDIA_ROOT = tmp_path / "media"
        client.force_login(self.staff)
        client.cookies["django_language"] = "en"
        path = tmp_path / f"{importer}.{fmt}"
        path.write_bytes(content(_good_rows(importer), tmp_path))
        with pytest.raises(CommandError, match=message):
            run(f"import_{importer}", path)
        if importer == "needs":
            upload = SimpleUploadedFile(path.name, path.read_bytes())
            preview = client.post(IMPORT_URL, {"file": upload})
            assert preview.status_code == 200 and message in preview.content.decode()
        assert not Need.objects.exists() and not Site.objects.exists()
