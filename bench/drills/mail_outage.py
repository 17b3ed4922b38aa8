"""Drill: the mail server hangs, then refuses, under load.

The portal (gunicorn, DEBUG off, on a cluster of the drill's own) and its background worker
(`manage.py procrastinate worker`) send mail to a small SMTP server of the drill's
(bench/drills/smtp.py) while a steady crowd browses and pledges (bench/drills/load.py). After a
baseline the server hangs (takes the TCP connection and never answers), then goes away (the port
refuses), then comes back. No request talks to a mail server: a pledge writes its mail to the
outbox with a job for the worker, in the pledge's own transaction. Promises checked:
- pledges are accepted throughout, and answer at their usual speed while the server hangs and
  while it refuses: the pledge POSTs' p95 in each fault phase is at most RATIO_BOUND times the
  baseline's, measured just before in the same run (a ratio: the machine's speed cancels out);
- public pages keep answering;
- their mails wait in the outbox meanwhile (the worker's tries fail after EMAIL_TIMEOUT, or at
  once, and are kept with their error and a retry time);
- once the server is back, the worker sends what it still has queued, and `send_queued_mail --all`
  (what an operator runs when the server is known to be back, instead of waiting for the backoff of
  1, 2, 4 … minutes) the rest: each donor's mail exactly once, with the link to their own pledge;
- and what every drill under load ends with: no need over-committed, no accepted pledge lost, no
  mail sent twice.
"""

import email
import email.policy
import time

from bench import server as portal
from bench.drills.common import Gunicorn, Verdict, run, say
from bench.drills.load import (
    Crowd,
    Worker,
    final_checks,
    ms,
    ok,
    stage,
    unsent_mail,
    wait_until,
    warm_up,
)
from bench.drills.smtp import HungServer, SmtpServer

WARM_S, BASELINE_S, HANG_S, REFUSED_S, BACK_S = 5, 15, 15, 10, 8
EMAIL_TIMEOUT = 5
RATIO_BOUND = 2.0


def main() -> int:
    verdict = Verdict("Mail outage drill")
    say("Drill: the mail server hangs, then refuses, under load")
    with stage() as (work, cluster, needs, hot):
        from donations.models import OutboundMail

        smtp_port, received = portal.free_port(), []
        smtp = SmtpServer(smtp_port, received).__enter__()
        with (
            Gunicorn(
                cluster.url,
                work,
                EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
                EMAIL_TIMEOUT=str(EMAIL_TIMEOUT),
            ) as app,
            Worker(app.env, work) as worker,
        ):
            worker.wait_registered()
            warm_up(app.url)
            say(
                f"  own cluster, {len(needs)} needs ({len(hot)} small); gunicorn (3 workers) "
                f"and the worker mail to 127.0.0.1:{smtp_port}; EMAIL_TIMEOUT {EMAIL_TIMEOUT} s"
            )
            with Crowd([app.url], needs, hot) as crowd:
                time.sleep(WARM_S)  # every gunicorn worker's first requests are slower
                t0 = crowd.mark("baseline")
                time.sleep(BASELINE_S)
                smtp.__exit__()
                with HungServer(smtp_port) as hung:
                    t_hang = crowd.mark("hang")
                    say(f"  {t_hang - t0:.0f} s: the mail server hangs (accepts, never answers)")
                    time.sleep(HANG_S)
                    say(f"    it holds {len(hung.held)} connections; {unsent_mail()} unsent")
                t_refused = crowd.mark("refused")
                say(f"  {t_refused - t0:.0f} s: the mail server is gone (connection refused)")
                time.sleep(REFUSED_S)
                waiting = OutboundMail.objects.filter(sent_at=None)
                outage = {
                    "unsent": waiting.count(),
                    "tried": waiting.exclude(last_error="").count(),
                    "errors": sorted(
                        {e.split(":")[0] for e in waiting.values_list("last_error", flat=True)}
                        - {""}
                    ),
                    "retry_set": waiting.exclude(next_attempt_at=None).count(),
                }
                before_back = len(received)
                smtp = SmtpServer(smtp_port, received).__enter__()
                t_back = crowd.mark("back")
                say(f"  {t_back - t0:.0f} s: the mail server is back")
                time.sleep(BACK_S)
                by_worker = len(received) - before_back
                left = unsent_mail()
                output = app.manage("send_queued_mail", "--all")
                say(
                    f"    after {BACK_S} s, {left} mails were still unsent (their retry not "
                    f"due yet); send_queued_mail --all: “{output}”"
                )
                t_end = crowd.mark("stop")
            drained = wait_until(lambda: unsent_mail() == 0, 60)

            phases = {
                "baseline": (t0, t_hang),
                "hang": (t_hang, t_refused),
                "refused": (t_refused, t_back),
                "back": (t_back, t_end),
            }
            crowd.report_phases(phases)
            failed = [p for p in crowd.pledges() if p.outcome in ("failed", "form failed")]
            verdict.check(
                not failed and all(crowd.posts(*phases[name]) for name in phases),
                "pledges are accepted throughout",
                f"{len(crowd.accepted)} accepted, {len(failed)} failed"
                + (
                    f" (first: {failed[0].answer.status or failed[0].answer.error})"
                    if failed
                    else ""
                ),
            )
            base, _ = crowd.pledge_p95(*phases["baseline"])
            for name in ("hang", "refused"):
                fault, _ = crowd.pledge_p95(*phases[name])
                verdict.check(
                    fault <= RATIO_BOUND * base,
                    f"pledges answer at their usual speed while the server {name}s"
                    if name == "hang"
                    else "pledges answer at their usual speed while the server refuses",
                    f"POST p95 {ms(fault)} against {ms(base)} before: "
                    f"×{fault / base:.2f} (bound ×{RATIO_BOUND})",
                )
            bad_reads = [a for a in crowd.reads(t0, t_end) if not ok(a)]
            verdict.check(
                not bad_reads,
                "public pages keep answering",
                f"{len(crowd.reads(t0, t_end)) - len(bad_reads)} of "
                f"{len(crowd.reads(t0, t_end))} succeeded",
            )
            verdict.check(
                outage["unsent"] > 0 and outage["tried"] > 0 and outage["retry_set"] > 0,
                "meanwhile their mails wait in the outbox, with the error and a retry time",
                f"{outage['unsent']} unsent, {outage['tried']} tried and failed "
                f"({', '.join(outage['errors'])}), {outage['retry_set']} with a retry time",
            )
            verdict.check(
                drained is not None,
                "once the server is back, every mail goes out",
                f"the worker sent {by_worker} by itself within {BACK_S} s of its return, "
                f"send_queued_mail --all the rest; the outbox was empty "
                + (f"{drained:.1f} s after the load" if drained is not None else "never"),
            )
            final_checks(verdict, crowd.accepted, received)
            _own_links(verdict, crowd.accepted, received)
            if verdict.broken:
                say("  gunicorn's log ends:\n" + app.log_tail())
                say("  the worker's log ends:\n" + worker.log_tail())
        smtp.__exit__()
    return verdict.exit_code()


def _own_links(verdict: Verdict, accepted: set[str], received: list) -> None:
    from donations.models import Pledge

    texts: dict[str, str] = {}
    for m in received:
        parsed = email.message_from_bytes(m.data, policy=email.policy.default)
        part = parsed.get_body(("plain",))
        for to in m.recipients:
            texts[to.lower()] = texts.get(to.lower(), "") + (part.get_content() if part else "")
    linked = sum(
        1
        for token, address in Pledge.objects.filter(token__in=accepted).values_list(
            "token", "collaborator__email"
        )
        if f"/komitmen/{token}/" in texts.get(address.lower(), "")
    )
    verdict.check(
        linked == len(accepted),
        "each donor's mail carries the link to their own pledge",
        f"{linked} of {len(accepted)}",
    )


if __name__ == "__main__":
    run(main)
