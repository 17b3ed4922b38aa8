"""Hostile text in a real browser: a need whose title, a site whose name and a collaborator whose
public name are script, HTML, SVG and attribute-breaking payloads. The map (with a marker's popup),
the need's page and the transparency page show them as text: no dialog opens, no injected element
exists in the DOM."""

import pytest
from playwright.sync_api import expect

from donations import services
from tests import factories
from tests.security.markup import ALL_IN_ONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the payloads would create if they were parsed as markup.
INJECTED = "img[src='x'], svg[onload], [onerror], [onmouseover], script:not([src]):not([type='application/json'])"


@pytest.fixture
def hostile(live_gambir):
    site = factories.SiteFactory(name=f"RW {ALL_IN_ONE}", address=ALL_IN_ONE)
    need = factories.NeedFactory(site=site, title=ALL_IN_ONE, description=ALL_IN_ONE)
    donor = factories.CollaboratorFactory(public_name=f"PT {ALL_IN_ONE}")
    services.pledge(need=need, collaborator=donor, quantity=10, message=ALL_IN_ONE)
    return need


@pytest.fixture
def dialogs(page):
    """Every alert, confirm or prompt the page opens (each one is dismissed and remembered)."""
    opened = []

    def seen(dialog):
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", seen)
    return opened


def assert_nothing_injected(page, dialogs):
    assert dialogs == []
    # Inline scripts the templates write carry a nonce; none may come from data.
    injected = page.locator(INJECTED)
    found = [injected.nth(i).evaluate("e => e.outerHTML") for i in range(injected.count())]
    assert [html for html in found if "nonce" not in html] == []


def test_the_map_popup_need_page_and_transparency_show_hostile_text_as_text(
    hostile, live_server, page, dialogs
):
    page.goto(live_server.url + "/peta/")
    expect(page.locator("#need-map")).to_have_attribute("data-markers", "1")
    expect(page.locator(".results")).to_contain_text(ALL_IN_ONE)
    page.locator(".need-pin").first.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(ALL_IN_ONE)
    expect(popup).to_contain_text(f"RW {ALL_IN_ONE}")
    assert_nothing_injected(page, dialogs)

    page.goto(live_server.url + f"/kebutuhan/{hostile.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(ALL_IN_ONE)
    expect(page.locator("main")).to_contain_text(f"PT {ALL_IN_ONE}")
    assert_nothing_injected(page, dialogs)

    page.goto(live_server.url + "/transparansi/")
    expect(page.locator("table.collaborators")).to_contain_text(f"PT {ALL_IN_ONE}")
    assert_nothing_injected(page, dialogs)
