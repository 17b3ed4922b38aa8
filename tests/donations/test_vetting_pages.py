"""Vetting on the pages: the organisation's form on its private pledge page, the staff's actions and
the private letter in the admin, and the public "verified organisation" mark with its figures."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from donations import services
from donations.models import Collaborator, Vetting, VettingDecision
from ksbb.lib import snapshots
from ledger import services as ledger_services
from ledger import verifier
from ledger.chain import public_entry
from ledger.models import Entry
from tests import factories
from tests.donations.test_vetting import NIB, pdf, photo
from transparency import figures
from transparency.ledger_check import disagreements

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def large_pledge(need, donor):
    category = need.aid_type.category
    category.vetting_threshold_quantity = 40
    category.save()
    return services.pledge(need=need, collaborator=donor, quantity=60)


def _page(client, pledge, lang="en"):
    return client.get(pledge.private_url(), HTTP_ACCEPT_LANGUAGE=lang)


# The organisation's private page -------------------------------------------------------------


def test_the_page_says_what_to_send_and_takes_it(client, large_pledge):
    html = _page(client, large_pledge).content.decode()
    assert 'data-testid="awaits-vetting"' in html and 'name="statement_letter"' in html
    response = client.post(
        f"{large_pledge.private_url()}organisasi/",
        {"legal_id": "9120 0012 3456 7", "statement_letter": pdf()},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302 and response["Location"] == large_pledge.private_url()
    donor = Collaborator.objects.get(pk=large_pledge.collaborator_id)
    assert donor.vetting == Vetting.PENDING and donor.legal_id == NIB
    html = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Staff are vetting what you sent" in html and 'name="statement_letter"' not in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"legal_id": "12", "statement_letter": pdf}, "13 digits"),
        (
            {"legal_id": NIB, "statement_letter": lambda: SimpleUploadedFile("a.exe", b"MZ")},
            "neither",
        ),
        ({"legal_id": NIB}, "This field is required"),
        ({"legal_id": "", "statement_letter": photo}, "This field is required"),
    ],
)
def test_bad_input_comes_back_on_its_field_and_changes_nothing(
    client, large_pledge, fields, message
):
    data = {k: v() if callable(v) else v for k, v in fields.items()}
    response = client.post(
        f"{large_pledge.private_url()}organisasi/", data, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'role="alert"' in html
    assert Collaborator.objects.get(pk=large_pledge.collaborator_id).vetting == Vetting.NOT_ASKED
    assert not VettingDecision.objects.exists()


def test_an_individual_is_never_asked(client, need, anonymous_donor):
    pledge = services.pledge(need=need, collaborator=anonymous_donor, quantity=60)
    assert 'data-testid="vetting"' not in _page(client, pledge).content.decode()
    response = client.post(
        f"{pledge.private_url()}organisasi/",
        {"legal_id": NIB, "statement_letter": pdf()},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "Only organisations" in response.content.decode()
    assert Collaborator.objects.get(pk=anonymous_donor.pk).vetting == Vetting.NOT_ASKED


def test_a_refused_organisation_reads_why(client, large_pledge, province_staff):
    services.submit_vetting(large_pledge.collaborator, legal_id=NIB, letter=pdf())
    services.decide_vetting(
        large_pledge.collaborator, by=province_staff, vetted=False, reason="NIB tidak cocok"
    )
    html = _page(client, large_pledge).content.decode()
    assert "NIB tidak cocok" in html and 'name="statement_letter"' in html


def test_the_vetting_url_takes_posts_only_and_knows_no_stranger(client, large_pledge):
    assert client.get(f"{large_pledge.private_url()}organisasi/").status_code == 405
    assert client.post("/komitmen/" + "x" * 43 + "/organisasi/", {}).status_code == 404


# Staff --------------------------------------------------------------------------------------


def _staff(group: str, **area):
    user = factories.UserFactory(username=f"u-{group}", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def asked(large_pledge):
    return services.submit_vetting(large_pledge.collaborator, legal_id=NIB, letter=pdf())


def _action(client, action: str, pk: int, **extra):
    return client.post(
        "/admin/donations/collaborator/",
        {"action": action, "_selected_action": [pk], **extra},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_provincial_staff_read_the_letter_and_vet(client, asked):
    client.force_login(_staff("Provincial staff"))
    letter = client.get(f"/admin/donations/collaborator/{asked.pk}/letter/")
    assert letter.status_code == 200 and "no-store" in letter["Cache-Control"]
    assert b"".join(letter.streaming_content).startswith(b"%PDF-")
    _action(client, "vet_organisations", asked.pk)
    assert Collaborator.objects.get(pk=asked.pk).vetting == Vetting.VETTED


def test_a_refusal_from_the_admin_asks_for_the_reason_first(client, asked):
    client.force_login(_staff("Provincial staff"))
    form = _action(client, "refuse_vetting", asked.pk)
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    _action(client, "refuse_vetting", asked.pk, apply="1", reason="Surat tidak ditandatangani")
    refused = Collaborator.objects.get(pk=asked.pk)
    assert refused.vetting == Vetting.REFUSED
    assert refused.vetting_reason == "Surat tidak ditandatangani"


@pytest.mark.parametrize("group", ["Area officer", "Auditor"])
def test_other_roles_neither_read_the_letter_nor_vet(client, asked, group, kelurahan_officer):
    user = kelurahan_officer if group == "Area officer" else _staff(group)
    client.force_login(user)
    assert client.get(f"/admin/donations/collaborator/{asked.pk}/letter/").status_code in (403, 404)
    _action(client, "vet_organisations", asked.pk)
    assert Collaborator.objects.get(pk=asked.pk).vetting == Vetting.PENDING


def test_staff_cannot_turn_an_organisation_that_asked_into_an_individual(staff_client, asked):
    url = f"/admin/donations/collaborator/{asked.pk}/change/"
    response = staff_client.post(
        url,
        {
            "public_name": asked.public_name,
            "kind": "individual",
            "email": asked.email,
            "phone": "",
            "vetting_decisions-TOTAL_FORMS": "0",
            "vetting_decisions-INITIAL_FORMS": "0",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "cannot become an individual" in response.content.decode()
    assert Collaborator.objects.get(pk=asked.pk).kind == "company"


def test_a_name_changed_in_the_admin_is_an_entry_in_the_ledger(staff_client, donor):
    ledger_services.seal()
    before = Entry.objects.filter(kind="collaborator").count()
    staff_client.post(
        f"/admin/donations/collaborator/{donor.pk}/change/",
        {
            "public_name": "PT Maju Bersama Tbk",
            "kind": donor.kind,
            "email": donor.email,
            "phone": "",
            "vetting_decisions-TOTAL_FORMS": "0",
            "vetting_decisions-INITIAL_FORMS": "0",
        },
    )
    assert Collaborator.objects.get(pk=donor.pk).public_name == "PT Maju Bersama Tbk"
    ledger_services.seal()
    assert Entry.objects.filter(kind="collaborator").count() == before + 1


# The public mark and its figures -------------------------------------------------------------


@pytest.fixture
def vetted(asked, province_staff):
    return services.decide_vetting(asked, by=province_staff, vetted=True)


def test_the_need_page_marks_a_verified_organisation(client, need, large_pledge):
    assert (
        'data-testid="verified-mark"' not in client.get(f"/kebutuhan/{need.pk}/").content.decode()
    )
    services.submit_vetting(large_pledge.collaborator, legal_id=NIB, letter=pdf())
    services.decide_vetting(
        large_pledge.collaborator, by=factories.UserFactory(username="bureau"), vetted=True
    )
    html = client.get(f"/kebutuhan/{need.pk}/").content.decode()
    assert 'data-testid="verified-mark"' in html, "a new vetting is news: the page changed"


def test_the_transparency_figures_and_open_data_carry_the_mark(client, vetted, large_pledge):
    snapshots.rebuild("transparency", [None])
    built = figures.figures()
    assert built["collaborators"] == 1 and built["collaborators_vetted"] == 1
    html = client.get("/transparansi/").content.decode()
    assert 'data-testid="verified-mark"' in html
    for dataset in ("pledges", "collaborators"):
        rows = list(csv.DictReader(io.StringIO(_download(client, f"{dataset}.csv"))))
        assert len(rows) > 1 and all(r["collaborator_verified"] == "true" for r in rows[1:]), (
            dataset
        )


def _download(client, name: str) -> str:
    response = client.get(f"/transparansi/data/{name}")
    assert response.status_code == 200, name
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8-sig")


def test_the_ledger_recomputes_the_verified_organisations(vetted, large_pledge):
    from transparency.ledger_check import open_ledger

    open_ledger()  # the need came from a factory
    ledger_services.seal()
    state = verifier.replay(public_entry(e) for e in Entry.objects.order_by("seq"))
    assert verifier.figures(state)["collaborators_vetted"] == 1


def test_verify_ledger_names_a_vetting_changed_in_sql(asked, large_pledge):
    from ledger.services import seal
    from transparency.ledger_check import open_ledger

    open_ledger()  # the need came from a factory
    seal()
    assert disagreements() == []
    Collaborator.objects.filter(pk=asked.pk).update(vetting=Vetting.NOT_ASKED)
    found = [str(d) for d in disagreements()]
    assert found == [f"collaborator {asked.public_id} vetting: ledger 'pending', table 'not_asked'"]
