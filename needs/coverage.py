"""Where need is least covered: what of each need no pledge covers yet, and its sum per kelurahan.
One definition, read by the map's "unmet need" layer, its table, the list's "least covered first"
order and the open data (transparency.opendata's `unmet_need` dataset and the needs' columns), so a
reader can recompute every shaded area from the needs file.

For a need a donor can still pledge to (open or partly pledged), with R of its N units not pledged:
- beneficiaries not covered: ⌈beneficiaries × R / N⌉, whole people, so the areas' sums are exact
  sums of the needs' own figures (a rounded share of a sum would not be);
- value not covered: R × the aid type's reference value in Rupiah (empty: the aid type has none,
  and the need is counted in `needs_without_estimate` instead).
A need fully pledged, delivered or closed leaves nothing uncovered: 0 and 0.

Per kelurahan, a need counts where its site is registered; per RW (where RW boundaries are loaded,
locations.RwArea), where PostGIS finds its site's point: inside the RW's polygon. A site in none
(the 2012 polygons leave small gaps) counts for its kelurahan only.
"""

import json

from django.db import connections, router
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast

from locations.models import Region, RwArea
from needs.models import Need, NeedStatus

OPEN_STATUSES = (NeedStatus.OPEN, NeedStatus.PARTLY_PLEDGED)
IS_OPEN = Q(status__in=OPEN_STATUSES)
LEVELS = ("kelurahan", "rw")
# How much an RW's outline is simplified for the map (degrees, about 3 m), and its decimals.
RW_SIMPLIFY = 0.00003
RW_DECIMALS = 5


def _remaining():
    return Cast(F("quantity_needed") - F("quantity_pledged"), BigIntegerField())


def beneficiaries_uncovered():
    """The expression of a need's beneficiaries not covered (module docstring)."""
    # A ceiling in integers: (b × R + N − 1) div N, in bigint (b × R overflows an integer).
    share = ExpressionWrapper(
        (Cast(F("beneficiaries"), BigIntegerField()) * _remaining() + F("quantity_needed") - 1)
        / F("quantity_needed"),
        output_field=BigIntegerField(),
    )
    return Case(When(IS_OPEN, then=share), default=Value(0), output_field=BigIntegerField())


def value_uncovered():
    """The expression of a need's value not covered in Rupiah; NULL without a reference value."""
    value = ExpressionWrapper(
        _remaining() * F("aid_type__unit_value"), output_field=BigIntegerField()
    )
    return Case(When(IS_OPEN, then=value), default=Value(0), output_field=BigIntegerField())


def covered_share():
    """The share of a need already pledged, 0 to 1: "least covered first" sorts on it."""
    return ExpressionWrapper(
        Cast(F("quantity_pledged"), FloatField()) / F("quantity_needed"), output_field=FloatField()
    )


def least_covered_first(needs):
    """`needs` in the "least covered first" order: the smallest share pledged first, then the most
    beneficiaries not covered, then the newest (the map's sort, an alert digest's list)."""
    return needs.annotate(
        covered_share=covered_share(), uncovered=beneficiaries_uncovered()
    ).order_by("covered_share", "-uncovered", "-created_at", "-pk")


def of_need(need: Need) -> dict:
    """The same two figures for one need in Python (the need's page; tested equal to the SQL)."""
    if need.status not in OPEN_STATUSES:
        return {"beneficiaries_uncovered": 0, "value_uncovered": 0}
    remaining = need.quantity_needed - need.quantity_pledged
    unit_value = need.aid_type.unit_value
    return {
        "beneficiaries_uncovered": -(-need.beneficiaries * remaining // need.quantity_needed),
        "value_uncovered": None if unit_value is None else remaining * unit_value,
    }


def _sums() -> dict:
    return {
        "needs_open": Count("pk", filter=IS_OPEN),
        "beneficiaries_uncovered": Sum(beneficiaries_uncovered()),
        "value_uncovered": Sum(value_uncovered()),
        "needs_without_estimate": Count(
            "pk", filter=IS_OPEN & Q(aid_type__unit_value__isnull=True)
        ),
    }


def _whole(row: dict) -> dict:
    return {
        **row,
        "beneficiaries_uncovered": int(row["beneficiaries_uncovered"] or 0),
        "value_uncovered": int(row["value_uncovered"] or 0),
    }


def by_kelurahan(needs: QuerySet) -> list[dict]:
    """Per kelurahan with at least one of `needs`: its code and name, its kecamatan's and kota's
    (`kota` as people say it, `kota_name` in full), the open needs, and the sums of their figures,
    most beneficiaries not covered first. One grouped query."""
    kelurahan = "site__kelurahan"
    rows = (
        needs.order_by()
        .values(
            code=F(f"{kelurahan}__code"),
            name=F(f"{kelurahan}__name"),
            kecamatan_code=F(f"{kelurahan}__parent__code"),
            kecamatan=F(f"{kelurahan}__parent__name"),
            kota_code=F(f"{kelurahan}__parent__parent__code"),
            kota_name=F(f"{kelurahan}__parent__parent__name"),
        )
        .annotate(**_sums())
        .order_by("-beneficiaries_uncovered", "-value_uncovered", "code")
    )
    return [_whole({**row, "kota": Region(name=row["kota_name"]).display_name}) for row in rows]


def by_rw(needs: QuerySet, *, shapes: bool = False) -> list[dict]:
    """Per RW area with at least one of `needs` at a site inside it: its code, name and number, its
    kelurahan's code and name, and the same sums as by_kelurahan; with `shapes`, its outline as
    GeoJSON (simplified for the map). Two queries: the sums, grouped by the RW PostGIS finds for
    each need's site (a GiST index lookup per site), and the RWs' names."""
    inside = RwArea.objects.filter(boundary__intersects=OuterRef("site__point")).values("code")[:1]
    rows = (
        needs.order_by()
        .annotate(rw=Subquery(inside))
        .filter(rw__isnull=False)
        .values("rw")
        .annotate(**_sums())
        .order_by("-beneficiaries_uncovered", "-value_uncovered", "rw")
    )
    rows = [_whole(row) for row in rows]
    areas = {
        a["code"]: a
        for a in RwArea.objects.filter(code__in=[r["rw"] for r in rows]).values(
            "code",
            "number",
            kelurahan_code=F("kelurahan__code"),
            kelurahan_name=F("kelurahan__name"),
        )
    }
    outlines = _outlines(list(areas)) if shapes else {}
    result = []
    for row in rows:
        area = areas[row.pop("rw")]
        result.append(
            {
                "code": area["code"],
                "name": f"RW {area['number']:02d}",
                "kelurahan_code": area["kelurahan_code"],
                "kelurahan": area["kelurahan_name"],
                **row,
                **({"geometry": outlines.get(area["code"])} if shapes else {}),
            }
        )
    return result


def _outlines(codes: list[str]) -> dict[str, dict]:
    """The RWs' outlines as GeoJSON geometries, simplified by PostGIS for a phone's map."""
    if not codes:
        return {}
    with connections[router.db_for_read(RwArea)].cursor() as cursor:
        cursor.execute(
            f"""SELECT code, ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary, %s), %s)
                  FROM {RwArea._meta.db_table} WHERE code = ANY(%s)""",
            [RW_SIMPLIFY, RW_DECIMALS, codes],
        )
        return {code: json.loads(shape) for code, shape in cursor.fetchall()}
