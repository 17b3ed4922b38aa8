"""A donor pledges and cancels; the home page, the transparency page and totals.json then count
the same collaborators (the one who still pledges), as they all read transparency.figures."""

import json

import pytest
from playwright.sync_api import expect

from donations import services
from tests import factories
from tests.browser.donor import pledge_from_the_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_public_page_counts_the_same_collaborators(need, live_server, page, screenshot):
    services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=10)

    pledge_from_the_form(
        page,
        live_server.url + need.get_absolute_url(),
        quantity=5,
        name="Warung Bu Sri",
        kind="individual",
        email="sri@warung.test",
    )
    page.get_by_role("button", name="Batalkan komitmen saya").click()
    expect(page.get_by_test_id("pledge-status")).to_have_text("Dibatalkan")

    page.goto(live_server.url + "/")
    expect(page.get_by_test_id("collaborators-total")).to_have_text("1")
    screenshot("home-figures-id")
    page.goto(live_server.url + "/transparansi/")
    expect(page.get_by_test_id("collaborators-total")).to_have_text("1")
    response = page.request.get(live_server.url + "/transparansi/data/totals.json")
    rows = json.loads(response.body())["rows"]
    assert [r["value"] for r in rows if r["figure"] == "collaborators"] == [1]
