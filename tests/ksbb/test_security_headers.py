"""Security headers on public pages, the admin and the API: a strict Content-Security-Policy whose
per-request nonce is on every inline script, and the headers and cookie flags that do not depend on
TLS. (Secure cookies and HSTS need DEBUG off: test_serve.py checks them on the real server.)"""

import pytest

from ksbb.content_policy import tile_sources
from locations.models import Site
from tests.helpers import admin_url
from tests.ksbb.csp_checks import (
    assert_scripts_carry_the_nonce,
    assert_strict_policy,
    header_nonce,
    inline_scripts,
)

MAP_PAGES = ["/peta/", "/transparansi/"]


def _csp(response) -> str:
    assert response.status_code == 200, response.status_code
    return response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path", ["/", "/peta/", "/transparansi/", "/api/v1/", "/api/v1/needs/", "/api/v1/docs/"]
)
def test_public_pages_and_the_api_send_the_strict_policy(client, need, path):
    response = client.get(path)
    assert_strict_policy(_csp(response))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert_scripts_carry_the_nonce(response["Content-Security-Policy"], response.content.decode())


def test_the_api_as_json_is_covered_too(client, need):
    response = client.get("/api/v1/needs/", HTTP_ACCEPT="application/json")
    assert response["Content-Type"].startswith("application/json")
    assert_strict_policy(_csp(response))


@pytest.mark.parametrize("path", [*MAP_PAGES, "need"])
def test_the_public_maps_are_drawn_without_an_inline_script(client, need, path):
    # django-leaflet's inline script would need the request's nonce, and a page holding a nonce
    # is one request's own: no cache could share it (ksbb.lib.http_cache). The options travel as
    # inert JSON and static/js/maps.js draws the map.
    response = client.get(need.get_absolute_url() if path == "need" else path)
    html = response.content.decode()
    assert inline_scripts(html) == []
    assert header_nonce(_csp(response)) is None
    assert "data-map-options=" in html and "/static/js/maps.js" in html
    assert "L.Map.djangoMap" not in html


def test_the_nonce_differs_per_request(client, need):
    nonces = {header_nonce(_csp(client.get("/api/v1/docs/"))) for _ in range(3)}
    assert len(nonces) == 3 and None not in nonces
    assert all(len(n) >= 22 for n in nonces)  # 16 random bytes, base64


def test_a_page_without_inline_scripts_offers_no_nonce(client, need):
    response = client.get("/")
    assert inline_scripts(response.content.decode()) == []
    assert header_nonce(_csp(response)) is None


def test_the_api_docs_load_nothing_from_outside(client):
    response = client.get("/api/v1/docs/")
    html = response.content.decode()
    assert_strict_policy(_csp(response))
    assert "googleapis" not in html and "https://" not in html
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in html


def test_the_admin_login_sends_the_policy(client, db):
    response = client.get("/admin/login/")
    assert_strict_policy(_csp(response))
    assert_scripts_carry_the_nonce(response["Content-Security-Policy"], response.content.decode())


def test_the_admin_sends_the_policy(staff_client):
    response = staff_client.get("/admin/")
    assert_strict_policy(_csp(response))
    assert_scripts_carry_the_nonce(response["Content-Security-Policy"], response.content.decode())


def test_the_admin_map_widget_script_carries_the_nonce(staff_client, gambir):
    response = staff_client.get(admin_url(Site, "add"))
    header = _csp(response)
    assert assert_scripts_carry_the_nonce(header, response.content.decode()) >= 2


def test_cookies_are_http_only_and_same_site_lax(client, need):
    csrf = client.get(f"/kebutuhan/{need.pk}/dukung/").cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    language = client.post("/i18n/setlang/", {"language": "en", "next": "/"}).cookies
    assert language["django_language"]["httponly"]
    assert language["django_language"]["samesite"] == "Lax"


def test_the_policy_is_sent_with_debug_on_too(settings, client, need):
    # `make run` runs with DEBUG on: the pages seen in development meet the production policy.
    settings.DEBUG = True
    assert_strict_policy(_csp(client.get("/peta/")))


@pytest.mark.parametrize(
    "url, sources",
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", ["https://tile.openstreetmap.org"]),
        ("https://{s}.tile.example.id/{z}/{x}/{y}.png", ["https://*.tile.example.id"]),
        ("http://tiles.local:8080/{z}/{x}/{y}.png", ["http://tiles.local:8080"]),
        ("//tiles.example.id/{z}/{x}/{y}.png", ["tiles.example.id"]),
        ("https://a.{s}.example.id/{z}/{x}/{y}.png", ["https:"]),
        ("/tiles/{z}/{x}/{y}.png", []),
        ("", []),
    ],
)
def test_the_tile_host_becomes_an_image_source(url, sources):
    assert tile_sources(url) == sources


def test_without_tiles_images_come_only_from_the_portal(client, need):
    # The test settings set KSBB_TILE_URL empty: the map draws boundaries only.
    policy = assert_strict_policy(_csp(client.get("/peta/")))
    assert policy["img-src"] == ["'self'", "data:"]
