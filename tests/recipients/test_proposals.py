"""A contact person proposes a different quantity, "no longer needed", or a new need at their site.
Nothing changes until staff of the area approve it through the needs services; a refusal says why."""

import pytest
from django.test import Client

from donations import services as donation_services
from needs import services
from needs.models import AidType, Need, Proposal
from tests import factories

pytestmark = pytest.mark.django_db
PROPOSALS = "/admin/needs/proposal/"


def _propose(client, url, need, **data):
    return client.post(
        f"{url}kebutuhan/{need.pk}/usul/", {f"n{need.pk}-{k}": v for k, v in data.items()}
    )


def _decide(staff_client, proposal, action, reason=""):
    return staff_client.post(
        PROPOSALS,
        {"action": action, "_selected_action": [proposal.pk], "apply": "1", "reason": reason},
        follow=True,
    )


def test_a_different_quantity_waits_for_staff_then_applies(
    client, url, need, staff_client, province_staff
):
    response = _propose(client, url, need, kind="quantity", quantity=150, note="Warga bertambah")
    assert response.status_code == 303
    proposal = Proposal.objects.get()
    assert proposal.status == "pending" and proposal.contact.name == "Pak Darto"
    assert Need.objects.get(pk=need.pk).quantity_needed == 100  # nothing changes by itself

    _decide(staff_client, proposal, "approve_proposals", "Dicek ke RW")
    need.refresh_from_db()
    assert need.quantity_needed == 150
    change = need.history.first()
    assert change.history_user == province_staff
    assert f"#{proposal.pk}" in change.history_change_reason
    page = client.get(url).content.decode()
    assert "Disetujui" in page or "Approved" in page


def test_a_quantity_below_what_is_pledged_is_refused_and_stays_pending(
    client, url, need, donor, staff_client
):
    donation_services.pledge(need=need, collaborator=donor, quantity=60)
    _propose(client, url, need, kind="quantity", quantity=50)
    proposal = Proposal.objects.get()
    response = _decide(staff_client, proposal, "approve_proposals")
    assert "60" in response.content.decode()  # the service's message names what is pledged
    proposal.refresh_from_db()
    assert proposal.status == "pending" and Need.objects.get(pk=need.pk).quantity_needed == 100


def test_no_longer_needed_closes_it_unless_pledges_hold_it(client, url, need, donor, staff_client):
    _propose(client, url, need, kind="no_longer_needed", note="Sudah dibantu pihak lain")
    _decide(staff_client, Proposal.objects.get(), "approve_proposals")
    assert Need.objects.get(pk=need.pk).is_closed

    held = factories.NeedFactory(site=need.site, title="Beras")
    donation_services.pledge(need=held, collaborator=donor, quantity=5)
    _propose(client, url, held, kind="no_longer_needed")
    proposal = Proposal.objects.get(need=held)
    _decide(staff_client, proposal, "approve_proposals")
    proposal.refresh_from_db()
    assert proposal.status == "pending" and not Need.objects.get(pk=held.pk).is_closed


def test_a_new_need_is_created_on_approval(client, url, site, staff_client):
    aid_type = AidType.objects.filter(is_active=True).first()
    response = client.post(
        f"{url}usul-kebutuhan/",
        {
            "new-aid_type": aid_type.pk,
            "new-title": "Seragam untuk 20 murid",
            "new-quantity": 20,
            "new-beneficiaries": 20,
            "new-note": "<script>alert(1)</script>",
        },
    )
    assert response.status_code == 303
    proposal = Proposal.objects.get()
    assert not Need.objects.filter(title="Seragam untuk 20 murid").exists()
    admin_page = staff_client.get(f"{PROPOSALS}{proposal.pk}/change/").content.decode()
    assert "<script>alert(1)</script>" not in admin_page  # hostile text, escaped
    _decide(staff_client, proposal, "approve_proposals")
    proposal.refresh_from_db()
    created = proposal.created_need
    assert created.site == site and created.quantity_needed == 20 and created.published
    assert Client().get(created.get_absolute_url()).status_code == 200


def test_a_refusal_says_why(client, url, need, staff_client):
    _propose(client, url, need, kind="quantity", quantity=300)
    proposal = Proposal.objects.get()
    _decide(staff_client, proposal, "refuse_proposals", "")  # a reason is required
    proposal.refresh_from_db()
    assert proposal.status == "pending"
    _decide(staff_client, proposal, "refuse_proposals", "Anggaran RW hanya untuk 100 paket")
    proposal.refresh_from_db()
    assert proposal.status == "refused"
    assert "Anggaran RW hanya untuk 100 paket" in client.get(url).content.decode()
    with pytest.raises(services.NeedError):
        services.approve_proposal(proposal, by=None)


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "quantity"},
        {"kind": "quantity", "quantity": 0},
        {"kind": "quantity", "quantity": "seratus"},
        {"kind": "quantity", "quantity": 100},  # what is already published
        {"kind": "delete_everything"},
        {"kind": "no_longer_needed", "note": "x" * 1001},
    ],
)
def test_bad_proposals_change_nothing(client, url, need, data):
    assert _propose(client, url, need, **data).status_code == 400
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"new-title": "Beras", "new-quantity": 5},  # no aid type
        {"new-aid_type": "999999", "new-title": "Beras", "new-quantity": 5},
        {"new-aid_type": "AID", "new-title": "", "new-quantity": 5},
        {"new-aid_type": "AID", "new-title": "Beras", "new-quantity": 0},
        {"new-aid_type": "AID", "new-title": "x" * 201, "new-quantity": 5},
    ],
)
def test_bad_new_needs_change_nothing(client, url, data):
    aid_type = AidType.objects.filter(is_active=True).first()
    data = {k: (aid_type.pk if v == "AID" else v) for k, v in data.items()}
    assert client.post(f"{url}usul-kebutuhan/", data).status_code == 400
    assert not Proposal.objects.exists()


def test_another_sites_need_is_out_of_reach(client, url):
    elsewhere = factories.NeedFactory()
    assert _propose(client, url, elsewhere, kind="quantity", quantity=5).status_code == 404
    assert not Proposal.objects.exists()


def test_a_flood_of_proposals_is_stopped(client, url, need, monkeypatch):
    monkeypatch.setattr(services, "MAX_PENDING_PER_SITE", 2)
    assert _propose(client, url, need, kind="quantity", quantity=101).status_code == 303
    assert _propose(client, url, need, kind="quantity", quantity=102).status_code == 303
    assert _propose(client, url, need, kind="quantity", quantity=103).status_code == 400
    assert Proposal.objects.count() == 2


def test_another_areas_officer_cannot_decide(client, url, need, other_area_officer):
    _propose(client, url, need, kind="quantity", quantity=150)
    officer = Client()
    officer.force_login(other_area_officer)
    officer.post(
        PROPOSALS,
        {
            "action": "approve_proposals",
            "_selected_action": [Proposal.objects.get().pk],
            "apply": "1",
        },
    )
    assert Proposal.objects.get().status == "pending"
    assert Need.objects.get(pk=need.pk).quantity_needed == 100
