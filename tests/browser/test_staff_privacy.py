"""An area officer opens a delivered pledge in the admin: sees the donor's details (recorded), the
evidence photo through the checking view, and "view on site" takes them to the public need page, not
to the donor's private link. Another area's pledge is a 404. The provincial staff then read who
looked at whom."""

import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from donations import services
from locations.models import StaffArea
from locations.registry import load_regions
from locations.scoping import AREA_OFFICER_GROUP, PROVINCIAL_GROUP
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


def _staff(username: str, group: str, area: str | None = None):
    user = factories.UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    if area:
        StaffArea.objects.create(user=user, region=factories.kelurahan(area))
    return user


def _delivered(kelurahan_code: str, title: str, donor_email: str, bureau):
    site = factories.SiteFactory(kelurahan=factories.kelurahan(kelurahan_code))
    need = factories.NeedFactory(site=site, title=title)
    donor = factories.CollaboratorFactory(public_name="Koperasi Sejahtera", email=donor_email)
    staff = services.Actor.staff(bureau)
    pledge = services.pledge(need=need, collaborator=donor, quantity=40)
    factories.ContactFactory(site=site)
    from locations.services import verify_contact

    verify_contact(site.contacts.get(), "verified", by=bureau)
    services.transition(pledge, "confirmed", actor=staff)
    services.transition(pledge, "scheduled", actor=staff, scheduled_for=datetime.date(2020, 10, 30))
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "orange").save(buffer, "PNG")
    services.record_delivery(
        pledge,
        quantity=25,
        delivered_on=datetime.date(2020, 10, 30),
        opd=factories.OpdFactory(),
        evidence=SimpleUploadedFile("serah-terima.png", buffer.getvalue()),
        actor=staff,
    )
    return pledge


@pytest.fixture
def pledges(transactional_db, settings, tmp_path):
    """Gambir's officer, the bureau, and a delivered pledge in Gambir and one in Jakarta Utara."""
    settings.MEDIA_ROOT = tmp_path
    load_regions()
    factories.seed_categories()
    factories.seed_staff_groups()
    bureau = factories.UserFactory(username="pusat", is_staff=True, is_superuser=True)
    _staff("petugas.gambir", AREA_OFFICER_GROUP, "31.71.01.1001")
    _staff("biro.provinsi", PROVINCIAL_GROUP)
    inside = _delivered("31.71.01.1001", "Paket sembako RW 05 Gambir", "csr@koperasi.test", bureau)
    outside = _delivered("31.72.01.1001", "Paket sembako Penjaringan", "csr@utara.test", bureau)
    return inside, outside


def _log_in(page, live_server, username):
    page.goto(live_server.url + "/admin/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator('input[type="submit"]').click()
    expect(page.locator("#user-tools")).to_contain_text(username)


def test_an_officer_sees_a_donor_only_as_their_role_allows_and_it_is_recorded(
    pledges, live_server, page, screenshot
):
    inside, outside = pledges
    _log_in(page, live_server, "petugas.gambir")

    page.goto(live_server.url + f"/admin/donations/pledge/{inside.pk}/change/")
    expect(page.locator("#content-main")).to_contain_text("csr@koperasi.test")
    photo = page.locator('a[href$="/evidence/"]')
    with page.expect_response(lambda r: r.url.endswith("/evidence/")) as shown:
        page.goto(live_server.url + photo.get_attribute("href"))
    assert shown.value.status == 200 and shown.value.headers["content-type"] == "image/png"

    page.goto(live_server.url + f"/admin/donations/pledge/{inside.pk}/change/")
    screenshot("staff-pledge-donor-details-id")
    page.locator("a.viewsitelink").click()
    expect(page).to_have_url(live_server.url + f"/kebutuhan/{inside.need_id}/")
    assert inside.token not in page.url

    response = page.goto(live_server.url + f"/admin/donations/pledge/{outside.pk}/change/")
    assert response.status == 404

    page.context.clear_cookies()
    _log_in(page, live_server, "biro.provinsi")
    page.goto(live_server.url + "/admin/locations/personaldataview/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)  # the pledge's page, opened twice
    expect(rows.first).to_contain_text("petugas.gambir")
    screenshot("staff-personal-data-views-id")
    rows.first.locator(
        f'a[href$="/donations/collaborator/{inside.collaborator_id}/change/"]'
    ).click()
    expect(page.locator("#id_email")).to_have_value("csr@koperasi.test")
