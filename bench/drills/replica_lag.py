"""Drill: the streaming replica falls behind, then stops, under load.

A primary and a streaming replica of the drill's own (`pg_basebackup -R -X stream`, as
scripts/devdb.sh makes one), the portal on both (REPLICA_DATABASE_URL: anonymous public reads go
to the replica, ksbb/db_routers.py and ksbb/replica_middleware.py), the background worker, and a
steady crowd. After a baseline the drill pauses replay on the replica (`pg_wal_replay_pause()`):
it still receives the primary's WAL but applies none, so it falls behind by the second. Later it
resumes replay, then stops the replica, then starts it again. Donors who probe read-your-writes
pledge on needs of their own (the crowd never touches them), then open their private page and the
need's page, as the form's redirect and a curious donor do. Promises checked:
- while the replica is in step, public reads really go to it (its transaction count grows);
- a donor always sees their own pledge on the next pages: on /komitmen/<token>/, and on the need's
  page, whose pledged figure includes it and whose supporters list names them; in step, lagging
  and with the replica down;
- public reads go to the primary when the replica lags beyond LAG_BOUND_S: a visitor who never
  pledged opens the page of a need pledged LAG_BOUND_S + 3 seconds ago and sees that pledge (the
  portal has no setting for an allowed lag; docs/deploy.md calls it "a moment", and 5 s is far
  beyond one);
- with the replica down, public pages keep answering 200 (from the primary), and pledges are
  accepted;
- once the replica is back and in step, public reads use it again;
- and what every drill under load ends with: no need over-committed, no accepted pledge lost, no
  mail sent twice.
"""

import re
import shutil
import time

from bench import server as portal
from bench.drills.common import (
    PG_BIN,
    Browser,
    Cluster,
    Gunicorn,
    Verdict,
    run,
    say,
)
from bench.drills.load import (
    Crowd,
    Worker,
    describe,
    final_checks,
    ok,
    pledge,
    stage,
    wait_until,
    warm_up,
)
from bench.drills.smtp import SmtpServer

WARM_S, BASELINE_S, LAG_BOUND_S, DOWN_S, AFTER_S = 5, 8, 5, 10, 8
PROBE_NEEDS = 4
PLEDGED = re.compile(r'id="pledged-progress" max="(\d+)" value="(\d+)"')


class Replica(Cluster):
    """A hot standby of `primary`, made by pg_basebackup -R, on a port of its own."""

    def __init__(self, primary: Cluster) -> None:
        super().__init__()
        self.primary = primary

    def __enter__(self) -> "Replica":
        import os

        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._as_owner(
            PG_BIN / "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            self.primary.port,
            "-U",
            self.user,
            "-D",
            self.data,
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        with open(self.data / "postgresql.conf", "a") as conf:  # the last port line wins
            conf.write(f"port = {self.port}\nhot_standby_feedback = on\n")
        self.start()
        if wait_until(self.streaming, 60) is None:
            raise RuntimeError("the replica does not stream from the primary")
        return self

    def streaming(self) -> bool:
        try:
            return self.psql("postgres", "SELECT status FROM pg_stat_wal_receiver") == "streaming"
        except Exception:
            return False

    def commits(self) -> int:
        """Transactions the replica has run in the drill's database (reads: it is read-only)."""
        return int(
            self.psql(
                "postgres",
                "SELECT xact_commit + xact_rollback FROM pg_stat_database "
                "WHERE datname = 'ksbb_drill'",
            )
        )

    def behind(self) -> str:
        """How far replay is behind the primary: bytes of WAL, and since the last replayed commit."""
        primary_lsn = self.primary.psql("postgres", "SELECT pg_current_wal_lsn()")
        row = self.psql(
            "postgres",
            f"SELECT pg_wal_lsn_diff('{primary_lsn}', pg_last_wal_replay_lsn()), "
            "round(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::numeric, 1)",
        )
        lag_bytes, seconds = row.split("|")
        return f"{int(float(lag_bytes)):,} bytes of WAL behind, its last replayed commit {seconds} s old"

    def caught_up(self) -> bool:
        primary_lsn = self.primary.psql("postgres", "SELECT pg_current_wal_lsn()")
        return (
            float(
                self.psql(
                    "postgres",
                    f"SELECT pg_wal_lsn_diff('{primary_lsn}', pg_last_wal_replay_lsn())",
                )
            )
            <= 0
        )


def _page(path: str) -> str:
    """Which public page a path is."""
    for prefix, name in (
        ("/kebutuhan/", "need page"),
        ("/peta/", "map"),
        ("/api/v1/needs/layer/", "layer"),
        ("/api/v1/needs/", "popup"),
        ("/transparansi/", "transparency"),
    ):
        if path.startswith(prefix):
            return name
    return "home" if path == "/" else path


def _need_page(browser: Browser, need: int) -> tuple[int | None, str]:
    """The need page's pledged figure (None when it did not answer 200), and its text."""
    answer = browser.get(f"/kebutuhan/{need}/")
    match = PLEDGED.search(answer.body) if answer.status == 200 else None
    return (int(match[2]) if match else None), (answer.body if answer.status == 200 else "")


def read_your_writes(url: str, need: int, label: str) -> dict:
    """A donor pledges on `need` (the crowd never touches it) by the form, follows the redirect to
    their page, then opens the need's page: what they saw, against what the primary holds."""
    from needs.models import Need

    browser = Browser(url)
    attempt = pledge(browser, need, f"ryw-{label}", "form", quantity=2)
    result = {
        "label": label,
        "accepted": bool(attempt.token),
        "token": attempt.token,
        "own_page": False,
        "need_page": False,
    }
    if not attempt.token:
        result["seen"] = f"pledge answered {attempt.answer.status or attempt.answer.error}"
        return result
    own = browser.get(f"/komitmen/{attempt.token}/")
    expected = Need.objects.get(pk=need).quantity_pledged
    shown, text = _need_page(browser, need)
    result.update(
        own_page=own.status == 200 and attempt.token in own.body,
        need_page=shown == expected and attempt.name in text,
        seen=f"their page {own.status}; the need's page shows {shown} pledged "
        f"(the primary: {expected}), "
        + ("names them" if attempt.name in text else "does not name them"),
    )
    return result


def main() -> int:
    verdict = Verdict("Replica lag drill")
    say("Drill: the streaming replica falls behind, then stops, under load")
    with stage() as (work, cluster, needs, hot):
        probe_needs, crowd_needs = needs[:PROBE_NEEDS], needs[PROBE_NEEDS:]

        from needs.models import Need

        smtp_port, received = portal.free_port(), []
        with (
            Replica(cluster) as replica,
            SmtpServer(smtp_port, received),
            Gunicorn(
                cluster.url,
                work,
                REPLICA_DATABASE_URL=replica.url,
                EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
            ) as app,
            Worker(app.env, work) as worker,
        ):
            worker.wait_registered()
            warm_up(app.url)
            say(
                f"  own primary on {cluster.port} and streaming replica on {replica.port} "
                f"(pg_basebackup -R); {len(needs)} needs; gunicorn (3 workers) with "
                "REPLICA_DATABASE_URL, the worker"
            )
            probes = []
            with Crowd([app.url], crowd_needs, hot) as crowd:
                time.sleep(WARM_S)
                t0 = crowd.mark("in step")
                commits_before = replica.commits()
                time.sleep(BASELINE_S)
                commits_in_step = replica.commits() - commits_before
                probes.append(read_your_writes(app.url, probe_needs[0], "in-step"))

                replica.psql("postgres", "SELECT pg_wal_replay_pause()")
                t_pause = crowd.mark("lagging")
                say(f"  {t_pause - t0:.0f} s: replay paused on the replica")
                # A pledge the primary has and the replica will not, for a stranger to look for.
                stranger_attempt = pledge(
                    Browser(app.url), probe_needs[1], "before-the-stranger", "api", 3
                )
                stranger_since = time.monotonic()
                probes.append(read_your_writes(app.url, probe_needs[2], "lagging"))
                time.sleep(max(0.0, LAG_BOUND_S + 3 - (time.monotonic() - stranger_since)))
                behind = replica.behind()
                stranger_saw, _ = _need_page(Browser(app.url), probe_needs[1])
                stranger_expected = Need.objects.get(pk=probe_needs[1]).quantity_pledged
                say(f"    the replica: {behind}")

                replica.psql("postgres", "SELECT pg_wal_replay_resume()")
                wait_until(replica.caught_up, 30, step=0.2)
                replica.stop("fast")
                t_down = crowd.mark("down")
                say(f"  {t_down - t0:.0f} s: replay resumed, caught up; the replica stopped")
                time.sleep(2)
                probes.append(read_your_writes(app.url, probe_needs[3], "replica-down"))
                time.sleep(max(0.0, DOWN_S - (time.monotonic() - t_down)))

                replica.start()
                wait_until(replica.streaming, 60, step=0.2)
                t_up = crowd.mark("back")
                say(f"  {t_up - t0:.0f} s: the replica started again, streaming")
                commits_back = replica.commits()
                time.sleep(AFTER_S)
                commits_after = replica.commits() - commits_back
                t_end = crowd.mark("stop")

            phases = {
                "in step": (t0, t_pause),
                "lagging": (t_pause, t_down),
                "down": (t_down, t_up),
                "back": (t_up, t_end),
            }
            crowd.report_phases(phases)
            verdict.check(
                commits_in_step > 0,
                "in step, public reads go to the replica",
                f"{commits_in_step} transactions on the replica in {BASELINE_S} s",
            )
            for probe in probes:
                verdict.check(
                    bool(probe["accepted"] and probe["own_page"] and probe["need_page"]),
                    f"a donor sees their own pledge on the next pages ({probe['label']})",
                    probe["seen"],
                )
            verdict.check(
                bool(stranger_attempt.token) and stranger_saw == stranger_expected,
                f"public reads go to the primary when the replica lags beyond {LAG_BOUND_S} s",
                f"the replica {behind}; a need pledged {LAG_BOUND_S + 3} s earlier shows "
                f"{stranger_saw} pledged to a new visitor (the primary: {stranger_expected})",
            )
            lagging_reads = crowd.reads(*phases["lagging"])
            verdict.check(
                bool(lagging_reads) and all(ok(r) for r in lagging_reads),
                "public pages keep answering while the replica lags",
                describe(lagging_reads),
            )
            down_reads = crowd.reads(*phases["down"])
            down_posts = crowd.posts(*phases["down"])
            failed_down = [p for p in down_posts if p.outcome in ("failed", "form failed")]
            verdict.check(
                bool(down_reads) and all(r.status == 200 for r in down_reads),
                "public pages keep answering 200 while the replica is down",
                "; ".join(
                    f"{page} {describe(r for r in down_reads if _page(r.path) == page)}"
                    for page in sorted({_page(r.path) for r in down_reads})
                ),
            )
            verdict.check(
                bool(down_posts) and not failed_down,
                "pledges are accepted while the replica is down",
                f"{crowd.outcomes(*phases['down'])}",
            )
            back_reads = crowd.reads(*phases["back"])
            verdict.check(
                commits_after > 0 and all(ok(r) for r in back_reads),
                "once the replica is back, public reads use it again",
                f"{commits_after} transactions on it in {AFTER_S} s; pages {describe(back_reads)}",
            )
            accepted = crowd.accepted | {p["token"] for p in probes if p["token"]}
            if stranger_attempt.token:
                accepted.add(stranger_attempt.token)
            final_checks(verdict, accepted, received, drain_s=30)
            if verdict.broken:
                say("  gunicorn's log ends:\n" + app.log_tail(8))
    return verdict.exit_code()


if __name__ == "__main__":
    run(main)
