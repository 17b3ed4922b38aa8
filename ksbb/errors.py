"""The portal's answer to an unhandled exception (`handler500` in ksbb/urls.py) and to a bad
request (`handler400`).

When the database cannot be reached (restarted, failed over, out of connections) the visitor gets a
503 with Retry-After, which tells people, browsers and proxies to come back shortly, instead of a
500 that reads as a bug. Any other exception is the ordinary friendly 500. Under /api/ both answer
JSON, as the rest of the API does.

Rendering here must never need the database: the pages are rendered without the request (no
context processors, so no session, user or messages lookups), and if even that fails a plain-text
answer goes out, never Django's or gunicorn's bare error.
"""

import logging
import sys

from django.contrib.sessions.exceptions import SessionInterrupted
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc` (or an exception it was raised from) says the database cannot be reached."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DATABASE_ERRORS):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _page(template: str, status: int) -> HttpResponse:
    try:
        body = loader.get_template(template).render({"retry_after": RETRY_AFTER_SECONDS})
        content_type = "text/html; charset=utf-8"
    except Exception:  # a broken template must not turn a friendly page into a bare one
        log.exception("The %s error page could not be rendered", status)
        body = _("The portal is unavailable for a moment. Please try again shortly.")
        content_type = "text/plain; charset=utf-8"
    return HttpResponse(body, status=status, content_type=content_type)


def server_error(request):
    """handler500: 503 + Retry-After when the database is unavailable, the friendly 500 otherwise."""
    return _error_answer(request, database_unavailable(sys.exc_info()[1]))


def bad_request(request, exception):
    """handler400. Django turns a database failure while saving the session into a "400 Bad
    Request" (SessionInterrupted): that one is the database's 503, not the visitor's fault."""
    if isinstance(exception, SessionInterrupted) or database_unavailable(exception):
        return _error_answer(request, unavailable=True)
    return defaults.bad_request(request, exception)


def _error_answer(request, unavailable: bool) -> HttpResponse:
    if _is_api(request):
        if unavailable:
            detail = _("The service is temporarily unavailable. Please retry shortly.")
        else:
            detail = _("A server error occurred.")
        response = JsonResponse({"detail": detail}, status=503 if unavailable else 500)
    elif unavailable:
        response = _page("503.html", 503)
    else:
        response = _page("500.html", 500)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Neither answer may be kept by a proxy or browser past the fault.
    response["Cache-Control"] = "no-store"
    return response
