"""The headline figures of a past day as the public ledger recorded them (`/transparansi/?as_of=`):
replayed from the entries recorded by the end of that day (Jakarta time), by the standalone
verifier's own definitions (`ledger.verifier.figures`), so anyone reproduces them with
`verify_ledger.py ksbb-ledger.jsonl --as-of DAY`.

The page's other figures for that day come from the tables, as known today: they count a delivery
by its delivery date, even one recorded days later. The ledger counts what had been recorded by
then, and what no later edit can change. Both are shown; where they differ, the page says so.
"""

import datetime

from django.db.models import Max
from django.utils import timezone

from ksbb.lib import snapshots
from ledger import verifier
from ledger.chain import public_entry
from ledger.models import Entry
from transparency.figures import end_of_day


def ledger_figures(as_of: datetime.date) -> dict:
    """As last built by the worker (raises snapshots.NotReady until then)."""
    return snapshots.snapshot("ledger_as_of", [as_of])


def _build(parts) -> dict:
    day = datetime.date.fromisoformat(parts[0])
    recorded = Entry.objects.filter(at__lt=end_of_day(day)).order_by("seq")
    counted = 0

    def entries():
        nonlocal counted
        for entry in recorded.iterator(chunk_size=5000):
            counted += 1
            yield public_entry(entry)

    computed = verifier.figures(verifier.replay(entries()))
    first = Entry.objects.order_by("seq").values_list("at", flat=True).first()
    return {
        "figures": computed,
        "entries": counted,
        # The ledger began after this day: nothing of it can come from the ledger.
        "began": timezone.localdate(first) if first and not counted else None,
    }


def _version() -> str:
    # Sealing adds entries; one sealed late may still fall in a past day.
    return str(Entry.objects.aggregate(last=Max("seq"))["last"] or 0)


snapshots.register(
    "ledger_as_of", _build, version=_version, expensive=True, period=snapshots.PUBLIC_PERIOD
)
