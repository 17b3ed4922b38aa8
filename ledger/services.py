"""Appending to the public ledger, and sealing it (ledger.models says how the two fit)."""

import datetime
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ksbb.lib import jobs
from ledger.chain import GENESIS, entry_hash, format_at
from ledger.models import Checkpoint, Entry, Event

# Only what JSON carries the same way in every language: no floats, no dates (write them as text).
PUBLIC_TYPES = (int, str, bool, type(None))
# One sealer at a time, on any worker or command (pg_advisory_xact_lock's key).
SEAL_LOCK = 0x4B53_4242_1ED6  # "KSBB" "LEDG"
SEAL_BATCH = 2000


class LedgerError(ValueError):
    pass


def record(kind: str, data: dict) -> None:
    """Append a public change to the ledger, in the caller's transaction: it exists exactly when the
    change was committed. `data` holds an "id" and public values only."""
    record_many(kind, [data])


def record_override(rule: str, subject: int, by) -> None:
    """A superuser setting aside a "no one checks their own work" rule (docs/staff.md), for everyone
    to see: which rule, on what, by which staff account (its number; the reason stays with staff)."""
    record(
        "override", {"id": f"{rule}:{subject}", "rule": rule, "subject": subject, "staff": by.pk}
    )


def record_many(kind: str, states: list[dict]) -> None:
    """record() for many rows at once, in one insert (imports, the demo)."""
    if not settings.KSBB_LEDGER or not states:
        return
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError(
            "ledger.record belongs in the change's transaction."
        )
    for data in states:
        if "id" not in data or any(not isinstance(v, PUBLIC_TYPES) for v in data.values()):
            raise LedgerError(f"a ledger entry holds an id and plain values only: {data!r}")
    at = timezone.now()
    Event.objects.bulk_create(Event(kind=kind, at=at, data=data) for data in states)
    _ask_for_a_seal()


# The seal job is asked for at most once a SEAL_DELAY per process, and runs SEAL_DELAY later: it then
# chains every event of that second in one go. Asking at each change would cost every pledge a
# refused insert into the job queue (its queueing lock), a third of its time with 20 donors at once.
SEAL_DELAY = 1
_next_ask = 0.0


def _ask_for_a_seal() -> None:
    global _next_ask
    now = time.monotonic()
    if now < _next_ask:
        return
    _next_ask = now + SEAL_DELAY
    from ledger import tasks

    jobs.defer_once(tasks.seal, key="ledger_seal", lock="ledger_seal", delay_seconds=SEAL_DELAY)


def head() -> tuple[int, str]:
    last = Entry.objects.order_by("-seq").values_list("seq", "hash").first()
    return last or (0, GENESIS)


def seal() -> int:
    """Number the committed events in order and chain them; returns how many were sealed. Safe to
    run anywhere, any time: sealers take turns."""
    sealed = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK])
            events = list(Event.objects.order_by("pk")[:SEAL_BATCH])
            if not events:
                return sealed
            seq, prev = head()
            entries = []
            for event in events:
                seq += 1
                public = {
                    "seq": seq,
                    "at": format_at(event.at),
                    "kind": event.kind,
                    "data": event.data,
                }
                digest = entry_hash(prev, public)
                entries.append(
                    Entry(
                        seq=seq,
                        at=event.at,
                        kind=event.kind,
                        data=event.data,
                        prev_hash=prev,
                        hash=digest,
                    )
                )
                prev = digest
            Entry.objects.bulk_create(entries)
            Event.objects.filter(pk__in=[e.pk for e in events]).delete()
        sealed += len(events)


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


def record_checkpoints(today: datetime.date | None = None) -> list[Checkpoint]:
    """A checkpoint for each day that ended (Jakarta time) since the last one: the last entry sealed
    for a moment of that day or before. Everything committed is sealed first."""
    seal()
    today = today or timezone.localdate()
    last = Checkpoint.objects.order_by("-day").first()
    if last is None:
        first = Entry.objects.order_by("seq").values_list("at", flat=True).first()
        if first is None:
            return []
        day = timezone.localtime(first).date()
    else:
        day = last.day + datetime.timedelta(days=1)
    made = []
    while day < today:
        end = day_bounds(day)[1]
        seq, digest = Entry.objects.filter(at__lt=end).order_by("-seq").values_list(
            "seq", "hash"
        ).first() or (0, GENESIS)
        if last is not None and seq < last.seq:  # sealed late: the chain only grows
            seq, digest = last.seq, last.hash
        last = Checkpoint.objects.create(day=day, seq=seq, hash=digest)
        made.append(last)
        day += datetime.timedelta(days=1)
    return made
