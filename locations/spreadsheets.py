"""What every import shares: reading the spreadsheets staff have (CSV in UTF-8, with or without BOM,
comma or semicolon; or XLSX) row by row, never loaded whole; checking every cell before anything of
its row reaches the database (check_cells); and checking the places rows name."""

import csv
import datetime
import json
import math
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from xml.etree.ElementTree import ParseError
from zipfile import BadZipFile

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection, models
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
    underscores. Raises ImportFileError when the file cannot be read or lacks a required column,
    always before the first row: the file is read through once before its rows are given (a CSV
    from the file again, an XLSX from a temporary copy of its cells), so an import that writes as
    it reads never writes part of a file it then refuses."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(_("%(path)s: no such file.") % {"path": path})
    if path.suffix.lower() == ".xlsx":
        _check_workbook_size(path)
        rows = _xlsx_rows(path, required)
    else:
        _check_csv(path)
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


def _check_csv(path: Path) -> None:
    """Read a text file through once before a row of it is used: refuse it when it has more than
    MAX_ROWS lines (counted first, before decoding), is not UTF-8 or is not CSV."""
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
            if lines > MAX_ROWS + 1:
                raise _too_many_rows()
    for _row in _csv_rows(path, required=[]):
        pass


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
            start = reader.line_num + 1  # a row is numbered by its first line: cells may hold more
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield start, dict(zip(header, (c.strip() for c in row), strict=False))
                start = reader.line_num + 1
    except UnicodeDecodeError as e:
        raise ImportFileError(_("The file is not UTF-8 text: save it as “CSV UTF-8”.")) from e
    except csv.Error as e:
        raise ImportFileError(_("The CSV cannot be read: %(error)s") % {"error": e}) from e


def _xlsx_rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """The sheet's rows. The sheet is read whole into a temporary file (one JSON line a row) before
    the first row is given: a sheet that breaks halfway is refused before a row of it is used, and
    memory stays flat."""
    with tempfile.TemporaryFile("w+", encoding="ascii") as spool:
        header = _spool_xlsx(path, required, spool)
        spool.seek(0)
        for text in spool:
            line, *cells = json.loads(text)
            yield line, dict(zip(header, cells, strict=False))


def _spool_xlsx(path: Path, required: list[str], spool) -> list[str]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # IndexError: a cell pointing past the shared strings; AttributeError, TypeError: parts that are
    # not what their names say (a workbook without a worksheet).
    unreadable = (
        InvalidFileException,
        BadZipFile,
        KeyError,
        IndexError,
        AttributeError,
        TypeError,
        OSError,
        ValueError,
        ParseError,
    )
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
                spool.write(json.dumps([line, *(_cell_text(c) for c in row)]) + "\n")
            elif line > MAX_ROWS + 1:  # empty rows count too: a gap of a million is read row by row
                raise _too_many_rows()
    except unreadable as e:  # broken XML in a sheet, or entities that multiply (expat's limit)
        raise ImportFileError(_("The file is not a readable XLSX workbook.")) from e
    finally:
        workbook.close()
    return header


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


# Cells ---------------------------------------------------------------------------------------------
# Every cell an import uses is checked against its column before anything of its row is looked up,
# quoted or written: a row with a cell its column cannot hold is refused, naming the column; nothing
# is cut short or cleaned up silently. Each importer declares its columns as a {column: Cell} map.

LINE, TEXT, WHOLE_NUMBER, DEGREES = "line", "text", "whole number", "degrees"
# Characters that reorder how the text around them is shown (embeddings, overrides, isolates): they
# make a reference or a figure read differently from what it is ("Trojan source"), in any cell.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\n\r\u2028\u2029")
# Whole numbers as spreadsheets write them: "1200", "1.200" or "1,200" (thousands); ASCII digits only.
WHOLE_NUMBER_PATTERN = re.compile(r"-?([0-9]+|[0-9]{1,3}([.,][0-9]{3})+)")
DECIMAL_PATTERN = re.compile(r"[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][+-]?[0-9]+)?")
# How much of a value a report quotes.
QUOTE_LENGTH = 80


@dataclass(frozen=True)
class Cell:
    """What one column may hold.

    LINE: one line of text (a reference, a name, a choice, a date): no line breaks, control
    characters (C0, DEL, C1) or invisible formatting characters (zero-width spaces, BOM, soft
    hyphens, direction marks). TEXT: free text, which may also hold line breaks, tabs and the
    invisible characters some scripts and emoji need. Both: no lone surrogates nor bidi controls,
    and at most the model field's max_length. WHOLE_NUMBER: as LINE, and a whole number the model
    field's database column can hold. DEGREES: as LINE, and a finite number of degrees within
    ±limit.
    """

    kind: str
    field: models.Field | None = None  # the model field the value is stored in or matched against
    limit: float = 0.0  # DEGREES

    @classmethod
    def line(cls, model: type[models.Model] | None = None, name: str = "") -> "Cell":
        """One line of text, at most as long as the model field `name` (no limit without one)."""
        return cls(LINE, model._meta.get_field(name) if model else None)

    @classmethod
    def text(cls, model: type[models.Model] | None = None, name: str = "") -> "Cell":
        """Free text, at most as long as the model field `name` (a TextField: no limit)."""
        return cls(TEXT, model._meta.get_field(name) if model else None)

    @classmethod
    def whole_number(cls, model: type[models.Model], name: str) -> "Cell":
        """A whole number that the integer field `name`'s database column can hold."""
        return cls(WHOLE_NUMBER, model._meta.get_field(name))

    @classmethod
    def degrees(cls, limit: float) -> "Cell":
        """Degrees of latitude (limit 90) or longitude (limit 180)."""
        return cls(DEGREES, limit=limit)

    @cached_property
    def max_length(self) -> int | None:
        return getattr(self.field, "max_length", None)

    @cached_property
    def max_value(self) -> int | None:
        if self.kind != WHOLE_NUMBER:
            return None
        return connection.ops.integer_field_range(self.field.get_internal_type())[1]

    def check(self, column: str, value: str) -> None:
        """Raise RowRefused naming the column when the value cannot be in it."""
        if not value.isprintable():
            self._check_characters(column, value)
        if self.max_length is not None and len(value) > self.max_length:
            raise RowRefused(
                _("%(column)s is longer than %(max)s characters (it has %(length)s).")
                % {"column": column, "max": self.max_length, "length": f"{len(value):,}"}
            )
        if self.kind == WHOLE_NUMBER:
            parse_whole_number(value, column, self.max_value)
        elif self.kind == DEGREES:
            parse_degrees(value, column, self.limit)

    def _check_characters(self, column: str, value: str) -> None:
        for char in value:
            if char.isprintable():
                continue
            category = unicodedata.category(char)
            args = {"column": column, "code": f"U+{ord(char):04X}"}
            if char in BIDI_CONTROLS:
                raise RowRefused(
                    _(
                        "%(column)s contains a character that changes the text's direction (%(code)s)."
                    )
                    % args
                )
            if category == "Cs":  # a lone surrogate: no character at all
                raise RowRefused(_("%(column)s contains an invalid character (%(code)s).") % args)
            if self.kind == TEXT:
                if category == "Cc" and char not in "\t\n\r":
                    raise RowRefused(
                        _("%(column)s contains a control character (%(code)s).") % args
                    )
            elif char in LINE_BREAKS:
                raise RowRefused(
                    _("%(column)s contains a line break: it must be a single line.") % args
                )
            elif category == "Cc":
                raise RowRefused(_("%(column)s contains a control character (%(code)s).") % args)
            elif category == "Cf":
                raise RowRefused(_("%(column)s contains an invisible character (%(code)s).") % args)


def check_cells(row: dict[str, str], cells: dict[str, Cell]) -> None:
    """Refuse the row (RowRefused, naming the first column at fault) when one of its cells holds
    what its column cannot; see Cell. Columns not in `cells` are never used, so never checked."""
    for column, cell in cells.items():
        value = row.get(column)
        if value:
            cell.check(column, value)


def parse_whole_number(value: str, column: str, maximum: int) -> int:
    """A whole number ("1.200" and "1,200" read as 1200, "2,5" is refused) of at most `maximum`
    either side of zero; the sign is the caller's to check."""
    if not WHOLE_NUMBER_PATTERN.fullmatch(value):
        raise RowRefused(
            _("%(column)s must be a whole number, not “%(value)s”.")
            % {"column": column, "value": shown(value)}
        )
    digits = value.lstrip("-").replace(".", "").replace(",", "").lstrip("0")
    # Compare lengths first: int() of thousands of digits is slow, and refused beyond 4,300.
    if len(digits) > len(str(maximum)) or int(digits or "0") > maximum:
        raise RowRefused(
            _("%(column)s is out of range: at most %(max)s.") % {"column": column, "max": maximum}
        )
    return -int(digits or "0") if value.startswith("-") else int(digits or "0")


def parse_degrees(value: str, column: str, limit: float) -> float:
    """A finite number of degrees within ±limit; a decimal comma is read as a point."""
    if not DECIMAL_PATTERN.fullmatch(value):
        raise RowRefused(
            _("%(column)s must be a number of degrees, not “%(value)s”.")
            % {"column": column, "value": shown(value)}
        )
    number = float(value.replace(",", "."))  # "1e400" is inf
    if not (math.isfinite(number) and -limit <= number <= limit):
        raise RowRefused(
            _("%(column)s must lie between -%(limit)s and %(limit)s degrees.")
            % {"column": column, "limit": f"{limit:g}"}
        )
    return number


def shown(value: str, limit: int = QUOTE_LENGTH) -> str:
    """A value as a report may quote it: every character a single line cannot hold shown as �, and
    at most `limit` characters, an ellipsis saying when there were more."""
    if not value.isprintable():
        value = "".join(
            c if c.isprintable() or unicodedata.category(c) in ("Zs", "Co", "Cn") else "\ufffd"
            for c in value
        )
    return value if len(value) <= limit else value[: limit - 1] + "…"


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
                _("Kelurahan “%(name)s” is ambiguous: give its code.") % {"name": shown(text)}
            )
        raise RowRefused(_("Unknown kelurahan “%(name)s”.") % {"name": shown(text)})

    def site_kind(self, text: str) -> str:
        kind = self.site_kinds.get(text.lower())
        if kind is None:
            raise RowRefused(_("Unknown site kind “%(kind)s”.") % {"kind": shown(text)})
        return kind


def parse_point(latitude: str, longitude: str, kelurahan: Region) -> Point | None:
    """The row's coordinates, checked to lie in Jakarta and in the kelurahan; None when absent.
    The cells have passed check_cells (degrees), so they are finite numbers when given."""
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
