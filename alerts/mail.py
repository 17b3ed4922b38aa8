"""The subscribers' mail, through its own outbox (AlertMail; ksbb.lib.outbox): written in the
transaction that decides it, sent by the worker after the commit, retried with a growing delay.
Alerts and digests carry List-Unsubscribe and List-Unsubscribe-Post (RFC 8058): a mail client's
"unsubscribe" button deletes the subscription in one click, without opening a page."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils.translation import override

from alerts.models import AlertMail, Subscription
from ksbb.lib import jobs, outbox


def link(name: str, subscription: Subscription) -> str:
    """The absolute address of one of the subscription's pages (its token in it)."""
    base = settings.KSBB_BASE_URL.rstrip("/")
    return base + reverse(f"alerts:{name}", args=[subscription.token])


def queue(subscription: Subscription, kind: str, ctx: dict) -> AlertMail:
    """Render `alerts/email/<kind>_subject.txt` and `.txt` in the subscriber's language and queue
    them; alerts and digests carry the one-click unsubscribe link."""
    regular = kind in (AlertMail.Kind.ALERT, AlertMail.Kind.DIGEST)
    unsubscribe = link("unsubscribe", subscription) if regular else ""
    ctx = {
        **ctx,
        "base_url": settings.KSBB_BASE_URL.rstrip("/"),
        "subscription": subscription,
        "confirm_url": link("confirm", subscription),
        "manage_url": link("manage", subscription),
        "unsubscribe_url": link("unsubscribe", subscription),
    }
    with override(subscription.language):
        subject = " ".join(outbox.render_plain(f"alerts/email/{kind}_subject.txt", ctx).split())
        body = outbox.render_plain(f"alerts/email/{kind}.txt", ctx)
    mail = AlertMail.objects.create(
        subscription=subscription,
        kind=kind,
        to=subscription.email,
        subject=subject[:200],
        body=body,
        unsubscribe_url=unsubscribe,
    )
    if outbox.sends_after_commit():
        from alerts import tasks  # tasks imports this module

        jobs.defer(tasks.send_alert_mail, mail_id=mail.pk)
    return mail


def headers(mail: AlertMail) -> dict[str, str]:
    if not mail.unsubscribe_url:
        return {}
    return {
        "List-Unsubscribe": f"<{mail.unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _send(mail: AlertMail) -> None:
    message = EmailMessage(
        mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, [mail.to], headers=headers(mail)
    )
    message.send()


def deliver(pk: int) -> bool:
    """Try to send one queued mail; on failure keep it queued with the error (ksbb.lib.outbox). A
    mail whose subscription was deleted went with it, and is not sent."""
    return outbox.deliver(AlertMail, pk, _send)


def deliver_queued(*, due_only: bool = True) -> tuple[int, int]:
    return outbox.deliver_queued(AlertMail, deliver, due_only=due_only)
