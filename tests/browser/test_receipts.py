"""A donor downloads a receipt after a delivery, and the receipt's verification link (and its QR
code) opens the pledge's public record; later, back on the portal, they ask for the link to all
their pledges, download their yearly summary and their data, and have their data erased."""

import json
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from donations import services
from donations.models import Collaborator, OutboundMail, Pledge
from ledger import services as ledger_services
from tests import factories, pdfs
from tests.browser.donor import pledge_from_the_form
from tests.helpers import schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _download(page, link) -> bytes:
    with page.expect_download() as info:
        link.click()
    return Path(info.value.path()).read_bytes()


def _deliver(pledge: Pledge, staff, quantity: int) -> None:
    schedule(pledge, staff, on=timezone.localdate())
    services.record_delivery(
        pledge,
        quantity=quantity,
        delivered_on=timezone.localdate(),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(staff),
    )


def test_a_donor_downloads_a_receipt_and_checks_it(need, live_server, browser, settings):
    settings.KSBB_BASE_URL = live_server.url
    staff = factories.UserFactory(username="provinsi", is_staff=True, is_superuser=True)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="id-ID", base_url=live_server.url
    )
    page = context.new_page()
    pledge_from_the_form(
        page,
        f"/kebutuhan/{need.pk}/",
        quantity=12,
        name="Masjid Al-Ikhlas Gambir",
        kind="community",
        email="takmir@alikhlas.test",
    )
    private_page = page.url
    pledge = Pledge.objects.get(collaborator__email="takmir@alikhlas.test")
    _deliver(pledge, staff, 12)
    ledger_services.seal()

    page.goto(private_page)
    receipt = _download(page, page.get_by_role("link", name="Kuitansi (PDF, bahasa Indonesia)"))
    text = pdfs.text(receipt)
    assert "Tanda terima bantuan yang disalurkan" in text
    assert "Masjid Al-Ikhlas Gambir" in text and "12 paket" in text
    record = f"{live_server.url}/transparansi/komitmen/{pledge.pk}/"
    assert record in text
    assert pdfs.qr_codes(receipt) == [record]
    english = _download(page, page.get_by_role("link", name="Kuitansi (PDF, bahasa Inggris)"))
    assert "Receipt of aid delivered" in pdfs.text(english)

    # The verification link opens the public record, which anyone can read.
    visitor = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    public = visitor.new_page()
    public.goto(record)
    expect(public.get_by_role("heading", level=1)).to_have_text(f"Komitmen no. {pledge.pk}")
    expect(public.get_by_test_id("record-collaborator")).to_contain_text("Masjid Al-Ikhlas Gambir")
    expect(public.get_by_test_id("record-delivered")).to_have_text("12 paket")
    expect(public.get_by_test_id("record-ledger").locator("tbody tr")).not_to_have_count(0)
    assert "takmir@alikhlas.test" not in public.content()
    visitor.close()
    context.close()


def test_a_returning_donor_finds_all_their_pledges_and_leaves(need, live_server, browser, settings):
    settings.KSBB_BASE_URL = live_server.url
    staff = factories.UserFactory(username="provinsi", is_staff=True, is_superuser=True)
    donor = factories.CollaboratorFactory(public_name="PT Maju Bersama", email="csr@maju.test")
    pledge = services.pledge(need=need, collaborator=donor, quantity=30)
    _deliver(pledge, staff, 30)

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="id-ID", base_url=live_server.url
    )
    page = context.new_page()
    page.goto("/")
    page.get_by_role("link", name="Pernah berkomitmen? Komitmen dan kuitansi Anda").click()
    page.get_by_label("Alamat e-mail yang Anda pakai saat berkomitmen").fill("CSR@maju.test")
    page.get_by_role("button", name="Kirimkan tautannya").click()
    expect(page.get_by_test_id("donor-link-sent")).to_be_visible()

    mail = OutboundMail.objects.filter(to="csr@maju.test").latest("pk")
    assert mail.subject == "Komitmen Anda di portal KSBB"
    link = re.search(r"https?://\S+/donatur/\S+/", mail.body).group(0)
    page.goto(link)
    expect(page.get_by_test_id("donor-pledge")).to_have_count(1)
    year = str(timezone.localdate().year)
    expect(page.get_by_test_id("donor-year")).to_contain_text(year)
    summary = _download(
        page, page.get_by_test_id("donor-year").get_by_role("link", name="PDF, bahasa Indonesia")
    )
    assert f"Bantuan yang disalurkan pada {year}" in pdfs.text(summary)
    data = json.loads(_download(page, page.get_by_role("link", name="Unduh data saya (JSON)")))
    assert data["collaborator"]["email"] == "csr@maju.test"

    # Erasing needs the box ticked; then it is done at once, nothing of theirs running.
    page.get_by_role("button", name="Hapus data saya").click()
    expect(page.locator(".field-error")).to_be_visible()
    page.get_by_label(re.compile("Saya mengerti")).check()
    page.get_by_role("button", name="Hapus data saya").click()
    expect(page.get_by_test_id("donor-erased")).to_be_visible()
    donor = Collaborator.objects.get(pk=donor.pk)
    assert donor.public_name == "Anonim" and donor.email.endswith("@erased.invalid")
    page.goto(link)
    expect(page.get_by_test_id("link-expired")).to_be_visible()
    context.close()
