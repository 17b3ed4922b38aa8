"""Marks the requests whose reads may come from the replica (ksbb.db_routers): only where a few
seconds of staleness can't hurt anyone, and never for a visitor who has just written something
(read your writes): any POST, PUT, PATCH or DELETE answered sets a cookie that sends that browser's
reads to the primary for KSBB_READ_YOUR_WRITES_SECONDS, longer than the replica may lag. So a donor
who pledged sees their pledge, and the need's remaining quantity without it, on the next page."""

import time

from django.conf import settings
from django.db import connections

from ksbb.db_routers import REPLICA, replica_reads
from ksbb.lib import resolving

SAFE_METHODS = {"GET", "HEAD"}
WROTE_COOKIE = "ksbb_wrote"
# The pledge form checks what is left before accepting a pledge; and every URL with a pledge's token
# (its page, cancel, extend, the API's) shows a donor what they have just written, which a lagging
# replica would not have yet.
PRIMARY_ONLY_VIEWS = {"donations:pledge_create", "api-pledge-create"}


def may_read_from_replica(request) -> bool:
    """An anonymous GET or HEAD of a public page or of the read API."""
    if request.method not in SAFE_METHODS:
        return False
    if _wrote_recently(request):
        return False
    user = getattr(request, "user", None)
    # Staff act on what they just changed; their session is read here, from the primary.
    if user is not None and user.is_authenticated:
        return False
    match = resolving.match(request)
    if match is None:
        return False
    return (
        "admin" not in match.namespaces
        and match.view_name not in PRIMARY_ONLY_VIEWS
        and "token" not in match.kwargs
    )


class ReplicaReadsMiddleware:
    """After AuthenticationMiddleware: the mark lasts exactly as long as the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        allowed = may_read_from_replica(request)
        with replica_reads(allowed):
            response = self.get_response(request)
        if request.method not in SAFE_METHODS and REPLICA in connections.settings:
            seconds = settings.KSBB_READ_YOUR_WRITES_SECONDS
            response.set_cookie(
                WROTE_COOKIE,
                str(int(time.time()) + seconds),
                max_age=seconds,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        if allowed and response.streaming:
            # A streamed body (the CSV downloads) is read after this returns: mark it as well.
            response.streaming_content = _on_replica(response.streaming_content)
        return response


def _on_replica(chunks):
    with replica_reads():
        yield from chunks


def _wrote_recently(request) -> bool:
    try:
        return int(request.COOKIES.get(WROTE_COOKIE, "0")) > time.time()
    except ValueError:
        return False
