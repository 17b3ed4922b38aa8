from django.conf import settings
from django.contrib import messages
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.translation import gettext as _

from ksbb.lib.http_cache import revalidated_page, shared_page
from locations.models import RwArea
from needs import share
from needs.areas import areas, rw_loaded
from needs.caching import need_version
from needs.filters import NeedFilter, canonical_filters
from needs.models import Need, NeedStatus
from needs.summary import for_map

PAGE_SIZE = 20
# The map page's table of the least covered kelurahan; the coverage page lists them all.
TOP_AREAS = 10
# Zoomed in this far, a map that drew the needs' counts first (needs.summary) shows the needs.
DETAIL_ZOOM = 14
AREA_PARAMS = tuple(f for f in NeedFilter.base_filters if f not in ("sort", "near", "bbox"))


def _areas(request, needs: NeedFilter) -> list[dict] | None:  # the kelurahan
    """The kelurahan's unmet need for the request's filters (needs.areas; the same snapshot as the
    API's for the same query), or None when they are not valid."""
    if not needs.is_valid():
        return None
    return areas("kelurahan", canonical_filters(request.GET))


# A page asked with the donor's place (`near`) is theirs alone: ksbb.lib.http_cache.PRIVATE_PARAMS.
@shared_page(params=(*NeedFilter.base_filters, "page"))
def need_map(request):
    """The public map and, beside it, the list of the same needs and the least covered kelurahan;
    all of it works without JavaScript."""
    needs = NeedFilter(request.GET)
    page = None
    approximate = False
    least_covered = _areas(request, needs)
    if needs.is_valid():
        queryset = needs.qs.with_places()
        paginator = Paginator(queryset, PAGE_SIZE)
        number = request.GET.get("page") or 1
        try:
            page = paginator.page(number)
        except InvalidPage:
            messages.error(
                request,
                _("Page %(page)s does not exist; showing page 1 of %(pages)s.")
                % {"page": str(number)[:12], "pages": paginator.num_pages},
            )
            page = paginator.page(1)
        approximate = needs.qs.filter(site__location_is_approximate=True).exists()
    query = request.GET.copy()
    query.pop("page", None)
    area_query = _area_query(request)
    ctx = {
        "filter": needs,
        "page": page,
        "query": query.urlencode(),
        "area_query": area_query,
        # The map's first drawing when the layer is large: the needs counted per kelurahan, for
        # the layer's own filters (its URL's, area_query; needs.summary). The list counted the
        # same needs, unless a bbox cut it (the layer ignores that).
        "map_summary": for_map(
            canonical_filters(QueryDict(area_query)),
            count=None if "bbox" in request.GET else page.paginator.count,
        )
        if page is not None
        else None,
        "detail_zoom": DETAIL_ZOOM,
        "statuses": NeedStatus.choices,
        "approximate": approximate,
        "areas": least_covered[:TOP_AREAS] if least_covered else least_covered,
        "rw_loaded": rw_loaded(),
        "more_areas": len(least_covered) > TOP_AREAS if least_covered else False,
        "map_labels": {
            "remaining": _("still needed"),
            "of": _("of"),
            "open": _("See this need"),
            "loading": _("Loading…"),
            "failed": _("The need could not be loaded."),
            "approximate": _("Approximate location"),
            "people": _("beneficiaries not covered"),
            "rupiah": _("Rupiah not covered"),
            "needs_open": _("open needs"),
            "see_all": _("See the needs here"),
            "see_kelurahan": _("See the needs of this kelurahan"),
            "per_kelurahan": _("Shaded per kelurahan."),
            "zoom_for_rw": _("Zoom in to see it per RW."),
            "per_rw": _("Shaded per RW; a need counts in the RW its site lies in."),
            "no_needs": _("No open need here."),
            "summary": _("needs here; zoom in to see them"),
            "no_location": _("Your location could not be read; choose another order."),
            "statuses": {value: str(label) for value, label in NeedStatus.choices},
        },
    }
    return render(request, "needs/need_map.html", ctx)


def _area_query(request) -> str:
    """The filters that choose needs (not the order or the page), for the areas' links."""
    query = request.GET.copy()
    for name in list(query):
        if name not in AREA_PARAMS:
            del query[name]
    return query.urlencode()


@shared_page(params=(*AREA_PARAMS, "level"))
def need_coverage(request):
    """Every kelurahan's (or, with level=rw, every RW's) unmet need for the filters, as a table: the
    map's "unmet need" layer for readers without JavaScript or a map, and for anyone who wants the
    whole list."""
    needs = NeedFilter(request.GET)
    loaded = rw_loaded()
    by_rw = request.GET.get("level") == "rw" and loaded
    found = None
    if needs.is_valid():
        found = areas("rw" if by_rw else "kelurahan", canonical_filters(request.GET))
    ctx = {
        "filter": needs,
        "areas": found,
        "by_rw": by_rw,
        "rw_loaded": loaded,
        # Whose boundaries these are, as each import said (their licence asks for it).
        "rw_sources": sorted(
            set(RwArea.objects.exclude(source="").values_list("source", flat=True))
        )
        if by_rw
        else [],
        "area_query": _area_query(request),
    }
    return render(request, "needs/need_coverage.html", ctx)


def _card_version(request, pk: int, lang: str) -> str | None:
    version = need_version(pk)
    return f"{version}:{lang}" if version and lang in dict(settings.LANGUAGES) else None


@revalidated_page(_card_version)
def need_card(request, pk: int, lang: str):
    """A published need's preview image for shared links (needs.share), in `lang`; an unknown need
    or language is a 404. Kept, and revalidated by its ETag, by the page cache like the need's page
    (ksbb.lib.http_cache): drawn again only when the need changed."""
    if lang not in dict(settings.LANGUAGES):
        raise Http404
    need = get_object_or_404(Need.objects.published().with_places(), pk=pk)
    with translation.override(lang):
        return HttpResponse(share.card_png(need), content_type="image/png")
