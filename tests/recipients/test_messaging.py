"""WhatsApp and SMS through an HTTP gateway: each message POSTed once, with its reference as an
idempotency key; a gateway that refuses, fails or is away leaves the message queued with its error,
for the worker's retry (or `send_queued_messages`). Tested against a fake gateway on 127.0.0.1."""

import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from ksbb.lib import outbox
from recipients import messaging, services
from recipients.models import OutboundMessage

pytestmark = pytest.mark.django_db


class FakeGateway(ThreadingHTTPServer):
    """Answers each POST with `self.status` and records what it received."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.status = 200
        self.received: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/send"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append({"headers": dict(self.headers), "json": json.loads(body)})
        answer = json.dumps({"id": f"gw-{len(self.server.received)}"}).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    server = FakeGateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.KSBB_MESSAGING_BACKEND = "recipients.messaging.GatewayBackend"
    settings.KSBB_MESSAGING_GATEWAY_URL = server.url
    settings.KSBB_MESSAGING_GATEWAY_TOKEN = "secret-token"
    settings.KSBB_MESSAGING_GATEWAY_TIMEOUT = 2
    yield server
    server.shutdown()
    server.server_close()


def _queued(contact, province_staff) -> OutboundMessage:
    services.send_link(contact, by=province_staff)  # the job runs after the commit: not here
    return OutboundMessage.objects.get()


def test_a_message_is_posted_once_with_its_reference(gateway, contact, province_staff):
    message = _queued(contact, province_staff)
    assert messaging.deliver(message.pk) is True
    [received] = gateway.received
    assert received["json"]["channel"] == "whatsapp"
    assert received["json"]["to"] == "+6281211112222"
    assert "/narahubung/" in received["json"]["text"]
    assert received["headers"]["Authorization"] == "Bearer secret-token"
    assert received["headers"]["Idempotency-Key"] == f"ksbb-message-{message.pk}"
    message.refresh_from_db()
    assert message.sent_at and message.provider_ref == "gw-1" and message.attempts == 1
    assert messaging.deliver(message.pk) is False  # sent: never again
    assert len(gateway.received) == 1


def test_a_refusal_keeps_the_message_for_a_retry(gateway, contact, province_staff):
    gateway.status = 503
    message = _queued(contact, province_staff)
    assert messaging.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.sent_at is None and message.attempts == 1
    assert "503" in message.last_error
    assert message.next_attempt_at > timezone.now() + outbox.retry_delay(1) - datetime.timedelta(
        seconds=5
    )

    # Not due yet; then the gateway is back and the retry is due.
    out = StringIO()
    call_command("send_queued_messages", stdout=out)
    assert out.getvalue().strip() == "0 sent, 0 still failing."
    gateway.status = 200
    OutboundMessage.objects.update(next_attempt_at=timezone.now())
    call_command("send_queued_messages", stdout=out)
    assert out.getvalue().strip().endswith("1 sent, 0 still failing.")
    message.refresh_from_db()
    assert message.sent_at and message.last_error == "" and message.attempts == 2


def test_an_unreachable_gateway_is_an_error_on_the_message(settings, contact, province_staff):
    settings.KSBB_MESSAGING_BACKEND = "recipients.messaging.GatewayBackend"
    settings.KSBB_MESSAGING_GATEWAY_URL = "http://127.0.0.1:9/"  # discard: nothing listens
    message = _queued(contact, province_staff)
    assert messaging.deliver(message.pk) is False
    message.refresh_from_db()
    assert "unreachable" in message.last_error


def test_a_gateway_that_is_not_configured_says_so(settings, contact, province_staff):
    settings.KSBB_MESSAGING_BACKEND = "recipients.messaging.GatewayBackend"
    settings.KSBB_MESSAGING_GATEWAY_URL = ""
    message = _queued(contact, province_staff)
    assert messaging.deliver(message.pk) is False
    message.refresh_from_db()
    assert "KSBB_MESSAGING_GATEWAY_URL" in message.last_error


def test_the_console_prints_the_message(settings, contact, province_staff, capsys):
    settings.KSBB_MESSAGING_BACKEND = "recipients.messaging.ConsoleBackend"
    message = _queued(contact, province_staff)
    assert messaging.deliver(message.pk) is True
    assert "[whatsapp to +6281211112222]" in capsys.readouterr().out


def test_the_demo_keeps_its_messages_unsent(
    contact, province_staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), outbox.kept_in_outbox():
        services.send_link(contact, by=province_staff)
    assert OutboundMessage.objects.get().sent_at is None
    assert not messaging.LocmemBackend.outbox
