"""A donor on a phone shares a need: the page's card tags point at a preview image that loads, the
WhatsApp link carries the need's public address, and "Copy the link" copies it."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_donor_shares_a_need_from_a_phone(need, live_server, browser, settings):
    settings.KSBB_BASE_URL = live_server.url
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="id-ID", base_url=live_server.url
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto(f"/kebutuhan/{need.pk}/")
    image = page.locator('meta[property="og:image"]').get_attribute("content")
    assert image == f"{live_server.url}/kebutuhan/{need.pk}/kartu-id.png"
    assert page.locator('meta[name="twitter:card"]').get_attribute("content") == (
        "summary_large_image"
    )
    card = page.request.get(image)
    assert card.status == 200 and card.headers["content-type"] == "image/png"

    whatsapp = page.get_by_test_id("share-whatsapp")
    expect(whatsapp).to_have_text("Bagikan lewat WhatsApp")
    assert whatsapp.get_attribute("href").startswith("https://wa.me/?text=")
    assert f"kebutuhan%2F{need.pk}%2F" in whatsapp.get_attribute("href")

    page.get_by_role("button", name="Salin tautan").click()
    expect(page.locator("#share-status")).to_have_text("Tautan disalin.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{live_server.url}/kebutuhan/{need.pk}/"
    context.close()
