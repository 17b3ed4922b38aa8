"""Every public figure, defined once: the transparency page, the home page, totals.json and the
other open data read them from here. Computed by SQL aggregates, cached, and stamped.

Counting rules (docs/open-data.md says the same for the public):

- Only pledges to published needs count anywhere on the page.
- A pledge *counts* for collaborators when, at the moment asked about, it is submitted, confirmed,
  scheduled or delivered, or when some of it was delivered before it left the flow (cancelled,
  rejected or expired after a partial delivery). A pledge that left the flow with nothing delivered
  does not count.
- A collaborator counts once in the total, and once in each category in which it has a counting
  pledge: the per-category counts can add up to more than the total.
- Quantities are summed per aid type only, each in its own unit (`by_aid_type`): a category's aid
  types have different units (paket, porsi), so no quantity is ever summed across aid types.
- Where one number must stand for an amount of aid across aid types (per category, or the home
  page's "aid delivered"), it is an *estimated value in Rupiah*: each aid type's quantity times its
  reference value per unit (`AidType.unit_value`, set by staff with its source and date). An aid
  type without a reference value adds nothing to an estimate and is counted apart, as "no estimate"
  (`needs_without_estimate`, `aid_types_without_estimate`), never as zero.
- Open needs: published needs that still accept pledges (open or partly pledged), by today's status.
- Deliveries done: every recorded delivery (hand-over) with its `delivered_on` date.
- What the recipients said (`by_receipt`): each delivery's quantity, per aid type, by whether the
  site's contact person confirmed it, disputed it (reported less, nothing or the wrong items), has
  not answered yet (within KSBB_RECEIPT_DAYS of its date) or never answered (unconfirmed after).
- Beneficiaries reached: the beneficiaries of the published needs whose delivered quantity reached
  the quantity needed.

`as_of` (a date) asks for the figures as they stood at the end of that day, Jakarta time: a pledge's
status is its last recorded PledgeEvent at or before that moment, its delivered quantity the sum
of its deliveries with `delivered_on` on or before that day; pledges and needs created later do not
exist yet. Needs' quantities and beneficiaries are today's (their history is not replayed).
"""

import datetime
import zoneinfo
from typing import Any

from django.db import connections, router
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from donations.models import (
    HOLDING_STATUSES,
    Delivery,
    Pledge,
    PledgeEvent,
    PledgeStatus,
    Receipt,
    ReceiptState,
    Vetting,
    VettingDecision,
    receipt_state_sql,
    verified_sql,
)
from ksbb.lib import snapshots
from locations.models import Region
from needs.models import AidType, Category, Need, NeedStatus

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
COUNTING_STATUSES = [*HOLDING_STATUSES, PledgeStatus.DELIVERED]
OPEN_STATUSES = [NeedStatus.OPEN, NeedStatus.PARTLY_PLEDGED]

_CATEGORY = "need__aid_type__category"
_KECAMATAN = "need__site__kelurahan__parent"
_KOTA = "need__site__kelurahan__parent__parent"


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The first instant after `day` in Jakarta: figures "as of" a day count what happened before it."""
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, JAKARTA)


def pledges_as_of(as_of: datetime.date | None = None) -> QuerySet:
    """Pledges to published needs, annotated with `status_then` and `delivered_then`: their status and
    delivered quantity today, or at the end of the day `as_of` (pledges made later are left out).

    With `as_of`, both are correlated subqueries (the last PledgeEvent before the moment; the sum of
    deliveries up to the day), so the query stays one query whatever the number of pledges."""
    qs = Pledge.objects.filter(need__published=True)
    if as_of is None:
        return qs.annotate(status_then=F("status"), delivered_then=F("quantity_delivered"))
    end = end_of_day(as_of)
    last_status = (
        PledgeEvent.objects.filter(pledge=OuterRef("pk"), at__lt=end)
        .order_by("-at", "-pk")
        .values("to_status")[:1]
    )
    delivered = (
        Delivery.objects.filter(pledge=OuterRef("pk"), delivered_on__lte=as_of)
        .order_by()
        .values("pledge")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return (
        qs.filter(created_at__lt=end)
        .annotate(
            status_then=Subquery(last_status),
            delivered_then=Coalesce(Subquery(delivered, output_field=IntegerField()), Value(0)),
        )
        .filter(status_then__isnull=False)
    )


def counting(pledges: QuerySet) -> QuerySet:
    """The pledges that count for collaborators (module docstring)."""
    return pledges.filter(Q(status_then__in=COUNTING_STATUSES) | Q(delivered_then__gt=0))


def deliveries_as_of(as_of: datetime.date | None = None) -> QuerySet:
    qs = Delivery.objects.filter(pledge__need__published=True)
    if as_of is not None:
        qs = qs.filter(delivered_on__lte=as_of)
    return qs


def receipt_state(as_of: datetime.date | None = None) -> Case:
    """A delivery's ReceiptState then: what its recipients had said by that day's end
    (donations.models.receipt_state_sql)."""
    if as_of is None:
        return receipt_state_sql()
    return receipt_state_sql(as_of, answered_before=end_of_day(as_of))


def needs_as_of(as_of: datetime.date | None = None) -> QuerySet:
    """Published needs existing then, annotated with `delivered_then` (today's counter, or the sum of
    their deliveries up to `as_of`)."""
    qs = Need.objects.published()
    if as_of is None:
        return qs.annotate(delivered_then=F("quantity_delivered"))
    delivered = (
        Delivery.objects.filter(pledge__need=OuterRef("pk"), delivered_on__lte=as_of)
        .order_by()
        .values("pledge__need")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return qs.filter(created_at__lt=end_of_day(as_of)).annotate(
        delivered_then=Coalesce(Subquery(delivered, output_field=IntegerField()), Value(0))
    )


def data_version() -> str:
    """A cheap fingerprint of everything the figures read, in one query.

    Every pledge change and every delivery writes a PledgeEvent through donations.services, every
    change of a need's counters or fields moves its `updated_at`, and every change of an aid type's
    reference value writes a history row, and so does a delivery's second check, and every vetting
    decision a VettingDecision row; so a new delivery changes
    the version at once, with no invalidation call in the services. Read where the figures are read
    (a replica, for the public page): a version ahead of the figures would cache stale ones under it."""
    receipts = Receipt._meta.db_table
    with connections[router.db_for_read(Need)].cursor() as cursor:
        cursor.execute(
            f"""SELECT (SELECT max(id) FROM {PledgeEvent._meta.db_table}),
                       (SELECT max(updated_at) FROM {Need._meta.db_table}),
                       (SELECT count(*) FROM {Need._meta.db_table}),
                       (SELECT max(history_id) FROM {AidType.history.model._meta.db_table}),
                       (SELECT concat(max(id), '/', count(resolved_at)) FROM {receipts}),
                       (SELECT max(history_id) FROM {Delivery.history.model._meta.db_table}),
                       (SELECT max(id) FROM {VettingDecision._meta.db_table})"""
        )
        event, need_updated, needs, aid_type_change, receipt, delivery_change, vetting = (
            cursor.fetchone()
        )
    stamp = need_updated.timestamp() if need_updated else 0
    # The day: a delivery with no receipt turns from awaiting to unconfirmed with time alone.
    today = timezone.localdate()
    # A delivery's second check writes its history row.
    return (
        f"{event or 0}-{stamp:.6f}-{needs}-{aid_type_change or 0}-{receipt}-"
        f"{delivery_change or 0}-{vetting or 0}-{today}"
    )


def figures(as_of: datetime.date | None = None) -> dict[str, Any]:
    """The page's figures, as last built by the background worker (ksbb.lib.snapshots). Raises
    snapshots.NotReady when they have never been built for `as_of`: the worker is on it."""
    return snapshots.snapshot("transparency", [as_of])


def _build_figures(parts: list) -> dict[str, Any]:
    (as_of,) = parts
    return compute(datetime.date.fromisoformat(as_of) if as_of else None)


def _int(value) -> int:
    return int(value or 0)


def compute(as_of: datetime.date | None = None) -> dict[str, Any]:
    """Every figure, by SQL aggregates (about a dozen queries, none per row). Plain data only, so
    it caches; labels are added by the view in the reader's language."""
    pledges = pledges_as_of(as_of)
    counted = counting(pledges)
    deliveries = deliveries_as_of(as_of)
    needs = needs_as_of(as_of)
    reached = Q(delivered_then__gte=F("quantity_needed"))

    totals = counted.aggregate(
        collaborators=Count("collaborator", distinct=True),
        # The "verified organisation" mark as it stands now: vetting has no history to go back to.
        collaborators_vetted=Count(
            "collaborator", distinct=True, filter=Q(collaborator__vetting=Vetting.VETTED)
        ),
        pledges=Count("pk"),
    )
    delivery_totals = deliveries.aggregate(deliveries=Count("pk"))
    need_totals = needs.aggregate(
        needs=Count("pk"),
        needs_open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        beneficiaries_all=Sum("beneficiaries"),
        needs_delivered=Count("pk", filter=reached),
        beneficiaries_reached=Sum("beneficiaries", filter=reached),
    )

    # Per category: one query each for collaborators+pledges, deliveries, needs.
    categories = {
        c.slug: {
            "slug": c.slug,
            "name": c.name,
            "color": c.color,
            "collaborators": 0,
            "pledges": 0,
            "deliveries": 0,
            "needs": 0,
            "beneficiaries_reached": 0,
        }
        for c in Category.objects.order_by("order", "name")
    }
    for row in counted.values(slug=F(f"{_CATEGORY}__slug")).annotate(
        collaborators=Count("collaborator", distinct=True), pledges=Count("pk")
    ):
        categories[row["slug"]].update(collaborators=row["collaborators"], pledges=row["pledges"])
    for row in deliveries.values(slug=F("pledge__need__aid_type__category__slug")).annotate(
        n=Count("pk")
    ):
        categories[row["slug"]]["deliveries"] = row["n"]
    for row in needs.values(slug=F("aid_type__category__slug")).annotate(
        n=Count("pk"), reached=Sum("beneficiaries", filter=reached)
    ):
        categories[row["slug"]].update(needs=row["n"], beneficiaries_reached=_int(row["reached"]))
    by_aid_type = _by_aid_type(needs, counted, _verified(deliveries, as_of))
    for c in categories.values():
        c.update(estimate([row for row in by_aid_type if row["category"] == c["slug"]]))

    by_status = [
        {
            "category": row["slug"],
            "category_name": row["category_name"],
            "aid_type": row["aid_type"],
            "unit": row["unit"],
            "status": row["status_then"],
            "pledges": row["n"],
            "quantity": _int(row["quantity"]),
            "quantity_delivered": _int(row["delivered"]),
        }
        for row in pledges.values(
            "status_then",
            slug=F(f"{_CATEGORY}__slug"),
            category_name=F(f"{_CATEGORY}__name"),
            aid_type=F("need__aid_type__name"),
            unit=F("need__aid_type__unit"),
        )
        .annotate(n=Count("pk"), quantity=Sum("quantity"), delivered=Sum("delivered_then"))
        .order_by(f"{_CATEGORY}__order", "slug", "aid_type", "status_then")
    ]
    by_receipt = [
        {
            "category": row["slug"],
            "aid_type": row["aid_type"],
            "unit": row["unit"],
            "state": row["state"],
            "deliveries": row["n"],
            "quantity": _int(row["quantity"]),
        }
        for row in deliveries.annotate(state=receipt_state(as_of))
        .values(
            "state",
            slug=F("pledge__need__aid_type__category__slug"),
            aid_type=F("pledge__need__aid_type__name"),
            unit=F("pledge__need__aid_type__unit"),
        )
        .annotate(n=Count("pk"), quantity=Sum("quantity"))
        .order_by("pledge__need__aid_type__category__order", "slug", "aid_type", "state")
    ]
    by_kind = [
        {"kind": row["kind"], "collaborators": row["n"]}
        for row in counted.values(kind=F("collaborator__kind"))
        .annotate(n=Count("collaborator", distinct=True))
        .order_by("-n", "kind")
    ]

    return {
        "as_of": as_of,
        "computed_at": timezone.now(),
        "collaborators": totals["collaborators"],
        "collaborators_vetted": totals["collaborators_vetted"],
        "pledges": totals["pledges"],
        "deliveries": delivery_totals["deliveries"],
        "needs": need_totals["needs"],
        "needs_open": need_totals["needs_open"],
        "beneficiaries": _int(need_totals["beneficiaries_all"]),
        "needs_delivered": need_totals["needs_delivered"],
        "beneficiaries_reached": _int(need_totals["beneficiaries_reached"]),
        **estimate(by_aid_type),
        "by_category": [c for c in categories.values() if c["needs"] or c["pledges"]],
        "by_status": by_status,
        "by_receipt": by_receipt,
        "deliveries_by_receipt": {
            state: sum(r["deliveries"] for r in by_receipt if r["state"] == state)
            for state in ReceiptState.values
        },
        "by_kind": by_kind,
        "by_aid_type": by_aid_type,
        "reference_values": [
            {
                "category": a.category.name,
                "aid_type": a.name,
                "unit": a.unit,
                "unit_value": a.unit_value,
                "source": a.unit_value_source,
                "set_on": a.unit_value_set_on,
            }
            for a in reference_values()
        ],
        "by_kecamatan": _by_region(counted, deliveries, needs, "kecamatan"),
        "by_kota": _by_region(counted, deliveries, needs, "kota"),
        "timeline": _timeline(counted, deliveries),
    }


def _verified(deliveries: QuerySet, as_of: datetime.date | None) -> dict[int, int]:
    """Per aid type id: the quantity delivered and verified (by its recipients, or by a second
    staff member), as known by `as_of`'s end. One grouped query."""
    verified = verified_sql(end_of_day(as_of) if as_of else None)
    return {
        row["aid_type"]: _int(row["quantity"])
        for row in deliveries.filter(verified)
        .values(aid_type=F("pledge__need__aid_type"))
        .annotate(quantity=Sum("quantity"))
        .order_by()
    }


def _by_aid_type(needs, counted, verified: dict[int, int]) -> list[dict[str, Any]]:
    """Per aid type, in its own unit: needs, quantity needed, pledged (counting pledges),
    delivered (recorded) and of that verified (`verified`, by aid type id), with the reference
    value per unit and the estimated values (None: no estimate). Two grouped queries."""
    pledged = {
        row["aid_type"]: _int(row["quantity"])
        for row in counted.values(aid_type=F("need__aid_type")).annotate(quantity=Sum("quantity"))
    }
    rows = []
    for row in (
        needs.values(
            "aid_type",
            slug=F("aid_type__category__slug"),
            name=F("aid_type__name"),
            unit=F("aid_type__unit"),
            unit_value=F("aid_type__unit_value"),
        )
        .annotate(n=Count("pk"), needed=Sum("quantity_needed"), delivered=Sum("delivered_then"))
        .order_by("aid_type__category__order", "name")
    ):
        quantities = {
            "quantity_needed": _int(row["needed"]),
            "quantity_pledged": pledged.get(row["aid_type"], 0),
            "quantity_delivered": _int(row["delivered"]),
            "quantity_verified": verified.get(row["aid_type"], 0),
        }
        value = row["unit_value"]
        rows.append(
            {
                "category": row["slug"],
                "aid_type": row["name"],
                "unit": row["unit"],
                "needs": row["n"],
                **quantities,
                "unit_value": value,
                **{
                    f"value_{name.removeprefix('quantity_')}": None if value is None else q * value
                    for name, q in quantities.items()
                },
            }
        )
    return rows


def estimate(aid_type_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The estimated values (Rupiah) of some aid types' rows, and what they leave out: the aid types
    and needs without a reference value ("no estimate", never zero)."""
    valued = [row for row in aid_type_rows if row["unit_value"] is not None]
    unvalued = [row for row in aid_type_rows if row["unit_value"] is None]
    return {
        # Nothing to estimate from is no estimate (None), not Rp 0.
        **{
            f"value_{name}": sum(row[f"value_{name}"] for row in valued) if valued else None
            for name in ("needed", "pledged", "delivered")
        },
        "aid_types_without_estimate": len(unvalued),
        "needs_without_estimate": sum(row["needs"] for row in unvalued),
    }


def reference_values() -> QuerySet:
    """Every aid type's reference value per unit, for the public table and its download."""
    return AidType.objects.select_related("category").order_by("category__order", "name")


def home_figures() -> dict[str, Any]:
    """The home page's figures, as last built by the background worker (ksbb.lib.snapshots; raises
    snapshots.NotReady likewise)."""
    return snapshots.snapshot("home", [])


def _build_home(parts: list) -> dict[str, Any]:
    """Today's headline figures (the same as the transparency page's and totals.json's), the aid
    delivered per aid type, and open needs per category and per kota. Plain values, so a snapshot
    can keep them."""
    today = snapshots.current("transparency", [None])
    open_needs = Q(aid_types__needs__published=True, aid_types__needs__status__in=OPEN_STATUSES)
    categories = (
        Category.objects.filter(is_active=True)
        .annotate(open_needs=Count("aid_types__needs", filter=open_needs))
        .order_by("order", "name")
    )
    in_kota = "children__children__sites__needs"
    kota_list = (
        Region.objects.kota()
        .defer("boundary")  # the page shows names and counts
        .annotate(
            open_needs=Count(
                in_kota,
                filter=Q(
                    **{f"{in_kota}__published": True, f"{in_kota}__status__in": OPEN_STATUSES}
                ),
            )
        )
    )
    return {
        "collaborators": today["collaborators"],
        "needs_total": today["needs"],
        "needs_open": today["needs_open"],
        "delivered": [row for row in today["by_aid_type"] if row["quantity_delivered"]],
        "value_delivered": today["value_delivered"],
        "needs_without_estimate": today["needs_without_estimate"],
        "categories": list(categories),
        "kota_list": list(kota_list),
    }


def _by_region(counted, deliveries, needs, level: str) -> list[dict[str, Any]]:
    """One row per kota or kecamatan that has a published need: three grouped queries."""
    path = "site__kelurahan__parent" if level == "kecamatan" else "site__kelurahan__parent__parent"
    reached = Q(delivered_then__gte=F("quantity_needed"))
    rows: dict[str, dict[str, Any]] = {}
    for row in (
        needs.values(code=F(f"{path}__code"), name=F(f"{path}__name"))
        .annotate(
            needs=Count("pk"),
            beneficiaries_all=Sum("beneficiaries"),
            beneficiaries_reached=Sum("beneficiaries", filter=reached),
        )
        .order_by("code")
    ):
        rows[row["code"]] = {
            "code": row["code"],
            "name": row["name"],
            "needs": row["needs"],
            "beneficiaries": _int(row["beneficiaries_all"]),
            "beneficiaries_reached": _int(row["beneficiaries_reached"]),
            "collaborators": 0,
            "pledges": 0,
            "deliveries": 0,
        }
    for row in counted.values(code=F(f"need__{path}__code")).annotate(
        collaborators=Count("collaborator", distinct=True), pledges=Count("pk")
    ):
        if row["code"] in rows:
            rows[row["code"]].update(collaborators=row["collaborators"], pledges=row["pledges"])
    for row in deliveries.values(code=F(f"pledge__need__{path}__code")).annotate(n=Count("pk")):
        if row["code"] in rows:
            rows[row["code"]]["deliveries"] = row["n"]
    return list(rows.values())


def _timeline(counted, deliveries) -> list[dict[str, Any]]:
    """Per month (Jakarta time): collaborators by the month of their first counting pledge, and
    deliveries by `delivered_on`, each with its running total. Two grouped queries."""
    firsts = (
        counted.order_by()
        .values("collaborator")
        .annotate(first=Min(TruncMonth("created_at", tzinfo=JAKARTA)))
    )
    inner, params = firsts.query.sql_with_params()
    with connections[firsts.db].cursor() as cursor:
        cursor.execute(
            f"SELECT to_char(t.\"first\", 'YYYY-MM'), count(*) FROM ({inner}) t GROUP BY 1", params
        )
        new_collaborators = dict(cursor.fetchall())
    months: dict[str, dict[str, int]] = {
        m: {"new_collaborators": n, "deliveries": 0, "quantity": 0}
        for m, n in new_collaborators.items()
    }
    for row in (
        deliveries.annotate(month=TruncMonth("delivered_on"))
        .values("month")
        .annotate(n=Count("pk"), quantity=Sum("quantity"))
    ):
        entry = months.setdefault(
            row["month"].strftime("%Y-%m"), {"new_collaborators": 0, "deliveries": 0, "quantity": 0}
        )
        entry.update(deliveries=row["n"], quantity=_int(row["quantity"]))
    timeline, collaborators, delivered = [], 0, 0
    for month in sorted(months):
        entry = months[month]
        collaborators += entry["new_collaborators"]
        delivered += entry["deliveries"]
        timeline.append(
            {"month": month, **entry, "collaborators": collaborators, "deliveries_total": delivered}
        )
    return timeline


def collaborator_rows(as_of: datetime.date | None = None, q: str = "") -> QuerySet:
    """Collaborators with a counting pledge, for the public list: named ones by name, then the
    anonymous ones in an order that says nothing about them. `q` searches public names only where
    the name is public, so a search can never find an anonymous collaborator by its real name."""
    from django.db.models import Case, CharField
    from django.db.models.functions import MD5, Cast, Concat

    from donations.models import Collaborator

    ids = counting(pledges_as_of(as_of)).values("collaborator")
    qs = Collaborator.objects.filter(pk__in=ids)
    q = q.strip()
    if q:
        qs = qs.filter(public_name__icontains=q, is_anonymous=False)
    return qs.order_by(
        "is_anonymous",
        Case(When(is_anonymous=False, then=F("public_name")), default=Value("")),
        MD5(Concat(Cast("pk", CharField()), Value(":ksbb-anon"))),
    ).only("pk", "public_name", "kind", "is_anonymous", "vetting")


def collaborator_details(collaborators, as_of: datetime.date | None = None) -> dict[int, list]:
    """Per collaborator of `collaborators` (one page): per aid type (in its unit, within its
    category), pledges, quantity pledged and delivered (and how much of it the recipients confirmed
    or disputed), and the ids of the needs supported. Two grouped queries."""
    from django.contrib.postgres.aggregates import ArrayAgg

    ids = [c.pk for c in collaborators]
    details: dict[int, list] = {pk: [] for pk in ids}
    rows = (
        counting(pledges_as_of(as_of))
        .filter(collaborator__in=ids)
        .values(
            "collaborator",
            slug=F(f"{_CATEGORY}__slug"),
            name=F(f"{_CATEGORY}__name"),
            aid_type=F("need__aid_type__name"),
            unit=F("need__aid_type__unit"),
        )
        .annotate(
            pledges=Count("pk"),
            quantity_pledged=Sum("quantity"),
            quantity_delivered=Sum("delivered_then"),
            needs=ArrayAgg("need", distinct=True, order_by="need"),
        )
        .order_by("collaborator", f"{_CATEGORY}__order", "slug", "aid_type")
    )
    by_key = {}
    for row in rows:
        row.update(quantity_confirmed=0, quantity_disputed=0)
        details[row["collaborator"]].append(row)
        by_key[row["collaborator"], row["slug"], row["aid_type"]] = row
    # What the recipients said of those deliveries, so the list shows more than the staff's word.
    said = (
        deliveries_as_of(as_of)
        .filter(pledge__collaborator__in=ids)
        .annotate(state=receipt_state(as_of))
        .filter(state__in=[ReceiptState.CONFIRMED, ReceiptState.DISPUTED])
        .values(
            "state",
            collaborator=F("pledge__collaborator"),
            slug=F("pledge__need__aid_type__category__slug"),
            aid_type=F("pledge__need__aid_type__name"),
        )
        .annotate(quantity=Sum("quantity"))
        .order_by()
    )
    for row in said:
        counted_row = by_key.get((row["collaborator"], row["slug"], row["aid_type"]))
        if counted_row is not None:
            counted_row[f"quantity_{row['state']}"] = row["quantity"]
    return details


# Built by the worker, never in a request: at a million pledges they take seconds of SQL.
snapshots.register(
    "transparency",
    _build_figures,
    version=data_version,
    expensive=True,
    revision=5,
    period=snapshots.PUBLIC_PERIOD,
)
snapshots.register(
    "home",
    _build_home,
    version=data_version,
    expensive=True,
    revision=4,
    period=snapshots.PUBLIC_PERIOD,
)
