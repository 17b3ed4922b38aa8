from django.contrib import messages
from django.core.paginator import InvalidPage, Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from ksbb.lib.http_cache import shared_page
from needs.filters import NeedFilter
from needs.models import NeedStatus

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
