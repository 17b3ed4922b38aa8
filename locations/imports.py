"""Import sites (RW, Loksem, schools, kampung) and their contact persons from CSV, XLSX or GeoJSON.

Each row names a site, by external reference or by kelurahan, kind and name, and optionally one
contact person on it. A site is created or updated; a contact person is matched by name on the site.
Refused rows carry their line number and reason; importing the same file twice changes nothing.
Every cell is checked against its column first (CELLS, locations.spreadsheets.check_cells).
Contact persons are personal data: they reach the admin only, never a public page.
"""

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from ksbb.lib.phones import to_e164
from locations.models import ContactPerson, Region, Site
from locations.services import save_contact
from locations.spreadsheets import (
    Cell,
    ImportFileError,
    Places,
    RowRefused,
    check_cells,
    parse_point,
    read_rows,
    shown,
)

REQUIRED = ["kelurahan", "site_kind", "site_name"]
# The columns and what each may hold (see needs.imports.CELLS).
CELLS = {
    "external_ref": Cell.line(Site, "external_ref"),
    "kelurahan": Cell.line(Region, "name"),
    "site_kind": Cell.line(),
    "site_name": Cell.line(Site, "name"),
    "address": Cell.line(Site, "address"),
    "latitude": Cell.degrees(90),
    "longitude": Cell.degrees(180),
    "contact_name": Cell.line(ContactPerson, "name"),
    "contact_role": Cell.line(),
    "contact_phone": Cell.line(ContactPerson, "phone"),
    "contact_email": Cell.line(ContactPerson, "email"),
    "contact_channel": Cell.line(),
}
COLUMNS = list(CELLS)
# Where a GeoJSON feature's reason for refusal travels in its row: a key no header or property name
# can produce, as their spaces become underscores.
REFUSAL = "refused because"


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
    features = data.get("features") or []
    if not isinstance(features, list):
        raise ImportFileError(_("Expected a GeoJSON FeatureCollection."))
    for number, feature in enumerate(features, start=1):
        feature = feature or {}
        properties = feature.get("properties") or {} if isinstance(feature, dict) else None
        geometry = feature.get("geometry") or {} if isinstance(feature, dict) else None
        if not isinstance(properties, dict) or not isinstance(geometry, dict):
            yield number, {REFUSAL: _("This is not a GeoJSON Feature object.")}
            continue
        row = {
            str(k).strip().lower().replace(" ", "_"): "" if v is None else str(v).strip()
            for k, v in properties.items()
        }
        coordinates = geometry.get("coordinates")
        if (
            geometry.get("type") == "Point"
            and isinstance(coordinates, list)
            and len(coordinates) >= 2
        ):
            row["longitude"], row["latitude"] = (str(c) for c in coordinates[:2])
        elif geometry:
            row[REFUSAL] = _("Only Point geometries can place a site.")
        yield number, row


def rows_of(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    path = Path(path)
    if path.suffix.lower() in (".geojson", ".json"):
        if not path.is_file():
            raise ImportFileError(_("%(path)s: no such file.") % {"path": path})
        return _geojson_rows(path)
    return read_rows(path, REQUIRED)


def _contact_fields(row: dict, choices: dict[str, dict[str, str]]) -> dict:
    """What the row says of its contact person, as saved. The e-mail and channel change only when
    the file has their column (an older file leaves what staff set); a blank channel keeps it."""
    role = choices["role"].get(row.get("contact_role", "").lower())
    if role is None:
        raise RowRefused(
            _("Unknown contact role “%(role)s”.") % {"role": shown(row.get("contact_role", ""))}
        )
    written = row.get("contact_phone", "")
    try:
        # As saved: the same number written another way leaves the contact unchanged.
        fields = {"role": role, "phone": to_e164(written)}
    except ValueError as e:
        raise RowRefused(
            _("contact_phone “%(phone)s” is not a phone number. %(reason)s")
            % {"phone": shown(written), "reason": e}
        ) from e
    if "contact_email" in row:
        email = row["contact_email"]
        try:
            if email:
                validate_email(email)
        except ValidationError as e:
            raise RowRefused(
                _("contact_email “%(email)s” is not an e-mail address.") % {"email": shown(email)}
            ) from e
        fields["email"] = email
    if written := row.get("contact_channel", ""):
        fields["channel"] = choices["channel"].get(written.lower())
        if fields["channel"] is None:
            raise RowRefused(
                _("Unknown contact channel “%(channel)s”: one of %(choices)s.")
                % {"channel": shown(written), "choices": ", ".join(ContactPerson.Channel.values)}
            )
    return fields


def _contact(site: Site, row: dict, choices: dict, report: SiteImportReport) -> None:
    name = row.get("contact_name", "")
    if not name:
        return
    fields = _contact_fields(row, choices)
    contact = ContactPerson.objects.filter(site=site, name=name).first()
    if contact is None:
        action, contact = "created", ContactPerson(site=site, name=name)
    elif any(getattr(contact, k) != v for k, v in fields.items()):
        # A new number or address goes back to unverified there (locations.services.save_contact).
        action = "updated"
    else:
        report.contacts["unchanged"] += 1
        return
    try:
        save_contact(contact, reason="import", **fields)
    except ValidationError as e:  # the e-mail channel without an e-mail
        raise RowRefused(" ".join(e.messages)) from e
    report.contacts[action] += 1


def _site(row: dict, places: Places, line: int) -> tuple[Site, str]:
    kelurahan = places.kelurahan(row.get("kelurahan", ""))
    kind = places.site_kind(row.get("site_kind", ""))
    name = row.get("site_name", "")
    if not name:
        raise RowRefused(_("%(column)s is required.") % {"column": "site_name"})
    ref = row.get("external_ref", "") or None
    point = parse_point(row.get("latitude", ""), row.get("longitude", ""), kelurahan)
    site = (Site.objects.filter(external_ref=ref).first() if ref else None) or Site.objects.filter(
        kelurahan=kelurahan, kind=kind, name=name
    ).first()
    wanted = {
        "kelurahan": kelurahan,
        "kind": kind,
        "name": name,
        "address": row.get("address", ""),
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
    if (
        changes.keys() & {"kelurahan", "kind", "name"}
        and Site.objects.filter(kelurahan=kelurahan, kind=kind, name=name)
        .exclude(pk=site.pk)
        .exists()
    ):  # the row's reference names one site, its kelurahan, kind and name another
        raise RowRefused(_("A site of this kind with this name already exists in this kelurahan."))
    for k, v in changes.items():
        setattr(site, k, v)
    site.save(update_fields=[*changes, "updated_at"])
    return site, "updated"


def import_sites(path: Path, *, dry_run: bool = False) -> SiteImportReport:
    """Import the file's sites and contact persons, each row in its own savepoint."""
    report = SiteImportReport()
    places = Places()
    choices = {
        name: {v.lower(): v for v in kind.values}
        | {str(label).lower(): v for v, label in kind.choices}
        for name, kind in (("role", ContactPerson.Role), ("channel", ContactPerson.Channel))
    }
    seen: dict[str, int] = {}
    with transaction.atomic():
        for line, row in rows_of(path):
            label = shown(row.get("external_ref") or row.get("site_name", ""))
            try:
                if REFUSAL in row:
                    raise RowRefused(row[REFUSAL])
                check_cells(row, CELLS)  # first: nothing quotes or looks up a cell before
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
                    _contact(site, row, choices, report)
                report.results.append(SiteRowResult(line, label, action))
            except RowRefused as e:
                report.results.append(SiteRowResult(line, label, "refused", str(e)))
        if dry_run:
            transaction.set_rollback(True)
    return report
