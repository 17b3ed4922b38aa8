"""Alerts for an area, in a browser on a phone: a visitor subscribes, opens the confirmation link
from the mail and confirms, staff publish a need there through the admin, the alert arrives with a
link to the need, and the visitor unsubscribes in one click from the mail's link."""

import datetime
import re
import time

import pytest
from django.core import mail as sent_mail
from playwright.sync_api import expect

from alerts import services
from alerts.models import Subscription
from locations.models import Region
from needs import services as need_services
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
GAMBIR = "31.71.01.1001"


def alert_token() -> str:
    """A confirmed subscription's token, for the pages that need one (accessibility, weight)."""
    found = Subscription.objects.filter(email="warga.peringatan@example.test").first()
    if found is None:
        found = services.confirm(
            services.subscribe(
                email="warga.peringatan@example.test",
                language="id",
                frequency="immediate",
                regions=[Region.objects.get(code=GAMBIR)],
                categories=[],
            )
        )
    return found.token


def _mail_to(address: str, count: int) -> list:
    """The mails sent to `address` once there are `count` of them (the worker's jobs run after
    the commit of the request that queued them)."""
    for _ in range(50):
        found = [m for m in sent_mail.outbox if m.to == [address]]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{count} mails to {address} expected, got {len(found)}")


def _link(message, path_end: str) -> str:
    return re.search(rf"(http\S+{re.escape(path_end)})", message.body)[1]


def test_a_visitor_subscribes_confirms_is_alerted_and_unsubscribes(
    live_gambir, live_server, phone, settings, screenshot
):
    settings.KSBB_BASE_URL = live_server.url
    address = "ibu.rina@example.test"
    phone.goto(f"{live_server.url}/")
    phone.get_by_role("link", name="Dapatkan peringatan e-mail untuk suatu wilayah").click()
    expect(phone.locator("h1")).to_have_text("Peringatan untuk suatu wilayah")
    phone.get_by_label("Alamat e-mail Anda").fill(address)
    phone.get_by_label("Wilayah").select_option(GAMBIR)
    expect(phone.get_by_label("Segera, untuk setiap kebutuhan baru")).to_be_checked()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("alerts-subscribe-id")
    phone.get_by_role("button", name="Berlangganan").click()
    expect(phone.locator("h1")).to_have_text("Periksa e-mail Anda")
    expect(phone.locator("main")).not_to_contain_text(address)

    (confirmation,) = _mail_to(address, 1)
    assert confirmation.subject == "Konfirmasi peringatan Anda dari portal KSBB"
    phone.goto(_link(confirmation, "/konfirmasi/"))
    assert Subscription.objects.get().confirmed_at is None  # opening the link is not enough
    phone.get_by_role("button", name="Mulai peringatan saya").click()
    expect(phone.locator(".messages")).to_contain_text("Peringatan Anda sudah aktif.")
    assert Subscription.objects.get().confirmed_at is not None

    # Staff publish a draft need in Gambir from the admin.
    draft = need_services.create(
        site=factories.SiteFactory(name="RW 03"),
        aid_type=factories.AidTypeFactory(),
        title="Susu untuk balita RW 03",
        quantity_needed=40,
        period_start=datetime.date(2020, 10, 1),
        published=False,
    )
    factories.UserFactory(username="biro", is_staff=True, is_superuser=True)
    staff = phone.context.new_page()
    staff.goto(live_server.url + "/admin/login/?next=/admin/needs/need/")
    staff.get_by_label("Nama pengguna").fill("biro")
    staff.get_by_label("Sandi").fill("correct horse battery staple")
    staff.get_by_role("button", name="Masuk").click()
    staff.locator(f'input[name="_selected_action"][value="{draft.pk}"]').check()
    staff.locator('select[name="action"]').select_option("publish_needs")
    staff.locator('button[name="index"]').click()
    expect(staff.locator(".messagelist")).to_be_visible()
    staff.close()

    confirmation, alert = _mail_to(address, 2)
    assert "Susu untuk balita RW 03" in alert.body
    unsubscribe = _link(alert, "/berhenti/")
    assert alert.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    phone.goto(_link(alert, f"/kebutuhan/{draft.pk}/"))
    expect(phone.locator("h1")).to_have_text("Susu untuk balita RW 03")

    phone.goto(unsubscribe)
    phone.get_by_role("button", name="Hentikan peringatan").click()
    expect(phone.locator("h1")).to_have_text("Peringatan dihentikan")
    screenshot("alerts-unsubscribed-id")
    assert not Subscription.objects.exists()
    time.sleep(0.3)
    assert len([m for m in sent_mail.outbox if m.to == [address]]) == 2  # once, and only once
