"""Drill: the background worker is killed while it has jobs in hand, and restarted.

The portal (gunicorn, DEBUG off, on a cluster of the drill's own) and its worker (`manage.py
procrastinate worker`, KSBB_WORKER_CONCURRENCY 4) mail through a small SMTP server of the drill's
while a steady crowd browses and pledges. After a baseline the mail server hangs (takes the
connection, never answers; EMAIL_TIMEOUT is longer than the hang), so the worker's mail jobs block
inside their transactions and the rest queue up behind them. Then the drill kills the worker's
process group (SIGKILL) while its jobs are blocked, brings the mail server back, and starts a new
worker. Promises checked:
- at the kill, the worker really had jobs in hand (procrastinate's `doing`), none of them sent;
- pledges are accepted and pages answer throughout: nobody waits on the worker;
- nothing is lost: the new worker sends every mail in the outbox, by itself, within
  DELIVERY_BOUND seconds: the queued jobs at once; the jobs that died with the old worker once
  `ksbb.retry_stalled_jobs` puts them back in the queue (every minute, for a worker whose
  heartbeat is over 60 s old: 50 to 120 s after the kill, by where in the minute it falls; the
  periodic `send_queued_mail` retries only mails that were tried and failed, and these were never
  marked as tried);
- nothing is done twice: each mail is received once. The kill comes while every job in hand waits
  for the mail server's greeting, before anything could be accepted, so a resend is impossible
  here; a SIGKILL between the server's acceptance of a mail and the commit that marks it sent
  could legitimately send it again (docs/deploy.md: at least once), which this drill avoids by
  design rather than measures;
- and what every drill under load ends with: no need over-committed, no accepted pledge lost, no
  mail sent twice.
The mail server hangs by taking new connections without a greeting (SmtpServer.hang()), and
comes back by greeting again: no connection is ever reset, so no mail fails and waits for its
backoff of a minute or more.
"""

import time
from collections import Counter

from bench import server as portal
from bench.drills.common import Gunicorn, Verdict, run, say
from bench.drills.load import (
    Crowd,
    Worker,
    final_checks,
    ok,
    stage,
    unsent_mail,
    wait_until,
    warm_up,
)
from bench.drills.smtp import SmtpServer

WARM_S, BASELINE_S, HANG_S = 5, 6, 8
EMAIL_TIMEOUT = 60  # longer than the hang: the jobs are still waiting when the worker dies
# ksbb.tasks: a worker whose heartbeat (every 10 s) is over 60 s old is dead, and its jobs are put
# back by the next run of retry_stalled_jobs (every minute): at most 120 s after the kill.
DELIVERY_BOUND = 130


def _jobs() -> Counter:
    from procrastinate.contrib.django.models import ProcrastinateJob

    return Counter(ProcrastinateJob.objects.values_list("task_name", "status"))


def _doing(worker_id: int) -> list[tuple[str, dict]]:
    from procrastinate.contrib.django.models import ProcrastinateJob

    return list(
        ProcrastinateJob.objects.filter(status="doing", worker_id=worker_id).values_list(
            "task_name", "args"
        )
    )


def main() -> int:
    verdict = Verdict("Worker killed drill")
    say("Drill: the background worker is killed with jobs in hand, and restarted")
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
            first_id = worker.wait_registered()
            warm_up(app.url)
            say(
                f"  own cluster, {len(needs)} needs; gunicorn (3 workers), the worker "
                f"(concurrency 4) mailing to 127.0.0.1:{smtp_port}; EMAIL_TIMEOUT "
                f"{EMAIL_TIMEOUT} s"
            )
            with Crowd([app.url], needs, hot) as crowd:
                time.sleep(WARM_S)
                t0 = crowd.mark("baseline")
                time.sleep(BASELINE_S)
                sent_before = len(received)
                smtp.hang()
                t_hang = crowd.mark("hang")
                say(
                    f"  {t_hang - t0:.0f} s: the mail server hangs ({sent_before} mails "
                    "received before)"
                )
                time.sleep(HANG_S)
                in_hand = _doing(first_id)
                mails_in_hand = [args["mail_id"] for task, args in in_hand if "mail_id" in args]
                sent_in_hand = OutboundMail.objects.filter(
                    pk__in=mails_in_hand, sent_at__isnull=False
                ).count()
                queued = unsent_mail()
                worker.kill()
                t_kill = crowd.mark("killed")
                say(
                    f"  {t_kill - t0:.0f} s: worker killed (SIGKILL of its process "
                    f"group) with {len(in_hand)} jobs in hand "
                    f"({Counter(t for t, _ in in_hand)}), the mail server holding "
                    f"{smtp.held} connections; {queued} mails unsent"
                )
                smtp.resume()
                worker.start()
                worker.wait_registered(after_id=first_id)
                t_restart = crowd.mark("restarted")
                say(
                    f"  {t_restart - t0:.0f} s: the mail server is back, a new worker "
                    f"started (registered {t_restart - t_kill:.1f} s after the kill)"
                )
                delivered = wait_until(lambda: unsent_mail() == 0, DELIVERY_BOUND, step=1)
                t_end = crowd.mark("stop")
            stray = _doing(first_id)

            phases = {
                "baseline": (t0, t_hang),
                "hang": (t_hang, t_kill),
                "no worker": (t_kill, t_restart),
                "new worker": (t_restart, t_end),
            }
            crowd.report_phases(phases)
            verdict.check(
                len(mails_in_hand) > 0 and sent_in_hand == 0,
                "at the kill, the worker had mail jobs in hand, none sent",
                f"{len(mails_in_hand)} mail jobs doing, {sent_in_hand} of their mails sent; "
                f"{queued} mails unsent in all",
            )
            failed = [p for p in crowd.pledges() if p.outcome in ("failed", "form failed")]
            bad = [a for a in crowd.reads() if not ok(a)]
            verdict.check(
                not failed and not bad and crowd.posts(t_kill, t_end),
                "pledges are accepted and pages answer throughout",
                f"{len(crowd.accepted)} pledges accepted, {len(failed)} failed; "
                f"{len(crowd.reads()) - len(bad)} of {len(crowd.reads())} pages answered",
            )
            requeued = worker.log.read_text(errors="replace").count("lost its worker")
            since_kill = delivered + (t_restart - t_kill) if delivered is not None else None
            verdict.check(
                delivered is not None,
                f"the new worker sends every mail within {DELIVERY_BOUND} s, by itself",
                (
                    f"the outbox was empty {since_kill:.0f} s after the kill"
                    if since_kill is not None
                    else f"{unsent_mail()} mails still unsent {DELIVERY_BOUND} s after the restart"
                )
                + f"; {len(received) - sent_before} received since the hang began",
            )
            verdict.check(
                not stray and requeued >= len(in_hand),
                "the killed worker's jobs are put back in the queue and run",
                f"{requeued} requeued by ksbb.retry_stalled_jobs, {len(stray)} still `doing` "
                f"{time.monotonic() - t_kill:.0f} s after the kill; left in the queue: "
                + (", ".join(f"{n} {t} {st}" for (t, st), n in sorted(_jobs().items())) or "none"),
            )
            final_checks(verdict, crowd.accepted, received)
            if verdict.broken:
                say("  gunicorn's log ends:\n" + app.log_tail())
                say("  the worker's log ends:\n" + worker.log_tail())
        smtp.__exit__()
    return verdict.exit_code()


if __name__ == "__main__":
    run(main)
