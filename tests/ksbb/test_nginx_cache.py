"""deploy/nginx/'s configuration, run: nginx (Debian's, on a free port) in front of the portal, as
docs/deploy.md sets it up and `make loadtest` serves it. What it may keep, and for whom."""

import urllib.error
import urllib.request

import pytest

from bench.nginx import Nginx, portal_http
from donations import services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def nginx(live_server, settings, tmp_path):
    settings.KSBB_PUBLIC_PAGE_SECONDS = 60  # the pages say `s-maxage=60`: nginx may keep them
    port = int(live_server.url.rsplit(":", 1)[1])
    with Nginx(tmp_path / "nginx", portal_http([port])) as proxy:
        yield proxy


def get(nginx, path: str, **headers: str):
    """(status, X-Cache or None, Cache-Control, body) of a GET through nginx."""
    request = urllib.request.Request(nginx.url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = response
            body = response.read()
    except urllib.error.HTTPError as error:
        answer, body = error, error.read()
    return answer.status, answer.headers.get("X-Cache"), answer.headers["Cache-Control"], body


def test_the_shared_pages_are_kept_per_address_and_language(jakarta, need, nginx):
    for path in ("/", "/peta/", "/peta/?category=pangan"):
        first, again = get(nginx, path), get(nginx, path)
        assert (first[0], first[1]) == (200, "MISS") and (again[0], again[1]) == (200, "HIT")
        assert again[3] == first[3]
    # Another language is another copy; any other cookie (CSRF, the read-your-writes mark) is not.
    english = get(nginx, "/", Cookie="django_language=en")
    assert english[1] == "MISS" and b'lang="en"' in english[3]
    assert get(nginx, "/", Cookie="django_language=en; csrftoken=abc; ksbb_wrote=1")[1] == "HIT"
    assert get(nginx, "/", **{"Accept-Language": "en"})[1] == "MISS"
    assert b'lang="id"' in get(nginx, "/", Cookie="csrftoken=abc")[3]


def test_a_session_or_a_waiting_message_goes_to_the_portal_and_is_not_kept(jakarta, need, nginx):
    get(nginx, "/")
    assert get(nginx, "/", Cookie="sessionid=abc")[1] == "BYPASS"
    assert get(nginx, "/", Cookie="messages=abc")[1] == "BYPASS"
    assert get(nginx, "/", Authorization="Token abc")[1] == "BYPASS"
    assert get(nginx, "/peta/?kota=1", Cookie="sessionid=abc")[1] == "BYPASS"
    assert get(nginx, "/peta/?kota=1")[1] == "MISS"  # what the bypass got was not kept


def test_the_map_layer_is_kept_and_the_popup_never(jakarta, need, nginx):
    layer = "/api/v1/needs/layer/"
    assert get(nginx, layer, Accept="application/json")[1] == "MISS"
    assert get(nginx, layer, Accept="application/json")[1] == "HIT"
    popup = f"/api/v1/needs/{need.pk}/"
    for _ in range(2):
        status, cached, control, _body = get(nginx, popup, Accept="application/json")
        assert (status, cached) == (200, "MISS") and "no-cache" in control


def test_a_donors_pages_and_the_pledge_form_are_never_kept(jakarta, need, donor, nginx):
    pledge = services.pledge(need=need, collaborator=donor, quantity=5)
    for path in (
        f"/kebutuhan/{need.pk}/dukung/",
        f"/komitmen/{pledge.token}/",
        f"/api/v1/pledges/{pledge.token}/",
        f"/kebutuhan/{need.pk}/",
    ):
        for _ in range(2):
            status, cached, control, _body = get(nginx, path, Accept="application/json")
            assert status == 200 and cached in (None, "MISS"), path
    # A need's page is revalidated by the portal each time (its remaining quantity is never stale).
    assert "no-cache" in get(nginx, f"/kebutuhan/{need.pk}/")[2]
