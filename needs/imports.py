"""Import needs (and their sites) from the spreadsheets staff actually have: CSV or XLSX.

A file is read row by row (never loaded whole), each row checked and turned into a need, created or
updated by its external reference. A row that cannot be used is refused with its line number and the
reason; the others still import. A file that cannot be read at all is refused whole. Importing the
same file twice changes nothing. Every cell is checked against its column first (CELLS,
locations.spreadsheets.check_cells). docs/import.md documents the columns.
"""

import csv
import datetime
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from locations.models import Region, Site
from locations.scoping import in_area
from locations.spreadsheets import (
    Cell,
    Places,
    RowRefused,
    check_cells,
    parse_point,
    parse_whole_number,
    read_rows,
    shown,
)
from needs import services
from needs.models import AidType, Category, Need

# The columns, in the template's order, and what each may hold: the field a value is stored in or
# matched against gives its longest length or largest number. Choices (site_kind,
# beneficiary_kind) and dates are matched or parsed whole, so they need no length of their own.
CELLS = {
    "external_ref": Cell.line(Need, "external_ref"),
    "kelurahan": Cell.line(Region, "name"),
    "site_kind": Cell.line(),
    "site_name": Cell.line(Site, "name"),
    "latitude": Cell.degrees(90),
    "longitude": Cell.degrees(180),
    "category": Cell.line(Category, "name"),
    "aid_type": Cell.line(AidType, "name"),
    "title": Cell.line(Need, "title"),
    "quantity": Cell.whole_number(Need, "quantity_needed"),
    "unit": Cell.line(AidType, "unit"),
    "beneficiaries": Cell.whole_number(Need, "beneficiaries"),
    "beneficiary_kind": Cell.line(),
    "criteria": Cell.text(Need, "criteria"),
    "period_start": Cell.line(),
    "period_end": Cell.line(),
}
COLUMNS = list(CELLS)
REQUIRED = [
    "external_ref",
    "kelurahan",
    "site_kind",
    "site_name",
    "category",
    "aid_type",
    "quantity",
]
BATCH = 500


@dataclass
class RowResult:
    line: int
    external_ref: str
    action: str  # "created", "updated", "unchanged" or "refused"
    reason: str = ""


@dataclass
class ImportReport:
    results: list[RowResult] = field(default_factory=list)
    approximate_sites: int = 0

    @property
    def counts(self) -> Counter:
        return Counter(r.action for r in self.results)

    @property
    def refused(self) -> list[RowResult]:
        return [r for r in self.results if r.action == "refused"]


# Checking ------------------------------------------------------------------------------------------


class Lookups(Places):
    """The reference data a row is checked against, loaded once per import."""

    def __init__(self, area: list[str] | None = None):
        super().__init__()
        # The region codes the importing staff member works in (locations.scoping); None: all.
        self.area = area
        self.categories = {}
        for c in Category.objects.all():
            self.categories[c.slug.lower()] = c
            self.categories[c.name.lower()] = c
        self.aid_types = {(a.category_id, a.name.lower()): a for a in AidType.objects.all()}
        self.beneficiary_kinds = {v.lower(): v for v in Need.BeneficiaryKind.values}


def _positive_int(value: str, column: str, *, required: bool) -> int | None:
    """A whole number the column holds; "1.200" and "1,200" (thousands) are read as 1200, "2,5"
    is refused."""
    if not value:
        if required:
            raise RowRefused(_("%(column)s is required.") % {"column": column})
        return None
    number = parse_whole_number(value, column, CELLS[column].max_value)
    if number <= 0 and required:
        raise RowRefused(_("%(column)s must be more than zero.") % {"column": column})
    if number < 0:
        raise RowRefused(_("%(column)s cannot be negative.") % {"column": column})
    return number


def _day_month_year(text: str) -> datetime.date:
    day, month, year = text.split("/")
    return datetime.date(int(year), int(month), int(day))


def _date(value: str, column: str) -> datetime.date | None:
    if not value:
        return None
    for parse in (datetime.date.fromisoformat, _day_month_year):
        try:
            return parse(value)
        except ValueError:
            continue
    raise RowRefused(
        _("%(column)s “%(value)s” is not a date (YYYY-MM-DD or DD/MM/YYYY).")
        % {"column": column, "value": shown(value)}
    )


@dataclass
class CheckedRow:
    line: int
    external_ref: str
    kelurahan: Region
    site_kind: str
    site_name: str
    point: Point | None
    fields: dict


def check_row(line: int, row: dict, lookups: Lookups) -> CheckedRow:
    """The row as a need, or RowRefused. Its cells have passed check_cells(row, CELLS)."""
    ref = row.get("external_ref", "")
    if not ref:
        raise RowRefused(_("external_ref is required."))
    kelurahan = lookups.kelurahan(row.get("kelurahan", ""))
    if not in_area(kelurahan.code, lookups.area):
        raise RowRefused(
            _("Kelurahan %(name)s is outside your area.") % {"name": kelurahan.display_name}
        )
    kind = lookups.site_kind(row.get("site_kind", ""))
    site_name = row.get("site_name", "")
    if not site_name:
        raise RowRefused(_("%(column)s is required.") % {"column": "site_name"})
    category = lookups.categories.get(row.get("category", "").lower())
    if category is None:
        raise RowRefused(
            _("Unknown category “%(category)s”.") % {"category": shown(row.get("category", ""))}
        )
    aid_type = lookups.aid_types.get((category.pk, row.get("aid_type", "").lower()))
    if aid_type is None:
        raise RowRefused(
            _("Unknown aid type “%(aid_type)s” in %(category)s.")
            % {"aid_type": shown(row.get("aid_type", "")), "category": category.name}
        )
    unit = row.get("unit", "")
    if unit and unit.lower() != aid_type.unit.lower():
        raise RowRefused(
            _("The unit “%(unit)s” differs from the aid type's (%(expected)s).")
            % {"unit": shown(unit), "expected": aid_type.unit}
        )
    quantity = _positive_int(row.get("quantity", ""), "quantity", required=True)
    beneficiaries = (
        _positive_int(row.get("beneficiaries", ""), "beneficiaries", required=False) or 0
    )
    beneficiary_kind = Need.BeneficiaryKind.HOUSEHOLD
    if row.get("beneficiary_kind"):
        beneficiary_kind = lookups.beneficiary_kinds.get(row["beneficiary_kind"].lower())
        if beneficiary_kind is None:
            raise RowRefused(
                _("Unknown beneficiary kind “%(kind)s”.") % {"kind": shown(row["beneficiary_kind"])}
            )
    start = _date(row.get("period_start", ""), "period_start") or timezone.localdate()
    end = _date(row.get("period_end", ""), "period_end")
    if end and end < start:
        raise RowRefused(_("period_end comes before period_start."))
    title = row.get("title") or f"{aid_type.name} — {site_name}"
    if len(title) > CELLS["title"].max_length:  # only the default can be: the cell was checked
        raise RowRefused(
            _(
                "title is empty, and the default title (aid type — site) would be longer than "
                "%(max)s characters: give a title."
            )
            % {"max": CELLS["title"].max_length}
        )
    return CheckedRow(
        line=line,
        external_ref=ref,
        kelurahan=kelurahan,
        site_kind=kind,
        site_name=site_name,
        point=parse_point(row.get("latitude", ""), row.get("longitude", ""), kelurahan),
        fields={
            "aid_type": aid_type,
            "title": title,
            "quantity_needed": quantity,
            "beneficiaries": beneficiaries,
            "beneficiary_kind": beneficiary_kind,
            "criteria": row.get("criteria", ""),
            "period_start": start,
            "period_end": end,
        },
    )


# Writing ------------------------------------------------------------------------------------------


class Batch:
    """Up to BATCH checked rows written together: one query finds their needs (locked, as the pledge
    services lock them, so an update can never undercut a pledge arriving meanwhile), one their
    sites, one inserts the new sites and one the new needs."""

    def __init__(self, rows: list[CheckedRow], report: ImportReport, area=None, by=None):
        self.rows, self.report, self.area, self.by = rows, report, area, by
        self.needs = {
            n.external_ref: n
            for n in Need.objects.select_for_update(of=("self",))
            .filter(external_ref__in=[r.external_ref for r in rows])
            .annotate(kelurahan_code=F("site__kelurahan__code"))
        }
        self.sites = {
            (site.kelurahan_id, site.kind, site.name): site
            # Without their points: a batch's candidates are every site of its kelurahan with any
            # of its names (thousands), and turning each point into a geometry was a quarter of an
            # unchanged import's time. Only a site that gets a point writes one.
            for site in Site.objects.filter(
                kelurahan_id__in={r.kelurahan.pk for r in rows},
                name__in={r.site_name for r in rows},
            ).defer("point")
        }

    def write(self) -> list[RowResult]:
        results, new_sites, new_needs, updates = [], [], [], []
        for row in self.rows:
            try:
                site, created_site = self._site(row)
                need = self.needs.get(row.external_ref)
                if need is None:
                    new_needs.append((row, site))
                    results.append(RowResult(row.line, row.external_ref, "created"))
                elif not in_area(need.kelurahan_code, self.area):
                    raise RowRefused(_("This need belongs to a site outside your area."))
                else:
                    changes = self._changes(row, need, site)
                    if changes:
                        updates.append((need, changes))
                    results.append(
                        RowResult(row.line, row.external_ref, "updated" if changes else "unchanged")
                    )
            except RowRefused as e:
                results.append(RowResult(row.line, row.external_ref, "refused", str(e)))
                continue
            if created_site:
                new_sites.append(site)
        Site.objects.bulk_create(new_sites)
        services.create_many(
            [
                Need(site=site, external_ref=row.external_ref, **row.fields)
                for row, site in new_needs
            ],
            by=self.by,
            reason=_("Imported"),
        )
        for need, changes in updates:
            services.update_locked(need, by=self.by, reason=_("Imported"), **changes)
        return results

    def _site(self, row: CheckedRow) -> tuple[Site, bool]:
        key = (row.kelurahan.pk, row.site_kind, row.site_name)
        site = self.sites.get(key)
        if site is not None:
            if row.point is not None and site.location_is_approximate and site.pk:
                site.point, site.location_is_approximate = row.point, False
                site.save(update_fields=["point", "location_is_approximate", "updated_at"])
            return site, False
        point, approximate = row.point, False
        if point is None:
            if row.kelurahan.boundary is None:
                raise RowRefused(
                    _(
                        "No coordinates, and Kelurahan %(name)s has no boundary to place the site in."
                    )
                    % {"name": row.kelurahan.name}
                )
            point, approximate = row.kelurahan.boundary.point_on_surface, True
            self.report.approximate_sites += 1
        site = Site(
            kelurahan=row.kelurahan,
            kind=row.site_kind,
            name=row.site_name,
            point=point,
            location_is_approximate=approximate,
        )
        self.sites[key] = site
        return site, True

    @staticmethod
    def _changes(row: CheckedRow, need: Need, site: Site) -> dict:
        changes = services.changed_fields(need, {"site": site, **row.fields})
        try:
            services.check_quantity(need, changes.get("quantity_needed", need.quantity_needed))
        except services.NeedError as e:
            raise RowRefused(e.message) from e
        return changes


def import_needs(
    path: Path,
    *,
    dry_run: bool = False,
    progress=None,
    area: list[str] | None = None,
    by=None,
) -> ImportReport:
    """Import the file's rows. With `dry_run`, report what would happen and write nothing. With
    `area` (region codes, locations.scoping.area_codes), rows outside it are refused. `by` (the
    importing staff member) is recorded in each need's history.

    Rows are checked one by one and written in batches of BATCH, each batch one transaction, so
    memory stays flat whatever the file's length. Checks happen before any write, so a refused row
    never undoes the others.
    """
    report = ImportReport()
    lookups = Lookups(area)
    seen: dict[str, int] = {}
    pending: list[CheckedRow] = []
    refused: list[RowResult] = []

    def flush():
        with transaction.atomic():
            written = Batch(pending, report, area, by).write() if pending else []
            if dry_run:
                transaction.set_rollback(True)
        report.results.extend(sorted([*written, *refused], key=lambda r: r.line))
        pending.clear()
        refused.clear()
        if progress:
            progress(len(report.results))

    for line, row in read_rows(path, REQUIRED):
        ref = row.get("external_ref", "")
        try:
            check_cells(row, CELLS)  # first: nothing quotes or looks up a cell before
            if ref in seen:
                raise RowRefused(
                    _("external_ref %(ref)s already appears on line %(line)s.")
                    % {"ref": ref, "line": seen[ref]}
                )
            if ref:
                seen[ref] = line
            pending.append(check_row(line, row, lookups))
        except RowRefused as e:
            refused.append(RowResult(line, shown(ref), "refused", str(e)))
        if len(pending) + len(refused) >= BATCH:
            flush()
    flush()
    return report


def template_csv() -> str:
    """The documented template: the header and one example row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(
        [
            "DKI-PANGAN-2020-0001",
            "31.71.01.1001",
            "rw",
            "RW 01",
            "-6.1775",
            "106.8330",
            "pangan",
            "Paket sembako",
            "Paket sembako untuk warga RW 01",
            "120",
            "paket",
            "120",
            "household",
            "Penerima bansos masa PSBB",
            "2020-10-01",
            "2020-12-31",
        ]
    )
    return out.getvalue()
