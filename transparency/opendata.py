"""Open data: needs, sites, pledges, deliveries, collaborators and the totals, as CSV, JSON and
GeoJSON, with stable column names documented in docs/open-data.md.

No personal data leaves through here: no e-mail, phone, contact person, pledge token, delivery note
or evidence; an anonymous collaborator is "Anonim" with no collaborator id (see `_public`).
"""

import csv
import datetime
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet, Sum
from django.http import HttpResponse, StreamingHttpResponse

from donations.models import Collaborator, Vetting, verified_sql
from ksbb.lib.cells import safe_cell
from ledger.models import Checkpoint
from locations.models import Region, Site
from needs import coverage
from transparency import figures

ANONYMOUS_NAME = "Anonim"
LICENCE = "ODbL-1.0"
LICENCE_URL = "https://opendatacommons.org/licenses/odbl/1-0/"


def collaborator_id(pk: int) -> str:
    """A stable opaque id for a named collaborator (an HMAC of its key, so it reveals neither the
    key nor the number of collaborators). Anonymous collaborators get none."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"collaborator:{pk}".encode(), hashlib.sha256)
    return "c" + digest.hexdigest()[:12]


@dataclass(frozen=True)
class Column:
    name: str
    hxl: str
    source: str | None = None  # the queryset's value name, when it differs from `name`


@dataclass(frozen=True)
class Dataset:
    columns: list[Column]
    rows: Callable[[datetime.date | None], Iterable[dict]]
    geo: Callable[[], QuerySet] | None = None  # for GeoJSON: a values() queryset with id and point


REGION_COLUMNS = [
    Column("kelurahan_code", "#adm4+code"),
    Column("kelurahan_name", "#adm4+name"),
    Column("kecamatan_code", "#adm3+code"),
    Column("kecamatan_name", "#adm3+name"),
    Column("kota_code", "#adm2+code"),
    Column("kota_name", "#adm2+name"),
]


def _regions(prefix: str) -> dict[str, F]:
    kel = f"{prefix}kelurahan"
    return {
        "kelurahan_code": F(f"{kel}__code"),
        "kelurahan_name": F(f"{kel}__name"),
        "kecamatan_code": F(f"{kel}__parent__code"),
        "kecamatan_name": F(f"{kel}__parent__name"),
        "kota_code": F(f"{kel}__parent__parent__code"),
        "kota_name": F(f"{kel}__parent__parent__name"),
    }


# needs -----------------------------------------------------------------------------------------

NEED_COLUMNS = [
    Column("need_id", "#activity+id"),
    Column("title", "#activity+name"),
    Column("category", "#sector+code"),
    Column("category_name", "#sector+name"),
    Column("aid_type", "#item+name"),
    Column("unit", "#item+unit"),
    Column("status", "#status"),
    Column("site_id", "#loc+id"),
    Column("site_kind", "#loc+type"),
    Column("site_name", "#loc+name"),
    *REGION_COLUMNS,
    Column("lat", "#geo+lat"),
    Column("lon", "#geo+lon"),
    Column("location_is_approximate", "#geo+approximate"),
    Column("quantity_needed", "#output+needed+num"),
    Column("quantity_pledged", "#output+pledged+num"),
    Column("quantity_delivered", "#output+delivered+num"),
    Column("beneficiaries", "#targeted+num"),
    Column("beneficiary_kind", "#beneficiary+type"),
    Column("beneficiaries_uncovered", "#targeted+uncovered+num"),
    Column("value_uncovered", "#value+uncovered+idr"),
    Column("period_start", "#date+start"),
    Column("period_end", "#date+end"),
    Column("created_at", "#date+created"),
]


def _needs(as_of=None) -> QuerySet:
    return (
        figures.needs_as_of(as_of)
        .order_by("pk")
        .values(
            "title",
            "status",
            "quantity_needed",
            "quantity_pledged",
            "beneficiaries",
            "beneficiary_kind",
            "period_start",
            "period_end",
            "created_at",
            "site_id",
            need_id=F("pk"),
            category=F("aid_type__category__slug"),
            category_name=F("aid_type__category__name"),
            aid_type_name=F("aid_type__name"),
            unit=F("aid_type__unit"),
            site_kind=F("site__kind"),
            site_name=F("site__name"),
            location_is_approximate=F("site__location_is_approximate"),
            quantity_delivered_then=F("delivered_then"),
            point=F("site__point"),
            beneficiaries_uncovered=coverage.beneficiaries_uncovered(),
            value_uncovered=coverage.value_uncovered(),
            **_regions("site__"),
        )
    )


def _need_rows(as_of=None) -> Iterator[dict]:
    for row in _needs(as_of).iterator(chunk_size=2000):
        point = row.pop("point")
        row["aid_type"] = row.pop("aid_type_name")
        row["quantity_delivered"] = row.pop("quantity_delivered_then")
        row["lat"], row["lon"] = round(point.y, 6), round(point.x, 6)
        yield row


NEED_GEO_PROPERTIES = [
    "title",
    "category",
    "status",
    "quantity_needed",
    "quantity_pledged",
    "quantity_delivered",
    "beneficiaries",
    "site_id",
    "kelurahan_code",
]
SITE_GEO_PROPERTIES = ["site_kind", "site_name", "kelurahan_code", "needs_count"]


def _needs_geo() -> QuerySet:
    return figures.needs_as_of().values(
        "title",
        "status",
        "quantity_needed",
        "quantity_pledged",
        "beneficiaries",
        "site_id",
        "quantity_delivered",
        "id",
        category=F("aid_type__category__slug"),
        point=F("site__point"),
        kelurahan_code=F("site__kelurahan__code"),
    )


# unmet need per kelurahan (the map's "unmet need" layer, needs.coverage) ------------------------

UNMET_NEED_COLUMNS = [
    Column("area_level", "#loc+type"),
    Column("rw_code", "#adm5+code"),
    Column("rw_name", "#adm5+name"),
    *REGION_COLUMNS,
    Column("needs_open", "#activity+open+num"),
    Column("beneficiaries_uncovered", "#targeted+uncovered+num"),
    Column("value_uncovered", "#value+uncovered+idr"),
    Column("needs_without_estimate", "#activity+noestimate+num"),
]
_UNMET_SUMS = ("needs_open", "beneficiaries_uncovered", "value_uncovered", "needs_without_estimate")


def _unmet_need_rows(as_of=None) -> Iterator[dict]:
    """Each kelurahan with a published need, then each RW area with one (where RW boundaries are
    loaded), by the map's one definition (needs.coverage): a kelurahan's figures are the sums of
    the needs file's columns of the same names over its needs."""
    needs = figures.needs_as_of(as_of)
    kelurahan = sorted(coverage.by_kelurahan(needs), key=lambda a: a["code"])
    for area in kelurahan:
        yield {
            "area_level": "kelurahan",
            "kelurahan_code": area["code"],
            "kelurahan_name": area["name"],
            "kecamatan_code": area["kecamatan_code"],
            "kecamatan_name": area["kecamatan"],
            "kota_code": area["kota_code"],
            "kota_name": area["kota_name"],
            **{name: area[name] for name in _UNMET_SUMS},
        }
    names = dict(Region.objects.values_list("code", "name"))
    for area in sorted(coverage.by_rw(needs), key=lambda a: a["code"]):
        code = area["kelurahan_code"]
        yield {
            "area_level": "rw",
            "rw_code": area["code"],
            "rw_name": area["name"],
            "kelurahan_code": code,
            "kelurahan_name": area["kelurahan"],
            "kecamatan_code": code[:8],
            "kecamatan_name": names.get(code[:8], ""),
            "kota_code": code[:5],
            "kota_name": names.get(code[:5], ""),
            **{name: area[name] for name in _UNMET_SUMS},
        }


# sites -----------------------------------------------------------------------------------------

SITE_COLUMNS = [
    Column("site_id", "#loc+id"),
    Column("site_kind", "#loc+type"),
    Column("site_name", "#loc+name"),
    *REGION_COLUMNS,
    Column("lat", "#geo+lat"),
    Column("lon", "#geo+lon"),
    Column("location_is_approximate", "#geo+approximate"),
    Column("needs_count", "#activity+num"),
]


def _sites() -> QuerySet:
    return (
        Site.objects.filter(needs__published=True)
        .annotate(needs_count=Count("needs"))
        .order_by("pk")
        .values(
            "needs_count",
            "location_is_approximate",
            site_id=F("pk"),
            site_kind=F("kind"),
            site_name=F("name"),
            site_point=F("point"),
            **_regions(""),
        )
    )


def _site_rows(as_of=None) -> Iterator[dict]:
    for row in _sites().iterator(chunk_size=2000):
        point = row.pop("site_point")
        row["lat"], row["lon"] = round(point.y, 6), round(point.x, 6)
        yield row


def _sites_geo() -> QuerySet:
    return (
        Site.objects.filter(needs__published=True)
        .annotate(needs_count=Count("needs"))
        .values(
            "needs_count",
            "id",
            "point",
            site_kind=F("kind"),
            site_name=F("name"),
            kelurahan_code=F("kelurahan__code"),
        )
    )


# pledges, deliveries, collaborators ------------------------------------------------------------

COLLABORATOR_COLUMNS = [
    Column("collaborator_id", "#org+id"),
    Column("collaborator_name", "#org+name"),
    Column("collaborator_kind", "#org+type"),
    # The "verified organisation" mark as it stands today (docs/open-data.md).
    Column("collaborator_verified", "#org+verified"),
]


def _verified(prefix: str):
    return ExpressionWrapper(Q(**{f"{prefix}vetting": Vetting.VETTED}), output_field=BooleanField())


PLEDGE_COLUMNS = [
    Column("pledge_id", "#activity+pledge+id"),
    Column("need_id", "#activity+id"),
    Column("category", "#sector+code"),
    Column("aid_type", "#item+name"),
    Column("unit", "#item+unit"),
    *COLLABORATOR_COLUMNS,
    Column("quantity", "#output+pledged+num"),
    Column("quantity_delivered", "#output+delivered+num"),
    Column("status", "#status"),
    Column("counts_for_collaborators", "#meta+counted"),
    Column("kecamatan_code", "#adm3+code"),
    Column("kota_code", "#adm2+code"),
    Column("created_at", "#date+created"),
]


def _public(row: dict) -> dict:
    """Replace the collaborator's key with what the public may see: an opaque id and the public
    name, or "Anonim" and nothing that links the rows of one anonymous collaborator."""
    pk = row.pop("collaborator_pk")
    anonymous = row.pop("collaborator_anonymous")
    name = row.pop("collaborator_public_name")
    row["collaborator_id"] = "" if anonymous else collaborator_id(pk)
    row["collaborator_name"] = ANONYMOUS_NAME if anonymous else name
    return row


_COLLABORATOR_VALUES = {
    "collaborator_pk": F("collaborator_id"),
    "collaborator_anonymous": F("collaborator__is_anonymous"),
    "collaborator_public_name": F("collaborator__public_name"),
    "collaborator_kind": F("collaborator__kind"),
    "collaborator_verified": _verified("collaborator__"),
}


def _pledge_rows(as_of=None) -> Iterator[dict]:
    pledges = figures.pledges_as_of(as_of)
    for row in (
        pledges.order_by("pk")
        .values(
            "quantity",
            "created_at",
            "need_id",
            "status_then",
            "delivered_then",
            pledge_id=F("pk"),
            category=F("need__aid_type__category__slug"),
            aid_type=F("need__aid_type__name"),
            unit=F("need__aid_type__unit"),
            kecamatan_code=F("need__site__kelurahan__parent__code"),
            kota_code=F("need__site__kelurahan__parent__parent__code"),
            **_COLLABORATOR_VALUES,
        )
        .iterator(chunk_size=2000)
    ):
        row["status"] = row.pop("status_then")
        row["quantity_delivered"] = row.pop("delivered_then")
        row["counts_for_collaborators"] = (
            row["status"] in figures.COUNTING_STATUSES or row["quantity_delivered"] > 0
        )
        yield _public(row)


DELIVERY_COLUMNS = [
    Column("delivery_id", "#activity+delivery+id"),
    Column("pledge_id", "#activity+pledge+id"),
    Column("need_id", "#activity+id"),
    Column("category", "#sector+code"),
    Column("aid_type", "#item+name"),
    Column("unit", "#item+unit"),
    *COLLABORATOR_COLUMNS,
    Column("quantity", "#output+delivered+num"),
    Column("delivered_on", "#date+delivered"),
    Column("opd", "#org+facilitator+name"),
    Column("recipients", "#status+recipients"),
    Column("quantity_received", "#output+received+num"),
    Column("second_check", "#status+checked"),
    Column("verified", "#status+verified"),
    Column("site_id", "#loc+id"),
    Column("kecamatan_code", "#adm3+code"),
    Column("kota_code", "#adm2+code"),
]


def _delivery_rows(as_of=None) -> Iterator[dict]:
    for row in (
        figures.deliveries_as_of(as_of)
        .annotate(recipients=figures.receipt_state(as_of))
        .order_by("pk")
        .values(
            "quantity",
            "delivered_on",
            "recipients",
            delivery_id=F("pk"),
            need_id=F("pledge__need_id"),
            category=F("pledge__need__aid_type__category__slug"),
            aid_type=F("pledge__need__aid_type__name"),
            unit=F("pledge__need__aid_type__unit"),
            opd_name=F("opd__name"),
            site_id=F("pledge__need__site_id"),
            kecamatan_code=F("pledge__need__site__kelurahan__parent__code"),
            kota_code=F("pledge__need__site__kelurahan__parent__parent__code"),
            collaborator_pk=F("pledge__collaborator_id"),
            collaborator_anonymous=F("pledge__collaborator__is_anonymous"),
            collaborator_public_name=F("pledge__collaborator__public_name"),
            collaborator_kind=F("pledge__collaborator__kind"),
            collaborator_verified=_verified("pledge__collaborator__"),
            pledge_ref=F("pledge_id"),
            received=F("receipt__quantity_received"),
            answered_at=F("receipt__created_at"),
            checked_then=F("checked_at"),
            verified=ExpressionWrapper(
                verified_sql(figures.end_of_day(as_of) if as_of else None),
                output_field=BooleanField(),
            ),
        )
        .iterator(chunk_size=2000)
    ):
        # What the recipients said is part of the file only once they had said it then.
        answered = row.pop("answered_at")
        said = answered is not None and (as_of is None or answered < figures.end_of_day(as_of))
        row["quantity_received"] = row.pop("received") if said else None
        checked = row.pop("checked_then")
        row["second_check"] = checked is not None and (
            as_of is None or checked < figures.end_of_day(as_of)
        )
        row["opd"] = row.pop("opd_name")
        row["pledge_id"] = row.pop("pledge_ref")
        yield _public(row)


COLLABORATOR_LIST_COLUMNS = [
    Column("collaborator_ref", "#org+ref"),
    *COLLABORATOR_COLUMNS,
    Column("category", "#sector+code"),
    Column("aid_type", "#item+name"),
    Column("unit", "#item+unit"),
    Column("kecamatan_code", "#adm3+code"),
    Column("kota_code", "#adm2+code"),
    Column("pledges", "#activity+num"),
    Column("quantity_pledged", "#output+pledged+num"),
    Column("quantity_delivered", "#output+delivered+num"),
]


def _collaborator_rows(as_of=None) -> Iterator[dict]:
    """One row per collaborator, category and kecamatan with counting pledges. `collaborator_ref` ties the
    rows of one collaborator together within this file only (for anonymous ones it is a number
    that changes between downloads), so distinct collaborators can be counted."""
    rows = (
        figures.counting(figures.pledges_as_of(as_of))
        .values(
            category=F("need__aid_type__category__slug"),
            aid_type=F("need__aid_type__name"),
            unit=F("need__aid_type__unit"),
            kecamatan_code=F("need__site__kelurahan__parent__code"),
            kota_code=F("need__site__kelurahan__parent__parent__code"),
            **_COLLABORATOR_VALUES,
        )
        .annotate(
            pledges=Count("pk"),
            quantity_pledged=Sum("quantity"),
            quantity_delivered=Sum("delivered_then"),
        )
        .order_by(
            "collaborator_anonymous", "collaborator_pk", "category", "aid_type", "kecamatan_code"
        )
    )
    refs: dict[int, str] = {}
    for row in rows.iterator(chunk_size=2000):
        pk, anonymous = row["collaborator_pk"], row["collaborator_anonymous"]
        if pk not in refs:
            refs[pk] = f"anon-{len(refs) + 1}" if anonymous else collaborator_id(pk)
        row["collaborator_ref"] = refs[pk]
        yield _public(row)


# totals ----------------------------------------------------------------------------------------

TOTAL_COLUMNS = [
    Column("figure", "#indicator+name"),
    Column("category", "#sector+code"),
    Column("aid_type", "#item+name"),
    Column("unit", "#item+unit"),
    Column("status", "#status"),
    Column("recipients", "#status+recipients"),
    Column("collaborator_kind", "#org+type"),
    Column("region_level", "#loc+type"),
    Column("region_code", "#loc+code"),
    Column("value", "#indicator+value+num"),
    Column("as_of", "#date+as_of"),
    Column("computed_at", "#date+computed"),
]
# Estimated values in Rupiah and what they leave out (transparency.figures.estimate).
_ESTIMATES = [
    "value_needed",
    "value_pledged",
    "value_delivered",
    "aid_types_without_estimate",
    "needs_without_estimate",
]
_HEADLINE = [
    "collaborators",
    "collaborators_vetted",
    "pledges",
    "deliveries",
    "needs",
    "needs_open",
    "beneficiaries",
    "needs_delivered",
    "beneficiaries_reached",
    *_ESTIMATES,
]
_PER_CATEGORY = [
    "collaborators",
    "pledges",
    "deliveries",
    "needs",
    "beneficiaries_reached",
    *_ESTIMATES,
]
_PER_AID_TYPE = [
    "needs",
    "quantity_needed",
    "quantity_pledged",
    "quantity_delivered",
    "quantity_verified",
    "unit_value",
    "value_needed",
    "value_pledged",
    "value_delivered",
]
_PER_REGION = [
    "needs",
    "beneficiaries",
    "beneficiaries_reached",
    "collaborators",
    "pledges",
    "deliveries",
]


def _total_rows(as_of=None) -> Iterator[dict]:
    """The page's figures, one per row (long format), so they can be compared with a recomputation.
    Read at the call, not at the first row: figures not counted yet (snapshots.NotReady) are an
    answer of their own, not a download cut short."""
    return _figure_rows(figures.figures(as_of))


def _figure_rows(f: dict) -> Iterator[dict]:
    stamp = {"as_of": f["as_of"] or "", "computed_at": f["computed_at"]}

    def row(figure, value, **keys):
        return {"figure": figure, "value": value, **keys, **stamp}

    for name in _HEADLINE:
        yield row(name, f[name])
    for c in f["by_category"]:
        for name in _PER_CATEGORY:
            yield row(f"category_{name}", c[name], category=c["slug"])
    for a in f["by_aid_type"]:
        keys = {"category": a["category"], "aid_type": a["aid_type"], "unit": a["unit"]}
        for name in _PER_AID_TYPE:
            # A missing reference value is left empty ("no estimate"), never written as 0.
            yield row(f"aid_type_{name}", a[name], **keys)
    for s in f["by_status"]:
        keys = {"category": s["category"], "aid_type": s["aid_type"], "unit": s["unit"]}
        yield row("status_pledges", s["pledges"], status=s["status"], **keys)
        yield row("status_quantity", s["quantity"], status=s["status"], **keys)
    for r in f["by_receipt"]:
        keys = {"category": r["category"], "aid_type": r["aid_type"], "unit": r["unit"]}
        yield row("receipt_deliveries", r["deliveries"], recipients=r["state"], **keys)
        yield row("receipt_quantity", r["quantity"], recipients=r["state"], **keys)
    for k in f["by_kind"]:
        yield row("kind_collaborators", k["collaborators"], collaborator_kind=k["kind"])
    for level in ("kota", "kecamatan"):
        for r in f[f"by_{level}"]:
            for name in _PER_REGION:
                yield row(f"region_{name}", r[name], region_level=level, region_code=r["code"])


# reference values ------------------------------------------------------------------------------

REFERENCE_VALUE_COLUMNS = [
    Column("category", "#sector+code"),
    Column("aid_type", "#item+name"),
    Column("unit", "#item+unit"),
    Column("unit_value_idr", "#value+unit+idr"),
    Column("source", "#meta+source"),
    Column("set_on", "#date+set"),
]


def _reference_value_rows(as_of=None) -> Iterator[dict]:
    """Each aid type's reference value per unit, behind every estimated value in Rupiah; today's
    (the history of each value is kept in the admin). No value: the cell is empty."""
    for aid_type in figures.reference_values():
        yield {
            "category": aid_type.category.slug,
            "aid_type": aid_type.name,
            "unit": aid_type.unit,
            "unit_value_idr": aid_type.unit_value,
            "source": aid_type.unit_value_source,
            "set_on": aid_type.unit_value_set_on,
        }


# the ledger's checkpoints (docs/ledger.md) --------------------------------------------------------

CHECKPOINT_COLUMNS = [
    Column("day", "#date"),
    Column("last_entry", "#meta+seq"),
    Column("hash", "#meta+hash"),
]


# The names beside the ledger: the ledger's collaborator ids with the names the public sees today.
# Erasable: an erased donor is "Anonim" here, and the ledger, which never held the name, is intact.
LEDGER_NAME_COLUMNS = [
    Column("collaborator", "#org+id+ledger"),
    Column("name", "#org+name"),
    Column("kind", "#org+type"),
]


def _ledger_name_rows(as_of=None) -> Iterator[dict]:
    collaborators = (
        Collaborator.objects.filter(pledges__need__published=True).distinct().order_by("public_id")
    )
    for c in collaborators.only("public_id", "public_name", "is_anonymous", "kind").iterator():
        yield {
            "collaborator": c.public_id,
            "name": ANONYMOUS_NAME if c.is_anonymous else c.public_name,
            "kind": c.kind,
        }


def _checkpoint_rows(as_of=None) -> Iterator[dict]:
    checkpoints = Checkpoint.objects.order_by("day")
    if as_of is not None:
        checkpoints = checkpoints.filter(day__lte=as_of)
    for c in checkpoints.iterator():
        yield {"day": c.day, "last_entry": c.seq, "hash": c.hash}


DATASETS: dict[str, Dataset] = {
    "needs": Dataset(NEED_COLUMNS, _need_rows, geo=_needs_geo),
    "sites": Dataset(SITE_COLUMNS, _site_rows, geo=_sites_geo),
    "unmet_need": Dataset(UNMET_NEED_COLUMNS, _unmet_need_rows),
    "pledges": Dataset(PLEDGE_COLUMNS, _pledge_rows),
    "deliveries": Dataset(DELIVERY_COLUMNS, _delivery_rows),
    "collaborators": Dataset(COLLABORATOR_LIST_COLUMNS, _collaborator_rows),
    "totals": Dataset(TOTAL_COLUMNS, _total_rows),
    "reference_values": Dataset(REFERENCE_VALUE_COLUMNS, _reference_value_rows),
    "ledger_checkpoints": Dataset(CHECKPOINT_COLUMNS, _checkpoint_rows),
    "ledger_names": Dataset(LEDGER_NAME_COLUMNS, _ledger_name_rows),
}
FORMATS = ("csv", "json", "geojson")


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(dataset: Dataset, rows: Iterable[dict]) -> Iterator[str]:
    """The CSV text, line by line: the header, the HXL hashtag row, then the rows."""
    writer = csv.writer(_Echo())
    yield writer.writerow([c.name for c in dataset.columns])
    yield writer.writerow([c.hxl for c in dataset.columns])
    for row in rows:
        yield writer.writerow([safe_cell(_text(row.get(c.name))) for c in dataset.columns])


def _text(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(figures.JAKARTA).isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _filename(name: str, as_of, ext: str) -> str:
    return f"ksbb-{name}{'-' + as_of.isoformat() if as_of else ''}.{ext}"


def response(name: str, fmt: str, as_of: datetime.date | None = None) -> HttpResponse:
    """The download `name`.`fmt`; the caller has checked both exist (and geojson has `geo`)."""
    dataset = DATASETS[name]
    if fmt == "csv":
        resp = StreamingHttpResponse(
            csv_lines(dataset, dataset.rows(as_of)), content_type="text/csv; charset=utf-8"
        )
    elif fmt == "geojson":
        from ksbb.lib.geojson import feature_collection

        geo = dataset.geo()
        props = NEED_GEO_PROPERTIES if name == "needs" else SITE_GEO_PROPERTIES
        resp = HttpResponse(
            feature_collection(geo, geometry="point", properties=props),
            content_type="application/geo+json",
        )
    else:
        rows = [
            {c.name: _text(row.get(c.name)) for c in dataset.columns} for row in dataset.rows(as_of)
        ]
        body = {
            "dataset": name,
            "licence": LICENCE,
            "licence_url": LICENCE_URL,
            "as_of": as_of,
            "columns": [c.name for c in dataset.columns],
            "rows": rows,
        }
        resp = HttpResponse(
            json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False),
            content_type="application/json",
        )
    resp["Content-Disposition"] = f'attachment; filename="{_filename(name, as_of, fmt)}"'
    resp["Access-Control-Allow-Origin"] = "*"
    return resp
