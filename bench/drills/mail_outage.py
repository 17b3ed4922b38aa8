"""Drill: the mail server is unreachable.

The portal (gunicorn, DEBUG off, on a cluster of the drill's own) sends mail to a port where
nothing listens. Promises checked:
- pledges are still accepted, by the form and by the API; also while a server takes the
  connection and never answers (then the pledge's answer waits EMAIL_TIMEOUT);
- their mails wait in the outbox (OutboundMail) unsent, with the error, and `send_queued_mail`
  retries them (still failing while the server is away);
- once a mail server is back (a tiny local SMTP server), `send_queued_mail` delivers every one,
  each donor's with the link to their own pledge.
"""

import email
import shutil
import socket
import tempfile
from pathlib import Path

from bench import server as portal
from bench.drills.common import Browser, Cluster, Gunicorn, Verdict, run, say, seed, setup_django
from bench.drills.smtp import SmtpServer

FORM_PLEDGES, API_PLEDGES = 3, 2


def _text(message) -> str:
    parsed = email.message_from_bytes(message.data)
    parts = parsed.walk() if parsed.is_multipart() else [parsed]
    return "".join(
        p.get_payload(decode=True).decode(p.get_content_charset() or "utf-8", "replace")
        for p in parts
        if p.get_content_type() == "text/plain"
    )


def main() -> int:
    verdict = Verdict("Mail outage drill")
    say("Drill: the mail server is unreachable")
    work = Path(tempfile.mkdtemp(prefix="ksbb-drill-"))
    try:
        with Cluster() as cluster:
            setup_django(cluster.url)
            needs = seed(20)
            from django.db import connections

            from donations.mail import MAX_ATTEMPTS
            from donations.models import OutboundMail

            connections.close_all()
            smtp_port = portal.free_port()  # nothing listens there until the server comes back
            with Gunicorn(
                cluster.url, work, EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}", EMAIL_TIMEOUT="5"
            ) as app:
                say(f"  portal mails to 127.0.0.1:{smtp_port}, where nothing listens")
                browser = Browser(app.url)
                answers = [
                    browser.pledge_by_form(needs[i], f"form-{i}@drill.invalid")
                    for i in range(FORM_PLEDGES)
                ] + [
                    browser.pledge_by_api(needs[FORM_PLEDGES + i], f"api-{i}@drill.invalid")
                    for i in range(API_PLEDGES)
                ]
                tokens = [a.pledge_token for a in answers if a.method == "POST"]
                slowest = max(a.ended - a.started for a in answers)
                verdict.check(
                    len(tokens) == FORM_PLEDGES + API_PLEDGES and all(tokens),
                    "pledges are accepted while mail is down",
                    f"answers {[a.status for a in answers if a.method == 'POST']}, "
                    f"slowest {slowest * 1000:.0f} ms",
                )

                def outbox():
                    return OutboundMail.objects.filter(pledge__token__in=tokens)

                def state() -> str:
                    rows = list(outbox().values_list("sent_at", "attempts", "last_error"))
                    sent = sum(1 for s, _, _ in rows if s)
                    tries = sorted({a for _, a, _ in rows})
                    errors = {e.split(":")[0] for s, _, e in rows if not s and e}
                    return (
                        f"{len(rows)} mails, {sent} sent, attempts {tries}, errors {sorted(errors)}"
                    )

                queued = outbox().count()
                verdict.check(
                    queued >= len(tokens)
                    and not outbox().exclude(sent_at=None).exists()
                    and not outbox().filter(last_error="").exists(),
                    "their mails wait in the outbox with the error",
                    state(),
                )
                output = app.manage("send_queued_mail")
                verdict.check(
                    output == f"0 sent, {queued} still failing."
                    and not outbox().exclude(attempts=2).exists(),
                    "send_queued_mail retries them while the server is away",
                    f"“{output}”; {state()} (given up after {MAX_ATTEMPTS} attempts)",
                )
                # A server that takes the connection and never answers: smtplib waits for
                # its greeting until EMAIL_TIMEOUT, inside the pledge's request.
                with socket.create_server(("127.0.0.1", smtp_port)):
                    hung = browser.pledge_by_api(needs[-1], "hung@drill.invalid")
                if hung.pledge_token:
                    tokens.append(hung.pledge_token)
                queued = outbox().count()
                verdict.check(
                    bool(hung.pledge_token) and outbox().filter(sent_at=None).count() == queued,
                    "a pledge is accepted while the mail server hangs",
                    f"answer {hung.status} after {hung.ended - hung.started:.1f} s "
                    f"(EMAIL_TIMEOUT is {app.env['EMAIL_TIMEOUT']} s); {state()}",
                )
                with SmtpServer(smtp_port) as smtp:
                    say(f"  a local SMTP server listens on 127.0.0.1:{smtp_port} now")
                    output = app.manage("send_queued_mail")
                    received = list(smtp.messages)
                verdict.check(
                    output == f"{queued} sent, 0 still failing."
                    and not outbox().filter(sent_at=None).exists()
                    and len(received) == queued,
                    "once the server is back, send_queued_mail delivers every one",
                    f"“{output}”; the server received {len(received)}; {state()}",
                )
                by_recipient = {m.recipients[0]: _text(m) for m in received if m.recipients}
                from donations.models import Pledge

                linked = sum(
                    1
                    for p in Pledge.objects.filter(token__in=tokens).select_related("collaborator")
                    if f"/komitmen/{p.token}/" in by_recipient.get(p.collaborator.email, "")
                )
                verdict.check(
                    linked == len(tokens),
                    "each donor's mail carries the link to their own pledge",
                    f"{linked} of {len(tokens)}",
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return verdict.exit_code()


if __name__ == "__main__":
    run(main)
