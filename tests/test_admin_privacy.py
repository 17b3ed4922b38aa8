"""The rules behind the access matrix, one by one: "view on site" never leads to a donor's private
link, history is read-only, collaborators and personal data stay within role and area, every
showing of personal data is recorded, evidence photos have no public address."""

import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from PIL import Image

from donations import services
from donations.admin import without_private_links
from donations.models import Delivery, OutboundMail
from ksbb.lib.phones import display
from locations.models import ContactPerson, PersonalDataView, StaffArea
from locations.scoping import AUDITOR_GROUP
from needs.models import Need
from tests import factories
from tests.helpers import admin_url, schedule


def _photo():
    from django.core.files.uploadedfile import SimpleUploadedFile

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    return SimpleUploadedFile("serah-terima.png", buffer.getvalue())


@pytest.fixture
def delivered(need, donor, province_staff, settings, tmp_path):
    """In Gambir: PT Maju Bersama's pledge of 10, scheduled, 5 delivered with a photo."""
    settings.MEDIA_ROOT = tmp_path
    pledge = schedule(
        services.pledge(need=need, collaborator=donor, quantity=10), by=province_staff
    )
    services.record_delivery(
        pledge,
        quantity=5,
        delivered_on=datetime.date(2020, 10, 27),
        opd=factories.OpdFactory(),
        evidence=_photo(),
        actor=services.Actor.staff(province_staff),
    )
    pledge.refresh_from_db()
    return pledge


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _auditor(code: str | None):
    user = factories.UserFactory(username=f"auditor.{code or 'provinsi'}", is_staff=True)
    user.groups.add(Group.objects.get(name=AUDITOR_GROUP))
    if code:
        StaffArea.objects.create(user=user, region=factories.kelurahan(code))
    return user


# "View on site"


def test_view_on_site_for_a_pledge_opens_the_public_need_page(staff_client, delivered):
    page = staff_client.get(admin_url(type(delivered), "change", delivered.pk))
    assert delivered.token not in page.content.decode()
    assert f'href="/kebutuhan/{delivered.need_id}/"' in page.content.decode()

    content_type = page.context["content_type_id"]
    response = staff_client.get(reverse("admin:view_on_site", args=[content_type, delivered.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"/kebutuhan/{delivered.need_id}/"


def test_view_on_site_answers_404_outside_the_staff_members_area(other_area_officer, delivered):
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Need)
    outsider = _login(other_area_officer)
    url = reverse("admin:view_on_site", args=[content_type.pk, delivered.need_id])
    assert outsider.get(url).status_code == 404
    assert outsider.get(reverse("admin:view_on_site", args=["x", "1"])).status_code == 404


def test_a_donors_private_link_is_blanked_in_the_outbox(delivered):
    mail = OutboundMail.objects.filter(pledge=delivered).first()
    assert delivered.token in mail.body
    shown = without_private_links(mail.body)
    assert delivered.token not in shown and "/komitmen/" in shown


# History


def test_a_version_is_a_page_to_read_and_a_post_to_it_is_refused(staff_client, need, english):
    need.title = "Paket sembako (revisi)"
    need.save()
    version = need.history.order_by("history_id").first()
    url = reverse("admin:needs_need_simple_history", args=[need.pk, version.history_id])
    staff_client.cookies["django_language"] = "en"

    page = staff_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "Paket sembako RW 01 Gambir" in html and "<form" not in html.split('id="content-main"')[1]
    )
    assert "History is read-only" in html

    response = staff_client.post(url, {"title": "Diubah lewat riwayat", "site": need.site_id})
    assert response.status_code == 405
    need.refresh_from_db()
    assert need.title == "Paket sembako (revisi)" and need.history.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_post_to_a_needs_history_pages_outside_a_transaction_is_no_server_error(jakarta):
    """The need admin locks the row on a save; history pages run outside a transaction."""
    need = factories.NeedFactory(site=factories.SiteFactory())
    client = Client(raise_request_exception=False)
    client.force_login(factories.UserFactory(username="pusat", is_staff=True, is_superuser=True))
    version = need.history.get()
    for url in [
        admin_url(Need, "history", need.pk),
        reverse("admin:needs_need_simple_history", args=[need.pk, version.history_id]),
    ]:
        assert client.post(url, {}).status_code < 500, url


def test_a_contacts_history_shows_the_phone_only_to_who_may_see_it(
    need, kelurahan_officer, province_staff
):
    contact = factories.ContactFactory(site=need.site, phone="+62 812 5555 0101")
    contact.phone = "+6281255550202"
    contact.save()
    version = contact.history.order_by("history_id").first()
    urls = [
        admin_url(ContactPerson, "history", contact.pk),
        reverse(
            "admin:locations_contactperson_simple_history", args=[contact.pk, version.history_id]
        ),
    ]
    auditor = _login(_auditor("31.71.01.1001"))
    for url in urls:
        html = auditor.get(url).content.decode()
        assert "5555" not in html, url
    assert not PersonalDataView.objects.exists()

    officer = _login(kelurahan_officer)
    for url in urls:
        assert "+6281255550101" in officer.get(url).content.decode(), url
    views = PersonalDataView.objects.filter(user=kelurahan_officer, object_id=str(contact.pk))
    assert views.filter(via="history").count() == 2


# Collaborators and personal data


def test_an_auditor_of_an_area_sees_only_that_areas_collaborators_and_no_contact_details(
    delivered, anonymous_donor
):
    elsewhere = factories.NeedFactory(
        site=factories.SiteFactory(kelurahan=factories.kelurahan("31.72.01.1001"))
    )
    services.pledge(need=elsewhere, collaborator=anonymous_donor, quantity=1)
    auditor = _login(_auditor("31.71.01.1001"))

    listed = auditor.get(admin_url(type(delivered.collaborator), "changelist")).context["cl"]
    assert list(listed.result_list) == [delivered.collaborator]
    page = auditor.get(admin_url(type(anonymous_donor), "change", anonymous_donor.pk))
    assert page.status_code == 404
    page = auditor.get(admin_url(type(delivered.collaborator), "change", delivered.collaborator.pk))
    assert page.status_code == 200 and "csr@majubersama.test" not in page.content.decode()

    # Search and the pledge admin's collaborator autocomplete reach no address and no one else.
    search = auditor.get(
        admin_url(type(delivered.collaborator), "changelist"), {"q": "majubersama"}
    )
    assert list(search.context["cl"].result_list) == []
    autocomplete = auditor.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "donations",
            "model_name": "pledge",
            "field_name": "collaborator",
            "term": "",
        },
    )
    assert [r["id"] for r in autocomplete.json()["results"]] == [str(delivered.collaborator.pk)]


def test_an_anonymous_donors_real_name_is_searchable_only_with_the_personal_data_right(
    need, anonymous_donor, province_staff
):
    services.pledge(need=need, collaborator=anonymous_donor, quantity=1)
    pledges = admin_url(type(need.pledges.get()), "changelist")
    auditor = _login(_auditor(None))
    assert list(auditor.get(pledges, {"q": "Budi"}).context["cl"].result_list) == []
    html = auditor.get(pledges).content.decode()
    assert "Budi" not in html and "budi@example.test" not in html
    bureau = _login(province_staff)
    assert len(bureau.get(pledges, {"q": "Budi"}).context["cl"].result_list) == 1


def test_opening_a_pledge_records_who_saw_the_donors_details(kelurahan_officer, delivered):
    page = _login(kelurahan_officer).get(admin_url(type(delivered), "change", delivered.pk))
    assert "csr@majubersama.test" in page.content.decode()
    view = PersonalDataView.objects.get()
    assert (view.user, view.object_id, view.via) == (
        kelurahan_officer,
        str(delivered.collaborator.pk),
        "related_page",
    )
    assert view.content_type.model == "collaborator"


def test_an_auditor_sees_a_pledge_without_the_donors_details_and_nothing_is_recorded(delivered):
    page = _login(_auditor("31.71.01.1001")).get(admin_url(type(delivered), "change", delivered.pk))
    html = page.content.decode()
    assert page.status_code == 200 and "csr@majubersama.test" not in html
    assert not PersonalDataView.objects.exists()


def test_opening_a_site_records_its_contacts_phones_and_the_list_shows_none(
    kelurahan_officer, delivered
):
    officer = _login(kelurahan_officer)
    contact = delivered.need.site.contacts.get()
    listed = officer.get(admin_url(ContactPerson, "changelist")).content.decode()
    assert contact.phone not in listed and display(contact.phone) not in listed
    assert not PersonalDataView.objects.exists()
    # The form shows the stored E.164 number in the international format.
    assert (
        display(contact.phone)
        in officer.get(admin_url(type(contact.site), "change", contact.site_id)).content.decode()
    )
    assert PersonalDataView.objects.get().object_id == str(contact.pk)


def test_an_export_with_personal_columns_records_each_person(province_staff, delivered, need):
    other = services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=1)
    response = _login(province_staff).post(
        admin_url(type(delivered), "changelist"),
        {"action": "export_csv", "_selected_action": [delivered.pk, other.pk]},
    )
    body = b"".join(response.streaming_content).decode()
    assert "csr@majubersama.test" in body
    recorded = set(
        PersonalDataView.objects.filter(via="export").values_list("object_id", flat=True)
    )
    assert recorded == {str(delivered.collaborator_id), str(other.collaborator_id)}


def test_an_export_without_the_right_has_no_personal_columns_and_records_nothing(delivered):
    response = _login(_auditor(None)).post(
        admin_url(type(delivered), "changelist"),
        {"action": "export_csv", "_selected_action": [delivered.pk]},
    )
    header = b"".join(response.streaming_content).decode().splitlines()[0]
    assert "email" not in header and "collaborator_name" not in header
    assert not PersonalDataView.objects.exists()


def test_only_the_provincial_staff_read_who_looked_and_the_staffs_areas(
    kelurahan_officer, delivered
):
    from django.contrib.auth.models import Group as G

    from locations.scoping import PROVINCIAL_GROUP

    _login(kelurahan_officer).get(admin_url(type(delivered), "change", delivered.pk))
    bureau_member = factories.UserFactory(username="biro", is_staff=True)
    bureau_member.groups.add(G.objects.get(name=PROVINCIAL_GROUP))
    log = admin_url(PersonalDataView, "changelist")
    listed = _login(bureau_member).get(log)
    assert listed.status_code == 200 and kelurahan_officer.username in listed.content.decode()
    for user in [kelurahan_officer, _auditor(None), _auditor("31.71.01.1001")]:
        client = _login(user)
        assert client.get(log).status_code == 403, user
        assert client.get(admin_url(StaffArea, "changelist")).status_code == 403, user


# Evidence photos


def test_an_evidence_photo_is_served_to_staff_of_its_area_only(
    delivered, kelurahan_officer, other_area_officer, client
):
    delivery = Delivery.objects.get()
    url = reverse("admin:donations_delivery_evidence", args=[delivery.pk])
    response = _login(kelurahan_officer).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert response["Content-Type"] == "image/png"
    assert {"private", "no-store"} <= set(response["Cache-Control"].replace(" ", "").split(","))
    assert _login(_auditor("31.71.01.1001")).get(url).status_code == 200

    assert _login(other_area_officer).get(url).status_code == 404
    assert _login(_auditor("31.72.01.1001")).get(url).status_code == 404
    assert client.get(url).status_code == 302  # to the login page
    # The file name is no key: the media folder has no address.
    assert client.get("/media/" + delivery.evidence.name).status_code == 404


@pytest.mark.parametrize(
    ("server", "header"), [("nginx", "X-Accel-Redirect"), ("apache", "X-Sendfile")]
)
def test_behind_a_web_server_the_view_only_decides_and_the_server_sends_the_file(
    delivered, staff_client, settings, server, header
):
    settings.KSBB_PRIVATE_MEDIA_SERVER = server
    delivery = Delivery.objects.get()
    response = staff_client.get(reverse("admin:donations_delivery_evidence", args=[delivery.pk]))
    assert response.status_code == 200 and response.content == b""
    expected = (
        "/_private_media/" + delivery.evidence.name if server == "nginx" else delivery.evidence.path
    )
    assert response[header] == expected


def test_a_pledges_page_links_the_photo_through_the_checking_view(staff_client, delivered):
    html = staff_client.get(admin_url(type(delivered), "change", delivered.pk)).content.decode()
    delivery = Delivery.objects.get()
    assert reverse("admin:donations_delivery_evidence", args=[delivery.pk]) in html
    assert delivery.evidence.name not in html


# Foreign-key choices


def test_a_form_offers_only_rows_of_the_staff_members_area(kelurahan_officer, need):
    """A key to a model whose admin is area-scoped offers that admin's rows, on every form."""
    inside = factories.ContactFactory(site=need.site)
    outside_site = factories.SiteFactory(kelurahan=factories.kelurahan("31.72.01.1001"))
    officer = _login(kelurahan_officer)
    for url in [admin_url(ContactPerson, "change", inside.pk), admin_url(Need, "change", need.pk)]:
        form = officer.get(url).context["adminform"].form
        sites = form.fields["site"].queryset
        assert need.site in sites and outside_site not in sites, url
