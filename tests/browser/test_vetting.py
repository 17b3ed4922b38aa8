"""An organisation's large pledge waits for its vetting: staff cannot schedule it and see why; the
organisation, on its phone, sends its NIB and statement letter from its private pledge page; staff
read the letter and vet it; the pledge is scheduled, and the need's public page marks the
organisation as verified."""

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect
from pypdf import PdfWriter

from donations import services
from locations.registry import load_regions
from locations.services import verify_contact
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def confirmed(transactional_db, settings, tmp_path):
    """Pangan holds an organisation's pledge above 40 packages for its vetting; a company pledged
    60 and staff confirmed it; the site's contact is verified."""
    settings.MEDIA_ROOT = tmp_path
    load_regions()
    factories.seed_categories()
    factories.seed_staff_groups()
    staff = factories.UserFactory(username="biro.provinsi", is_staff=True)
    staff.groups.add(Group.objects.get(name="Provincial staff"))
    need = factories.NeedFactory(title="Paket sembako RW 05 Gambir", quantity_needed=100)
    category = need.aid_type.category
    category.vetting_threshold_quantity = 40
    category.save()
    verify_contact(factories.ContactFactory(site=need.site), "verified", by=staff)
    donor = factories.CollaboratorFactory(public_name="PT Pangan Nusantara")
    pledge = services.pledge(need=need, collaborator=donor, quantity=60)
    return services.transition(pledge, "confirmed", actor=services.Actor.staff(staff))


def _letter(folder):
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    path = folder / "surat-pernyataan.pdf"
    with path.open("wb") as f:
        writer.write(f)
    return path


def _run_action(page, action):
    page.locator('select[name="action"]').select_option(action)
    page.locator('button[name="index"]').first.click()


def _schedule(page, url: str, pk: int):
    page.goto(url + f"/admin/donations/pledge/{pk}/change/")
    page.locator('form:has(input[value="schedule_pledges"]) button').click()
    page.locator("#id_scheduled_for").fill("2020-10-30")
    page.locator('input[name="apply"]').click()


def test_an_organisation_is_vetted_before_its_large_pledge_is_scheduled(
    confirmed, live_server, browser, page, screenshot, tmp_path
):
    url = live_server.url
    page.goto(url + "/admin/")
    page.locator("#id_username").fill("biro.provinsi")
    page.locator("#id_password").fill(PASSWORD)
    page.locator('input[type="submit"]').click()

    # The queue says why the pledge waits, and scheduling it is refused with the reason.
    page.goto(url + "/admin/donations/pledge/?vetting=awaits")
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("menunggu verifikasi organisasi (Belum diajukan)")
    _schedule(page, url, confirmed.pk)
    expect(page.locator(".messagelist")).to_contain_text("bukan organisasi terverifikasi")

    # The organisation, on its phone: its private page says what to send, and takes it.
    donor = browser.new_page(viewport={"width": 390, "height": 844}, locale="id-ID")
    donor.goto(url + confirmed.private_url())
    expect(donor.get_by_test_id("awaits-vetting")).to_be_visible()
    donor.get_by_label("Identitas hukum").fill("912000123456")  # one digit short
    donor.get_by_label("Surat pernyataan").set_input_files(str(_letter(tmp_path)))
    donor.get_by_role("button", name="Kirim untuk diverifikasi").click()
    expect(donor.locator(".field-error")).to_contain_text("13 angka")
    donor.get_by_label("Identitas hukum").fill("9120 0012 3456 7")
    donor.get_by_label("Surat pernyataan").set_input_files(str(_letter(tmp_path)))
    donor.get_by_role("button", name="Kirim untuk diverifikasi").click()
    expect(donor.get_by_test_id("vetting")).to_contain_text("Petugas sedang memverifikasi")
    donor.close()

    # Staff read the letter and vet the organisation.
    page.goto(url + "/admin/donations/collaborator/?vetting=pending")
    page.locator("#result_list tbody tr a").first.click()
    letter = page.get_by_role("link", name="Buka surat")
    letter_response = page.request.get(url + letter.get_attribute("href"))
    assert letter_response.status == 200
    assert letter_response.headers["content-type"] == "application/pdf"
    assert letter_response.body().startswith(b"%PDF-")
    page.goto(url + "/admin/donations/collaborator/?vetting=pending")
    page.locator('input[name="_selected_action"]').first.check()
    _run_action(page, "vet_organisations")
    expect(page.locator(".messagelist")).to_contain_text("Organisasi terverifikasi")
    screenshot("staff-vetting-id")

    # Now it is scheduled, and the public sees the mark.
    _schedule(page, url, confirmed.pk)
    expect(page.locator(".messagelist")).not_to_contain_text("bukan organisasi terverifikasi")
    confirmed.refresh_from_db()
    assert confirmed.status == "scheduled"
    page.goto(url + f"/kebutuhan/{confirmed.need_id}/")
    expect(page.get_by_test_id("verified-mark").first).to_contain_text("Organisasi terverifikasi")
