"""A contact person's private link: sent by their channel, only to a verified contact, one at a
time; it opens their site's page and nothing else, and ends (expired, revoked, or the contact no
longer verified) with a kind page, never an error."""

import datetime

import pytest
from django.db import IntegrityError
from django.utils import timezone

from donations import services as donation_services
from locations import services as location_services
from locations.models import ContactPerson
from needs.models import Need
from recipients import services, tokens
from recipients.messaging import LocmemBackend
from recipients.models import ContactLink, OutboundMessage
from tests import factories
from tests.recipients.conftest import verified_contact

pytestmark = pytest.mark.django_db


def test_the_link_goes_out_by_whatsapp_to_the_e164_number(link, contact):
    link, token = link
    [message] = OutboundMessage.objects.all()
    assert message.channel == "whatsapp" and message.to == "+6281211112222"
    assert message.sent_at is not None and message.link == link
    [sent] = LocmemBackend.outbox
    assert sent["to"] == "+6281211112222" and sent["channel"] == "whatsapp"
    assert f"/narahubung/{token}/" in sent["body"]
    assert sent["reference"] == f"ksbb-message-{message.pk}"
    assert message.provider_ref == "locmem-1"


def test_only_the_digest_is_kept(link):
    link, token = link
    selector, secret = tokens.split(token)
    row = ContactLink.objects.values().get(pk=link.pk)
    assert row["selector"] == selector
    assert secret not in str(row) and token not in str(row)
    assert tokens.matches(secret, row["digest"])
    assert not tokens.matches(secret[:-1] + ("A" if secret[-1] != "A" else "B"), row["digest"])


def test_a_link_survives_a_key_rotation(link, settings):
    link, token = link
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    assert services.open_link(token).ok
    settings.SECRET_KEY_FALLBACKS = []
    assert services.open_link(token).state == "unknown"


def test_an_unverified_contact_gets_no_link(site, province_staff):
    contact = factories.ContactFactory(site=site)
    with pytest.raises(services.LinkError):
        services.send_link(contact, by=province_staff)
    assert not ContactLink.objects.exists() and not OutboundMessage.objects.exists()


def test_a_new_link_revokes_the_old_one(client, link, contact, province_staff):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    old_link, old_token = link
    new_link, new_token = services.send_link(contact, by=province_staff)
    old_link.refresh_from_db()
    assert old_link.revoked_at is not None and old_link.revoked_by == province_staff
    assert old_link.status() == ContactLink.Status.REVOKED
    response = client.get(f"/narahubung/{old_token}/")
    assert response.status_code == 410
    assert b"no longer in use" in response.content and b"Gambir" in response.content
    assert client.get(f"/narahubung/{new_token}/").status_code == 200


def test_the_database_holds_one_unrevoked_link_per_contact(link, contact):
    with pytest.raises(IntegrityError):
        ContactLink.objects.create(
            contact=contact,
            selector="s" * 16,
            digest="d" * 64,
            channel="sms",
            expires_at=timezone.now() + datetime.timedelta(days=1),
        )


def test_an_expired_link_is_a_kind_page(client, link, monkeypatch):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    link, token = link
    later = link.expires_at + datetime.timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = client.get(f"/narahubung/{token}/")
    assert response.status_code == 410
    assert b"expired" in response.content and b"new link" in response.content
    assert response["Referrer-Policy"] == "same-origin"


def test_a_contact_whose_phone_changes_is_paused(client, url, contact, province_staff):
    location_services.save_contact(contact, phone="0813 9999 0000", by=province_staff)
    assert client.get(url).status_code == 410


@pytest.mark.parametrize(
    "token",
    ["A" * 59, "x" * 20, "short", "a%00b" + "c" * 30, "é" * 30, "../../admin/" + "a" * 30],
)
def test_what_is_no_link_is_a_kind_404(client, token):
    response = client.get(f"/narahubung/{token}/")
    assert response.status_code == 404


def test_the_page_shows_the_site_and_nothing_of_other_sites(client, url, site, need, donor):
    elsewhere = factories.NeedFactory(title="Seragam sekolah SD lain")
    donation_services.pledge(need=need, collaborator=donor, quantity=10)
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert need.title in page and site.name in page
    assert elsewhere.title not in page
    assert donor.email not in page  # the donor's contact details are never here
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"


def test_opening_is_recorded_for_staff(client, link, url):
    link, _ = link
    assert link.status() == ContactLink.Status.SENT
    client.get(url)
    link.refresh_from_db()
    assert link.first_opened_at is not None and link.status() == ContactLink.Status.OPENED


def test_still_needed_in_one_tap(client, url, need, english):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.post(f"{url}kebutuhan/{need.pk}/masih-dibutuhkan/")
    assert response.status_code == 303
    assert response["Location"].startswith(f"{url}?dikonfirmasi={need.pk}")
    need.refresh_from_db()
    assert need.confirmed_at is not None and need.confirmed_by_contact
    assert need.history.first().history_change_reason == "Confirmed still needed by the recipient"
    page = client.get(response["Location"])
    assert b"marked as still needed" in page.content


def test_a_link_cannot_confirm_another_sites_need(client, url):
    elsewhere = factories.NeedFactory()
    response = client.post(f"{url}kebutuhan/{elsewhere.pk}/masih-dibutuhkan/")
    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.confirmed_at is None


def test_a_revoked_link_changes_nothing(client, link, url, need, contact, province_staff):
    services.revoke_link(contact, by=province_staff)
    response = client.post(f"{url}kebutuhan/{need.pk}/masih-dibutuhkan/")
    assert response.status_code == 410
    assert Need.objects.get(pk=need.pk).confirmed_at is None


def test_guessing_is_rate_limited(client, url, settings):
    settings.KSBB_CONTACT_LINK_MISSES_PER_ADDRESS = "3/h"
    for n in range(3):
        assert client.get(f"/narahubung/{'G' * 58}{n}/").status_code == 404
    # Then even a good link waits: the address has spent its guesses.
    response = client.get(url)
    assert response.status_code == 429 and response["Retry-After"]


def test_every_request_counts_against_the_address(client, url, settings):
    settings.KSBB_CONTACT_LINK_RATE_PER_ADDRESS = "2/m"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def test_a_contact_who_uses_email_gets_it_by_email(
    site, province_staff, mailoutbox, django_capture_on_commit_callbacks
):
    contact = verified_contact(
        site, province_staff, email="rw05@example.test", channel=ContactPerson.Channel.EMAIL
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.send_link(contact, by=province_staff)
    [message] = OutboundMessage.objects.all()
    assert message.channel == "email" and message.to == "rw05@example.test"
    [mail] = mailoutbox
    assert mail.to == ["rw05@example.test"] and "/narahubung/" in mail.body
    assert site.name in mail.subject
    assert not LocmemBackend.outbox
