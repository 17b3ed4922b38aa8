"""What browsers, a CDN or nginx may keep of the portal's answers, and the portal's own shared cache
of whole pages for anonymous visitors (docs/deploy.md, "What a CDN or nginx may cache, and for how
long").

A view says what its answer is with one decorator:

- `shared_page`: the same for every anonymous visitor in a language, and allowed to lag the database
  by KSBB_PUBLIC_PAGE_SECONDS, S (the home page, the map, the transparency page): `Cache-Control:
  public, max-age=S, s-maxage=S, stale-while-revalidate=S`, an ETag of the content, and anonymous
  GETs are answered from the page cache (the default cache: Redis in production) for S seconds.
- `revalidated_page(version)`: public, but never stale (a need's page and its remaining quantity):
  `Cache-Control: public, no-cache` and an ETag derived from `version(request, **kwargs)`, one cheap
  read of everything the page shows. So a 304, or a copy, is given only while nothing on the page
  has changed; a pledge changes the version, and the next visitor gets a page made after it. The
  copies are shared through the page cache, the most recent also kept in each worker's memory.
- `public_data(seconds)`: the headers only, for API answers and downloads; an API action that must
  never be stale (a need's popup) is kept like a revalidated page through its viewset's
  `ksbb_page_cache` (`revalidated_api`).
- Django's `never_cache`: one visitor's own (the pledge form, a pledge's page).

Every public answer varies on `Accept-Language` and `Cookie`: the language comes from the
`django_language` cookie, else the browser's Accept-Language, else Indonesian (LocaleMiddleware; no
language in the URL). The page cache keys on the language the page was made in.

Two middlewares (ksbb/settings.py):

- `PageCacheMiddleware`, right after ReplicaReadsMiddleware (so a page's version and the page come
  from the same database): answers anonymous GETs of those pages from the page cache and keeps the
  pages it may. A request with a session or a flash message (their cookies) is never answered from
  it, and a page that set a cookie, showed a message, used the CSP nonce or the CSRF token, or was
  made for a signed-in user is never kept.
- `PrivateResponsesMiddleware`, outside the session, CSRF and message middlewares (so it sees every
  cookie they set): the safety net for every answer. A POST, an error, an answer that sets a cookie,
  showed a flash message, carries the CSP nonce, was made for a signed-in user or answers a query
  carrying the visitor's own place (PRIVATE_PARAMS) is `Cache-Control: private, no-store`, whatever
  the view said.

KSBB_PUBLIC_PAGE_SECONDS = 0 (the test suite) keeps no page: every request is rendered; the headers
say `public, no-cache` and 304s are still given.
"""

import collections
import contextlib
import dataclasses
import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import translation
from django.utils.cache import (
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)
from django.utils.http import quote_etag

from ksbb.lib import resolving

log = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD")
VARY = ("Accept-Language", "Cookie")
PRIVATE = "private, no-store"
# Cookies that make a visitor's pages their own: a session (a signed-in member of staff, a donor
# just after pledging) and flash messages waiting to be shown (django.contrib.messages' cookie).
MESSAGES_COOKIE = "messages"
# Query parameters that carry something of the visitor's own: their place ("closest to me",
# needs.filters' `near`). An answer to a request with one is never kept, by the page cache or any
# other, whatever the view (page, API, download) says.
PRIVATE_PARAMS = frozenset({"near"})
# A revalidated page's key holds the version of what it shows, so a copy is right for as long as
# it exists. Copies are shared through the page cache for REVALIDATED_KEEP_SECONDS after they were
# last made (memory, not freshness: Redis's maxmemory and volatile-lru bound it, docs/deploy.md, so
# an hour costs nothing a needed key would miss), and each worker keeps its REVALIDATED_LOCAL_PAGES
# most recent in its own memory too, which spares the popular ones the round trip to Redis.
REVALIDATED_KEEP_SECONDS = 3600
REVALIDATED_LOCAL_PAGES = 256
# How long one worker may take to make a page again while the others serve the stale copy.
REMAKE_LOCK_SECONDS = 30
# Longer query strings (and parameters a page does not read) are answered but never kept: nobody
# can fill the cache with addresses of their own invention.
MAX_QUERY_LENGTH = 300


@dataclasses.dataclass(frozen=True)
class Policy:
    kind: str  # "shared" or "revalidated"
    # The query parameters the page reads; a request with any other is never kept.
    params: frozenset[str]
    version: Callable[..., str | None] | None = None
    # An API answer varies with what the client accepts: the copies are kept apart by the Accept
    # header, only for these values (a request with another is answered, never kept: no one can
    # fill the cache with headers of their own invention), and by whether it takes gzip.
    accepts: frozenset[str] = frozenset()


API_ACCEPTS = frozenset({"", "*/*", "application/json", "application/geo+json"})


def revalidated_api(version: Callable[..., str | None]) -> Policy:
    """The policy of a DRF viewset's action kept like a `revalidated_page` (its `ksbb_page_cache`
    maps actions to policies, since the router makes the view functions): a copy per version,
    Accept header and encoding, and a 304 to its ETag."""
    return Policy("revalidated", frozenset(), version, accepts=API_ACCEPTS)


def page_seconds() -> int:
    return max(0, settings.KSBB_PUBLIC_PAGE_SECONDS)


def shared_page(*, params: tuple[str, ...] = ()) -> Callable:
    """A page that is the same for every anonymous visitor in a language and may lag the database
    by KSBB_PUBLIC_PAGE_SECONDS. `params`: the query parameters the page reads."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if request.method in SAFE_METHODS and response.status_code == 200:
                seconds = page_seconds()
                if seconds:
                    patch_cache_control(
                        response,
                        public=True,
                        max_age=seconds,
                        s_maxage=seconds,
                        stale_while_revalidate=seconds,
                    )
                else:
                    patch_cache_control(response, public=True, no_cache=True)
                patch_vary_headers(response, VARY)
            return response

        wrapped.ksbb_page_cache = Policy("shared", frozenset(params))
        return wrapped

    return decorator


def revalidated_page(version: Callable[..., str | None], *, params: tuple[str, ...] = ()):
    """A public page that must never be stale: `version(request, **kwargs)` reads, cheaply and from
    the database the view reads, a version of everything the page shows (None: no such page, let
    the view answer). Its ETag derives from that version."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if request.method in SAFE_METHODS and response.status_code == 200:
                patch_cache_control(response, public=True, no_cache=True)
                patch_vary_headers(response, VARY)
            return response

        wrapped.ksbb_page_cache = Policy("revalidated", frozenset(params), version)
        return wrapped

    return decorator


def public_data(seconds: int | None = None) -> Callable:
    """Headers for a public answer that is not a page (API data, downloads): `public`, kept for
    `seconds` (None: KSBB_PUBLIC_PAGE_SECONDS) by browsers and shared caches; set only when the
    view said nothing itself, and only on a successful GET."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if (
                request.method in SAFE_METHODS
                and response.status_code in (200, 304)
                and not response.has_header("Cache-Control")
            ):
                kept = page_seconds() if seconds is None else seconds
                if kept:
                    patch_cache_control(response, public=True, max_age=kept, s_maxage=kept)
                else:
                    patch_cache_control(response, public=True, no_cache=True)
                patch_vary_headers(response, VARY)
            return response

        return wrapped

    return decorator


@functools.cache
def release() -> str:
    """A digest of the code, templates, translations and static file names this process serves: a
    new release never answers with a copy an older one made, nor confirms one with a 304. The same
    on every app server running the same release (contents, not file times). Read once a process."""
    base = Path(settings.BASE_DIR).resolve()
    files = set()
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base):
            files |= {p for p in path.rglob("*") if p.suffix in (".py", ".html")}
    for folder in [*settings.TEMPLATES[0].get("DIRS", []), *settings.LOCALE_PATHS]:
        files |= {p for p in Path(folder).resolve().rglob("*") if p.suffix in (".html", ".mo")}
    files.add(Path(settings.STATIC_ROOT).resolve() / "staticfiles.json")
    digest = hashlib.sha256()
    for path in sorted(files):
        try:
            content = path.read_bytes()
        except OSError:
            continue
        digest.update(
            f"{path.relative_to(base) if path.is_relative_to(base) else path.name}\n".encode()
        )
        digest.update(content)
    return digest.hexdigest()[:16]


def _anonymous_without_state(request) -> bool:
    """No session and no waiting flash message: a visitor whose pages are everybody's pages."""
    cookies = request.COOKIES
    return (
        settings.SESSION_COOKIE_NAME not in cookies
        and MESSAGES_COOKIE not in cookies
        and "HTTP_AUTHORIZATION" not in request.META
    )


def _policy(match) -> Policy | None:
    """The view's policy: set by its decorator, or for a DRF viewset's route, its class's
    `ksbb_page_cache` entry for the action a GET runs."""
    policy = getattr(match.func, "ksbb_page_cache", None)
    if policy is None and hasattr(match.func, "cls"):
        action = (getattr(match.func, "actions", None) or {}).get("get")
        policy = getattr(match.func.cls, "ksbb_page_cache", {}).get(action)
    return policy


@dataclasses.dataclass
class _Plan:
    policy: Policy
    key: str
    language: str
    etag: str | None = None  # a revalidated page's, known before the page is made


def _plan(request) -> _Plan | None:
    """How this request may use the page cache, or None."""
    if request.method not in SAFE_METHODS or not _anonymous_without_state(request):
        return None
    if PRIVATE_PARAMS & set(request.GET):
        return None
    match = resolving.match(request)
    if match is None:
        return None
    policy = _policy(match)
    if policy is None:
        return None
    query = request.META.get("QUERY_STRING", "")
    if len(query) > MAX_QUERY_LENGTH or not set(request.GET) <= policy.params:
        return None
    language = translation.get_language()
    parts = [policy.kind, release(), language, request.scheme, request.get_host(), request.path]
    parts.append(query)
    if policy.accepts:
        accept = request.headers.get("Accept", "")
        if accept not in policy.accepts:
            return None
        gzip = "gzip" in request.headers.get("Accept-Encoding", "")
        parts += [accept, "gzip" if gzip else ""]
    etag = None
    if policy.kind == "revalidated":
        version = policy.version(request, **match.kwargs)
        if version is None:
            return None
        parts.append(version)
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]
    if policy.kind == "revalidated":
        etag = quote_etag(key)
    return _Plan(policy, f"page:{key}", language, etag)


@dataclasses.dataclass(frozen=True)
class _Copy:
    fresh_until: float
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes

    @classmethod
    def of(cls, response, fresh_until: float) -> "_Copy":
        return cls(fresh_until, response.status_code, tuple(response.items()), response.content)

    def response(self) -> HttpResponse:
        answer = HttpResponse(self.content, status=self.status)
        for name, value in self.headers:
            answer[name] = value
        answer["Content-Length"] = str(len(self.content))
        return answer


def _may_keep(request, response, plan: _Plan) -> bool:
    """Whether this page, made for this request, may be answered to every anonymous visitor."""
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    return (
        request.method == "GET"
        and response.status_code == 200
        and not response.streaming
        and _is_public(response)
        # No cookie, flash message or CSP nonce of this visitor's (the safety net's own rule).
        and private_reason(request, response) is None
        # Made in the language of its key (a view that switched languages is not kept).
        and translation.get_language() == plan.language
        # Nor a CSRF token, a session written to, or a signed-in user.
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not (session is not None and session.modified)
        and not (user is not None and user.is_authenticated)
    )


def _is_public(response) -> bool:
    directives = _directives(response)
    return "public" in directives and not {"private", "no-store"} & directives


def _directives(response) -> set[str]:
    return {
        part.strip().split("=", 1)[0].lower()
        for part in response.get("Cache-Control", "").split(",")
        if part.strip()
    }


def _get(key: str):
    try:
        return cache.get(key)
    except Exception:  # a cache backend's own errors (Redis down) have no common base class
        log.warning("page cache unreachable; making the page", exc_info=True)
        return None


def _set(key: str, value, seconds: float) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:
        log.warning("page cache unreachable; page not kept", exc_info=True)


_LOCAL: collections.OrderedDict[str, "_Copy"] = collections.OrderedDict()
_LOCAL_LOCK = threading.Lock()


def _local_get(key: str):
    with _LOCAL_LOCK:
        copy = _LOCAL.get(key)
        if copy is not None:
            _LOCAL.move_to_end(key)
        return copy


def _local_set(key: str, copy: "_Copy") -> None:
    with _LOCAL_LOCK:
        _LOCAL[key] = copy
        _LOCAL.move_to_end(key)
        while len(_LOCAL) > REVALIDATED_LOCAL_PAGES:
            _LOCAL.popitem(last=False)


def _lock(key: str) -> bool:
    """True for the one request that makes a stale page again; the others serve the stale copy."""
    try:
        return cache.add(f"{key}:remaking", 1, REMAKE_LOCK_SECONDS)
    except Exception:
        return True


def _unlock(key: str) -> None:
    with contextlib.suppress(Exception):
        cache.delete(f"{key}:remaking")


class PageCacheMiddleware:
    """Answers anonymous GETs of `shared_page` and `revalidated_page` views from the page cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        plan = _plan(request)
        if plan is None:
            return self.get_response(request)
        if plan.etag:
            # A revalidated page the visitor already has: nothing it shows has changed.
            early = get_conditional_response(request, etag=plan.etag)
            if isinstance(early, HttpResponseNotModified):
                early["ETag"] = plan.etag
                patch_cache_control(early, public=True, no_cache=True)
                patch_vary_headers(early, VARY)
                return early
        seconds = page_seconds()
        if not seconds:
            return self._made(request, plan, seconds, locked=False)
        if plan.policy.kind == "revalidated":
            copy = _local_get(plan.key)
            if copy is None and (copy := _get(plan.key)) is not None:
                _local_set(plan.key, copy)
        else:
            copy = _get(plan.key)
        fresh = copy is not None and copy.fresh_until >= time.time()
        # A stale copy: one request makes the page again (the lock), the others serve the copy.
        locked = copy is not None and not fresh and _lock(plan.key)
        if copy is not None and (fresh or not locked):
            answer = copy.response()
            return get_conditional_response(request, etag=answer["ETag"], response=answer)
        return self._made(request, plan, seconds, locked=locked)

    def _made(self, request, plan: _Plan, seconds: int, *, locked: bool):
        try:
            return self._make(request, plan, seconds)
        finally:
            if locked:  # after the new copy is kept: nobody else makes it meanwhile
                _unlock(plan.key)

    def _make(self, request, plan: _Plan, seconds: int):
        response = self.get_response(request)
        if not _may_keep(request, response, plan):
            return response
        if plan.etag:
            response["ETag"] = plan.etag
        elif not response.has_header("ETag"):
            set_response_etag(response)
        if seconds:
            if plan.policy.kind == "shared":
                # Kept one more period after it goes stale, served while one worker makes it again.
                _set(plan.key, _Copy.of(response, time.time() + seconds), 2 * seconds)
            else:
                copy = _Copy.of(response, float("inf"))
                _local_set(plan.key, copy)
                _set(plan.key, copy, REVALIDATED_KEEP_SECONDS)
        return get_conditional_response(request, etag=response["ETag"], response=response)


def private_reason(request, response) -> str | None:
    """Why `response` is one visitor's own and no shared cache may keep it (None: it may be, if it
    says public)."""
    if request.method not in SAFE_METHODS:
        return "method"
    if PRIVATE_PARAMS & set(request.GET):
        return "the visitor's own in the query"
    if response.status_code >= 400:
        return "error"
    if response.cookies:
        return "cookie"
    messages = getattr(request, "_messages", None)
    if messages is not None and (messages.used or messages.added_new):
        return "messages"
    if getattr(request, "_csp_nonce", None) is not None:
        return "nonce"
    # Only a public answer is worth reading the session for.
    if _is_public(response) and settings.SESSION_COOKIE_NAME in request.COOKIES:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return "signed in"
    return None


class PrivateResponsesMiddleware:
    """The safety net: whatever a view said, an answer that is one visitor's own never reaches a
    shared cache (and the browser keeps none)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if private_reason(request, response):
            directives = _directives(response)
            if "public" in directives or "no-store" not in directives:
                response["Cache-Control"] = PRIVATE
        return response
