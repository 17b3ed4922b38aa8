"""Messages to contact persons through an outbox (recipients.models.OutboundMessage): written with
the change they report, sent by the worker after the commit (recipients.tasks), retried with a
growing delay like the donors' mail (ksbb.lib.outbox). No request talks to a gateway.

E-mail goes through Django's mail (EMAIL_URL); WhatsApp and SMS through the backend named by
KSBB_MESSAGING_BACKEND, one small interface (`send(channel, to, body) -> reference`):

- `recipients.messaging.ConsoleBackend` (development): prints each message;
- `recipients.messaging.GatewayBackend`: POSTs each message as JSON to an HTTP gateway
  (KSBB_MESSAGING_GATEWAY_URL, docs/recipients.md), the shape most SMS/WhatsApp providers or a thin
  adapter in front of them accept;
- `recipients.messaging.LocmemBackend` (tests): keeps them in `LocmemBackend.outbox`.
"""

import json
import sys
import threading
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string
from django.utils.translation import override

from ksbb.lib import jobs, outbox
from locations.models import ContactPerson
from recipients.models import Channel, ContactLink, OutboundMessage

MAX_ATTEMPTS = outbox.MAX_ATTEMPTS


class GatewayError(Exception):
    """The gateway refused the message or could not be reached; it is tried again later."""


class ConsoleBackend:
    _lock = threading.Lock()

    def send(self, channel: str, to: str, body: str, reference: str) -> str:
        with self._lock:
            sys.stdout.write(f"[{channel} to {to}] {body}\n{'-' * 79}\n")
            sys.stdout.flush()
        return ""


class LocmemBackend:
    outbox: list[dict] = []

    def send(self, channel: str, to: str, body: str, reference: str) -> str:
        self.outbox.append({"channel": channel, "to": to, "body": body, "reference": reference})
        return f"locmem-{len(self.outbox)}"


class GatewayBackend:
    """One POST per message: `{"channel", "to", "text", "reference"}` with a bearer token and an
    `Idempotency-Key`, so that a gateway which honours it never sends a retried message twice.
    Any 2xx answer is success; its JSON `id`, when there is one, is kept as the reference."""

    def send(self, channel: str, to: str, body: str, reference: str) -> str:
        url = settings.KSBB_MESSAGING_GATEWAY_URL
        if not url:
            raise GatewayError("KSBB_MESSAGING_GATEWAY_URL is not set")
        payload = json.dumps({"channel": channel, "to": to, "text": body, "reference": reference})
        headers = {"Content-Type": "application/json", "Idempotency-Key": reference}
        if settings.KSBB_MESSAGING_GATEWAY_TOKEN:
            headers["Authorization"] = f"Bearer {settings.KSBB_MESSAGING_GATEWAY_TOKEN}"
        request = urllib.request.Request(url, payload.encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(
                request, timeout=settings.KSBB_MESSAGING_GATEWAY_TIMEOUT
            ) as response:
                answer = response.read(10_000)
        except urllib.error.HTTPError as e:
            raise GatewayError(f"gateway answered {e.code}: {e.read(200)!r}") from None
        except (OSError, ValueError) as e:  # refused, unreachable, timed out, bad URL
            raise GatewayError(f"gateway unreachable: {e}") from None
        try:
            return str(json.loads(answer).get("id", ""))[:100]
        except (ValueError, AttributeError):
            return ""


def backend():
    return import_string(settings.KSBB_MESSAGING_BACKEND)()


def address(contact: ContactPerson) -> tuple[str, str]:
    """(channel, to) for a message to `contact`, by the channel they use."""
    if contact.channel == Channel.EMAIL:
        return Channel.EMAIL, contact.email
    return contact.channel, contact.phone


def queue(
    contact: ContactPerson, template: str, ctx: dict, *, link: ContactLink | None = None
) -> OutboundMessage:
    """Render `recipients/messages/<template>.txt` (and `_subject.txt` for e-mail) in Indonesian,
    the language of every contact person today, and queue it by the contact's channel."""
    channel, to = address(contact)
    ctx = {**ctx, "contact": contact, "base_url": settings.KSBB_BASE_URL.rstrip("/")}
    with override(settings.LANGUAGE_CODE):
        body = outbox.render_plain(f"recipients/messages/{template}.txt", ctx).strip()
        subject = ""
        if channel == Channel.EMAIL:
            subject = " ".join(
                outbox.render_plain(f"recipients/messages/{template}_subject.txt", ctx).split()
            )
    message = OutboundMessage.objects.create(
        channel=channel, to=to, subject=subject[:200], body=body, contact=contact, link=link
    )
    if outbox.sends_after_commit():
        from recipients import tasks  # tasks imports this module

        jobs.defer(tasks.send_message, message_id=message.pk)
    return message


def _send(message: OutboundMessage) -> dict:
    reference = f"ksbb-message-{message.pk}"
    if message.channel == Channel.EMAIL:
        send_mail(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.to])
        return {}
    return {"provider_ref": backend().send(message.channel, message.to, message.body, reference)}


def deliver(pk: int) -> bool:
    """Try to send one queued message; on failure keep it queued with the error."""
    return outbox.deliver(OutboundMessage, pk, _send)


def deliver_queued(*, due_only: bool = True) -> tuple[int, int]:
    """Send what is due for a retry, or all that is unsent (`due_only=False`): (sent, failed)."""
    return outbox.deliver_queued(OutboundMessage, deliver, due_only=due_only)
