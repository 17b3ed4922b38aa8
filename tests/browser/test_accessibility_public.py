"""Every public page, the pledge form and its errors, the donor's own page (with its vetting form and
its errors) and the contact person's page pass axe-core at WCAG 2.1 AA with zero violations, at
desktop and phone width, in Indonesian and English (tests/browser/axe.py)."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from donations import donor_links, services
from locations.models import Region
from locations.services import verify_contact
from recipients import services as recipient_services
from tests import factories
from tests.browser.axe import assert_clean, check_everywhere
from tests.browser.test_alerts import alert_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(live_gambir, settings, tmp_path):
    """A portal with something on every page: needs in two kelurahan with their boundaries, a
    company's pledge awaiting vetting, a delivery, a contact person's link."""
    settings.MEDIA_ROOT = tmp_path
    factories.seed_staff_groups()
    staff = factories.UserFactory(username="biro.provinsi", is_staff=True)
    staff.groups.add(Group.objects.get(name="Provincial staff"))
    need = factories.NeedFactory(title="Paket sembako RW 05 Gambir", quantity_needed=100)
    cideng = factories.SiteFactory(
        name="RW 07",
        kelurahan=Region.objects.get(code="31.71.01.1002"),
        point=Point(106.806, -6.172),
    )
    factories.NeedFactory(site=cideng, title="Gawai murid Cideng", quantity_needed=30)
    category = need.aid_type.category
    category.vetting_threshold_quantity = 40
    category.save()
    contact = factories.ContactFactory(site=need.site, name="Pak Darto", phone="0812 1111 2222")
    verify_contact(contact, "verified", by=staff)
    actor = services.Actor.staff(staff)
    delivered = services.pledge(
        need=need,
        collaborator=factories.CollaboratorFactory(public_name="Warung Bu Tini"),
        quantity=10,
    )
    services.transition(delivered, "confirmed", actor=actor)
    services.transition(
        delivered, "scheduled", actor=actor, scheduled_for=datetime.date(2020, 10, 26)
    )
    services.record_delivery(
        delivered,
        quantity=10,
        delivered_on=datetime.date(2020, 10, 26),
        opd=factories.OpdFactory(name="Kantor Kelurahan Gambir", kind="kelurahan"),
        actor=actor,
    )
    company = services.pledge(
        need=need, collaborator=factories.CollaboratorFactory(public_name="PT Pangan"), quantity=60
    )
    _, token = recipient_services.send_link(contact, by=staff)
    return {
        "need": need,
        "pledge": company,
        "delivered": delivered,
        "contact_token": token,
    }


def _markers(page):
    expect(page.locator("#need-map")).to_have_attribute("data-markers", "2")


def _unmet(page):
    _markers(page)
    page.locator('input[name="map-view"][value="unmet"]').check()
    expect(page.locator("#need-map")).to_have_attribute("data-areas", "2")


def _choropleth(page):
    expect(page.locator("#choropleth-map")).to_have_attribute("data-shapes", re.compile(r"^\d+$"))


def _submit_empty(selector: str):
    def ready(page):
        page.locator(selector).click()
        expect(page.locator(".field-error, .form-errors").first).to_be_visible()

    return ready


PAGES = {
    "home": ("/", None),
    "map": ("/peta/", _markers),
    "map, unmet need": ("/peta/", _unmet),
    "map, least covered first": ("/peta/?sort=least_covered", _markers),
    "map, a bad filter": ("/peta/?kota=99&sort=closest", None),
    "coverage table": ("/peta/cakupan/", None),
    "need": ("{need}", None),
    "pledge form": ("{need}dukung/", None),
    "pledge form, errors": ("{need}dukung/", _submit_empty("form.pledge-form [type=submit]")),
    "donor's pledge page": ("{pledge}", None),
    "donor's vetting form, errors": ("{pledge}", _submit_empty("form.vetting-form [type=submit]")),
    "contact person's page": ("/narahubung/{contact}/", None),
    "donor's pledge page, delivered (receipt)": ("{delivered}", None),
    "a pledge's public record": ("/transparansi/komitmen/{delivered_number}/", None),
    "asking for one's own page": ("/donatur/", None),
    "asking for one's own page, errors": (
        "/donatur/",
        _submit_empty("form.donor-access-form [type=submit]"),
    ),
    "a donor's own page": ("/donatur/{donor_key}/", None),
    "a donor's own page, erasure errors": (
        "/donatur/{donor_key}/",
        _submit_empty("form.erasure-form [type=submit]"),
    ),
    "transparency": ("/transparansi/", _choropleth),
    "transparency, as of a day": ("/transparansi/?as_of=2020-10-31", None),
    "alerts: subscribe": ("/peringatan/", None),
    "alerts: subscribe, errors": ("/peringatan/", _submit_empty("form.alerts-form [type=submit]")),
    "alerts: check your mail": ("/peringatan/periksa-surel/", None),
    "alerts: confirm": ("/peringatan/{alert}/konfirmasi/", None),
    "alerts: manage": ("/peringatan/{alert}/", None),
    "alerts: unsubscribe": ("/peringatan/{alert}/berhenti/", None),
    "not found": ("/tidak-ada/", None),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_has_no_accessibility_violation(name, world, live_server, browser):
    path, ready = PAGES[name]
    path = path.format(
        alert=alert_token(),
        need=world["need"].get_absolute_url(),
        pledge=world["pledge"].private_url(),
        contact=world["contact_token"],
        delivered=world["delivered"].private_url(),
        delivered_number=world["delivered"].pk,
        donor_key=donor_links.make_key(world["delivered"].collaborator),
    )
    assert_clean(check_everywhere(browser, live_server.url, path, ready=ready))
