"""Tokens, ids and filters tampered with: nobody reaches another's pledge, a bad value gets a clear
message or an empty result, and nothing answers with a server error. A GET never changes state;
cancelling needs the pledge's own token and, from a browser, the CSRF token."""

import pytest
from django.test import Client
from django.urls import reverse

from donations.models import OutboundMail, Pledge, PledgeEvent
from needs.filters import NeedFilter
from needs.models import Need
from tests.helpers import admin_url


@pytest.fixture(autouse=True)
def _server_errors_are_answers(client, staff_client):
    """A view that raises answers 500 here, as it would in production, so the assertions below see it."""
    client.raise_request_exception = False


def _no_server_error(response, what):
    assert response.status_code < 500, (what, response.status_code)


# Pledge tokens -----------------------------------------------------------------------------------


def token_variants(token: str) -> dict[str, str]:
    """Paths that resemble a pledge's token without being it."""
    return {
        "truncated": token[:-1],
        "too short": token[:12],
        "one character changed": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "case flipped": token.swapcase(),
        "extra character": token + "x",
        "very long": token * 4,
        "wrong alphabet": token[:-2] + "!$",
        "percent-encoded slash": token[:20] + "%2F" + token[20:],
        "encoded NUL": token + "%00",
        "encoded dot-dot": "%2e%2e%2f" + token,
        "double-encoded": token[:-1] + "%2541",
        "trailing space": token + "%20",
        "unicode lookalike": token[:-1] + "\u0410",  # a Cyrillic A
        "wildcard": "%25" * 22,
        "SQL": "x' OR '1'='1' -- " + token[:10],
    }


TOKEN_URLS = [
    ("GET", "/komitmen/{}/"),
    ("POST", "/komitmen/{}/batal/"),
    ("POST", "/komitmen/{}/perpanjang/"),
    ("GET", "/api/v1/pledges/{}/"),
    ("POST", "/api/v1/pledges/{}/cancel/"),
]


def test_a_token_that_is_not_exactly_the_pledge_s_finds_nothing(client, city):
    pledge = city.pledges["submitted"]
    secrets = [pledge.need.title, pledge.collaborator.public_name, pledge.collaborator.email]
    for name, variant in token_variants(pledge.token).items():
        for method, pattern in TOKEN_URLS:
            url = pattern.format(variant)
            response = client.generic(method, url)
            assert response.status_code == 404, (name, url, response.status_code)
            body = response.content.decode(errors="replace")
            assert not [s for s in secrets if s in body], (name, url)
    assert Pledge.objects.get(pk=pledge.pk).status == "submitted"
    assert not PledgeEvent.objects.filter(pledge=pledge, to_status="cancelled").exists()


def test_a_pledge_page_shows_that_pledge_and_no_other(client, city):
    mine, theirs = city.pledges["submitted"], city.pledges["scheduled"]
    page = client.get(f"/komitmen/{mine.token}/").content.decode()
    assert mine.need.title in page
    assert theirs.need.title not in page and theirs.token not in page
    assert mine.collaborator.email not in page  # even the owner's page does not print it back
    body = client.get(f"/api/v1/pledges/{mine.token}/").json()
    assert body["token"] == mine.token and body["need"] == mine.need_id


def test_cancelling_with_one_token_touches_only_that_pledge(client, city):
    mine, theirs = city.pledges["submitted"], city.pledges["scheduled"]
    client.post(f"/komitmen/{mine.token}/batal/")
    assert Pledge.objects.get(pk=mine.pk).status == "cancelled"
    assert Pledge.objects.get(pk=theirs.pk).status == "scheduled"


def test_cancelling_from_a_browser_needs_the_csrf_token(city):
    pledge = city.pledges["submitted"]
    browser = Client(enforce_csrf_checks=True)
    url = f"/komitmen/{pledge.token}/batal/"
    assert browser.post(url).status_code == 403  # a cross-site form: no CSRF token
    assert Pledge.objects.get(pk=pledge.pk).status == "submitted"
    page = browser.get(f"/komitmen/{pledge.token}/")
    token = page.cookies["csrftoken"].value
    assert browser.post(url, {"csrfmiddlewaretoken": token}).status_code == 302
    assert Pledge.objects.get(pk=pledge.pk).status == "cancelled"


def test_a_signed_in_browser_cannot_be_made_to_cancel_through_the_api(city, province_staff):
    """The API honours the session of signed-in staff, and with it their CSRF protection: a page
    elsewhere cannot use a staff member's browser to post to it."""
    pledge = city.pledges["submitted"]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(province_staff)
    response = browser.post(f"/api/v1/pledges/{pledge.token}/cancel/")
    assert response.status_code == 403
    assert Pledge.objects.get(pk=pledge.pk).status == "submitted"


def test_a_get_never_changes_state(client, city):
    """Mail scanners and link previews open every link they see: following the cancel and extend
    links, or any public page, must change nothing."""

    def state():
        return (
            list(Pledge.objects.order_by("pk").values_list("status", "hold_until", "extended_at")),
            list(Need.objects.order_by("pk").values_list("quantity_pledged", "quantity_delivered")),
            PledgeEvent.objects.count(),
            OutboundMail.objects.count(),
        )

    before = state()
    for pledge in city.pledges.values():
        for url in (
            f"/komitmen/{pledge.token}/",
            f"/komitmen/{pledge.token}/batal/",
            f"/komitmen/{pledge.token}/perpanjang/",
            f"/api/v1/pledges/{pledge.token}/",
            f"/api/v1/pledges/{pledge.token}/cancel/",
        ):
            for method in ("GET", "HEAD"):
                client.generic(method, url)
    for need in city.needs.values():
        client.get(f"/kebutuhan/{need.pk}/dukung/")
        client.get(f"/kebutuhan/{need.pk}/")
    assert client.get(f"/komitmen/{city.pledges['submitted'].token}/batal/").status_code == 405
    assert state() == before


# Ids ---------------------------------------------------------------------------------------------

BAD_IDS = ["-1", "0", "99999999999999999999", "1e3", "abc", "1%00", "%2e%2e", "1;DROP TABLE x"]


def test_bad_ids_on_public_pages_and_the_api_are_not_found(client, city):
    for bad in BAD_IDS:
        for url in (
            f"/kebutuhan/{bad}/",
            f"/kebutuhan/{bad}/dukung/",
            f"/api/v1/needs/{bad}/",
            f"/api/v1/aid-types/{bad}/",
            f"/api/v1/categories/{bad}/",
            f"/api/v1/regions/{bad}/",
        ):
            response = client.get(url)
            assert response.status_code == 404, (url, response.status_code)


def test_an_unpublished_need_is_not_found_by_its_id(client, city):
    hidden = city.needs["hidden"]
    for url in (f"/kebutuhan/{hidden.pk}/", f"/kebutuhan/{hidden.pk}/dukung/"):
        assert client.get(url).status_code == 404
    assert client.get(f"/api/v1/needs/{hidden.pk}/").status_code == 404


def test_bad_ids_in_the_admin_are_not_found(staff_client, city):
    for bad in BAD_IDS:
        for url in (
            f"/admin/needs/need/{bad}/change/",
            f"/admin/needs/need/{bad}/history/",
            f"/admin/donations/pledge/{bad}/change/",
            f"/admin/donations/pledge/{bad}/deliver/",
            f"/admin/locations/site/{bad}/change/",
        ):
            response = staff_client.get(url)
            assert response.status_code in (302, 404), (url, response.status_code)


def test_another_area_s_pledge_cannot_be_delivered_by_post(client, other_area_officer, city):
    pledge = city.pledges["scheduled"]
    client.force_login(other_area_officer)
    url = reverse("admin:donations_pledge_deliver", args=[pledge.pk])
    response = client.post(url, {"quantity": 1, "delivered_on": "2020-10-30", "opd": 1})
    assert response.status_code == 404
    assert Pledge.objects.get(pk=pledge.pk).quantity_delivered == pledge.quantity_delivered


# Filters -----------------------------------------------------------------------------------------

LONG = "a" * 10_000
BAD_VALUES = [
    "a,b,c,d",
    "NaN,NaN,NaN,NaN",
    "inf,-inf,inf,inf",
    "106.9,-6.1,106.7,-6.3",  # a bounding box the wrong way round
    "1,2,3",
    ",,,",
    "1e999,1e999,1e999,1e999",
    "99999999999999999999",
    "0",
    "-1",
    "sandang",
    "31.99",
    LONG,
    "' OR 1=1 --",
    "1; DROP TABLE needs_need; --",
    "%",
    "_",
    "\\",
    "\u202e",
]
# Every parameter the map's FilterSet reads, so a new filter is tampered with too.
NEED_FILTERS = [*NeedFilter.base_filters, "page"]


def test_the_map_page_answers_every_bad_filter_with_a_message_or_an_empty_list(client, city):
    for name in NEED_FILTERS:
        for value in BAD_VALUES:
            response = client.get("/peta/", {name: value})
            _no_server_error(response, (name, value))
            assert response.status_code == 200, (name, value)
            ctx = response.context
            page = ctx["page"]
            explained = bool(ctx["filter"].form.errors) or bool(list(ctx["messages"]))
            assert explained or page is None or len(page.object_list) <= page.paginator.count, (
                name,
                value,
            )


def test_the_map_page_explains_a_bad_filter(client, city):
    for query, expected in [
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "NaN,NaN,NaN,NaN"}, "bbox"),
        ({"bbox": "106.9,-6.1,106.7,-6.3"}, "bbox"),
        ({"category": "sandang"}, "category"),
        ({"kota": "31.99"}, "kota"),
        ({"q": LONG}, "q"),
        ({"status": "lost"}, "status"),
    ]:
        response = client.get("/peta/", query)
        assert expected in response.context["filter"].form.errors, query
    for page in ("0", "-1", "99999999999999999999", "x"):
        response = client.get("/peta/", {"page": page})
        assert [str(m) for m in response.context["messages"]], page
        assert response.context["page"].number == 1


def test_the_api_answers_every_bad_filter_with_a_400_or_an_empty_list(client, city):
    for url in ("/api/v1/needs/", "/api/v1/needs/layer/"):
        for name in [*NEED_FILTERS, "page_size"]:
            for value in BAD_VALUES:
                response = client.get(url, {name: value})
                _no_server_error(response, (url, name, value))
                if response.status_code == 400:
                    assert response.json(), (url, name, value)  # the reason, per parameter
                else:
                    assert response.status_code == 200, (url, name, value)
    for url in ("/api/v1/regions/", "/api/v1/aid-types/"):
        for name in ("level", "parent", "within", "boundary", "category__slug"):
            for value in BAD_VALUES:
                _no_server_error(client.get(url, {name: value}), (url, name, value))


def test_sql_looking_text_is_only_ever_text(client, city):
    count = Need.objects.count()
    for value in ("' OR 1=1 --", "1; DROP TABLE needs_need; --", "%", "_"):
        body = client.get("/api/v1/needs/", {"q": value, "status": ["open", "closed"]}).json()
        assert body["count"] == 0, value
    assert Need.objects.count() == count


def test_repeated_parameters_take_one_value_and_never_fail(client, city):
    for query in (
        "kota=31.71&kota=31.72",
        "page=1&page=2",
        "bbox=106.7,-6.3,106.9,-6.1&bbox=a,b,c,d",
        "category=pangan&category=umkm",
        "q=a&q=b&q=c",
        "status=open&status=open&status=open",
    ):
        for url in ("/peta/", "/api/v1/needs/", "/api/v1/needs/layer/"):
            response = client.get(f"{url}?{query}")
            assert response.status_code in (200, 400), (url, query, response.status_code)


def test_a_nul_byte_in_any_query_string_is_a_400_with_the_reason(client, staff_client, city):
    """PostgreSQL cannot compare text with a NUL in it: ksbb.nul_bytes refuses it before any view,
    in a parameter's value or its name, on every kind of page."""
    from django.contrib import admin

    urls = [
        "/",
        "/peta/",
        "/transparansi/",
        "/transparansi/data/needs.csv",
        f"/kebutuhan/{city.needs['open'].pk}/",
        f"/komitmen/{city.pledges['submitted'].token}/",
        "/api/v1/needs/",
        "/api/v1/needs/layer/",
        "/api/v1/categories/",
        "/api/v1/regions/",
        *[admin_url(model, "changelist") for model in admin.site._registry],
    ]
    for url in urls:
        for query in ({"q": "\x00"}, {"as_of": "2020\x00"}, {"kota": "31.71\x00"}, {"x\x00": "1"}):
            response = staff_client.get(url, query)
            assert response.status_code == 400, (url, query, response.status_code)
            assert "NUL" in response.content.decode(), url
    assert client.get("/api/v1/needs/", {"q": "\x00"}).json()["detail"]
    assert Need.objects.count() == len(city.needs)


TRANSPARENCY_VALUES = [*BAD_VALUES, "2020-13-01", "2999-01-01", "1999-12-31", "2020-10-26T00:00"]


def test_the_transparency_page_answers_every_bad_parameter(client, city):
    for name in ("as_of", "q", "page", "region", "category", "kota"):
        for value in TRANSPARENCY_VALUES:
            response = client.get("/transparansi/", {name: value})
            assert response.status_code == 200, (name, value, response.status_code)
    for value in ("2020-13-01", "2999-01-01", "1999-12-31", "x" * 300):
        response = client.get("/transparansi/", {"as_of": value})
        assert response.context["as_of_error"], value


def test_open_data_downloads_refuse_a_bad_date_with_the_reason(client, city):
    for dataset in ("needs", "sites", "pledges", "deliveries", "collaborators", "totals"):
        for fmt in ("csv", "json"):
            for value in ("2020-13-01", LONG, "2999-01-01", "' OR 1=1 --"):
                response = client.get(f"/transparansi/data/{dataset}.{fmt}", {"as_of": value})
                assert response.status_code == 400, (dataset, fmt, value)
                assert response["Content-Type"].startswith("text/plain")
                assert response.content  # the reason
    for path in (
        "needs.xls",
        "users.csv",
        "needs.geojson.csv",
        "..%2fsettings.csv",
        "needs%00.csv",
    ):
        assert client.get(f"/transparansi/data/{path}").status_code == 404, path


def test_admin_lists_answer_bad_filters_and_searches(staff_client, city):
    """Every list's own filters and its search, given hostile values."""
    from django.contrib import admin

    for model in admin.site._registry:
        url = admin_url(model, "changelist")
        response = staff_client.get(url)
        parameters = {"q"}
        for spec in response.context["cl"].filter_specs:
            parameters.update(spec.expected_parameters())
        for name in sorted(parameters):
            for value in (LONG, "' OR 1=1 --", "99999999999999999999", "-1", "abc", "%"):
                _no_server_error(staff_client.get(url, {name: value}), (url, name, value[:40]))
