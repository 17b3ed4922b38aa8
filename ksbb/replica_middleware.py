"""Marks the requests whose reads may come from the replica (ksbb.db_routers): only where a few
milliseconds of staleness can't hurt anyone."""

from django.urls import Resolver404, resolve

from ksbb.db_routers import replica_reads

SAFE_METHODS = {"GET", "HEAD"}
# The pledge form checks what is left before accepting a pledge; and every URL with a pledge's token
# (its page, cancel, extend, the API's) shows a donor what they have just written, which a lagging
# replica would not have yet.
PRIMARY_ONLY_VIEWS = {"donations:pledge_create", "api-pledge-create"}


def may_read_from_replica(request) -> bool:
    """An anonymous GET or HEAD of a public page or of the read API."""
    if request.method not in SAFE_METHODS:
        return False
    user = getattr(request, "user", None)
    # Staff act on what they just changed; their session is read here, from the primary.
    if user is not None and user.is_authenticated:
        return False
    try:
        match = resolve(request.path_info)
    except Resolver404:
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
        if allowed and response.streaming:
            # A streamed body (the CSV downloads) is read after this returns: mark it as well.
            response.streaming_content = _on_replica(response.streaming_content)
        return response


def _on_replica(chunks):
    with replica_reads():
        yield from chunks
