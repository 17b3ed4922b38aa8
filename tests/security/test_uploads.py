"""Hostile uploads: an evidence photo with a delivery, the needs import in the admin and the sites
import. Oversized files, files whose name lies about their type, image and ZIP bombs, truncated and
empty files, and file names that try to leave the upload folder are refused with a clear message,
and nothing is written: no row, and no file under MEDIA_ROOT.

tests/donations/test_delivery_record.py and tests/needs/test_admin_import.py hold the plain cases
(a GIF or bitmap named .png/.jpg, a PDF, a 40-byte PNG, the size limit, a wrong extension).
"""

import csv
import io
import json
import struct
import zipfile
import zlib
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook
from PIL import Image

from donations.models import Delivery, Pledge
from locations.models import Site
from needs import admin_import
from needs.imports import COLUMNS
from needs.models import Need
from tests import factories
from tests.helpers import schedule
from tests.needs.test_import_needs import ROW

IMPORT_URL = "/admin/needs/need/import/"


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    """An empty MEDIA_ROOT of the test's own, to see every file a request leaves behind."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def staff_client(staff_client):
    """The bureau, reading the admin in English (the messages below are its English msgids)."""
    staff_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return staff_client


def files_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# Files ------------------------------------------------------------------------------------------


def image(fmt: str, size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, fmt)
    return out.getvalue()


def truncated(data: bytes) -> bytes:
    """The first two thirds of a file: its header whole, its pixels cut off (an upload interrupted)."""
    return data[: len(data) * 2 // 3]


def png_bomb(side: int = 30_000) -> bytes:
    """A PNG of side × side black-and-white pixels (900 million at 30,000) in about 100 KB: what a
    photo library would try to unpack into gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + side // 8)  # filter byte, then one bit per pixel
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def zip_of(members: dict) -> bytes:
    """A ZIP of `members` (name: bytes, or an iterable of byte chunks streamed in)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            with archive.open(name, "w", force_zip64=True) as member:
                for chunk in [data] if isinstance(data, bytes) else data:
                    member.write(chunk)
    return out.getvalue()


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_with_sheet(sheet_xml) -> bytes:
    """A real workbook whose first sheet's XML is replaced by `sheet_xml`."""
    with zipfile.ZipFile(io.BytesIO(xlsx([COLUMNS]))) as real:
        members = {name: real.read(name) for name in real.namelist()}
    members["xl/worksheets/sheet1.xml"] = sheet_xml
    return zip_of(members)


SHEET = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def xlsx_bomb() -> bytes:
    """A workbook of well under 1 MB whose sheet unpacks to 300 MB of XML."""
    rows = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20_000

    def sheet():
        yield SHEET + b"<sheetData>"
        for _ in range(300 * 1024 * 1024 // len(rows)):
            yield rows
        yield b"</sheetData></worksheet>"

    return xlsx_with_sheet(sheet())


def xlsx_far_row() -> bytes:
    """A tiny workbook whose last cell sits on row 1,048,576, under a dimension that claims every
    column: read naively, a million rows of 16,384 cells."""
    header = b"".join(
        b'<c t="inlineStr"><is><t>' + name.encode() + b"</t></is></c>" for name in COLUMNS
    )
    body = (
        SHEET + b'<dimension ref="A1:XFD1048576"/><sheetData>'
        b'<row r="1">' + header + b"</row>"
        b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    return xlsx_with_sheet(body)


def xlsx_billion_laughs() -> bytes:
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>'.encode()
        + SHEET
        + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&a9;</t></is></c></row></sheetData></worksheet>'
    )
    return xlsx_with_sheet(body)


# The evidence photo of a delivery ---------------------------------------------------------------


@pytest.fixture
def scheduled(need, donor, province_staff):
    from donations import services

    return schedule(services.pledge(need=need, collaborator=donor, quantity=40), by=province_staff)


def deliver(client, pledge, upload):
    return client.post(
        reverse("admin:donations_pledge_deliver", args=[pledge.pk]),
        {
            "quantity": 5,
            "delivered_on": "2020-10-30",
            "opd": factories.OpdFactory().pk,
            "note": "Diterima",
            "evidence": upload,
        },
    )


BAD_PHOTOS = {
    "HTML named .jpg": (
        "photo.jpg",
        lambda: b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>",
        "not an image",
    ),
    "SVG with a script named .jpg": (
        "photo.jpg",
        lambda: (
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
        ),
        "not an image",
    ),
    "ZIP named .jpg": ("photo.jpg", lambda: zip_of({"a.txt": b"x"}), "not an image"),
    "a 30000 x 30000 PNG bomb": ("photo.png", png_bomb, "too many pixels"),
    "a truncated JPEG": ("photo.jpg", lambda: truncated(image("JPEG", (256, 256))), "not an image"),
    "an empty file": ("photo.jpg", lambda: b"", "empty"),
    "a path-traversing name": (
        "../../etc/passwd.jpg",
        lambda: b"root:x:0:0:root:/root:/bin/bash\n",
        "not an image",
    ),
    "a NUL in the name": (
        "photo\x00.html.jpg",
        lambda: b"<html><script>alert(1)</script>",
        "not an image",
    ),
}


@pytest.mark.parametrize(("name", "content", "message"), BAD_PHOTOS.values(), ids=BAD_PHOTOS)
def test_a_hostile_photo_is_refused_and_nothing_is_written(
    staff_client, scheduled, media, name, content, message
):
    response = deliver(staff_client, scheduled, SimpleUploadedFile(name, content()))
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["evidence"]).lower()
    assert not Delivery.objects.exists()
    assert Pledge.objects.get(pk=scheduled.pk).quantity_delivered == 0
    assert files_in(media) == []


def test_a_photo_over_the_limit_leaves_no_file(staff_client, scheduled, media, settings):
    settings.KSBB_EVIDENCE_MAX_BYTES = 1000
    response = deliver(
        staff_client, scheduled, SimpleUploadedFile("a.jpg", image("JPEG", (400, 400)))
    )
    assert "too large" in str(response.context["form"].errors["evidence"])
    assert (Delivery.objects.count(), files_in(media)) == (0, [])


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.jpg", "..\\..\\win.jpg", "photo\x00.php.jpg", "/abs/x.jpg"]
)
def test_a_real_photo_with_a_hostile_name_is_stored_under_a_name_of_the_portal_s(
    staff_client, scheduled, media, name
):
    response = deliver(staff_client, scheduled, SimpleUploadedFile(name, image("JPEG")))
    assert response.status_code == 302
    stored = Delivery.objects.get().evidence.name
    assert stored.startswith("evidence/") and stored.endswith(".jpg")
    assert ".." not in stored and "passwd" not in stored and "php" not in stored
    assert files_in(media) == [stored]


# The needs import in the admin ------------------------------------------------------------------


def csv_upload(rows=(ROW,)) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


BAD_IMPORTS = {
    "a ZIP named .xlsx": (
        "needs.xlsx",
        lambda: zip_of({"needs.csv": csv_upload()}),
        "not a readable XLSX",
    ),
    "an XLSX zip bomb": ("needs.xlsx", xlsx_bomb, "unpacks to more than"),
    "a row a million lines down": ("needs.xlsx", xlsx_far_row, "more than 200,000 rows"),
    "a broken sheet": (
        "needs.xlsx",
        lambda: xlsx_with_sheet(SHEET + b"<sheetData><row><c"),
        "not a readable XLSX",
    ),
    "entities that multiply": ("needs.xlsx", xlsx_billion_laughs, "not a readable XLSX"),
    "a PDF named .csv": (
        "needs.csv",
        lambda: b"%PDF-1.7\n\xe2\xe3\xcf\xd3\n1 0 obj\n",
        "not UTF-8",
    ),
    "an empty file": ("needs.csv", lambda: b"", "empty"),
    "a CSV of too many lines": (
        "needs.csv",
        lambda: ",".join(COLUMNS).encode() + b"\n" + b"x\n" * 200_001,
        "more than 200,000 rows",
    ),
}


@pytest.mark.parametrize(("name", "content", "message"), BAD_IMPORTS.values(), ids=BAD_IMPORTS)
def test_a_hostile_needs_file_is_refused_and_nothing_is_written(
    staff_client, gambir, media, name, content, message
):
    response = staff_client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content())})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Need.objects.exists()
    assert files_in(media) == []
    # Nothing was left to confirm either.
    staff_client.post(IMPORT_URL, {"confirm": "1"})
    assert not Need.objects.exists()


def test_an_oversized_needs_file_is_refused_unread(staff_client, gambir, media, monkeypatch):
    monkeypatch.setattr(admin_import, "MAX_UPLOAD_BYTES", 1000)
    response = staff_client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("needs.csv", csv_upload(rows=[ROW] * 20))}
    )
    assert "The file is larger than" in response.content.decode()
    assert (Need.objects.count(), files_in(media)) == (0, [])


def test_a_path_traversing_file_name_stays_in_the_import_folder(staff_client, gambir, media):
    upload = SimpleUploadedFile("../../../etc/needs.csv", csv_upload())
    preview = staff_client.post(IMPORT_URL, {"file": upload})
    assert "1 to create" in preview.content.decode()
    (pending,) = files_in(media)
    assert pending.startswith("imports/") and ".." not in pending and "etc" not in pending
    staff_client.post(IMPORT_URL, {"confirm": "1"})
    assert Need.objects.count() == 1
    assert files_in(media) == []


# The sites import (manage.py import_sites) ------------------------------------------------------

BAD_SITE_FILES = {
    "a ZIP named .xlsx": ("sites.xlsx", lambda: zip_of({"x.csv": b"a"}), "not a readable XLSX"),
    "an XLSX zip bomb": ("sites.xlsx", xlsx_bomb, "unpacks to more than"),
    "a broken sheet": (
        "sites.xlsx",
        lambda: xlsx_with_sheet(SHEET + b"<sheetData><row><c"),
        "not a readable XLSX",
    ),
    "a binary named .csv": ("sites.csv", lambda: b"\xff\xfe\x00\x00" * 100, "not UTF-8"),
    "GeoJSON nested to exhaustion": (
        "sites.geojson",
        lambda: b"[" * 200_000 + b"]" * 200_000,
        "not GeoJSON",
    ),
    "GeoJSON that is not an object": (
        "sites.geojson",
        lambda: json.dumps([1, 2]).encode(),
        "FeatureCollection",
    ),
}


@pytest.mark.parametrize(
    ("name", "content", "message"), BAD_SITE_FILES.values(), ids=BAD_SITE_FILES
)
def test_a_hostile_sites_file_is_refused_whole(jakarta, tmp_path, name, content, message, english):
    path = tmp_path / name
    path.write_bytes(content())
    with pytest.raises(CommandError) as refused:
        call_command("import_sites", str(path), stdout=StringIO())
    assert message in str(refused.value)
    assert not Site.objects.exists()
