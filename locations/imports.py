"""Import sites (RW, Loksem, schools, kampung) and their contact persons from CSV, XLSX or GeoJSON.

Each row names a site, by external reference or by kelurahan, kind and name, and optionally one
contact person on it. A site is created or updated; a contact person is matched by name on the site.
Refused rows carry their line number and reason; importing the same file twice changes nothing.
Contact persons are personal data: they reach the admin only, never a public page.
"""

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from locations.models import PHONE_PATTERN, ContactPerson, Site
from locations.services import save_contact
from locations.spreadsheets import ImportFileError, Places, RowRefused, parse_point, read_rows

REQUIRED = ["kelurahan", "site_kind", "site_name"]
COLUMNS = [
    "external_ref",
    "kelurahan",
    "site_kind",
    "site_name",
    "address",
    "latitude",
    "longitude",
    "contact_name",
    "contact_role",
    "contact_phone",
]


@dataclass
class SiteRowResult:
    line: int
    site: str
    action: str  # "created", "updated", "unchanged" or "refused"
    reason: str = ""


@dataclass
class SiteImportReport:
    results: list[SiteRowResult] = field(default_factory=list)
    contacts: Counter = field(default_factory=Counter)

    @property
    def counts(self) -> Counter:
        return Counter(r.action for r in self.results)

    @property
    def refused(self) -> list[SiteRowResult]:
        return [r for r in self.results if r.action == "refused"]


def _geojson_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Point features as rows: the geometry gives latitude and longitude, properties the rest."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        # RecursionError: arrays or objects nested deeper than any GeoJSON is.
        raise ImportFileError(_("The file is not GeoJSON: %(error)s") % {"error": e}) from e
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ImportFileError(_("Expected a GeoJSON FeatureCollection."))
    for number, feature in enumerate(data.get("features") or [], start=1):
        properties = (feature or {}).get("properties") or {}
        row = {str(k).lower(): "" if v is None else str(v).strip() for k, v in properties.items()}
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") == "Point" and len(geometry.get("coordinates") or []) >= 2:
            row["longitude"], row["latitude"] = (str(c) for c in geometry["coordinates"][:2])
        elif geometry:
            row["_geometry_error"] = _("Only Point geometries can place a site.")
        yield number, row


def rows_of(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    path = Path(path)
    if path.suffix.lower() in (".geojson", ".json"):
        if not path.is_file():
            raise ImportFileError(_("%(path)s: no such file.") % {"path": path})
        return _geojson_rows(path)
    return read_rows(path, REQUIRED)


def _contact(site: Site, row: dict, roles: dict[str, str], report: SiteImportReport) -> None:
    name = row.get("contact_name", "")
    if not name:
        return
    role = roles.get(row.get("contact_role", "").lower())
    if role is None:
        raise RowRefused(
            _("Unknown contact role “%(role)s”.") % {"role": row.get("contact_role", "")}
        )
    phone = row.get("contact_phone", "")
    if not re.match(PHONE_PATTERN, phone):
        raise RowRefused(_("“%(phone)s” is not a phone number.") % {"phone": phone})
    contact = ContactPerson.objects.filter(site=site, name=name).first()
    if contact is None:
        contact = ContactPerson(site=site, name=name[:150], role=role, phone=phone)
        save_contact(contact, reason="import")
        report.contacts["created"] += 1
    elif (contact.role, contact.phone) != (role, phone):
        # A new number goes back to unverified there: the verification was of the old one.
        save_contact(contact, role=role, phone=phone, reason="import")
        report.contacts["updated"] += 1
    else:
        report.contacts["unchanged"] += 1


def _site(row: dict, places: Places, line: int) -> tuple[Site, str]:
    if row.get("_geometry_error"):
        raise RowRefused(row["_geometry_error"])
    kelurahan = places.kelurahan(row.get("kelurahan", ""))
    kind = places.site_kind(row.get("site_kind", ""))
    name = row.get("site_name", "")
    if not name or len(name) > 150:
        raise RowRefused(_("site_name is required (at most 150 characters)."))
    ref = row.get("external_ref", "") or None
    point = parse_point(row.get("latitude", ""), row.get("longitude", ""), kelurahan)
    site = (Site.objects.filter(external_ref=ref).first() if ref else None) or Site.objects.filter(
        kelurahan=kelurahan, kind=kind, name=name
    ).first()
    wanted = {
        "kelurahan": kelurahan,
        "kind": kind,
        "name": name,
        "address": row.get("address", "")[:255],
    }
    if ref:
        wanted["external_ref"] = ref
    if point is not None:
        wanted |= {"point": point, "location_is_approximate": False}
    if site is None:
        if point is None:
            if kelurahan.boundary is None:
                raise RowRefused(
                    _(
                        "No coordinates, and Kelurahan %(name)s has no boundary to place the site in."
                    )
                    % {"name": kelurahan.name}
                )
            wanted |= {
                "point": kelurahan.boundary.point_on_surface,
                "location_is_approximate": True,
            }
        return Site.objects.create(**wanted), "created"
    changes = {
        k: v
        for k, v in wanted.items()
        if (getattr(site, f"{k}_id") != v.pk if k == "kelurahan" else getattr(site, k) != v)
    }
    if "point" in changes and site.point.equals_exact(changes["point"], tolerance=1e-7):
        del changes["point"]
    if not changes:
        return site, "unchanged"
    for k, v in changes.items():
        setattr(site, k, v)
    site.save(update_fields=[*changes, "updated_at"])
    return site, "updated"


def import_sites(path: Path, *, dry_run: bool = False) -> SiteImportReport:
    """Import the file's sites and contact persons, each row in its own savepoint."""
    report = SiteImportReport()
    places = Places()
    roles = {v.lower(): v for v in ContactPerson.Role.values} | {
        str(label).lower(): v for v, label in ContactPerson.Role.choices
    }
    seen: dict[str, int] = {}
    with transaction.atomic():
        for line, row in rows_of(path):
            label = row.get("external_ref") or row.get("site_name", "")
            try:
                ref = row.get("external_ref", "")
                if ref and ref in seen:
                    raise RowRefused(
                        _("external_ref %(ref)s already appears on line %(line)s.")
                        % {"ref": ref, "line": seen[ref]}
                    )
                if ref:
                    seen[ref] = line
                with transaction.atomic():
                    site, action = _site(row, places, line)
                    _contact(site, row, roles, report)
                report.results.append(SiteRowResult(line, label, action))
            except RowRefused as e:
                report.results.append(SiteRowResult(line, label, "refused", str(e)))
        if dry_run:
            transaction.set_rollback(True)
    return report
