"""Drill: the shared Redis cache dies under load, and comes back.

Two app servers (two gunicorns on their own ports, one release, one SECRET_KEY, like two machines
behind a load balancer) share a private redis-server as CACHE_URL, as docs/deploy.md sets up, and
the background worker runs beside them; a steady crowd browses and pledges, each visitor's actions
going to both servers in turn. Mid-load the drill kills Redis (SIGKILL), and later starts it again
on the same port, empty, as after a crash. The pledge limit per e-mail address is set low
(LIMIT an hour): a probe donor tries 2 × LIMIT pledges, alternately on each server, before, during
and after the outage. Promises checked:
- pledges are still accepted, by both servers, throughout;
- the pledge limit still counts across both servers while Redis is down (exactly LIMIT accepted,
  the rest refused with 429): the counters are kept in PostgreSQL meanwhile (the table
  ksbb_failover_cache, which every server shares; ksbb/lib/failover_cache.py);
- public pages keep answering 200 while Redis is down;
- after Redis returns, the servers use it again (once their RETRY_SECONDS pause has passed):
  the probe's counter is in Redis, the limit counts there across both servers, pages and pledges go
  on as before;
- and what every drill under load ends with: no need over-committed, no accepted pledge lost, no
  mail sent twice.
"""

import hashlib
import secrets
import shutil
import subprocess
import time

from bench import server as portal
from bench.drills.common import Browser, Gunicorn, Verdict, run, say
from bench.drills.load import (
    Crowd,
    Worker,
    describe,
    final_checks,
    ok,
    pledge,
    stage,
    warm_up,
)
from bench.drills.smtp import SmtpServer

WARM_S, BASELINE_S, OUTAGE_S = 5, 10, 15
LIMIT = 4  # pledges per e-mail address an hour
# ksbb.lib.failover_cache.RETRY_SECONDS: a server leaves Redis alone this long after a failure.
RETRY_S = 30


class Redis:
    """A private redis-server on a fixed port of 127.0.0.1, saving nothing: start, kill, start again."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is missing: scripts/bootstrap.sh --drill installs it")
        self.binary, self.port, self.process = binary, portal.free_port(), None

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_timeout=2)

    def start(self) -> "Redis":
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port)]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return self
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def _digest(address: str) -> str:
    """donations.ratelimit's key for an e-mail address (hashed there: no address in clear)."""
    return hashlib.sha256(f"pledge-email|{address.lower()}".encode()).hexdigest()[:32]


def _clear_of_the_hour() -> None:
    """The limit counts in fixed windows of an hour: keep a probe from straddling two."""
    into = time.time() % 3600
    if into > 3600 - 20:
        time.sleep(3600 - into + 1)


def probe(urls: list[str], need: int, label: str) -> tuple[list, str]:
    """A donor tries 2 × LIMIT pledges, alternately on each server (form, API, form, …)."""
    _clear_of_the_hour()
    who = f"probe-{label}-{secrets.token_hex(3)}"
    attempts = []
    for n in range(2 * LIMIT):
        browser = Browser(urls[n % len(urls)])
        attempts.append(pledge(browser, need, who, "api" if n % 2 else "form"))
    return attempts, f"{who}@drill.invalid"


def _counted(attempts) -> str:
    statuses = [a.answer.status for a in attempts]
    return f"{sum(1 for a in attempts if a.token)} accepted of {len(attempts)} ({statuses})"


def main() -> int:
    verdict = Verdict("Redis outage drill")
    say("Drill: the shared Redis cache dies under load, and comes back")
    redis = Redis().start()
    try:
        with stage() as (work, cluster, needs, hot):
            probe_need = needs[0]
            crowd_needs = needs[1:]
            from django.db import connection

            smtp_port, received = portal.free_port(), []
            env = dict(
                SECRET_KEY=secrets.token_urlsafe(50),  # one release on both servers
                CACHE_URL=f"redis://127.0.0.1:{redis.port}/0",
                EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
                KSBB_PLEDGE_RATE_PER_EMAIL=f"{LIMIT}/h",
                GUNICORN_WORKERS="2",
            )
            with (
                SmtpServer(smtp_port, received),
                Gunicorn(cluster.url, work, name="gunicorn-a", **env) as a,
                Gunicorn(cluster.url, work, name="gunicorn-b", collect=False, **env) as b,
                Worker(a.env, work) as worker,
            ):
                worker.wait_registered()
                warm_up(a.url)
                urls = [a.url, b.url]
                say(
                    f"  own cluster, {len(needs)} needs; two gunicorns (2 workers each) on ports "
                    f"{a.port} and {b.port}, the worker, Redis on {redis.port}; "
                    f"pledge limit {LIMIT}/h per address"
                )
                with Crowd(urls, crowd_needs, hot) as crowd:
                    time.sleep(WARM_S)
                    t0 = crowd.mark("baseline")
                    time.sleep(BASELINE_S)
                    before, before_who = probe(urls, probe_need, "before")
                    in_redis_before = bool(redis.client().keys(f"*{_digest(before_who)}*"))

                    redis.kill()
                    t_down = crowd.mark("down")
                    say(f"  {t_down - t0:.0f} s: Redis killed (SIGKILL)")
                    time.sleep(3)
                    during, during_who = probe(urls, probe_need, "during")
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT count(*) FROM ksbb_failover_cache WHERE cache_key LIKE %s",
                            [f"%{_digest(during_who)}%"],
                        )
                        in_database = cursor.fetchone()[0]
                    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - t_down)))

                    redis.start()
                    t_up = crowd.mark("up")
                    say(f"  {t_up - t0:.0f} s: Redis started again (empty)")
                    # Each server's processes try Redis again RETRY_S after their last failure.
                    time.sleep(RETRY_S + 3)
                    t_after = crowd.mark("after")
                    after, after_who = probe(urls, probe_need, "after")
                    in_redis_after = bool(redis.client().keys(f"*{_digest(after_who)}*"))
                    keys_after = redis.client().dbsize()
                    time.sleep(3)
                    t_end = crowd.mark("stop")

                phases = {
                    "before": (t0, t_down),
                    "outage": (t_down, t_up),
                    "back": (t_up, t_after),
                    "after": (t_after, t_end),
                }
                crowd.report_phases(phases)
                failed = [p for p in crowd.pledges() if p.outcome in ("failed", "form failed")]
                by_server = {
                    url: sum(
                        1
                        for p in crowd.pledges(t_down, t_up)
                        if p.token and p.answer.base_url == url
                    )
                    for url in urls
                }
                verdict.check(
                    not failed and all(by_server.values()),
                    "pledges are accepted by both servers throughout",
                    f"{len(crowd.accepted)} accepted, {len(failed)} failed"
                    + (
                        f" (first: {failed[0].answer.status or failed[0].answer.error})"
                        if failed
                        else ""
                    )
                    + f"; during the outage {' and '.join(map(str, by_server.values()))} "
                    "accepted by each server",
                )
                verdict.check(
                    sum(1 for x in before if x.token) == LIMIT and in_redis_before,
                    "with Redis, the pledge limit counts across both servers",
                    _counted(before) + ("; counted in Redis" if in_redis_before else ""),
                )
                verdict.check(
                    sum(1 for x in during if x.token) == LIMIT
                    and all(x.answer.status == 429 for x in during if not x.token),
                    "while Redis is down, the pledge limit still counts across both servers",
                    _counted(during)
                    + f"; {in_database} counter row(s) for this address in ksbb_failover_cache",
                )
                outage_reads = crowd.reads(t_down, t_up)
                bad = [r for r in crowd.reads(t0, t_end) if not ok(r)]
                verdict.check(
                    bool(outage_reads) and all(r.status == 200 for r in outage_reads) and not bad,
                    "public pages keep answering 200 while Redis is down",
                    f"during the outage: {describe(outage_reads)}; failures in all: {len(bad)}",
                )
                verdict.check(
                    sum(1 for x in after if x.token) == LIMIT and in_redis_after,
                    "after Redis returns, the servers use it again",
                    f"{RETRY_S + 3} s later: {_counted(after)}; "
                    + ("counted in Redis" if in_redis_after else "not counted in Redis")
                    + f", which holds {keys_after} keys again",
                )
                probes = {x.token for x in before + during + after if x.token}
                final_checks(verdict, crowd.accepted | probes, received, drain_s=30)
                if verdict.broken:
                    say("  gunicorn a's log ends:\n" + a.log_tail())
                    say("  the worker's log ends:\n" + worker.log_tail())
    finally:
        redis.kill()
    return verdict.exit_code()


if __name__ == "__main__":
    run(main)
