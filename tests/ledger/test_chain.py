"""Every public change is in the ledger, in order and hash-chained: the whole chain downloaded from
the transparency page verifies with the standalone verifier, any byte changed breaks it at that
entry, and the figures the verifier recomputes from the ledger alone equal the page's."""

import copy
import json

import pytest

from donations import services
from ledger import services as ledger_services
from ledger import verifier
from ledger.models import Entry, Event
from tests.ledger.conftest import random_history
from transparency import figures

pytestmark = pytest.mark.django_db


def _download(client) -> list[dict]:
    response = client.get("/transparansi/buku-besar.jsonl")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/jsonl")
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines()]


def test_a_random_history_verifies_and_its_figures_are_the_pages(client, history):
    entries = _download(client)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert {e["kind"] for e in entries} == {"collaborator", "need", "pledge", "delivery", "receipt"}
    assert list(verifier.check_chain(entries)) == entries
    computed = verifier.figures(verifier.replay(entries))
    page = figures.compute()
    for name in verifier.figures(verifier.replay([])):
        if name in page:
            assert computed[name] == page[name], name
    assert computed["pledges"] > 0 and computed["deliveries"] > 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_other_histories_agree_too(client, jakarta, province_staff, seed):
    random_history(seed, province_staff, needs=3, pledges=8)
    computed = verifier.figures(verifier.replay(verifier.check_chain(_download(client))))
    page = figures.compute()
    assert {k: v for k, v in computed.items() if k in page} == {
        k: page[k] for k in computed if k in page
    }


def _tamper(entry: dict, how: str) -> None:
    if how == "data":
        key = sorted(entry["data"])[-1]
        value = entry["data"][key]
        entry["data"][key] = (
            (value + 1) if isinstance(value, int) and not isinstance(value, bool) else f"{value}x"
        )
    elif how == "at":
        entry["at"] = entry["at"].replace("Z", "1Z")
    elif how == "kind":
        entry["kind"] += "s"
    elif how == "hash":
        entry["hash"] = entry["hash"][:-1] + ("0" if entry["hash"][-1] != "0" else "1")


@pytest.mark.parametrize("how", ["data", "at", "kind", "hash"])
def test_changing_any_entry_breaks_the_chain_at_that_entry(client, history, how):
    entries = _download(client)
    for i in range(len(entries)):
        changed = copy.deepcopy(entries)
        _tamper(changed[i], how)
        with pytest.raises(verifier.Mismatch, match=f"^entry {i + 1}: "):
            list(verifier.check_chain(changed))


def test_a_removed_or_reordered_entry_is_a_gap(client, history):
    entries = _download(client)
    with pytest.raises(verifier.Mismatch, match="^entry 3: expected entry 2"):
        list(verifier.check_chain(entries[:1] + entries[2:]))
    with pytest.raises(verifier.Mismatch, match="expected entry 1"):
        list(verifier.check_chain(entries[1:] + entries[:1]))


def test_the_ledger_holds_no_personal_data_and_no_private_token(client, jakarta, province_staff):
    random_history(5, province_staff)
    text = json.dumps(_download(client), ensure_ascii=False)
    from donations.models import Collaborator, Pledge

    for c in Collaborator.objects.all():
        assert c.email not in text and c.public_name not in text
        assert c.public_id in text or not c.pledges.exists()
    for p in Pledge.objects.all():
        assert p.token not in text
    assert "Bu Wati" not in text and "belum sampai" not in text and "diantar ulang" not in text


def test_events_wait_for_the_seal_then_leave_no_gap(need, donor):
    assert Event.objects.count() == 1 and not Entry.objects.exists()  # the donor registered
    services.pledge(need=need, collaborator=donor, quantity=5)
    assert Event.objects.count() == 2 and not Entry.objects.exists()
    assert ledger_services.seal() == 2
    assert ledger_services.seal() == 0
    services.pledge(need=need, collaborator=donor, quantity=5)
    services.pledge(need=need, collaborator=donor, quantity=5)
    ledger_services.seal()
    assert list(Entry.objects.values_list("seq", flat=True)) == [1, 2, 3, 4]
    entries = list(Entry.objects.order_by("seq"))
    assert entries[0].prev_hash == verifier.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert [e.kind for e in entries] == ["collaborator"] + ["pledge"] * 3
    assert not Event.objects.exists()


def test_a_change_undone_leaves_nothing_in_the_ledger(need, donor):
    ledger_services.seal()
    with pytest.raises(services.PledgeError):
        services.pledge(need=need, collaborator=donor, quantity=1000)
    assert not Event.objects.exists()


def test_the_ledger_can_be_switched_off_to_measure_it(need, donor, settings):
    ledger_services.seal()
    settings.KSBB_LEDGER = False
    services.pledge(need=need, collaborator=donor, quantity=5)
    assert not Event.objects.exists()


def test_only_plain_public_values_go_in(db):
    from django.db import transaction

    with transaction.atomic():
        with pytest.raises(ledger_services.LedgerError):
            ledger_services.record("pledge", {"quantity": 1})
        with pytest.raises(ledger_services.LedgerError):
            ledger_services.record("pledge", {"id": 1, "share": 0.5})
