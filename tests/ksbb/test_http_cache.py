"""What browsers, CDNs, nginx and the portal's own page cache may keep (ksbb.lib.http_cache).

The matrix walks the URL resolver, so a new page cannot slip past: every pattern must be classified
below, and is asked for anonymously (GET and POST) and by signed-in staff."""

import re
import time

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from alerts import services as alert_services
from donations import donor_links, services
from ksbb.lib import http_cache
from needs import filters
from tests import factories
from tests.helpers import schedule
from tests.ksbb.test_photos import phone_jpeg

PAGE_SECONDS = 10
# Every view name the resolver knows, by what a shared cache may do with its anonymous GET.
SHARED = {
    "home",
    "needs:need_map",
    "needs:need_coverage",
    "transparency:transparency",
    "transparency:pledge_record",
}  # kept S seconds, page cache
REVALIDATED = {"need_detail", "need_card"}  # kept, asked again each time (ETag from what it shows)
PUBLIC_REVALIDATED = {"need-list", "need-detail"}  # API: public, no-cache, ETag
PUBLIC = {  # public, kept for a while
    "need-layer",
    "need-coverage",
    "donations:receipt_photo",
    "transparency:open_data",
    "transparency:ledger",
    "transparency:ledger_day",
    "transparency:ledger_verifier",
    "region-list",
    "region-detail",
    "category-list",
    "category-detail",
    "aidtype-list",
    "aidtype-detail",
}
PRIVATE = {  # one visitor's own: private, no-store
    "donations:pledge_create",
    "donations:pledge_status",
    "donations:pledge_receipt",
    "donations:donor_access",  # its form's CSRF cookie
    "donations:donor_page",  # a donor's signed link, in every donor page below
    "donations:donor_summary",
    "donations:donor_data",
    "recipients:home",
    "alerts:subscribe",  # its form's CSRF cookie
    "alerts:check_mail",
    "alerts:confirm",  # a subscriber's token, in every alerts page below
    "alerts:manage",
    "alerts:export",
    "alerts:unsubscribe",
    "api-pledge-detail",
    "api-docs",  # its inline script carries the request's CSP nonce
    "admin",
}
POST_ONLY = {  # a GET is refused or only redirects; never public
    "donations:pledge_cancel",
    "donations:pledge_extend",
    "donations:pledge_vetting",
    "donations:donor_erasure",
    "recipients:confirm_need",
    "recipients:answer_delivery",
    "recipients:propose_change",
    "recipients:propose_need",
    "recipients:continue_series",
    "api-pledge-create",
    "api-pledge-cancel",
    "set_language",
}
NOT_PUBLIC = {"api-root", "api-schema", "health_live", "health_serving", "health_ready", "metrics"}
CLASSIFIED = SHARED | REVALIDATED | PUBLIC_REVALIDATED | PUBLIC | PRIVATE | POST_ONLY | NOT_PUBLIC
ADMIN_PATHS = ["/admin/", "/admin/login/", "/admin/needs/need/"]


def _patterns(patterns=None, prefix=""):
    """(view name, URL parameter names) of every URL pattern; the admin as one entry."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == admin_site.name:
                yield "admin", ()
                continue
            space = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _patterns(entry.url_patterns, space)
        elif isinstance(entry, URLPattern):
            yield f"{prefix}{entry.name}", tuple(sorted(entry.pattern.regex.groupindex))


PATTERNS = sorted(set(_patterns()))


def _directives(response) -> set[str]:
    return {d.strip() for d in response.get("Cache-Control", "").split(",") if d.strip()}


def _vary(response) -> set[str]:
    return {v.strip().lower() for v in response.get("Vary", "").split(",")}


@pytest.fixture(autouse=True)
def page_cache(settings):
    """The page cache on, as in production (the suite otherwise runs with it off)."""
    settings.KSBB_PUBLIC_PAGE_SECONDS = PAGE_SECONDS


@pytest.fixture
def world(need, donor, province_staff, settings, tmp_path):
    """A need with a pledge (for its token), in Gambir, and a delivered one whose recipients
    showed their photo."""
    settings.MEDIA_ROOT = tmp_path
    pledge = services.pledge(need=need, collaborator=donor, quantity=10)
    delivered = schedule(services.pledge(need=need, collaborator=donor, quantity=5), province_staff)
    delivery = services.record_delivery(
        delivered,
        quantity=5,
        delivered_on=delivered.scheduled_for,
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    receipt = services.record_receipt(
        delivery,
        contact=None,
        outcome="received",
        received_by="Bu Wati",
        photo=SimpleUploadedFile("foto.jpg", phone_jpeg(size=(40, 20))),
        photo_public=True,
    )
    subscription = alert_services.subscribe(
        email="warga@example.test",
        language="id",
        frequency="immediate",
        regions=[need.site.kelurahan],
        categories=[],
    )
    return {
        "need": need,
        "pledge": pledge,
        "delivered": delivered,
        "receipt": receipt,
        "subscription": subscription,
    }


def _url(name: str, params: tuple, world) -> list[str]:
    if name == "admin":
        return ADMIN_PATHS
    need, pledge = world["need"], world["pledge"]
    values = {
        "pk": need.pk if name.startswith(("need", "donations", "recipients")) else need.aid_type_id,
        "token": world["subscription"].token if name.startswith("alerts:") else pledge.token,
        "dataset": "needs",
        "fmt": "csv",
        "code": "31.71",
        "slug": need.aid_type.category.slug,
        "format": "json",
        "receipt": world["receipt"].pk,
        "day": timezone.localdate().isoformat(),
        "lang": "id",
        "key": donor_links.make_key(pledge.collaborator),
        "year": world["receipt"].delivery.delivered_on.year,
    }
    if name == "transparency:pledge_record":
        values["pk"] = pledge.pk
    if name == "donations:pledge_receipt":
        values["token"] = world["delivered"].token
    return [reverse(name, kwargs={p: values[p] for p in params})]


def test_every_url_pattern_is_classified():
    unknown = sorted({name for name, _ in PATTERNS} - CLASSIFIED)
    assert unknown == [], f"say what a cache may keep of {unknown} (tests/ksbb/test_http_cache.py)"


@pytest.mark.parametrize("name, params", PATTERNS, ids=[f"{n}{list(p)}" for n, p in PATTERNS])
def test_anonymous_get(client, world, name, params):
    for url in _url(name, params, world):
        response = client.get(url)
        cc = _directives(response)
        where = (url, response.status_code, response.get("Cache-Control"), response.get("Vary"))
        if response.cookies:
            assert {"private", "no-store"} <= cc, where
        seconds = PAGE_SECONDS
        if name in SHARED:
            assert response.status_code == 200, where
            assert cc == {
                "public",
                f"max-age={seconds}",
                f"s-maxage={seconds}",
                f"stale-while-revalidate={seconds}",
            }, where
            assert {"accept-language", "cookie"} <= _vary(response), where
            assert response.has_header("ETag") and not response.cookies, where
        elif name in REVALIDATED | PUBLIC_REVALIDATED:
            assert response.status_code == 200, where
            assert cc == {"public", "no-cache"}, where
            assert {"accept-language", "cookie"} <= _vary(response), where
            assert response.has_header("ETag") and not response.cookies, where
        elif name in PUBLIC:
            assert response.status_code == 200, where
            assert "public" in cc and not {"private", "no-store", "no-cache"} & cc, where
            assert {"accept-language", "cookie"} <= _vary(response), where
            assert not response.cookies, where
        elif name in PRIVATE:
            assert {"private", "no-store"} <= cc and "public" not in cc, where
        else:  # POST_ONLY, NOT_PUBLIC
            assert "public" not in cc, where


@pytest.mark.parametrize("name, params", PATTERNS, ids=[f"{n}{list(p)}" for n, p in PATTERNS])
def test_a_post_is_never_kept(client, world, name, params):
    for url in _url(name, params, world):
        response = client.post(url)
        cc = _directives(response)
        assert {"private", "no-store"} <= cc and "public" not in cc, (url, response.status_code)


@pytest.mark.parametrize(
    "name, params",
    [(n, p) for n, p in PATTERNS if n in SHARED | REVALIDATED | PUBLIC_REVALIDATED | PUBLIC],
)
def test_signed_in_staff_get_private_answers(staff_client, world, name, params):
    for url in _url(name, params, world):
        response = staff_client.get(url)
        cc = _directives(response)
        assert {"private", "no-store"} <= cc and "public" not in cc, (url, response.status_code)


def test_the_pledge_form_sets_its_csrf_cookie_privately(client, need):
    response = client.get(f"/kebutuhan/{need.pk}/dukung/")
    assert "csrftoken" in response.cookies
    assert {"private", "no-store"} <= _directives(response)


def test_a_pledge_page_and_its_api_are_never_kept(client, world):
    token = world["pledge"].token
    for url in (f"/komitmen/{token}/", f"/api/v1/pledges/{token}/"):
        assert {"private", "no-store"} <= _directives(client.get(url)), url


# The shared page cache


def test_a_kept_page_costs_no_query_and_answers_304_to_its_etag(
    client, need, django_assert_num_queries
):
    first = client.get("/")
    assert first.context is not None  # made
    with django_assert_num_queries(0):
        again = client.get("/")
    assert again.context is None and again.content == first.content  # from the page cache
    with django_assert_num_queries(0):
        revalidated = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert revalidated.status_code == 304
    assert revalidated["ETag"] == first["ETag"]
    assert "public" in _directives(revalidated)


def test_a_page_is_made_again_once_stale(client, need, monkeypatch):
    first = client.get("/peta/")
    factories.NeedFactory(site=need.site, title="Kebutuhan baru sekali")
    assert "Kebutuhan baru sekali" not in client.get("/peta/").content.decode()  # still fresh
    later = time.time() + PAGE_SECONDS + 1
    monkeypatch.setattr(http_cache.time, "time", lambda: later)
    made = client.get("/peta/")
    assert made.context is not None and "Kebutuhan baru sekali" in made.content.decode()
    assert made["ETag"] != first["ETag"]


def test_a_stale_page_is_served_while_another_worker_makes_it(client, need, monkeypatch):
    client.get("/peta/")
    factories.NeedFactory(site=need.site, title="Kebutuhan baru sekali")
    later = time.time() + PAGE_SECONDS + 1
    monkeypatch.setattr(http_cache.time, "time", lambda: later)
    monkeypatch.setattr(http_cache, "_lock", lambda key: False)  # another worker holds it
    stale = client.get("/peta/")
    assert stale.context is None and "Kebutuhan baru sekali" not in stale.content.decode()


def test_english_and_indonesian_are_kept_apart(client, need):
    def lang(response):
        return re.search(r'<html lang="(\w+)">', response.content.decode())[1]

    assert lang(client.get("/")) == "id"
    assert lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")) == "en"
    assert lang(client.get("/")) == "id"
    english = Client()
    english.cookies["django_language"] = "en"
    assert lang(english.get("/")) == "en"
    assert lang(english.get("/", HTTP_ACCEPT_LANGUAGE="id")) == "en"  # the cookie wins
    assert lang(Client().get("/", HTTP_ACCEPT_LANGUAGE="en")) == "en"
    # Each answer says which language it is in, for caches downstream.
    assert client.get("/")["Content-Language"] == "id"
    assert english.get("/")["Content-Language"] == "en"


def test_switching_language_sets_a_private_cookie_and_needs_no_token(need):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/i18n/setlang/", {"language": "en", "next": "/peta/"})
    assert response.status_code == 302 and response["Location"] == "/peta/"
    assert {"private", "no-store"} <= _directives(response)
    assert '<html lang="en">' in browser.get("/peta/").content.decode()


def test_staff_never_get_the_anonymous_copy_and_never_leave_theirs(staff_client, need):
    anonymous = Client()  # (the `client` fixture is the one staff_client signs in)
    first = anonymous.get("/peta/")
    factories.NeedFactory(site=need.site, title="Kebutuhan baru sekali")
    staff = staff_client.get("/peta/")
    assert staff.context is not None and "Kebutuhan baru sekali" in staff.content.decode()
    again = anonymous.get("/peta/")
    assert "Kebutuhan baru sekali" not in again.content.decode()
    assert again["ETag"] == first["ETag"]

    # And the other way round: what staff were shown is never kept for anonymous visitors.
    staff_client.get("/transparansi/")
    assert anonymous.get("/transparansi/").context is not None


def test_a_query_parameter_the_page_does_not_read_is_not_kept(client, need):
    client.get("/peta/?utm_source=x")
    assert client.get("/peta/?utm_source=x").context is not None
    client.get("/peta/?category=pangan")
    assert client.get("/peta/?category=pangan").context is None


def test_filters_and_pages_are_kept_apart(client, need):
    for n in range(25):
        factories.NeedFactory(site=need.site, title=f"Kebutuhan nomor {n}")
    one, two = client.get("/peta/"), client.get("/peta/?page=2")
    assert one.content != two.content
    assert client.get("/peta/?page=2").content == two.content
    assert client.get("/peta/?category=umkm").content != one.content


def test_a_flash_message_is_shown_to_its_visitor_only(client, need):
    closed = factories.NeedFactory(site=need.site, title="Sudah ditutup", is_closed=True)
    other = Client()
    other.get(closed.get_absolute_url())  # kept for every anonymous visitor
    refused = client.get(f"/kebutuhan/{closed.pk}/dukung/")
    assert refused.status_code == 302 and "messages" in refused.cookies
    shown = client.get(closed.get_absolute_url())
    assert shown.context is not None  # not from the page cache: the message is this visitor's
    assert 'class="messages"' in shown.content.decode()
    assert {"private", "no-store"} <= _directives(shown)
    assert 'class="messages"' not in other.get(closed.get_absolute_url()).content.decode()


def test_a_message_made_and_shown_in_one_request_is_not_kept(client, need):
    response = client.get("/peta/?page=99")
    assert 'class="messages"' in response.content.decode()
    assert {"private", "no-store"} <= _directives(response)
    assert Client().get("/peta/?page=99").context is not None  # made again, never kept


# A need's page: never stale


def test_a_need_page_shows_a_new_pledge_at_once(client, need, donor, django_assert_num_queries):
    first = client.get(need.get_absolute_url())
    assert first.context["need"].quantity_remaining == 100
    with django_assert_num_queries(1):  # its version; the page from the page cache
        again = client.get(need.get_absolute_url())
    assert again.context is None and again.content == first.content
    with django_assert_num_queries(1):
        assert (
            client.get(need.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
        )

    services.pledge(need=need, collaborator=donor, quantity=30)

    revalidated = client.get(need.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"])
    assert revalidated.status_code == 200 and revalidated["ETag"] != first["ETag"]
    assert revalidated.context["need"].quantity_remaining == 70
    assert "PT Maju Bersama" in revalidated.content.decode()


def test_a_need_page_changes_with_a_supporter_s_public_name(client, world, donor):
    url = world["need"].get_absolute_url()
    first = client.get(url)
    donor.is_anonymous = True
    donor.save()
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and "PT Maju Bersama" not in again.content.decode()


def test_another_need_s_pledge_leaves_a_need_page_s_etag(client, need, donor):
    other = factories.NeedFactory(site=need.site, title="Lain", quantity_needed=10)
    first = client.get(need.get_absolute_url())
    services.pledge(need=other, collaborator=donor, quantity=1)
    assert client.get(need.get_absolute_url(), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_the_need_popup_api_revalidates_per_need(client, need, donor, django_assert_num_queries):
    url = f"/api/v1/needs/{need.pk}/"
    first = client.get(url, HTTP_ACCEPT="application/json")
    with django_assert_num_queries(1):  # the need's digest, not the aggregates over every need
        again = client.get(url, HTTP_ACCEPT="application/json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    services.pledge(need=need, collaborator=donor, quantity=5)
    changed = client.get(url, HTTP_ACCEPT="application/json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed.json()["properties"]["quantity_remaining"] == 95


def test_the_need_popup_is_kept_per_version_accept_and_encoding(
    client, need, donor, django_assert_num_queries
):
    url = f"/api/v1/needs/{need.pk}/"
    json_ = {"HTTP_ACCEPT": "application/json"}
    first = client.get(url, **json_)
    with django_assert_num_queries(1):  # its version; the answer from the page cache
        again = client.get(url, **json_)
    assert again.content == first.content and again["ETag"] == first["ETag"]
    # Gzipped for whoever takes it, and that copy only to them.
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip", **json_)
    assert zipped["Content-Encoding"] == "gzip" and zipped["ETag"] != first["ETag"]
    assert "Content-Encoding" not in client.get(url, **json_)
    # The browsable API is another answer, and an Accept header of one's own is never kept.
    assert client.get(url, HTTP_ACCEPT="text/html").content != first.content
    for _ in range(2):
        with CaptureQueriesContext(connection) as made:
            assert client.get(url, HTTP_ACCEPT="application/json; q=0.9").json() == first.json()
        # The need read again each time (not the version probe a kept copy costs).
        assert [q for q in made.captured_queries if 'FROM "needs_need"' in q["sql"]]
        assert not [q for q in made.captured_queries if "needs_page_touch" in q["sql"]]

    services.pledge(need=need, collaborator=donor, quantity=5)
    changed = client.get(url, **json_)
    assert changed.json()["properties"]["quantity_remaining"] == 95


def test_an_unpublished_or_missing_need_is_a_private_404(client, need):
    hidden = factories.NeedFactory(site=need.site, published=False)
    for url in (hidden.get_absolute_url(), "/kebutuhan/999999/", "/api/v1/needs/999999/"):
        response = client.get(url)
        assert response.status_code == 404
        assert {"private", "no-store"} <= _directives(response)


def test_with_the_page_cache_off_pages_are_made_every_time(client, need, settings):
    settings.KSBB_PUBLIC_PAGE_SECONDS = 0
    first = client.get("/")
    assert _directives(first) == {"public", "no-cache"}
    assert client.get("/").context is not None
    assert client.get("/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_the_map_s_filter_lists_are_read_once_a_minute(client, need, django_assert_max_num_queries):
    client.get("/peta/")
    # Another page of the map, made: its count, its needs, whether any site is placed roughly, the
    # chosen kota, and its areas' snapshot (needs.areas: built on every read in the tests, its
    # version and its rows); the lists' 300 options come from the cache
    # (needs.filters.offered_choices).
    with django_assert_max_num_queries(6):
        made = client.get("/peta/?kota=31.71")
    assert made.context is not None
    html = made.content.decode()
    assert '<option value="31.71" selected>' in html and "Gambir</option>" in html


def test_each_process_keeps_the_filter_lists_a_few_seconds(client, need, monkeypatch):
    client.get("/peta/")
    reads = []
    real_get = filters.cache.get
    monkeypatch.setattr(
        filters.cache, "get", lambda key, *a: reads.append(key) or real_get(key, *a)
    )
    client.get("/peta/?kota=31.71")
    assert filters.CHOICES_KEY not in reads  # drawn from this process's copy
    monkeypatch.setitem(filters._CHOICES, "until", time.monotonic() - 1)  # CHOICES_LOCAL_SECONDS on
    client.get("/peta/?kota=31.72")
    assert filters.CHOICES_KEY in reads  # its copy too old: read the shared one again


def test_a_need_number_beyond_any_need_is_a_404(client, db):
    for url in ("/kebutuhan/99999999999999999999/", "/api/v1/needs/99999999999999999999/"):
        assert client.get(url).status_code == 404, url


def test_the_layer_refuses_a_bad_filter_after_trusting_good_ones(client, need):
    for _ in range(2):
        assert client.get("/api/v1/needs/layer/", {"kota": "31.71"}).status_code == 200
        assert client.get("/api/v1/needs/layer/", {"kota": "xx"}).status_code == 400
        assert (
            client.get("/api/v1/needs/layer/", {"kota": "31.71", "status": "nope"}).status_code
            == 400
        )
