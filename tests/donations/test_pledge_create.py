"""The public pledge form: one collaborator per e-mail, a private link, clear refusals, limits."""

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations import services
from donations.models import Collaborator, OutboundMail, Pledge
from donations.views import NEW_PLEDGE_COOKIE
from locations.models import StaffArea
from needs.models import Need
from tests import factories

pytestmark = pytest.mark.usefixtures("english")
# A first pledge's submission, with one member of staff to tell: the need, the form's key, the
# collaborator made, the need locked, the pledge, the need's counter and history, the ledger's two
# events, the pledge's event, the area's staff, the overlaps their mail lists, the two mails, and
# the savepoints.
PLEDGE_QUERIES = 21


def form_data(**overrides) -> dict:
    return {
        "public_name": "PT Maju Bersama",
        "kind": "company",
        "email": "csr@majubersama.test",
        "phone": "+62 812 3456 7890",
        "quantity": "30",
        "message": "Semoga bermanfaat",
        "show_name": "on",
        **overrides,
    }


def url(need) -> str:
    return f"/kebutuhan/{need.pk}/dukung/"


@pytest.fixture(autouse=True)
def _english_client(client):
    client.cookies["django_language"] = "en"


def test_the_form_offers_what_remains(client, need, donor):
    services.pledge(need=need, collaborator=donor, quantity=40)
    response = client.get(url(need))
    assert response.status_code == 200
    assert response.context["form"]["quantity"].value() == 60


def test_a_pledge_is_recorded_and_the_donor_sent_to_the_private_page(client, need):
    response = client.post(url(need), form_data())
    pledge = Pledge.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/komitmen/{pledge.token}/"
    assert pledge.quantity == 30 and pledge.collaborator.public_name == "PT Maju Bersama"
    assert Need.objects.get(pk=need.pk).quantity_pledged == 30
    page = client.get(response["Location"])
    assert b"Thank you! Your pledge is recorded." in page.content
    assert b"csr@majubersama.test" in page.content  # the donor sees where the link went


def test_only_the_browser_that_pledged_is_told_where_the_link_went_once(client, need):
    """ "New" goes from the form to the private page in a signed cookie sent to that page alone: no
    session is written, and no cookie follows the donor to the public pages and past the caches."""
    response = client.post(url(need), form_data())
    cookie = response.cookies[NEW_PLEDGE_COOKIE]
    assert cookie["path"] == response["Location"] and cookie["httponly"]
    assert "sessionid" not in response.cookies and not Session.objects.exists()
    page = client.get(response["Location"])
    assert b"Thank you! Your pledge is recorded." in page.content
    assert b"csr@majubersama.test" in page.content
    assert page.cookies[NEW_PLEDGE_COOKIE]["max-age"] == 0
    assert "sessionid" not in page.cookies and not Session.objects.exists()
    # Seen again, or by whoever the link is forwarded to, the page no longer says it is new.
    client.cookies.pop(NEW_PLEDGE_COOKIE, None)
    again = client.get(response["Location"]).content
    assert b"Thank you! Your pledge is recorded." not in again
    assert b"csr@majubersama.test" not in again


def test_a_forged_or_foreign_new_pledge_cookie_shows_nothing(client, need, donor):
    """The cookie names a pledge and is signed: another pledge's, or one typed by hand, is ignored."""
    other = services.pledge(need=need, collaborator=donor, quantity=1)
    response = client.post(url(need), form_data(quantity="2"))
    pledge = Pledge.objects.exclude(pk=other.pk).get()
    for value in (
        str(pledge.pk),
        client.cookies[NEW_PLEDGE_COOKIE].value.replace(str(pledge.pk), str(other.pk), 1),
    ):
        client.cookies[NEW_PLEDGE_COOKIE] = value
        assert b"csr@majubersama.test" not in client.get(response["Location"]).content
    # A genuine cookie for one pledge says nothing on another pledge's page.
    client.post(url(need), form_data(quantity="3", email="x@y.test"))
    assert client.cookies[NEW_PLEDGE_COOKIE].value
    assert b"We sent this page" not in client.get(other.private_url()).content


def test_the_donor_gets_the_private_link_by_mail(client, need, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(need), form_data())
    pledge = Pledge.objects.get()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["csr@majubersama.test"]
    assert f"/komitmen/{pledge.token}/" in mail.outbox[0].body
    assert OutboundMail.objects.get().sent_at is not None


def test_the_areas_staff_are_mailed(client, need, django_capture_on_commit_callbacks):
    officer = factories.UserFactory(
        username="lurah-gambir", email="petugas@gambir.test", is_staff=True
    )
    StaffArea.objects.create(user=officer, region=need.site.kelurahan)
    elsewhere = factories.UserFactory(
        username="lurah-lain", email="petugas@lain.test", is_staff=True
    )
    StaffArea.objects.create(
        user=elsewhere,
        region_id=need.site.kelurahan.parent.parent.children.exclude(
            pk=need.site.kelurahan.parent_id
        )
        .first()
        .pk,
    )
    kelurahan = need.site.kelurahan
    for name, region, active in (
        ("kota", kelurahan.parent.parent, True),
        ("kecamatan", kelurahan.parent, True),
        ("pensiun", kelurahan, False),
    ):
        user = factories.UserFactory(
            username=f"petugas-{name}", email=f"{name}@ksbb.test", is_staff=True, is_active=active
        )
        StaffArea.objects.create(user=user, region=region)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(need), form_data())
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == [
        "csr@majubersama.test",
        "kecamatan@ksbb.test",
        "kota@ksbb.test",
        "petugas@gambir.test",
    ]


def test_a_returning_donor_is_recognised_by_email_whatever_its_case(client, need, donor):
    client.post(url(need), form_data(email="CSR@MajuBersama.test", quantity="10"))
    client.post(
        url(need), form_data(email="csr@majubersama.test", quantity="10", public_name="Nama Lain")
    )
    assert Collaborator.objects.count() == 1
    assert Pledge.objects.filter(collaborator=donor).count() == 2
    assert (
        Collaborator.objects.get().public_name == "PT Maju Bersama"
    )  # the form cannot rename someone


def test_a_returning_donor_can_ask_to_become_anonymous(client, need, donor):
    client.post(url(need), form_data(quantity="10", show_name=""))
    assert Collaborator.objects.get().is_anonymous


def test_a_mail_failure_never_loses_the_pledge(
    client, need, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.donations.broken_mail.Backend"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(need), form_data())
    assert response.status_code == 302
    assert Pledge.objects.count() == 1
    queued = OutboundMail.objects.get(to="csr@majubersama.test")
    assert queued.sent_at is None and "refused" in queued.last_error


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "greater than or equal to 1"),
        ({"quantity": "-3"}, "quantity", "greater than or equal to 1"),
        ({"quantity": "2.5"}, "quantity", "whole number"),
        ({"quantity": "banyak"}, "quantity", "whole number"),
        ({"quantity": "101"}, "quantity", "Only 100 paket are still needed"),
        ({"email": "bukan-email"}, "email", "valid email"),
        ({"email": ""}, "email", "required"),
        ({"public_name": "   "}, "public_name", "required"),
        ({"public_name": "x" * 151}, "public_name", "at most 150"),
        ({"message": "x" * 1001}, "message", "at most 1000"),
        ({"phone": "call me"}, "phone", "phone number"),
        ({"kind": "alien"}, "kind", "valid choice"),
    ],
)
def test_bad_input_gets_a_clear_message_on_its_field_and_writes_nothing(
    client, need, overrides, field, message
):
    response = client.post(url(need), form_data(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Pledge.objects.exists() and not Collaborator.objects.exists()
    assert Need.objects.get(pk=need.pk).quantity_pledged == 0


def test_losing_a_race_gives_the_form_back_with_what_now_remains(client, need, donor, monkeypatch):
    from donations import forms

    # Another donor takes 90 between the form's check and the service's locked check.
    original = forms.PledgeForm.clean_quantity

    def race(self):
        quantity = original(self)
        if not Pledge.objects.exists():
            services.pledge(need=need, collaborator=donor, quantity=90)
        return quantity

    monkeypatch.setattr(forms.PledgeForm, "clean_quantity", race)
    response = client.post(url(need), form_data(quantity="30", email="lain@example.test"))
    assert response.status_code == 200
    errors = response.context["form"].errors["quantity"]
    assert any("10" in e for e in errors)
    assert Pledge.objects.count() == 1
    assert not Collaborator.objects.filter(email="lain@example.test").exists()


def test_a_fully_pledged_need_shows_no_form(client, need, donor):
    services.pledge(need=need, collaborator=donor, quantity=100)
    response = client.get(url(need))
    assert response.status_code == 302 and response["Location"] == f"/kebutuhan/{need.pk}/"
    page = client.get(f"/kebutuhan/{need.pk}/")
    assert b"fully pledged" in page.content and url(need).encode() not in page.content


def test_an_unpublished_need_is_not_found(client, need):
    Need.objects.filter(pk=need.pk).update(published=False)
    assert client.get(url(need)).status_code == 404
    assert client.post(url(need), form_data()).status_code == 404


def test_the_honeypot_answers_kindly_and_writes_nothing(client, need):
    response = client.post(url(need), form_data(website="http://spam.example"))
    assert response.status_code == 200
    assert not Pledge.objects.exists()


def test_csrf_is_enforced(need):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(url(need), form_data())
    assert response.status_code == 403
    assert not Pledge.objects.exists()


def test_too_many_pledges_from_one_address_get_a_429(client, need, settings):
    settings.KSBB_PLEDGE_RATE_PER_ADDRESS = "3/h"
    for i in range(3):
        client.post(url(need), form_data(quantity="1", email=f"d{i}@example.test"))
    response = client.post(url(need), form_data(quantity="1", email="d9@example.test"))
    assert response.status_code == 429
    assert b"try again later" in response.content
    assert Pledge.objects.count() == 3


def test_too_many_pledges_for_one_email_get_a_429(client, need, settings):
    settings.KSBB_PLEDGE_RATE_PER_EMAIL = "2/h"
    for _ in range(2):
        client.post(url(need), form_data(quantity="1"))
    response = client.post(url(need), form_data(quantity="1", email="CSR@majubersama.test"))
    assert response.status_code == 429
    assert Pledge.objects.count() == 2


def test_an_overlapping_need_at_the_same_site_is_flagged(client, need, donor):
    other = factories.NeedFactory(
        site=need.site, aid_type=need.aid_type, title="Sembako dari program lain"
    )
    services.pledge(need=other, collaborator=donor, quantity=50)
    response = client.get(url(need))
    assert b"this site already receives similar aid" in response.content
    assert b"Sembako dari program lain" in response.content


def test_a_pledge_reads_no_boundary_and_writes_no_session(client, need, kelurahan_officer):
    """What the mails and the staff to tell need of the site comes with the need's locked row: no
    kelurahan read again (with its boundary, hundreds of kilobytes of polygon), no session written
    and read back. The bound keeps it so: every query holds the need's lock, which racing donors
    wait on."""
    with CaptureQueriesContext(connection) as submitted:
        response = client.post(url(need), form_data())
    with CaptureQueriesContext(connection) as shown:
        client.get(response["Location"])
    sql = [q["sql"] for q in submitted.captured_queries + shown.captured_queries]
    assert not [q for q in sql if '"locations_region"."boundary"' in q]
    assert not [q for q in sql if "django_session" in q]
    assert len(submitted.captured_queries) <= PLEDGE_QUERIES, "\n".join(sql)
