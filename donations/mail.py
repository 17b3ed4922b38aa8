"""Mail through a transactional outbox: a mail is written in the same transaction as the change it
reports, with the background job that sends it (donations.tasks.send_mail). No request ever talks to
a mail server: one that is down or hangs never slows or loses a pledge. What could not be sent stays
in the outbox, for staff to see, and is retried with a growing delay (`next_attempt_at`) by the
worker's periodic `send_queued_mail` (or the command of that name, from cron)."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import override

from donations.models import OutboundMail, Pledge
from ksbb.lib import jobs, outbox
from locations.models import Site, StaffArea
from locations.scoping import enclosing_codes
from needs.models import Need

log = logging.getLogger(__name__)
# A mail is given up after MAX_ATTEMPTS tries, about five hours (ksbb.lib.outbox).
MAX_ATTEMPTS = outbox.MAX_ATTEMPTS
retry_delay = outbox.retry_delay
# Mail queued inside this block stays in the outbox, unsent (the demo data; ksbb.lib.outbox).
kept_in_outbox = outbox.kept_in_outbox


def queue(
    to: str, template: str, ctx: dict, *, pledge: Pledge | None = None, language: str | None = None
):
    """Render `donations/email/<template>_subject.txt` and `.txt` and queue them for `to`."""
    ctx = {**ctx, "base_url": settings.KSBB_BASE_URL.rstrip("/")}
    with override(language or (pledge.language if pledge else None)):
        subject = " ".join(
            outbox.render_plain(f"donations/email/{template}_subject.txt", ctx).split()
        )
        body = outbox.render_plain(f"donations/email/{template}.txt", ctx)
    mail = OutboundMail.objects.create(to=to, subject=subject[:200], body=body, pledge=pledge)
    if outbox.sends_after_commit():
        from donations import tasks  # tasks imports this module

        jobs.defer(tasks.send_mail, mail_id=mail.pk)
    return mail


def area_staff_emails(pledge: Pledge) -> list[str]:
    """Active staff assigned to the need's kelurahan, its kecamatan or its kota: the regions whose
    code is the kelurahan's or a prefix of it (StaffArea's rule), found without reading them."""
    need = pledge.need
    if Need.site.is_cached(need) and Site.kelurahan.is_cached(need.site):
        kelurahan = need.site.kelurahan.code  # came with the need (services.pledge)
    else:
        kelurahan = Site.objects.values_list("kelurahan__code", flat=True).get(pk=need.site_id)
    codes = enclosing_codes(kelurahan)
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
    """Try to send one queued mail; on failure keep it queued with the error (ksbb.lib.outbox)."""
    return outbox.deliver(OutboundMail, pk, _send)


def _send(mail: OutboundMail) -> None:
    send_mail(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [mail.to])


def deliver_queued(*, due_only: bool = True) -> tuple[int, int]:
    """Send what is still queued and due for a retry, or all of it (`due_only=False`): (sent, failed)."""
    return outbox.deliver_queued(OutboundMail, deliver, due_only=due_only)
