"""The view a request's path resolves to, worked out once per request.

The replica mark (ksbb.replica_middleware) and the page cache (ksbb.lib.http_cache) both need the
view before Django resolves the path for it, and a kept page is answered before Django ever does:
resolving it once saves a walk of the URL patterns on every request.
"""

from django.urls import Resolver404, ResolverMatch, resolve

_ATTRIBUTE = "_ksbb_match"


def match(request) -> ResolverMatch | None:
    """The request's ResolverMatch (None: no URL matches its path), kept on the request."""
    try:
        return getattr(request, _ATTRIBUTE)
    except AttributeError:
        pass
    try:
        found = resolve(request.path_info)
    except Resolver404:
        found = None
    setattr(request, _ATTRIBUTE, found)
    return found
