"""What a phone draws first on the map: the needs of a set of filters counted per kelurahan, each
count placed where its needs are (the mean of their sites' points), a few kilobytes inside the map
page instead of the whole layer (needs.layer, 0.7 MB gzipped at 50,000 needs). The map draws these
counts as bubbles at once and asks for the layer only when the donor zooms in to the needs
themselves (static/js/need-map.js, docs/map-and-api.md).

A snapshot (ksbb.lib.snapshots) like the layer, checked with the layer's own version of the data
(needs.layer._version): a count changes exactly when a marker appears, disappears or changes status,
and never lags the layer it stands for by more than the layer lags the database."""

from django.conf import settings
from django.db.models import Avg, Count, F, FloatField, Func

from ksbb.lib import snapshots
from needs import layer
from needs.filters import NeedFilter, filters_query
from needs.models import Need

# Five decimals of a degree: about a metre, closer than a bubble is drawn.
DECIMALS = 5


def summary(filters: tuple) -> dict:
    """The counts for the request's filters (validated by the view; the same pairs key the
    layer's snapshot): {"total": n, "areas": [[lon, lat, count], ...]}, the largest first."""
    return snapshots.snapshot("needs-summary", filters)


def for_map(filters: tuple, *, count: int | None = None) -> dict | None:
    """The counts the map page sends with itself, or None when the whole layer is small enough to
    send at once (KSBB_MAP_SUMMARY_ABOVE needs or fewer): then the counts would only delay it.
    `count`: the layer's number of needs if the page knows it already (its list's count, for the
    same filters): a small layer then costs no counting at all."""
    if count is not None and count <= settings.KSBB_MAP_SUMMARY_ABOVE:
        return None
    found = summary(filters)
    return found if found["total"] > settings.KSBB_MAP_SUMMARY_ABOVE else None


def _coordinate(field: str) -> Avg:
    function = "ST_X" if field == "lon" else "ST_Y"
    return Avg(Func(F("site__point"), function=function, output_field=FloatField()))


def build(needs) -> dict:
    """The counts of `needs` (a filtered queryset of published needs), in one grouped query."""
    rows = (
        needs.order_by()
        .values(code=F("site__kelurahan__code"))
        .annotate(count=Count("id"), lon=_coordinate("lon"), lat=_coordinate("lat"))
        .order_by("-count", "code")
    )
    areas = [[round(r["lon"], DECIMALS), round(r["lat"], DECIMALS), r["count"]] for r in rows]
    return {"total": sum(area[2] for area in areas), "areas": areas}


def build_for(filters: list) -> dict:
    """The counts for `filters`, the request's [name, [values]] pairs."""
    filterset = NeedFilter(filters_query(filters), queryset=Need.objects.published())
    if not filterset.is_valid():  # stored filters that no longer validate (a region removed)
        raise ValueError(f"needs summary: filters no longer valid: {filterset.errors.as_json()}")
    return build(filterset.qs)


# The layer's version (what its markers show), read at most once per 15 s for both.
snapshots.register(
    "needs-summary",
    build_for,
    version=lambda: layer._version(),
    revision=1,
    period=snapshots.PUBLIC_PERIOD,
)
