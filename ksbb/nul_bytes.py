"""Refuse a query string that carries a NUL byte, before any view reads it.

PostgreSQL cannot hold or compare a NUL in text: a NUL in any parameter a view hands to a query (a
search, a filter, an admin list's filter) would end in a server error. No honest request sends one,
so it is a bad request, answered here once for every view, public, API and admin alike.
Request bodies are left to the forms (their text fields refuse NUL; an uploaded file may hold any
byte), and paths to the URL patterns (a NUL matches none of them: 404).
"""

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _


def refuse_nul_bytes(get_response):
    def middleware(request):
        if any("\x00" in key or "\x00" in value for key, value in _items(request.GET)):
            message = _("The address holds a NUL character, which the portal cannot read.")
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return get_response(request)

    return middleware


def _items(query):
    for key, values in query.lists():
        for value in values:
            yield key, value
