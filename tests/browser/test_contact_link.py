"""A contact person opens their private link on a phone, confirms a need is still needed in one tap,
and the need's public page shows who confirmed it and when."""

import pytest
from playwright.sync_api import expect

from locations import services as location_services
from locations.models import ContactPerson
from needs.models import Need
from recipients import services
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_contact_person_confirms_a_need_from_their_phone(need, live_server, phone, screenshot):
    bureau = factories.UserFactory(username="provinsi", is_staff=True, is_superuser=True)
    contact = factories.ContactFactory(site=need.site, name="Pak Darto", phone="0812 1111 2222")
    location_services.verify_contact(contact, ContactPerson.Verification.VERIFIED, by=bureau)
    Need.objects.filter(pk=need.pk).update(created_at=need.created_at.replace(year=2020))
    _, token = services.send_link(contact, by=bureau)

    phone.goto(f"{live_server.url}/narahubung/{token}/")
    expect(phone.locator("h1")).to_have_text(need.site.name)
    card = phone.get_by_test_id("recipient-need")
    expect(card).to_contain_text(need.title)
    expect(card).to_contain_text("tidak menerima komitmen baru")  # paused: not confirmed for years
    screenshot("contact-link-before-id")

    card.get_by_role("button", name="Masih dibutuhkan").click()
    expect(phone.get_by_test_id("confirmed-notice")).to_be_visible()
    expect(phone.get_by_test_id("last-confirmed")).to_contain_text("oleh Anda")
    expect(card).not_to_contain_text("tidak menerima komitmen baru")
    # Phone-first: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("contact-link-after-id")

    phone.goto(live_server.url + need.get_absolute_url())
    expect(phone.get_by_test_id("last-confirmed")).to_contain_text("narahubung")
    expect(phone.get_by_role("link", name="Dukung kebutuhan ini")).to_be_visible()

    # Another link, then the old one is a kind page.
    services.send_link(contact, by=bureau)
    phone.goto(f"{live_server.url}/narahubung/{token}/")
    expect(phone.get_by_test_id("link-state")).to_be_visible()
    expect(phone.locator("h1")).to_have_text("Tautan ini tidak dapat digunakan")


def test_a_contact_person_confirms_a_delivery_with_a_photo(
    need, live_server, phone, screenshot, tmp_path, settings
):
    from django.utils import timezone

    from donations import services as donation_services
    from tests.helpers import schedule
    from tests.ksbb.test_photos import phone_jpeg

    settings.MEDIA_ROOT = tmp_path
    bureau = factories.UserFactory(username="provinsi", is_staff=True, is_superuser=True)
    donor = factories.CollaboratorFactory(public_name="PT Maju Bersama", email="csr@maju.test")
    pledge = schedule(donation_services.pledge(need=need, collaborator=donor, quantity=40), bureau)
    donation_services.record_delivery(
        pledge,
        quantity=40,
        delivered_on=timezone.localdate(),
        opd=factories.OpdFactory(name="Satpol PP Gambir"),
        actor=donation_services.Actor.staff(bureau),
    )
    contact = need.site.contacts.get()  # verified by schedule()
    _, token = services.send_link(contact, by=bureau)
    photo = tmp_path / "serah-terima.jpg"
    photo.write_bytes(phone_jpeg(size=(400, 300)))

    phone.goto(f"{live_server.url}/narahubung/{token}/")
    delivery = phone.get_by_test_id("delivery")
    expect(delivery).to_contain_text("PT Maju Bersama")
    expect(delivery.get_by_test_id("receipt-state")).to_have_text("Menunggu konfirmasi penerima")
    delivery.get_by_label("Diterima (tulis jumlahnya di bawah)").check()
    delivery.get_by_label("Jumlah diterima").fill("40")
    delivery.get_by_label("Diterima oleh").fill("Bu Wati")
    delivery.get_by_label("Foto (opsional)").set_input_files(str(photo))
    delivery.get_by_label("Tampilkan foto di halaman publik kebutuhan").check()
    screenshot("contact-link-delivery-form-id")
    delivery.get_by_role("button", name="Kirim jawaban saya").click()

    expect(phone.get_by_test_id("answered-notice")).to_be_visible()
    expect(phone.get_by_test_id("receipt-state")).to_have_text("Dikonfirmasi oleh penerima")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.goto(live_server.url + need.get_absolute_url())
    row = phone.get_by_test_id("public-delivery")
    expect(row.get_by_test_id("receipt-state")).to_have_text("Dikonfirmasi oleh penerima")
    expect(row).not_to_contain_text("Bu Wati")
    photo_link = row.get_by_role("link", name="Foto dari penerima")
    expect(photo_link).to_be_visible()
    screenshot("need-page-confirmed-delivery-id")
    answer = phone.request.get(live_server.url + photo_link.get_attribute("href"))
    assert answer.status == 200 and answer.headers["content-type"] == "image/jpeg"


def test_a_contact_person_proposes_a_change_that_staff_approve(
    need, live_server, phone, browser, screenshot
):
    from django.contrib.auth.models import Group

    from locations.models import Region, StaffArea
    from locations.scoping import AREA_OFFICER_GROUP

    factories.seed_staff_groups()
    officer = factories.UserFactory(username="petugas.gambir", is_staff=True)
    officer.groups.add(Group.objects.get(name=AREA_OFFICER_GROUP))
    StaffArea.objects.create(user=officer, region=Region.objects.get(code="31.71.01.1001"))
    contact = factories.ContactFactory(site=need.site, name="Pak Darto")
    location_services.verify_contact(contact, ContactPerson.Verification.VERIFIED, by=officer)
    _, token = services.send_link(contact, by=officer)

    phone.goto(f"{live_server.url}/narahubung/{token}/")
    card = phone.get_by_test_id("recipient-need")
    card.get_by_text("Usulkan perubahan").click()
    card.get_by_label("Jumlah yang berbeda").check()
    card.get_by_label("Jumlah yang sekarang dibutuhkan").fill("150")
    card.get_by_label("Alasan (opsional)").fill("Ada 50 keluarga baru di RW ini")
    card.get_by_role("button", name="Kirim usulan").click()
    expect(phone.get_by_test_id("proposed-notice")).to_be_visible()
    expect(phone.get_by_test_id("proposal-status")).to_have_text("Menunggu")
    screenshot("contact-link-proposal-id")

    # Staff of the area approve it in the admin.
    staff = browser.new_page(locale="id-ID")
    staff.goto(live_server.url + "/admin/")
    staff.locator("#id_username").fill("petugas.gambir")
    staff.locator("#id_password").fill("correct horse battery staple")
    staff.locator('input[type="submit"]').click()
    staff.goto(live_server.url + "/admin/needs/proposal/")
    staff.locator('input[name="_selected_action"]').first.check()
    staff.locator('select[name="action"]').select_option("approve_proposals")
    staff.locator('button[name="index"]').first.click()
    staff.locator("#id_reason").fill("Dicek bersama Ketua RW")
    staff.get_by_role("button", name="Lanjutkan").or_(
        staff.locator('input[type="submit"]')
    ).first.click()
    expect(staff.locator(".messagelist")).to_contain_text("Disetujui")
    staff.close()

    phone.reload()
    expect(phone.get_by_test_id("proposal-status")).to_have_text("Disetujui")
    phone.goto(live_server.url + need.get_absolute_url())
    expect(phone.locator(".figures")).to_contain_text("150")
