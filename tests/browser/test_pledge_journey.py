"""From the map to a need, pledge, see the confirmation, open the private link, cancel; the need frees up."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pledge_then_cancel_from_the_private_link(need, live_server, page, screenshot):
    page.goto(live_server.url + "/peta/")
    page.get_by_role("link", name="Paket sembako RW 05 Gambir").click()
    expect(page.get_by_text("100 paket masih dibutuhkan.")).to_be_visible()
    page.get_by_role("link", name="Dukung kebutuhan ini").click()

    expect(page.get_by_label("Jumlah")).to_have_value("100")
    page.get_by_label("Jumlah").fill("40")
    page.get_by_label("Nama Anda atau nama organisasi Anda").fill("Koperasi Sejahtera")
    page.get_by_label("Anda adalah").select_option("community")
    page.get_by_label("E-mail").fill("koperasi@sejahtera.test")
    screenshot("pledge-form-id")
    page.get_by_role("button", name="Berkomitmen").click()

    expect(page).to_have_url(re.compile(r"/komitmen/[A-Za-z0-9_-]+/$"))
    expect(page.get_by_text("Terima kasih!")).to_be_visible()
    expect(page.get_by_test_id("pledge-status")).to_have_text("Diajukan")
    # Told once, in the browser that pledged, where the private link went; then never again, and
    # no cookie (session or "new") follows the donor to the public pages.
    expect(page.get_by_role("status").filter(has_text="koperasi@sejahtera.test")).to_be_visible()
    screenshot("pledge-confirmation-id")
    private_link = page.url
    page.reload()
    expect(page.get_by_test_id("pledge-status")).to_have_text("Diajukan")
    expect(page.get_by_text("koperasi@sejahtera.test")).to_have_count(0)
    assert {c["name"] for c in page.context.cookies()} <= {"csrftoken"}
    assert any(private_link.removeprefix(live_server.url) in m.body for m in mail.outbox)

    page.goto(live_server.url + f"/kebutuhan/{need.pk}/")
    expect(page.get_by_text("60 paket masih dibutuhkan.")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Koperasi Sejahtera")

    page.goto(private_link)
    page.get_by_role("button", name="Batalkan komitmen saya").click()
    expect(page.get_by_test_id("pledge-status")).to_have_text("Dibatalkan")

    page.goto(live_server.url + f"/kebutuhan/{need.pk}/")
    expect(page.get_by_text("100 paket masih dibutuhkan.")).to_be_visible()
