from django.shortcuts import render
from django.views import i18n
from django.views.decorators.csrf import csrf_exempt

from ksbb.lib import snapshots
from ksbb.lib.http_cache import shared_page
from transparency import figures


@shared_page()
def home(request):
    """What KSBB is, with its headline figures (transparency.figures, as everywhere else). On a
    first start, before the worker has counted them, the page says so instead of waiting."""
    try:
        ctx = figures.home_figures()
    except snapshots.NotReady:
        ctx = {"figures_pending": True}
    return render(request, "ksbb/home.html", ctx)


@csrf_exempt
def set_language(request):
    """Django's set_language, without the CSRF token: the language form is on every page, and a
    token in it would make every page one visitor's own, which no cache could share
    (ksbb.lib.http_cache). All a forged post could do is switch a visitor's language; `next` is
    still checked to stay on this site, and the answer sets a cookie, so it is never shared."""
    return i18n.set_language(request)
