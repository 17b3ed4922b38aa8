"""A kelurahan officer works a pledge in the admin: confirms it, verifies the site's contact,
schedules it, records a delivery with a photo; the need's public page shows the progress."""

import pytest
from django.contrib.auth.models import Group
from PIL import Image
from playwright.sync_api import expect

from donations import services
from locations.models import Region, StaffArea
from locations.registry import load_regions
from locations.scoping import AREA_OFFICER_GROUP
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def pledge(transactional_db):
    """Gambir's officer, an RW 05 need of 100 packages, an unverified contact, and a pledge of 40."""
    load_regions()
    factories.seed_categories()
    # The flush after each transactional test takes the groups migration's rows with it.
    factories.seed_staff_groups()
    officer = factories.UserFactory(username="petugas.gambir", is_staff=True)
    officer.groups.add(Group.objects.get(name=AREA_OFFICER_GROUP))
    StaffArea.objects.create(user=officer, region=Region.objects.get(code="31.71.01.1001"))
    need = factories.NeedFactory(title="Paket sembako RW 05 Gambir", quantity_needed=100)
    factories.ContactFactory(site=need.site, name="Pak Rahmat")
    factories.OpdFactory(name="Kantor Kelurahan Gambir", kind="kelurahan")
    donor = factories.CollaboratorFactory(public_name="Koperasi Sejahtera")
    return services.pledge(need=need, collaborator=donor, quantity=40)


def _run_action(page, action):
    page.locator('select[name="action"]').select_option(action)
    page.locator('button[name="index"]').first.click()


def test_an_officer_takes_a_pledge_to_delivery(pledge, live_server, page, screenshot, tmp_path):
    photo = tmp_path / "serah-terima.png"
    Image.new("RGB", (32, 24), "orange").save(photo)

    page.goto(live_server.url + "/admin/")
    page.locator("#id_username").fill("petugas.gambir")
    page.locator("#id_password").fill(PASSWORD)
    page.locator('input[type="submit"]').click()
    expect(page.locator("#user-tools")).to_contain_text("petugas.gambir")

    page.goto(live_server.url + "/admin/donations/pledge/")
    page.locator(f'input[name="_selected_action"][value="{pledge.pk}"]').check()
    _run_action(page, "confirm_pledges")
    expect(page.locator(".messagelist")).to_contain_text(f"#{pledge.pk}")
    screenshot("staff-pledge-queue-id")

    page.goto(live_server.url + "/admin/locations/contactperson/")
    page.locator('input[name="_selected_action"]').first.check()
    _run_action(page, "mark_verified")
    page.locator("#id_note").fill("Dihubungi, benar Ketua RW 05")
    page.locator('input[name="apply"]').click()
    expect(page.locator("#result_list")).to_contain_text("Terverifikasi")

    page.goto(live_server.url + f"/admin/donations/pledge/{pledge.pk}/change/")
    page.locator('form:has(input[value="schedule_pledges"]) button').click()
    page.locator("#id_scheduled_for").fill("2020-10-30")
    page.locator('input[name="apply"]').click()
    expect(page.locator(".messagelist")).to_contain_text(f"#{pledge.pk}")

    page.locator('a[href$="/deliver/"]').click()
    page.locator("#id_quantity").fill("25")
    page.locator("#id_delivered_on").fill("2020-10-30")
    page.locator("#id_opd").select_option(label="Kantor Kelurahan Gambir")
    page.locator("#id_evidence").set_input_files(str(photo))
    screenshot("staff-record-delivery-id")
    page.locator('input[type="submit"]').click()
    expect(page.locator(".messagelist")).to_contain_text("25")

    page.goto(live_server.url + f"/kebutuhan/{pledge.need_id}/")
    expect(page.locator("#delivered-progress")).to_have_attribute("value", "25")
    expect(page.get_by_text("25% tersalurkan")).to_be_visible()


def test_an_officer_closes_a_need_and_decides_for_its_pledge(pledge, live_server, page):
    page.goto(live_server.url + "/admin/")
    page.locator("#id_username").fill("petugas.gambir")
    page.locator("#id_password").fill(PASSWORD)
    page.locator('input[type="submit"]').click()

    page.goto(live_server.url + "/admin/needs/need/")
    page.locator(f'input[name="_selected_action"][value="{pledge.need_id}"]').check()
    _run_action(page, "close_needs")
    # The pledge the decision is about is shown before anything happens.
    expect(page.locator("#content-main table")).to_contain_text(f"#{pledge.pk}")
    expect(page.locator("#content-main table")).to_contain_text("Koperasi Sejahtera")
    page.locator('input[name="pledges"][value="cancel_all"]').check()
    page.locator("#id_reason").fill("Sudah dibantu Dinas Sosial")
    page.locator('input[name="apply"]').click()
    expect(page.locator(".messagelist")).to_contain_text("1")

    page.goto(live_server.url + f"/kebutuhan/{pledge.need_id}/")
    expect(page.locator("body")).to_contain_text("Ditutup")
    page.goto(live_server.url + f"/admin/donations/pledge/{pledge.pk}/change/")
    expect(page.locator("#content-main")).to_contain_text("Sudah dibantu Dinas Sosial")
