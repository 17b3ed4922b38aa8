"""A donor's private page shows until when their pledge holds its quantity, and extends it once;
after the expiry job runs past the deadline, the need page shows the quantity free again."""

import datetime
import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from donations import holds, services
from donations.models import Pledge
from tests.browser.donor import pledge_from_the_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shown(moment: datetime.datetime) -> str:
    with translation.override("id"):
        return holds.when(moment)


def test_the_deadline_is_shown_and_after_it_passes_the_need_is_free_again(
    need, live_server, page, screenshot
):
    pledge_from_the_form(
        page,
        live_server.url + need.get_absolute_url(),
        quantity=40,
        name="Koperasi Sejahtera",
        kind="community",
        email="koperasi@sejahtera.test",
    )
    expect(page).to_have_url(re.compile(r"/komitmen/[A-Za-z0-9_-]+/$"))
    private_link = page.url

    pledge = Pledge.objects.get(collaborator__email="koperasi@sejahtera.test")
    deadline = pledge.hold_until  # three days for Pangan
    expect(page.get_by_test_id("hold-until")).to_have_text(_shown(deadline))
    screenshot("pledge-hold-deadline-id")

    # Still on it: one button extends the hold once, by the same three days.
    page.locator(".extend-form button").click()
    extended = deadline + datetime.timedelta(days=3)
    expect(page.get_by_test_id("hold-until")).to_contain_text(_shown(extended))
    expect(page.locator(".extend-form")).to_have_count(0)

    page.goto(live_server.url + f"/kebutuhan/{need.pk}/")
    expect(page.get_by_text("60 paket masih dibutuhkan.")).to_be_visible()

    # The job on the first deadline leaves the extended hold alone; past the new one it expires it.
    assert services.run_holds(now=deadline + datetime.timedelta(minutes=1)).expired == 0
    assert services.run_holds(now=extended + datetime.timedelta(minutes=1)).expired == 1

    page.reload()
    expect(page.get_by_text("100 paket masih dibutuhkan.")).to_be_visible()
    screenshot("need-free-again-after-expiry-id")

    page.goto(private_link)
    expect(page.get_by_test_id("pledge-status")).to_have_text("Kedaluwarsa")
    expect(page.get_by_test_id("hold-until")).to_have_count(0)
