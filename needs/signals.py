"""What needs tells apps that stand above it, without knowing them (docs/architecture.md).

`need_published(sender=Need, need_ids=[…])` is sent after the commit of a transaction that created
published needs or published a draft (needs.services). It changes nothing and carries no domain
logic: a listener only wakes work of its own (the alerts app's sweep), and a listener that missed it
loses nothing, since that work also runs on a schedule and finds the same needs in their history."""

from django.db import transaction
from django.dispatch import Signal

need_published = Signal()


def announce_published(need_ids: list[int]) -> None:
    """Send need_published once the current transaction commits (at once outside one)."""
    if not need_ids:
        return
    ids = list(need_ids)

    def send():
        from needs.models import Need

        need_published.send(sender=Need, need_ids=ids)

    transaction.on_commit(send)
