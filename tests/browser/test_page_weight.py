"""What a phone downloads to show each public page the first time (an empty cache): the HTML, CSS,
JavaScript and fonts, gzipped as the server sends them, against the budgets in
docs/accessibility.md. Data the page fetches (the map's markers and boundaries, a need's popup) and
map tiles are not counted: they grow with the data, and `make bench` measures them."""

import gzip

import pytest
from playwright.sync_api import expect

from donations import donor_links
from tests.browser.test_accessibility_public import world  # noqa: F401 (the same portal)
from tests.browser.test_alerts import alert_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COUNTED = {"document", "stylesheet", "script", "font"}
KB = 1024
# Budgets in kB, gzipped, first load; why each is what it is: docs/accessibility.md.
BUDGETS = {
    "/": 10,
    "/peta/": 80,
    "/peta/cakupan/": 10,
    "{need}": 64,
    "{need}dukung/": 10,
    "{pledge}": 10,
    "/narahubung/{contact}/": 10,
    "/transparansi/komitmen/{delivered_number}/": 10,
    "/donatur/": 10,
    "/donatur/{donor_key}/": 10,
    "/transparansi/": 70,
    "/peringatan/": 10,
    "/peringatan/{alert}/": 10,
}


def weigh(page, url: str) -> dict[str, int]:
    """Bytes (gzipped) per resource type that loading `url` fetched, tiles and data left out."""
    responses = []

    def keep(response):
        responses.append(response)

    page.on("response", keep)
    page.goto(url, wait_until="networkidle")
    page.remove_listener("response", keep)
    sizes: dict[str, int] = {}
    for response in responses:  # read after the load: a body is not ready inside the event
        kind = response.request.resource_type
        if kind in COUNTED and response.ok:
            sizes[kind] = sizes.get(kind, 0) + len(gzip.compress(response.body(), 6))
    return sizes


@pytest.mark.parametrize("path", list(BUDGETS))
def test_the_page_stays_within_its_weight_budget(path, world, live_server, phone):  # noqa: F811
    url = live_server.url + path.format(
        alert=alert_token(),
        need=world["need"].get_absolute_url(),
        pledge=world["pledge"].private_url(),
        contact=world["contact_token"],
        delivered_number=world["delivered"].pk,
        donor_key=donor_links.make_key(world["delivered"].collaborator),
    )
    sizes = weigh(phone, url)
    expect(phone.locator("main")).to_be_visible()
    total = sum(sizes.values())
    print(f"page weight {path}: {total / KB:.1f} kB gzipped {sizes}")
    assert sizes.get("document"), "the page itself was not counted"
    assert total <= BUDGETS[path] * KB, (
        f"{path} weighs {total / KB:.1f} kB gzipped (budget {BUDGETS[path]} kB): {sizes}"
    )
