"""Validators (ETag, Last-Modified) for public need data, so a repeated request costs one small query."""

import hashlib

from django.db.models import Count, Max
from django.utils.translation import get_language
from django.views.decorators.http import condition

from locations.models import Site
from needs.models import Need


def data_version() -> dict:
    """The newest change to needs or their sites, and the number of needs (catches deletions):
    two aggregate queries."""
    needs = Need.objects.aggregate(last=Max("updated_at"), count=Count("id"))
    sites = Site.objects.aggregate(last=Max("updated_at"))
    stamps = [t for t in (needs["last"], sites["last"]) if t is not None]
    return {"last": max(stamps) if stamps else None, "count": needs["count"]}


def _version(request) -> dict:
    """data_version(), once per request: shared by the ETag and Last-Modified."""
    if not hasattr(request, "_ksbb_needs_version"):
        request._ksbb_needs_version = data_version()
    return request._ksbb_needs_version


def _etag(request, *args, **kwargs) -> str:
    version = _version(request)
    key = f"{version['last']}|{version['count']}|{request.get_full_path()}|{get_language()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _last_modified(request, *args, **kwargs):
    return _version(request)["last"]


needs_conditional = condition(etag_func=_etag, last_modified_func=_last_modified)
