"""Drill: the database restarts in the middle of the load.

On a PostgreSQL cluster of its own, the portal (gunicorn, DEBUG off) and its background worker
(mailing to a small SMTP server of the drill's) serve a steady crowd that pledges (by the form and
by the API) and reads pages (bench/drills/load.py), briskly. Mid-stream the drill stops the
database (`pg_ctl stop -m fast`), waits, and starts it again. Promises checked:
- before the fault everything succeeds;
- during the outage every failure is the friendly 503 (never a 500, never a dropped connection);
- the portal recovers by itself within RECOVERY_BOUND seconds of the database being back;
- the background worker keeps sending mail afterwards. It runs supervised as docs/deploy.md's
  systemd unit runs it (started again 2 s after it exits, whatever its status): the drill reports
  whether it had to;
- and what every drill under load ends with: no need over-committed, no accepted pledge (a
  redirect to /komitmen/<token>/, or 201 from the API) lost, no mail sent twice. A pledge
  committed just before the database went away may have been answered 503: counted and shown.
"""

import re
import time

from bench import server as portal
from bench.drills.common import Gunicorn, Verdict, run, say
from bench.drills.load import Crowd, Worker, describe, final_checks, ok, stage, warm_up
from bench.drills.smtp import SmtpServer

WARM_S, BEFORE_S, OUTAGE_S, RECOVERY_BOUND, AFTER_S = 3, 4, 5, 10, 4
# The periodic send_queued_mail runs at each minute: a mail whose job failed with the database is
# sent by the next one.
DRAIN_S = 75


def _gist(body: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())[:80]


def main() -> int:
    verdict = Verdict("Database restart drill")
    say("Drill: the database restarts mid-load")
    with stage() as (work, cluster, needs, hot):
        from django.db import connections

        smtp_port, received = portal.free_port(), []
        with (
            SmtpServer(smtp_port, received),
            Gunicorn(cluster.url, work, EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}") as app,
            Worker(app.env, work, supervised=True) as worker,
        ):
            worker.wait_registered()
            warm_up(app.url)
            connections.close_all()  # the harness holds no connection across the restart
            say(
                f"  own cluster on port {cluster.port}; {len(needs)} needs; gunicorn, DEBUG "
                "off, and the worker"
            )
            with Crowd([app.url], needs, hot, donors=4, readers=2, think=(0.03, 0.08)) as crowd:
                time.sleep(WARM_S)
                t0 = crowd.mark("before")
                time.sleep(BEFORE_S)
                t_stop = crowd.mark("stop")
                cluster.stop("fast")
                say(f"  database stopped (pg_ctl stop -m fast, {time.monotonic() - t_stop:.1f} s)")
                time.sleep(OUTAGE_S)
                t_start = time.monotonic()
                cluster.start()
                t_up = crowd.mark("up")
                say(
                    f"  database started again ({t_up - t_start:.1f} s) after "
                    f"{t_up - t_stop:.1f} s away"
                )
                time.sleep(RECOVERY_BOUND + AFTER_S)
                t_end = crowd.mark("end")

            before = crowd.answers(t0, t_stop)
            outage = crowd.answers(t_stop, t_up)
            after = crowd.answers(t_up, t_end)
            failures = {id(a) for a in crowd.failures(t0, t_end)}
            say(f"  before: {describe(before)}")
            say(f"  outage: {describe(outage)}")
            say(f"  after:  {describe(after)}")
            verdict.check(
                bool(before) and not any(id(a) in failures for a in before),
                "the portal serves before the fault",
                f"{sum(id(a) not in failures for a in before)} of {len(before)} requests succeeded",
            )
            unfriendly = [a for a in outage if id(a) in failures and not a.friendly_503]
            verdict.check(
                any(a.friendly_503 for a in outage) and not unfriendly,
                "during the outage every failure is the friendly 503",
                f"{sum(a.friendly_503 for a in outage)} friendly 503s, "
                f"{len(unfriendly)} other failures"
                + (
                    f" (first: {unfriendly[0].status or unfriendly[0].error} to "
                    f"{unfriendly[0].method} {unfriendly[0].path}: "
                    f"“{_gist(unfriendly[0].body)}”)"
                    if unfriendly
                    else ""
                ),
            )
            failures_after = [a for a in after if id(a) in failures]
            recovered_in = max((a.ended - t_up for a in failures_after), default=0.0)
            late = [a for a in failures_after if a.ended - t_up > RECOVERY_BOUND]
            bad_after = [a for a in failures_after if not a.friendly_503]
            verdict.check(
                not late and not bad_after and any(ok(a) for a in after),
                f"the portal recovers by itself within {RECOVERY_BOUND} s",
                f"last failure {recovered_in:.1f} s after the database was back; "
                f"{len(after) - len(failures_after)} of {len(after)} requests after it "
                "succeeded (a pledge refused because the need filled counts as answered)"
                + (f"; late: {sorted({a.path for a in late})[:3]}" if late else ""),
            )
            for late_one in late:
                say(
                    f"    late: {late_one.method} {late_one.path} {late_one.status}, asked "
                    f"{late_one.started - t_up:.1f} s after the database was back, answered "
                    f"{late_one.ended - t_up:.1f} s after"
                )
            say(
                "  the worker: "
                + (
                    "; ".join(
                        f"exited with status {status} {when - t_stop:.1f} s after the stop"
                        for when, status in worker.exits
                    )
                    + " (the supervisor started it again 2 s later)"
                    if worker.exits
                    else "kept running"
                )
            )

            from donations.models import Pledge

            connections.close_all()  # this process's connection died with the restart
            accepted = crowd.accepted
            stored = Pledge.objects.filter(collaborator__email__endswith="@drill.invalid")
            extra = set(
                stored.exclude(token__in=accepted).values_list("collaborator__email", flat=True)
            )
            told = describe(p.answer for p in crowd.pledges() if p.email in extra)
            say(
                f"  {stored.count()} pledges stored for {len(accepted)} accepted: {len(extra)} "
                f"recorded though the donor was answered otherwise ({told}): committed just "
                "before the database went away; its mail, with the link, was queued with it, "
                "and the 503 page says a pledge may already be recorded"
            )
            final_checks(verdict, accepted, received, drain_s=DRAIN_S)
            if verdict.broken:
                say("  gunicorn's log ends:\n" + app.log_tail())
                say("  the worker's log ends:\n" + worker.log_tail())
    return verdict.exit_code()


if __name__ == "__main__":
    run(main)
