from django.conf import settings
from django.contrib import messages
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.translation import gettext as _

from ksbb.lib.http_cache import revalidated_page, shared_page
from needs import share
from needs.caching import need_digest
from needs.filters import NeedFilter
from needs.models import Need, NeedStatus

PAGE_SIZE = 20


@shared_page(params=(*NeedFilter.base_filters, "page"))
def need_map(request):
    """The public map and, beside it, the list of the same needs; both work without JavaScript."""
    needs = NeedFilter(request.GET)
    page = None
    approximate = False
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
    ctx = {
        "filter": needs,
        "page": page,
        "query": query.urlencode(),
        "statuses": NeedStatus.choices,
        "approximate": approximate,
        "map_labels": {
            "remaining": _("still needed"),
            "of": _("of"),
            "open": _("See this need"),
            "loading": _("Loading…"),
            "failed": _("The need could not be loaded."),
            "approximate": _("Approximate location"),
        },
    }
    return render(request, "needs/need_map.html", ctx)


def _card_version(request, pk: int, lang: str) -> str | None:
    digest = need_digest(pk)
    return f"{digest}:{lang}" if digest and lang in dict(settings.LANGUAGES) else None


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
