"""Whether the live tables still say what the public ledger says (`manage.py verify_ledger`).

Replays the sealed chain (checked link by link) to the latest state of each collaborator, need,
pledge, delivery and receipt, and compares it with the rows as they are now. A row changed without its service (an
UPDATE typed in psql, say) disagrees with its last entry: it is reported with both values. A row
with no entry, and an entry whose row is gone, are reported too.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet

from donations.ledger import collaborator_state, delivery_state, pledge_state, receipt_state
from donations.models import Collaborator, Delivery, Pledge, Receipt
from ledger import services as ledger_services
from ledger.chain import public_entry
from ledger.models import Entry
from ledger.verifier import Mismatch, check_chain, need_counters, need_status, replay
from needs.ledger import need_state
from needs.models import Need

# kind: (the rows, their public state, how a reader names one)
KINDS: dict[str, tuple[Callable[[], QuerySet], Callable, str]] = {
    "collaborator": (lambda: Collaborator.objects.all(), collaborator_state, "collaborator {}"),
    "need": (lambda: Need.objects.all(), need_state, "need #{}"),
    "pledge": (lambda: Pledge.objects.all(), pledge_state, "pledge #{}"),
    "delivery": (lambda: Delivery.objects.all(), delivery_state, "delivery #{}"),
    "receipt": (lambda: Receipt.objects.all(), receipt_state, "receipt of delivery #{}"),
}


@dataclass
class Disagreement:
    kind: str
    id: int | str
    field: str
    ledger: object
    table: object

    def __str__(self):
        name = KINDS[self.kind][2].format(self.id)
        if self.field == "":
            return f"{name}: {self.table if self.ledger is None else self.ledger}"
        return f"{name} {self.field}: ledger {self.ledger!r}, table {self.table!r}"


def _need_counters(need: Need, said: dict, counters: tuple[int, int]) -> list[Disagreement]:
    """A need's counters and status as its pledges' entries make them, against the table's."""
    pledged, delivered = counters
    expected = {
        "quantity_pledged": pledged,
        "quantity_delivered": delivered,
        "status": need_status(said, pledged, delivered),
    }
    return [
        Disagreement("need", need.pk, field, value, getattr(need, field))
        for field, value in expected.items()
        if getattr(need, field) != value
    ]


def entries() -> Iterator[dict]:
    for entry in Entry.objects.order_by("seq").iterator(chunk_size=5000):
        yield public_entry(entry)


def disagreements() -> list[Disagreement]:
    """Seals what is committed, checks the chain (raising ledger.verifier.Mismatch where it
    breaks), then compares every row with its last entry."""
    ledger_services.seal()
    state = replay(check_chain(entries()))
    counters = need_counters(state)
    found = []
    for kind, (rows, public, _name) in KINDS.items():
        said = dict(state.get(kind, {}))
        for row in rows().order_by("pk").iterator(chunk_size=5000):
            now = public(row)
            then = said.pop(now["id"], None)
            if then is None:
                found.append(Disagreement(kind, now["id"], "", None, "not in the ledger"))
                continue
            found += [
                Disagreement(kind, now["id"], field, then.get(field), value)
                for field, value in now.items()
                if then.get(field) != value
            ]
            if kind == "need":
                found += _need_counters(row, then, counters.get(row.pk, (0, 0)))
        found += [
            Disagreement(kind, pk, "", "in the ledger, no longer in the table", None) for pk in said
        ]
    return found


@transaction.atomic
def open_ledger() -> dict[str, int]:
    """Record the current state of every row the ledger has never seen (rows written before the
    portal had a ledger), so that from now on a silent edit of them shows. Rows already in the
    ledger are left alone: their disagreements are for verify_ledger to report, not to paper over."""
    ledger_services.seal()
    known = replay(check_chain(entries()))
    opened = {}
    for kind, (rows, public, _name) in KINDS.items():
        seen = known.get(kind, {})
        opened[kind] = 0
        for row in rows().order_by("pk").iterator(chunk_size=5000):
            state = public(row)
            if state["id"] not in seen:
                ledger_services.record(kind, state)
                opened[kind] += 1
    return opened


__all__ = ["Mismatch", "disagreements", "open_ledger"]
