"""A returning donor's own page (donations.donor_views): a short-lived link mailed on request to
the address they pledged with, listing all their pledges, with a yearly summary PDF, everything the
portal holds about them as JSON, and their erasure request, which staff see and complete in the
admin."""

import datetime
import json
import re

import pytest
from django.core import signing
from django.test import Client, override_settings
from django.urls import reverse

from donations import donor_links, services
from donations.models import ErasureRequest, OutboundMail, Pledge
from donations.models import PledgeStatus as S
from tests import factories, pdfs
from tests.helpers import admin_url, schedule

ACCESS = reverse("donations:donor_access")


def _ask(client, email, website="", **headers):
    return client.post(ACCESS, {"email": email, "website": website}, **headers)


def _link_in_last_mail(to: str) -> str:
    mail = OutboundMail.objects.filter(to=to).latest("pk")
    return re.search(r"https?://\S+/donatur/\S+/", mail.body).group(0)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def history(need, donor, province_staff):
    """PT Maju Bersama: 60 packages delivered in 2020 and 2021, and one pledge still submitted."""
    staff = services.Actor.staff(province_staff)
    opd = factories.OpdFactory()
    first = schedule(services.pledge(need=need, collaborator=donor, quantity=60), province_staff)
    services.record_delivery(
        first, quantity=40, delivered_on=datetime.date(2020, 10, 26), opd=opd, actor=staff
    )
    services.record_delivery(
        first, quantity=20, delivered_on=datetime.date(2021, 1, 5), opd=opd, actor=staff
    )
    running = services.pledge(need=need, collaborator=donor, quantity=3)
    return first, running


@pytest.fixture
def own_page(client, history, donor):
    """The donor's own page, reached as a donor would: asked for, then opened from the mail."""
    assert _ask(client, "CSR@MajuBersama.test").status_code == 200
    return _path(_link_in_last_mail(donor.email))


def test_asking_mails_the_link_in_the_askers_language(client, donor, history):
    response = _ask(client, "csr@majubersama.test", HTTP_ACCEPT_LANGUAGE="en")
    assert 'data-testid="donor-link-sent"' in response.text
    mail = OutboundMail.objects.filter(to=donor.email).latest("pk")
    assert mail.subject == "Your pledges on the KSBB portal"
    assert "60 minutes" in mail.body


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, db):
    before = OutboundMail.objects.count()
    response = _ask(client, "nobody@example.test")
    assert response.status_code == 200
    assert 'data-testid="donor-link-sent"' in response.text
    assert OutboundMail.objects.count() == before


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b", "x" * 300 + "@example.test"])
def test_bad_input_is_refused_with_a_message(client, db, email):
    response = _ask(client, email)
    assert response.status_code == 400
    assert 'class="field-error"' in response.text
    assert OutboundMail.objects.count() == 0


def test_a_bot_learns_nothing_and_nothing_is_sent(client, donor):
    response = _ask(client, donor.email, website="http://spam.test")
    assert 'data-testid="donor-link-sent"' in response.text
    assert not OutboundMail.objects.filter(to=donor.email).exists()


@override_settings(KSBB_DONOR_LINK_RATE_PER_EMAIL="2/h")
def test_nobody_is_mail_bombed(client, donor):
    assert [_ask(client, donor.email).status_code for _ in range(3)] == [200, 200, 429]
    assert OutboundMail.objects.filter(to=donor.email).count() == 2


def test_the_page_lists_every_pledge_with_its_receipt(client, own_page, history):
    first, running = history
    response = client.get(own_page)
    assert response.status_code == 200
    assert response.text.count('data-testid="donor-pledge"') == 2
    assert first.private_url() in response.text and running.private_url() in response.text
    assert reverse("donations:pledge_receipt", args=[first.token]) in response.text
    assert reverse("donations:pledge_receipt", args=[running.token]) not in response.text
    assert [y for y in response.context["years"]] == [2021, 2020]
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_a_forged_or_expired_link_opens_nothing(client, own_page, donor, monkeypatch):
    key = own_page.split("/")[2]
    assert client.get(f"/donatur/{key[:-2]}xx/").status_code == 410
    later = signing.time.time() + 61 * 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client.get(own_page)
    assert response.status_code == 410
    assert 'data-testid="link-expired"' in response.text
    assert client.get(own_page + "data.json").status_code == 410


def test_another_signed_value_is_no_key(client, donor):
    other = signing.dumps({"c": donor.pk, "m": "0" * 16}, salt=donor_links.SALT)
    assert client.get(f"/donatur/{other}/").status_code == 410
    wrong_salt = signing.dumps({"c": donor.pk}, salt="something else")
    assert client.get(f"/donatur/{wrong_salt}/").status_code == 410


def test_the_yearly_summary(client, own_page):
    response = client.get(own_page + "ringkasan-2020.pdf", {"lang": "en"})
    assert response.status_code == 200
    text = pdfs.text(response.content)
    assert "Aid delivered in 2020" in text
    assert "PT Maju Bersama" in text
    assert "40 paket" in text and "26 October 2020" in text
    assert "5 January 2021" not in text
    assert client.get(own_page + "ringkasan-2019.pdf").status_code == 404
    indonesian = pdfs.text(client.get(own_page + "ringkasan-2021.pdf", {"lang": "id"}).content)
    assert "Bantuan yang disalurkan pada 2021" in indonesian and "20 paket" in indonesian


def test_everything_held_about_them_as_json(client, own_page, donor, history):
    response = client.get(own_page + "data.json")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["collaborator"]["email"] == donor.email
    assert data["collaborator"]["public_name"] == "PT Maju Bersama"
    assert {p["number"] for p in data["pledges"]} == {p.pk for p in history}
    first = next(p for p in data["pledges"] if p["number"] == history[0].pk)
    assert [d["quantity"] for d in first["deliveries"]] == [40, 20]
    assert first["history"][0]["to"] == S.SUBMITTED
    assert any(m["subject"] for m in data["mails"])
    assert all(m["to"] == donor.email for m in data["mails"])


def test_erasure_waits_for_staff_while_a_pledge_runs(client, own_page, donor, province_staff):
    response = client.post(own_page + "hapus/", {"confirm": "on"}, follow=True)
    assert 'data-testid="erasure-open"' in response.text
    request = ErasureRequest.objects.get(collaborator=donor)
    assert request.is_open
    donor.refresh_from_db()
    assert donor.erased_at is None
    # Asking again changes nothing.
    client.post(own_page + "hapus/", {"confirm": "on"})
    assert ErasureRequest.objects.filter(collaborator=donor).count() == 1

    staff = Client()
    staff.force_login(province_staff)
    changelist = staff.get(admin_url(ErasureRequest, "changelist"))
    assert str(request) in changelist.text
    staff.post(
        admin_url(ErasureRequest, "changelist"),
        {"action": "complete_erasure_requests", "_selected_action": [request.pk]},
    )
    request.refresh_from_db()
    donor.refresh_from_db()
    assert request.completed_at is not None and request.completed_by == province_staff
    assert donor.public_name == "Anonim" and donor.email.endswith("@erased.invalid")
    assert client.get(own_page).status_code == 410


def test_erasure_is_done_at_once_when_nothing_runs(client, own_page, donor, history):
    services.cancel(history[1])
    response = client.post(own_page + "hapus/", {"confirm": "on"})
    assert response.status_code == 200
    assert 'data-testid="donor-erased"' in response.text
    donor.refresh_from_db()
    assert donor.erased_at is not None and donor.erased_by is None
    assert donor.public_name == "Anonim" and donor.phone == ""
    assert "request #" in donor.erase_reason or "permintaan #" in donor.erase_reason
    request = ErasureRequest.objects.get(collaborator=donor)
    assert request.completed_at == donor.erased_at
    # The pledges and their figures stay.
    assert Pledge.objects.filter(collaborator=donor).count() == 2
    assert history[0].deliveries.count() == 2
    assert client.get(own_page).status_code == 410


def test_their_alerts_are_in_their_data_and_go_with_it(client, own_page, donor, history, need):
    from alerts import services as alert_services
    from alerts.models import Subscription

    alert_services.subscribe(
        email="CSR@majubersama.test",
        language="id",
        frequency="weekly",
        regions=[need.site.kelurahan],
        categories=[],
    )
    data = json.loads(client.get(own_page + "data.json").content)
    [subscription] = data["alert_subscriptions"]
    assert subscription["frequency"] == "weekly"
    assert subscription["regions"][0]["code"] == need.site.kelurahan.code
    services.cancel(history[1])
    client.post(own_page + "hapus/", {"confirm": "on"})
    assert not Subscription.objects.exists()


def test_erasure_needs_the_box_ticked(client, own_page, donor):
    response = client.post(own_page + "hapus/", {})
    assert response.status_code == 400
    assert 'class="field-error"' in response.text
    assert not ErasureRequest.objects.exists()


def test_staff_erasing_the_collaborator_completes_the_request(donor, history, province_staff):
    request = services.request_erasure(donor)
    assert request.is_open
    services.erase_collaborator(donor, by=province_staff, reason="Permintaan lewat telepon")
    request.refresh_from_db()
    assert request.completed_by == province_staff


def test_one_open_request_per_collaborator_in_the_database(donor):
    from django.db import IntegrityError, transaction

    ErasureRequest.objects.create(collaborator=donor)
    with pytest.raises(IntegrityError), transaction.atomic():
        ErasureRequest.objects.create(collaborator=donor)


def test_an_area_officer_sees_only_requests_of_donors_in_their_area(
    donor, history, other_area_officer, kelurahan_officer
):
    services.request_erasure(donor)
    mine, theirs = Client(), Client()
    mine.force_login(kelurahan_officer)
    theirs.force_login(other_area_officer)
    url = admin_url(ErasureRequest, "changelist")
    assert mine.get(url).context["cl"].result_count == 1
    assert theirs.get(url).context["cl"].result_count == 0


def test_the_pledge_page_and_the_footer_lead_to_it(client, history):
    assert ACCESS in client.get(history[0].private_url()).text
    assert ACCESS in client.get("/").text
