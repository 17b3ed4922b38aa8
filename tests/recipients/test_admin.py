"""Staff send, resend and revoke contact persons' links from the admin, within their area; they see
each link's state and the messages, never the link itself."""

import pytest
from django.test import Client

from recipients import services
from recipients.models import ContactLink, OutboundMessage
from tests import factories
from tests.recipients.conftest import verified_contact

pytestmark = pytest.mark.django_db
CONTACTS = "/admin/locations/contactperson/"


def _officer_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_officer_sends_a_link_to_a_contact_in_their_area(
    contact, kelurahan_officer, django_capture_on_commit_callbacks
):
    client = _officer_client(kelurahan_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CONTACTS, {"action": "send_link", "_selected_action": [contact.pk]}, follow=True
        )
    assert response.status_code == 200
    link = ContactLink.objects.get(contact=contact)
    assert link.created_by == kelurahan_officer
    assert OutboundMessage.objects.get().sent_at is not None
    # The list says where it stands; the change page too. The token is nowhere.
    page = client.get(CONTACTS).content.decode()
    assert "Terkirim" in page or "Sent" in page
    message_page = client.get(
        f"/admin/recipients/outboundmessage/{OutboundMessage.objects.get().pk}/change/"
    )
    assert message_page.status_code == 200
    assert link.selector not in message_page.content.decode()


def test_an_officer_cannot_reach_another_areas_contact(contact, other_area_officer):
    client = _officer_client(other_area_officer)
    client.post(CONTACTS, {"action": "send_link", "_selected_action": [contact.pk]})
    assert not ContactLink.objects.exists()


def test_an_unverified_contact_is_refused_with_a_message(site, staff_client):
    unverified = factories.ContactFactory(site=site, name="Bu Wati")
    response = staff_client.post(
        CONTACTS, {"action": "send_link", "_selected_action": [unverified.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "Bu Wati" in response.content.decode()
    assert not ContactLink.objects.exists()


def test_revoking_ends_the_link(client, link, url, contact, staff_client, province_staff):
    staff_client.post(CONTACTS, {"action": "revoke_link", "_selected_action": [contact.pk]})
    link, _ = link
    link.refresh_from_db()
    assert link.revoked_at and link.revoked_by == province_staff
    assert Client().get(url).status_code == 410


def test_the_links_list_shows_each_state(link, site, staff_client, province_staff):
    other = verified_contact(site, province_staff, name="Bu Ani")

    services.send_link(other, by=province_staff)
    services.revoke_link(other, by=province_staff)
    page = staff_client.get("/admin/recipients/contactlink/").content.decode()
    assert page.count("<tr") >= 3


def test_a_sites_page_gathers_what_its_recipients_say(
    link, site, need, staff_client, kelurahan_officer, other_area_officer
):
    import datetime

    from django.utils import timezone

    from needs import services as need_services
    from needs.models import Need

    Need.objects.filter(pk=need.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
    need_services.propose_change(need, contact=link[0].contact, kind="quantity", quantity=120)
    page = staff_client.get(f"/admin/locations/site/{site.pk}/change/").content.decode()
    assert "needs awaiting reconfirmation</a>: 1" in page or "konfirmasi ulang</a>: 1" in page
    assert f"site__id__exact={site.pk}" in page
    assert "Pak Darto" in page and ("Sent" in page or "Terkirim" in page)
    need_page = staff_client.get(f"/admin/needs/need/{need.pk}/change/").content.decode()
    assert f"need__id__exact={need.pk}" in need_page
    # The proposals list those links open, filtered to the site and the need.
    for query in (f"site__id__exact={site.pk}", f"need__id__exact={need.pk}"):
        listed = staff_client.get(f"/admin/needs/proposal/?status__exact=pending&{query}")
        assert listed.status_code == 200 and "120" in listed.content.decode()
    outsider = _officer_client(other_area_officer)
    assert outsider.get(f"/admin/locations/site/{site.pk}/change/").status_code == 404


def test_the_link_lists_cost_the_same_for_one_link_or_many(
    link, site, staff_client, province_staff
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(url).status_code == 200
        return len(captured)

    from needs import services as need_services
    from needs.models import AidType

    lists = [
        "/admin/recipients/contactlink/",
        "/admin/locations/contactperson/",
        "/admin/needs/proposal/",
        "/admin/needs/needseries/",
    ]

    def more(n):
        contact = verified_contact(site, province_staff, name=f"Narahubung {n}")
        services.send_link(contact, by=province_staff)
        need = factories.NeedFactory(site=factories.SiteFactory(name=f"RW 1{n}"))
        need_services.propose_change(need, contact=contact, kind="no_longer_needed")
        need_services.start_series(
            by=province_staff,
            site=need.site,
            aid_type=AidType.objects.first(),
            title=f"Bulanan {n}",
            quantity_needed=5,
        )

    more(0)
    before = [queries(url) for url in lists]
    for n in (1, 2, 3):
        more(n)
    assert [queries(url) for url in lists] == before
