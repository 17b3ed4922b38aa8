"""The right to be forgotten (UU 27/2022) against an append-only ledger: erasing a donor makes them
"Anonim" everywhere and removes what could reach them, while the ledger (which never held a name)
keeps every byte and every hash, and every figure stays."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from donations import services
from donations.models import Collaborator, OutboundMail, Pledge
from ledger import verifier
from tests import factories
from tests.helpers import admin_url
from transparency import figures

pytestmark = pytest.mark.django_db


def _get(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def need(history, province_staff):
    from needs import services as need_services

    return need_services.create(
        site=factories.SiteFactory(name="RW 99"),
        aid_type=factories.AidTypeFactory(),
        title="Paket sembako RW 99",
        quantity_needed=50,
        beneficiaries=20,
        period_start="2020-10-01",
        by=province_staff,
    )


@pytest.fixture
def budi(need):
    """A donor with pledges already in the ledger, a message, a sent mail and an unsent one."""
    budi = factories.CollaboratorFactory(
        public_name="Budi Santoso", email="budi@example.test", phone="+6281299998888"
    )
    pledge = services.pledge(need=need, collaborator=budi, quantity=3, message="Dari keluarga Budi")
    OutboundMail.objects.create(to="budi@example.test", subject="Terima kasih", body="Halo Budi")
    sent = OutboundMail.objects.create(
        to="Budi@Example.test", subject="Komitmen", body="Halo Budi Santoso", pledge=pledge
    )
    OutboundMail.objects.filter(pk=sent.pk).update(sent_at=pledge.created_at)
    from ledger import services as ledger_services

    ledger_services.seal()
    return budi


def _erase(staff, collaborator, reason="Permintaan Budi lewat surel, 1 Des 2026"):
    client = Client()
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    return client.post(
        admin_url(Collaborator, "changelist"),
        {
            "action": "erase_collaborators",
            "_selected_action": [collaborator.pk],
            "apply": "1",
            "reason": reason,
        },
        follow=True,
    )


def test_erasing_a_donor_keeps_every_hash_and_every_figure(client, budi, province_staff):
    ledger_before = _get(client, "/transparansi/buku-besar.jsonl")
    figures_before = figures.compute()
    response = _erase(province_staff, budi)
    assert f"Erased, now “Anonim”: {budi.public_id}." in response.content.decode()

    ledger_after = _get(client, "/transparansi/buku-besar.jsonl")
    assert ledger_after == ledger_before
    assert b"Budi" not in ledger_after
    entries = [__import__("json").loads(line) for line in ledger_after.decode().splitlines()]
    assert list(verifier.check_chain(entries)) == entries
    assert figures.compute()["pledges"] == figures_before["pledges"]

    erased = Collaborator.objects.get(pk=budi.pk)
    assert (erased.public_name, erased.is_anonymous, erased.phone) == ("Anonim", True, "")
    assert erased.email == f"{budi.public_id}@erased.invalid"
    assert erased.erased_by == province_staff and "Permintaan" in erased.erase_reason
    assert Pledge.objects.get(collaborator=budi).message == ""
    mails = list(OutboundMail.objects.values_list("to", "body"))
    assert not any("budi" in to.lower() or "Budi" in body for to, body in mails)
    assert OutboundMail.objects.filter(to=erased.email).count() == 1  # the sent one, emptied

    names = _get(client, "/transparansi/data/ledger_names.csv").decode()
    assert f"{budi.public_id},Anonim," in names
    for url in (
        "/transparansi/",
        "/transparansi/data/pledges.csv",
        "/transparansi/data/collaborators.csv",
    ):
        assert b"Budi" not in _get(client, url), url


def test_the_names_beside_the_ledger_name_its_ids(client, budi):
    names = _get(client, "/transparansi/data/ledger_names.csv").decode()
    assert f"{budi.public_id},Budi Santoso,company" in names
    ledger = _get(client, "/transparansi/buku-besar.jsonl").decode()
    assert budi.public_id in ledger and "Budi" not in ledger


def test_an_erasure_says_on_whose_request_and_happens_once(budi, province_staff, english):
    with pytest.raises(services.PledgeError, match="whose request"):
        services.erase_collaborator(budi, by=province_staff, reason=" ")
    services.erase_collaborator(budi, by=province_staff, reason="Permintaan tertulis")
    with pytest.raises(services.PledgeError, match="already erased"):
        services.erase_collaborator(budi, by=province_staff, reason="lagi")


def test_only_staff_with_the_right_may_erase(budi, jakarta):
    officer = factories.UserFactory(username="petugas", is_staff=True)
    officer.user_permissions.add(Permission.objects.get(codename="view_collaborator"))
    response = _erase(officer, budi)
    assert Collaborator.objects.get(pk=budi.pk).erased_at is None
    assert response.status_code in (200, 403)
    officer.user_permissions.add(Permission.objects.get(codename="erase_personal_data"))
    officer = type(officer).objects.get(pk=officer.pk)  # permissions are cached per object
    from locations.models import Region, StaffArea

    StaffArea.objects.create(user=officer, region=Region.objects.get(code="31.71"))
    _erase(officer, budi)
    assert Collaborator.objects.get(pk=budi.pk).erased_at is not None


def test_a_donor_forgotten_who_pledges_again_starts_anew(budi, need, province_staff):
    services.erase_collaborator(budi, by=province_staff, reason="Permintaan")
    again = services.pledge_from_donor(
        need,
        details=services.DonorDetails(
            public_name="Budi Santoso", kind="individual", email="budi@example.test"
        ),
        quantity=1,
    )
    assert again.collaborator_id != budi.pk and again.collaborator.public_id != budi.public_id
