"""The public audit: the transparency page and the open-data downloads behind it."""

import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from donations.models import Collaborator, PledgeStatus, ReceiptState
from ksbb.lib import snapshots
from ksbb.lib.http_cache import public_data, shared_page
from ledger import services as ledger_services
from ledger.models import Checkpoint
from transparency import figures as public_figures
from transparency import opendata
from transparency.ledger_figures import ledger_figures

COLLABORATORS_PER_PAGE = 25
LEDGER_CHECKPOINTS_SHOWN = 7
RETRY_AFTER_SECONDS = 15


def _as_of(request) -> tuple[datetime.date | None, str]:
    """The `as_of` date asked for, and a message for the reader when it cannot be used."""
    raw = request.GET.get("as_of", "").strip()
    if not raw:
        return None, ""
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        return None, _("“%(value)s” is not a date; use the form YYYY-MM-DD.") % {"value": raw[:20]}
    today = timezone.localdate()
    if day > today:
        return None, _("%(value)s is in the future; showing today's figures.") % {"value": raw}
    if day.year < 2000:
        return None, _("Choose a date from the year 2000 on.")
    return day, ""


# The headline figures the ledger recomputes, in the page's order (ledger.verifier.figures).
LEDGER_FIGURES = [
    ("collaborators", gettext_lazy("Collaborators")),
    ("collaborators_vetted", gettext_lazy("of which verified organisations")),
    ("pledges", gettext_lazy("Pledges")),
    ("deliveries", gettext_lazy("Deliveries done")),
    ("needs", gettext_lazy("Needs")),
    ("needs_open", gettext_lazy("Open needs")),
    ("beneficiaries", gettext_lazy("Beneficiaries")),
    ("needs_delivered", gettext_lazy("Needs delivered")),
    ("beneficiaries_reached", gettext_lazy("Beneficiaries reached")),
]


def _from_the_ledger(as_of: datetime.date | None, figures: dict) -> dict | None:
    """For a past day: its headline figures as the ledger recorded them (transparency.ledger_figures),
    each beside the tables' figure; None for today; {"pending": True} while the worker builds them."""
    if as_of is None:
        return None
    try:
        built = ledger_figures(as_of)
    except snapshots.NotReady:
        return {"pending": True}
    rows = [
        {
            "name": name,
            "label": label,
            "ledger": built["figures"][name],
            "tables": figures[name],
            "differs": built["figures"][name] != figures[name],
        }
        for name, label in LEDGER_FIGURES
    ]
    return {**built, "rows": rows, "differs": any(r["differs"] for r in rows)}


def _labelled(figures: dict) -> dict:
    """The cached figures with labels in the reader's language (the cache holds codes only)."""
    kinds = dict(Collaborator.Kind.choices)
    statuses = dict(PledgeStatus.choices)
    return {
        **figures,
        # The three estimates of a category in the table's order (None: no estimate).
        "by_category": [
            {**c, "estimates": [c["value_needed"], c["value_pledged"], c["value_delivered"]]}
            for c in figures["by_category"]
        ],
        "by_kind": [
            {**row, "label": kinds.get(row["kind"], row["kind"])} for row in figures["by_kind"]
        ],
        "by_status": [
            {
                **row,
                "label": statuses.get(row["status"], row["status"]),
                "counts": row["status"] in public_figures.COUNTING_STATUSES,
            }
            for row in figures["by_status"]
        ],
        "receipts": _receipts_by_aid_type(figures["by_receipt"]),
        "receipt_states": ReceiptState.choices,
    }


def _receipts_by_aid_type(rows: list[dict]) -> list[dict]:
    """by_receipt pivoted: one row per aid type, its delivered quantity in each ReceiptState."""
    table: dict[tuple, dict] = {}
    for row in rows:
        key = (row["category"], row["aid_type"], row["unit"])
        entry = table.setdefault(
            key,
            {
                "aid_type": row["aid_type"],
                "unit": row["unit"],
                "quantities": dict.fromkeys(ReceiptState.values, 0),
            },
        )
        entry["quantities"][row["state"]] = row["quantity"]
    return [
        {**entry, "quantities": [entry["quantities"][state] for state in ReceiptState.values]}
        for entry in table.values()
    ]


def _timeline_with_bars(timeline: list[dict]) -> list[dict]:
    top_c = max((row["collaborators"] for row in timeline), default=0) or 1
    top_d = max((row["deliveries_total"] for row in timeline), default=0) or 1
    return [
        {
            **row,
            "collaborators_pct": round(100 * row["collaborators"] / top_c),
            "deliveries_pct": round(100 * row["deliveries_total"] / top_d),
        }
        for row in timeline
    ]


@shared_page(params=("as_of", "q", "page"))
def transparency(request):
    """The public audit page: figures computed by SQL aggregates and cached (transparency.figures),
    plus the paginated, searchable collaborator list, computed live for the page asked for.

    Queries when the figures are cached: the data version, then the collaborator page's count, rows
    and per-category details."""
    as_of, error = _as_of(request)
    try:
        figures = _labelled(public_figures.figures(as_of))
    except snapshots.NotReady:
        return _being_counted(request)
    q = request.GET.get("q", "").strip()[:100]
    paginator = Paginator(public_figures.collaborator_rows(as_of, q), COLLABORATORS_PER_PAGE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        page = paginator.page(1)
    details = public_figures.collaborator_details(page.object_list, as_of)
    collaborators = [(c, details.get(c.pk, [])) for c in page.object_list]
    keep = {k: v for k, v in (("as_of", as_of.isoformat() if as_of else ""), ("q", q)) if v}
    ctx = {
        "figures": figures,
        "timeline": _timeline_with_bars(figures["timeline"]),
        "as_of": as_of,
        "as_of_value": request.GET.get("as_of", "")[:20] if error else (as_of or ""),
        "as_of_error": error,
        "today": timezone.localdate(),
        "receipt_days": settings.KSBB_RECEIPT_DAYS,
        "q": q,
        "page": page,
        "collaborators": collaborators,
        "query": urlencode(keep),
        "as_of_query": urlencode({"as_of": as_of.isoformat()}) if as_of else "",
        "choropleth": {r["code"]: r["collaborators"] for r in figures["by_kecamatan"]},
        "from_ledger": _from_the_ledger(as_of, figures),
        "ledger": {
            "head": ledger_services.head(),
            "checkpoints": Checkpoint.objects.order_by("-day")[:LEDGER_CHECKPOINTS_SHOWN],
        },
    }
    return render(request, "transparency/transparency.html", ctx)


@public_data()
def open_data(request, dataset: str, fmt: str):
    """An open-data download (transparency.opendata; columns in docs/open-data.md). `as_of` as on the
    transparency page; a bad one is a 400 with the reason, never a server error."""
    data = opendata.DATASETS.get(dataset)
    if data is None or fmt not in opendata.FORMATS or (fmt == "geojson" and data.geo is None):
        raise Http404
    as_of, error = _as_of(request)
    if error:
        return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
    try:
        return opendata.response(dataset, fmt, as_of)
    except snapshots.NotReady:
        return _being_counted(request)


def _being_counted(request):
    """Figures never built yet for this date (a first start, or a date nobody asked for before):
    the worker is counting them. 503 with Retry-After, so that crawlers and scripts come back."""
    response = render(request, "transparency/being_counted.html", status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
