"""Mail through a transactional outbox: a mail is written in the same transaction as the change it
reports, with the background job that sends it (donations.tasks.send_mail). No request ever talks to
a mail server: one that is down or hangs never slows or loses a pledge. What could not be sent stays
in the outbox, for staff to see, and is retried with a growing delay (`next_attempt_at`) by the
worker's periodic `send_queued_mail` (or the command of that name, from cron)."""

import datetime
import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError, connection, transaction
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import override

from donations.models import OutboundMail, Pledge
from ksbb.lib import jobs
from locations.models import Site, StaffArea

log = logging.getLogger(__name__)
# Retries wait 1, 2, 4, … minutes, at most an hour: a mail is given up after about five hours.
MAX_ATTEMPTS = 10
FIRST_RETRY = datetime.timedelta(minutes=1)
# After a sent mail's record was lost with the database: the waits before each try to record it
# (a restart or a failover takes seconds; a minute and a half in all).
MARK_SENT_WAITS = (0, 1, 2, 4, 8, 15, 30, 30)
LONGEST_RETRY = datetime.timedelta(hours=1)
# False inside kept_in_outbox(): queue() then defers no job to send the mail.
_DELIVER_AFTER_COMMIT = ContextVar("deliver_after_commit", default=True)


@contextmanager
def kept_in_outbox():
    """Mail queued inside this block stays in the outbox, unsent: no job is deferred to send it.

    For bulk writes that are not real events, such as the demo data (ksbb.demo.writer): its hundreds
    of mails are written like any other, so staff see them in the admin, but none goes out when the
    load commits, nor with the worker's retries (`manage.py send_queued_mail --all` would still
    send them). Only the code that runs inside the block, in this thread, is affected; requests
    never use it.
    """
    token = _DELIVER_AFTER_COMMIT.set(False)
    try:
        yield
    finally:
        _DELIVER_AFTER_COMMIT.reset(token)


def queue(
    to: str, template: str, ctx: dict, *, pledge: Pledge | None = None, language: str | None = None
):
    """Render `donations/email/<template>_subject.txt` and `.txt` and queue them for `to`."""
    ctx = {**ctx, "base_url": settings.KSBB_BASE_URL.rstrip("/")}
    with override(language or (pledge.language if pledge else None)):
        subject = " ".join(_plain(f"donations/email/{template}_subject.txt", ctx).split())
        body = _plain(f"donations/email/{template}.txt", ctx)
    mail = OutboundMail.objects.create(to=to, subject=subject[:200], body=body, pledge=pledge)
    if _DELIVER_AFTER_COMMIT.get():
        from donations import tasks  # tasks imports this module

        jobs.defer(tasks.send_mail, mail_id=mail.pk)
    return mail


def _plain(name: str, ctx: dict) -> str:
    """A mail template rendered as the plain text it is: HTML escaping would only garble a name or
    a title ("&lt;…") in a mail that nothing renders as HTML."""
    return get_template(name).template.render(Context(ctx, autoescape=False))


def area_staff_emails(pledge: Pledge) -> list[str]:
    """Active staff assigned to the need's kelurahan, its kecamatan or its kota: the regions whose
    code is the kelurahan's or a prefix of it (StaffArea's rule), found without reading them."""
    kelurahan = Site.objects.values_list("kelurahan__code", flat=True).get(pk=pledge.need.site_id)
    parts = kelurahan.split(".")
    codes = [".".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return sorted(
        set(
            StaffArea.objects.filter(
                region__code__in=codes, user__is_active=True, user__is_staff=True
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def deliver(pk: int) -> bool:
    """Try to send one queued mail; on failure keep it queued with the error. Raises only when
    the database fails before the mail is sent (the job is then tried again)."""
    sent = None
    try:
        with transaction.atomic():
            mail = (
                OutboundMail.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, sent_at=None)
                .first()
            )
            if mail is None:
                return False
            mail.attempts += 1
            try:
                send_mail(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [mail.to])
            except Exception as e:  # any transport failure: keep the mail for a retry
                mail.last_error = f"{type(e).__name__}: {e}"[:500]
                mail.next_attempt_at = timezone.now() + retry_delay(mail.attempts)
                mail.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                log.warning(
                    "Mail %s to a recipient could not be sent (attempt %s): %s",
                    pk,
                    mail.attempts,
                    e,
                )
                return False
            sent = {"sent_at": timezone.now(), "attempts": mail.attempts}
            OutboundMail.objects.filter(pk=pk).update(**sent, last_error="", next_attempt_at=None)
        return True
    except DatabaseError:
        if sent is None:
            raise
    # The mail server has it, the database went away before saying so: say it once the database
    # is back, rather than let a retry send the donor the same mail twice.
    _mark_sent(pk, **sent)
    return True


def _mark_sent(pk: int, **sent) -> None:
    for wait in MARK_SENT_WAITS:
        time.sleep(wait)
        if (
            not connection.in_atomic_block
        ):  # a dead connection is dropped; the next query reconnects
            connection.close_if_unusable_or_obsolete()
        try:
            OutboundMail.objects.filter(pk=pk).update(**sent, last_error="", next_attempt_at=None)
            return
        except DatabaseError:
            log.warning("Mail %s was sent; the database is not back yet to record it", pk)
    raise DatabaseError(f"mail {pk} was sent, and the database stayed away to record it")


def retry_delay(attempts: int) -> datetime.timedelta:
    """How long to wait after the `attempts`-th failed try."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def deliver_queued(*, due_only: bool = True) -> tuple[int, int]:
    """Send what is still queued (fewer than MAX_ATTEMPTS tries) and due for a retry, or all of it
    (`due_only=False`: an operator who knows the mail server is back). Returns (sent, failed)."""
    sent = failed = 0
    pending = OutboundMail.objects.filter(sent_at=None, attempts__lt=MAX_ATTEMPTS)
    if due_only:
        # Retries only: a new mail has its own job (and kept_in_outbox's none, on purpose).
        pending = pending.filter(attempts__gte=1, next_attempt_at__lte=timezone.now())
    for pk in pending.order_by("pk").values_list("pk", flat=True):
        if deliver(pk):
            sent += 1
        else:
            failed += 1
    return sent, failed
