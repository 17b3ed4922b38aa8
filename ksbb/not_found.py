"""The portal's answer to a URL that matches nothing (`handler404` in ksbb/urls.py).

Under /api/ the answer is JSON, as every other API answer is (and as the OpenAPI schema documents):
a client that sends a malformed id or token must not get an HTML page back. Elsewhere, Django's page.
"""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults


def page_not_found(request, exception):
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)
