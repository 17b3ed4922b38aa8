"""A subscription is personal data: never on a public page, in the API or the open data; staff see
the address only with the permission (each showing recorded), export it and erase it on request,
from the admin or with `alerts_export` / `alerts_erase`."""

import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from alerts import services
from alerts.models import AlertMail, NeedAlert, Subscription
from locations.models import PersonalDataView
from locations.scoping import AUDITOR_GROUP
from tests import factories
from tests.alerts.conftest import GAMBIR, publish, site_in, subscribe
from tests.transparency.test_open_data_has_no_personal_data import public_outputs

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/alerts/subscription/"


def test_no_public_page_api_or_download_shows_a_subscription(client, jakarta):
    subscription = subscribe(email="rahasia.warga@example.test")
    publish(site_in(GAMBIR))
    services.send_alerts()
    outputs = public_outputs(client)
    for url in ("/api/v1/needs/", "/api/v1/regions/", "/peringatan/", "/peringatan/periksa-surel/"):
        outputs[url] = client.get(url).content.decode()
    for secret in (subscription.email, subscription.token):
        assert not any(secret in text for text in outputs.values()), secret


def _staff(group: str, username: str):
    user = factories.UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def test_provincial_staff_see_the_address_and_its_showing_is_recorded(jakarta):
    subscription = subscribe(email="terlihat@example.test")
    staff = _staff("Provincial staff", "biro.peringatan")
    page = staff.get(f"{CHANGELIST}{subscription.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and subscription.email in html
    assert subscription.token not in html  # the token would let staff act as the subscriber
    assert PersonalDataView.objects.filter(object_id=str(subscription.pk)).exists()
    listing = staff.get(CHANGELIST).content.decode()
    assert subscription.email in listing and subscription.token not in listing
    mails = staff.get("/admin/alerts/alertmail/").content.decode()
    assert subscription.token not in mails


def test_auditors_and_area_officers_see_no_subscription(jakarta, kelurahan_officer):
    subscription = subscribe(email="tersembunyi@example.test")
    auditor = _staff(AUDITOR_GROUP, "auditor.peringatan")
    officer = Client()
    officer.force_login(kelurahan_officer)
    for client in (auditor, officer):
        for url in (
            CHANGELIST,
            f"{CHANGELIST}{subscription.pk}/change/",
            "/admin/alerts/alertmail/",
        ):
            response = client.get(url)
            assert response.status_code == 403, url
            assert subscription.email not in response.content.decode()


def test_the_admin_exports_and_erases_through_the_services(jakarta):
    subscription = subscribe(email="hapus.saya@example.test")
    other = subscribe(email="tetap@example.test")
    staff = _staff("Provincial staff", "biro.hapus")
    selected = {"_selected_action": [subscription.pk]}
    exported = staff.post(CHANGELIST, {"action": "export_subscriptions", **selected})
    data = json.loads(exported.content)
    assert data[0]["email"] == "hapus.saya@example.test" and len(data) == 1
    assert PersonalDataView.objects.filter(via="export", object_id=str(subscription.pk)).exists()

    asked = staff.post(CHANGELIST, {"action": "erase_subscriptions", **selected})
    assert asked.status_code == 200 and Subscription.objects.filter(pk=subscription.pk).exists()
    done = staff.post(
        CHANGELIST, {"action": "erase_subscriptions", "apply": "1", "confirm": "on", **selected}
    )
    assert done.status_code == 302
    assert "1 langganan peringatan dihapus." in staff.get(CHANGELIST).content.decode()
    assert list(Subscription.objects.values_list("pk", flat=True)) == [other.pk]
    assert not AlertMail.objects.filter(to="hapus.saya@example.test").exists()


def test_the_commands_export_and_erase_an_address(jakarta):
    subscription = subscribe(email="Perintah@Example.test")
    publish(site_in(GAMBIR))
    services.send_alerts()
    out = io.StringIO()
    call_command("alerts_export", "perintah@example.test", stdout=out, stderr=io.StringIO())
    (exported,) = json.loads(out.getvalue())
    assert exported["email"] == "Perintah@Example.test"
    assert exported["regions"] == [{"code": GAMBIR, "name": "Gambir", "level": "kelurahan"}]
    assert len(exported["needs_alerted"]) == 1 and len(exported["mails"]) == 2

    out = io.StringIO()
    call_command("alerts_erase", "PERINTAH@example.test", stdout=out, stderr=io.StringIO())
    (erased,) = json.loads(out.getvalue())
    assert erased["email"] == subscription.email
    assert not Subscription.objects.exists()
    assert not AlertMail.objects.exists() and not NeedAlert.objects.exists()

    out = io.StringIO()
    call_command("alerts_export", "perintah@example.test", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue()) == []


def test_the_cron_command_does_what_the_jobs_do(jakarta):
    subscription = subscribe()
    publish(site_in(GAMBIR))
    out = io.StringIO()
    call_command("send_alerts", stdout=out)
    assert "1 alert mails" in out.getvalue()
    assert subscription.mails.filter(kind="alert").count() == 1
