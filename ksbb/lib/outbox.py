"""Sending the rows of a transactional outbox (the donors' mail, the contact persons' messages).

A row is written in the transaction of the change it reports, with a background job to send it; no
request ever talks to a mail server or a messaging gateway. A row that could not be sent keeps its
error and is tried again later, each wait twice the one before (1, 2, 4, … minutes, at most an
hour): given up after MAX_ATTEMPTS tries, about five hours. An outbox model has `sent_at`,
`attempts`, `last_error` and `next_attempt_at`."""

import datetime
import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DatabaseError, connection, models, transaction
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
FIRST_RETRY = datetime.timedelta(minutes=1)
LONGEST_RETRY = datetime.timedelta(hours=1)
# After a sent row's record was lost with the database: the waits before each try to record it
# (a restart or a failover takes seconds; a minute and a half in all).
MARK_SENT_WAITS = (0, 1, 2, 4, 8, 15, 30, 30)
# False inside kept_in_outbox(): rows are written, and no job is deferred to send them.
_SEND_AFTER_COMMIT = ContextVar("send_after_commit", default=True)


@contextmanager
def kept_in_outbox():
    """Rows queued inside this block stay in their outbox, unsent: no job is deferred to send them.

    For bulk writes that are not real events, such as the demo data (ksbb.demo.writer): its hundreds
    of mails and messages are written like any other, so staff see them in the admin, but none goes
    out when the load commits, nor with the worker's retries (`manage.py send_queued_mail --all`
    would still send them). Only the code that runs inside the block, in this thread, is affected;
    requests never use it."""
    token = _SEND_AFTER_COMMIT.set(False)
    try:
        yield
    finally:
        _SEND_AFTER_COMMIT.reset(token)


def sends_after_commit() -> bool:
    """Whether a row queued now gets its job (False inside kept_in_outbox)."""
    return _SEND_AFTER_COMMIT.get()


class OutboxRow(models.Model):
    """What every outbox row has: when it was written and sent, and its tries. Each outbox adds
    who it is to and what it says, and a partial index on its unsent rows."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    # Set after a failed try (retry_delay); empty until then.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    class Meta:
        abstract = True


def render_plain(name: str, ctx: dict) -> str:
    """A template rendered as the plain text a mail or a message is: HTML escaping would only
    garble a name or a title ("&lt;…") in a text that nothing renders as HTML."""
    return get_template(name).template.render(Context(ctx, autoescape=False))


def retry_delay(attempts: int) -> datetime.timedelta:
    """How long to wait after the `attempts`-th failed try."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def deliver(model: type[models.Model], pk: int, send: Callable[[models.Model], dict]) -> bool:
    """Try to send one unsent row with `send(row)`, which raises on any failure to send and may
    return fields to store with the sending (a provider's reference). On failure the row keeps
    the error and its next try. Raises only when the database fails before the row is sent (its
    job is then tried again)."""
    sent = None
    try:
        with transaction.atomic():
            row = model.objects.select_for_update(skip_locked=True).filter(pk=pk, sent_at=None)
            row = row.first()
            if row is None:
                return False
            row.attempts += 1
            try:
                extra = send(row) or {}
            except Exception as e:  # any transport failure: keep the row for a retry
                row.last_error = f"{type(e).__name__}: {e}"[:500]
                row.next_attempt_at = timezone.now() + retry_delay(row.attempts)
                row.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                log.warning(
                    "%s %s to a recipient could not be sent (attempt %s): %s",
                    model._meta.verbose_name,
                    pk,
                    row.attempts,
                    e,
                )
                return False
            sent = {"sent_at": timezone.now(), "attempts": row.attempts, **extra}
            model.objects.filter(pk=pk).update(**sent, last_error="", next_attempt_at=None)
        return True
    except DatabaseError:
        if sent is None:
            raise
    # The server has it, the database went away before saying so: say it once the database is
    # back, rather than let a retry send the same thing twice.
    _mark_sent(model, pk, **sent)
    return True


def _mark_sent(model: type[models.Model], pk: int, **sent) -> None:
    for wait in MARK_SENT_WAITS:
        time.sleep(wait)
        if (
            not connection.in_atomic_block
        ):  # a dead connection is dropped; the next query reconnects
            connection.close_if_unusable_or_obsolete()
        try:
            model.objects.filter(pk=pk).update(**sent, last_error="", next_attempt_at=None)
            return
        except DatabaseError:
            log.warning("%s %s was sent; the database is not back yet to record it", model, pk)
    raise DatabaseError(f"{model._meta.label} {pk} was sent, and the database stayed away")


def deliver_queued(
    model: type[models.Model], deliver_one: Callable[[int], bool], *, due_only: bool = True
) -> tuple[int, int]:
    """Send what is still queued (fewer than MAX_ATTEMPTS tries) and due for a retry, or all of it
    (`due_only=False`: an operator who knows the server is back). Returns (sent, failed)."""
    sent = failed = 0
    pending = model.objects.filter(sent_at=None, attempts__lt=MAX_ATTEMPTS)
    if due_only:
        # Retries only: a new row has its own job (and one written to stay in the outbox, none).
        pending = pending.filter(attempts__gte=1, next_attempt_at__lte=timezone.now())
    for pk in pending.order_by("pk").values_list("pk", flat=True):
        if deliver_one(pk):
            sent += 1
        else:
            failed += 1
    return sent, failed
