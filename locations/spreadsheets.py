"""What every import shares: reading the spreadsheets staff have (CSV in UTF-8, with or without BOM,
comma or semicolon; or XLSX) row by row, never loaded whole; and checking the places rows name."""

import csv
import datetime
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from xml.etree.ElementTree import ParseError
from zipfile import BadZipFile

from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils.translation import gettext as _

from locations.boundaries import normalise
from locations.models import Region, Site

# Jakarta with a margin, for "coordinates outside Jakarta" (Kepulauan Seribu included).
JAKARTA_BOUNDS = (106.35, -6.45, 107.05, -5.15)


# What an import reads at most: enough for a city's spreadsheets (make bench imports 100,000 rows),
# little enough that a hostile file cannot exhaust the server's memory or time.
MAX_ROWS = 200_000
MAX_COLUMNS = 64
# An XLSX is a ZIP of XML: real workbooks of MAX_ROWS rows unpack to some 100 MB; a "zip bomb" of a
# few hundred kilobytes can unpack to gigabytes.
MAX_XLSX_UNPACKED = 256 * 1024 * 1024


class ImportFileError(Exception):
    """The file cannot be read at all; nothing was written."""


class RowRefused(Exception):
    """One row cannot be used; the message says why. The other rows still import."""


def read_rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: text}) for every data row. Column names are lower-cased, spaces as
    underscores. Raises ImportFileError when the file cannot be read or lacks a required column."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(_("%(path)s: no such file.") % {"path": path})
    if path.suffix.lower() == ".xlsx":
        _check_workbook_size(path)
        rows = _xlsx_rows(path, required)
    else:
        _check_line_count(path)
        rows = _csv_rows(path, required)
    for line, row in rows:
        if line > MAX_ROWS + 1:  # the header is line 1
            raise _too_many_rows()
        yield line, row


def _too_many_rows() -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(max)s rows; split it into smaller files.")
        % {"max": f"{MAX_ROWS:,}"}
    )


def _check_line_count(path: Path) -> None:
    """Refuse a text file of more than MAX_ROWS lines before reading a row of it, so an import
    that writes as it reads never writes part of a file it then refuses."""
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
            if lines > MAX_ROWS + 1:
                raise _too_many_rows()


def _check_workbook_size(path: Path) -> None:
    """Refuse a workbook whose parts unpack to more than MAX_XLSX_UNPACKED bytes, unread. The sizes
    are those the ZIP declares; Python's zipfile never unpacks a part beyond its declared size."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(part.file_size for part in archive.infolist())
    except (BadZipFile, OSError, ValueError) as e:
        raise ImportFileError(_("The file is not a readable XLSX workbook.")) from e
    if unpacked > MAX_XLSX_UNPACKED:
        raise ImportFileError(
            _(
                "The workbook unpacks to more than %(max)s MB: it is not a spreadsheet of needs or "
                "sites. Save it again, or split it."
            )
            % {"max": MAX_XLSX_UNPACKED // (1024 * 1024)}
        )


def _header(cells: Iterable, required: list[str]) -> list[str]:
    names = [str(c or "").strip().lower().replace(" ", "_") for c in cells]
    missing = [c for c in required if c not in names]
    if missing:
        raise ImportFileError(
            _("The header lacks the columns %(columns)s (see the template).")
            % {"columns": ", ".join(missing)}
        )
    return names


def _csv_rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            sample = f.read(4096)
            f.seek(0)
            delimiter = ";" if sample.count(";") > sample.count(",") else ","
            reader = csv.reader(f, delimiter=delimiter)
            header = _header(next(reader, []), required)
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield reader.line_num, dict(zip(header, (c.strip() for c in row), strict=False))
    except UnicodeDecodeError as e:
        raise ImportFileError(_("The file is not UTF-8 text: save it as “CSV UTF-8”.")) from e
    except csv.Error as e:
        raise ImportFileError(_("The CSV cannot be read: %(error)s") % {"error": e}) from e


def _xlsx_rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = (InvalidFileException, BadZipFile, KeyError, OSError, ValueError, ParseError)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except unreadable as e:
        raise ImportFileError(_("The file is not a readable XLSX workbook.")) from e
    try:
        sheet = workbook.active
        # Read only as many columns as the header names: a sheet may claim all 16,384 of them and
        # have every row padded to that width.
        first = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
        header = _header(first, required)
        while header and not header[-1]:
            header.pop()
        if (sheet.max_row or 0) > MAX_ROWS + 1:  # the sheet's own dimension, read up front
            raise _too_many_rows()
        rows = sheet.iter_rows(min_row=2, max_col=len(header), values_only=True)
        for line, row in enumerate(rows, start=2):
            if any(c not in (None, "") for c in row):
                yield line, dict(zip(header, (_cell_text(c) for c in row), strict=False))
            elif line > MAX_ROWS + 1:  # empty rows count too: a gap of a million is read row by row
                raise _too_many_rows()
    except unreadable as e:  # broken XML in a sheet, or entities that multiply (expat's limit)
        raise ImportFileError(_("The file is not a readable XLSX workbook.")) from e
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class Places:
    """Kelurahan by code or name, and site kinds by value or label, loaded once per import."""

    def __init__(self):
        kelurahan = list(Region.objects.kelurahan())
        self.by_code = {r.code: r for r in kelurahan}
        self.by_name: dict[str, list[Region]] = {}
        for r in kelurahan:
            self.by_name.setdefault(normalise(r.name), []).append(r)
        self.site_kinds = {v.lower(): v for v in Site.Kind.values} | {
            str(label).lower(): v for v, label in Site.Kind.choices
        }

    def kelurahan(self, text: str) -> Region:
        if text in self.by_code:
            return self.by_code[text]
        candidates = self.by_name.get(normalise(text), [])
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise RowRefused(
                _("Kelurahan “%(name)s” is ambiguous: give its code.") % {"name": text}
            )
        raise RowRefused(_("Unknown kelurahan “%(name)s”.") % {"name": text})

    def site_kind(self, text: str) -> str:
        kind = self.site_kinds.get(text.lower())
        if kind is None:
            raise RowRefused(_("Unknown site kind “%(kind)s”.") % {"kind": text})
        return kind


def parse_point(latitude: str, longitude: str, kelurahan: Region) -> Point | None:
    """The row's coordinates, checked to lie in Jakarta and in the kelurahan; None when absent."""
    if not latitude and not longitude:
        return None
    try:
        point = Point(
            float(longitude.replace(",", ".")), float(latitude.replace(",", ".")), srid=4326
        )
    except ValueError:
        raise RowRefused(_("The coordinates are not numbers.")) from None
    west, south, east, north = JAKARTA_BOUNDS
    if not (west <= point.x <= east and south <= point.y <= north):
        raise RowRefused(_("The coordinates lie outside Jakarta."))
    if kelurahan.boundary is not None and not kelurahan.covers(
        point, settings.KSBB_SITE_BOUNDARY_TOLERANCE_M
    ):
        raise RowRefused(
            _("The coordinates lie outside Kelurahan %(name)s.") % {"name": kelurahan.name}
        )
    return point
