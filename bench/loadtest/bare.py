"""The ceiling of `make loadtest`: a bare Django view under the portal's gunicorn settings.

`gunicorn -c ksbb/gunicorn.conf.py bench.loadtest.bare:application` (run.py starts it so): the same
workers, threads, timeouts and worker recycling as the portal, and Django's full request cycle
(handler, URL resolver, request and response objects), but no middleware, no database, no
template, no cache: every path answers `ok`. Whatever the portal costs above this is its own.
"""

import os

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bare-view-of-the-load-test",  # signs nothing: no session, no CSRF, no cookie
    ALLOWED_HOSTS=os.environ.get("ALLOWED_HOSTS", "127.0.0.1").split(","),
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={},
    USE_I18N=False,
    USE_TZ=True,
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import re_path  # noqa: E402


def ok(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [re_path(r"", ok)]
application = get_wsgi_application()
