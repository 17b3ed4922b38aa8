"""The Content-Security-Policy in a real browser: the maps, a need, the transparency page, the admin
(its login and its map widget) and the API docs draw everything with no policy violation."""

import io
import json

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from donations import services
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's

# Registered before any of the page's own scripts run, on every document the page opens.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                              " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def portal(live_gambir, tmp_path):
    """Gambir with its kelurahan and kecamatan boundaries, a need there with a pledge, and staff."""
    kecamatan = tmp_path / "kecamatan.geojson"
    square = [[106.80, -6.19], [106.84, -6.19], [106.84, -6.16], [106.80, -6.16], [106.80, -6.19]]
    kecamatan.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"kode": "31.71.01"},
                        "geometry": {"type": "Polygon", "coordinates": [square]},
                    }
                ],
            }
        )
    )
    call_command("import_regions", str(kecamatan), stdout=io.StringIO())
    need = factories.NeedFactory(title="Paket sembako RW 02 Gambir", quantity_needed=50)
    services.pledge(
        need=need, collaborator=factories.CollaboratorFactory(public_name="PT Aman"), quantity=10
    )
    factories.UserFactory(username="provinsi", is_staff=True, is_superuser=True)
    return need


@pytest.fixture
def watched(page):
    """The page, recording every CSP violation event and every console message about the policy."""
    page.add_init_script(LISTEN)
    console = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.csp_console = console
    return page


def assert_no_violation(page, expected=()):
    """No violation, and no console message about the policy, beyond the `expected` blocked URLs."""
    violations = [
        v for v in page.evaluate("window.__cspViolations") if not any(u in v for u in expected)
    ]
    policy_messages = [
        m
        for m in page.csp_console
        if "Content Security Policy" in m and not any(u in m for u in expected)
    ]
    errors = [m for m in page.csp_console if m.startswith("pageerror")]
    assert violations == [] and policy_messages == [] and errors == [], (
        violations,
        page.csp_console,
    )


def test_public_maps_draw_without_a_policy_violation(portal, live_server, watched, screenshot):
    page = watched
    page.goto(live_server.url + "/peta/")
    # Locator assertions, not wait_for_function: Playwright runs that through eval(), which this
    # policy forbids.
    expect(page.locator("#need-map")).to_have_attribute("data-markers", "1")
    expect(page.locator("#need-map .need-pin")).to_have_count(1)
    expect(page.locator("#need-map .leaflet-overlay-pane path").first).to_be_attached()
    assert_no_violation(page)
    screenshot("csp-map")

    page.goto(live_server.url + portal.get_absolute_url())
    expect(page.locator("#need-detail-map .leaflet-overlay-pane path")).to_have_count(1)
    assert_no_violation(page)

    page.goto(live_server.url + "/transparansi/")
    expect(page.locator("#choropleth-map")).to_have_attribute("data-shapes", "1")
    expect(page.locator("#choropleth-map .leaflet-overlay-pane path")).to_have_count(1)
    assert_no_violation(page)
    screenshot("csp-transparency")


def test_the_admin_and_its_map_widget_without_a_policy_violation(
    portal, live_server, watched, screenshot
):
    page = watched
    page.goto(live_server.url + "/admin/login/")
    assert_no_violation(page)
    page.locator("#id_username").fill("provinsi")
    page.locator("#id_password").fill(PASSWORD)
    page.locator('input[type="submit"]').click()
    expect(page.locator("#user-tools")).to_contain_text("provinsi")

    page.goto(live_server.url + f"/admin/locations/site/{portal.site_id}/change/")
    map_widget = page.locator("#id_point-map")
    expect(map_widget.locator(".leaflet-draw-toolbar").first).to_be_visible()
    expect(map_widget.locator(".leaflet-marker-icon")).to_have_count(1)  # the site's point
    assert_no_violation(page)
    screenshot("csp-admin-site-map")


def test_the_api_docs_render_without_a_policy_violation(live_server, watched, screenshot):
    page = watched
    page.goto(live_server.url + "/api/v1/docs/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("KSBB portal API")
    expect(page.get_by_text("/api/v1/needs/").first).to_be_attached()
    # ReDoc's attribution logo is the one outside request on the page: the policy blocks it (and
    # ReDoc hides the broken image). Nothing else may be refused, no script above all.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    blocked = page.evaluate("window.__cspViolations")
    assert all(v.startswith("img-src blocked " + logo) for v in blocked), blocked
    assert_no_violation(page, expected=[logo])
    screenshot("csp-api-docs")
