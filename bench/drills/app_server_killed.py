"""Drill: one of two app servers is killed behind the load balancer, under load.

Two gunicorns (one release, one SECRET_KEY, 2 workers each) on ports of their own, behind nginx
(Debian's, started by the drill on 127.0.0.1 with a configuration, pid file, logs and temporary
folders in a folder of its own, as docs/deploy.md's "More app servers" sets up) with
`proxy_next_upstream error timeout http_502`: a request whose server fails before answering is
passed to the other one; a POST only on the pledge form's and the API's pledge locations
(`non_idempotent`), whose requests carry a one-time key. The background worker runs beside them, mailing to a small SMTP
server of the drill's. A steady crowd browses and pledges through nginx; mid-load the drill kills
server A's whole process group (SIGKILL: the machine is gone, nothing is finished), later starts it
again. Promises checked:
- no GET fails: the ones in flight on A, and the ones sent to it after, are answered by B (nginx's
  retry, seen in $upstream_addr, which the drill asks nginx to send back as X-Upstream);
- no pledge fails, not even one in flight on A at the kill: the form's POST and the API's carry a
  one-time key (Pledge.submission), so nginx passes them to B too (`non_idempotent`, as
  deploy/nginx/ksbb-locations.conf does), and B finds the pledge A committed or makes it; after the
  switch every request succeeds, on B;
- once A is back, nginx gives it traffic again;
- and what every drill under load ends with: no need over-committed, no accepted pledge (a 302 or
  201 the portal answered) lost, no mail sent twice.
"""

import os
import re
import secrets
import signal
import time
from collections import Counter

from bench import server as portal
from bench.drills.common import Gunicorn, Verdict, run, say
from bench.drills.load import (
    Crowd,
    Worker,
    describe,
    final_checks,
    ms,
    ok,
    stage,
    wait_until,
    warm_up,
)
from bench.drills.smtp import SmtpServer
from bench.nginx import Nginx

WARM_S, BASELINE_S, SWITCH_S, REJOIN_S = 5, 10, 15, 12
SWITCH_WINDOW_S = 3  # the errors of requests in flight at the kill end within this
FAIL_TIMEOUT_S = 5  # nginx leaves a failed server alone this long


# The load balancer of docs/deploy.md's "More app servers", with what the drill reads back: which
# server answered ($upstream_addr as X-Upstream) and, in its access log, each request's path.
NGINX_HTTP = """\
    log_format drill '$status "$request" $upstream_addr $upstream_status $request_time';
    access_log {root}/access.log drill;
    upstream ksbb {
        server 127.0.0.1:%(a)d max_fails=1 fail_timeout=%(fail_timeout)ds;
        server 127.0.0.1:%(b)d max_fails=1 fail_timeout=%(fail_timeout)ds;
    }
    server {
        listen 127.0.0.1:{port};
        client_max_body_size 6m;
        location / {
            proxy_pass http://ksbb;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_next_upstream error timeout http_502;
            proxy_connect_timeout 2s;
            proxy_read_timeout 35s;
            proxy_redirect off;
            add_header X-Upstream $upstream_addr always;
        }
        # The pledge form and the API's pledges: each POST carries a one-time key
        # (Pledge.submission), so passing it to the other server after the first failed with it
        # can make no second pledge (deploy/nginx/ksbb-locations.conf does the same).
        location ~ ^/(kebutuhan/[0-9]+/dukung|api/v1/pledges)/$ {
            proxy_pass http://ksbb;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_next_upstream error timeout http_502 non_idempotent;
            proxy_connect_timeout 2s;
            proxy_read_timeout 35s;
            proxy_redirect off;
            add_header X-Upstream $upstream_addr always;
        }
    }
"""


def _upstreams(answers, a_port: int, b_port: int) -> Counter:
    """Who answered: A, B, or A then B (nginx passed it on)."""
    names = {f"127.0.0.1:{a_port}": "A", f"127.0.0.1:{b_port}": "B"}
    return Counter(
        " then ".join(names.get(u.strip(), u.strip()) for u in r.headers["x-upstream"].split(","))
        if r.headers.get("x-upstream")
        else "nginx itself"
        for r in answers
    )


def _described(counter: Counter) -> str:
    return ", ".join(f"{n} by {who}" for who, n in counter.most_common()) or "none"


def _posting(crowd: Crowd) -> list:
    """Pledge POSTs asked at least 20 ms ago and not yet answered."""
    now = time.monotonic()
    return [r for r in crowd.in_flight() if r[0] == "POST" and now - r[2] > 0.02]


def main() -> int:
    verdict = Verdict("App server killed drill")
    say("Drill: one of two app servers is killed behind nginx, under load")
    with stage() as (work, cluster, needs, hot):
        from donations.models import Pledge

        smtp_port, received = portal.free_port(), []
        env = dict(
            SECRET_KEY=secrets.token_urlsafe(50),  # one release on both servers
            EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
            KSBB_TRUSTED_PROXY_COUNT="1",
            GUNICORN_WORKERS="2",
        )
        with (
            SmtpServer(smtp_port, received),
            Gunicorn(cluster.url, work, name="gunicorn-a", **env) as a,
            Gunicorn(cluster.url, work, name="gunicorn-b", collect=False, **env) as b,
            Worker(a.env, work) as worker,
            Nginx(
                work / "nginx",
                NGINX_HTTP % {"a": a.port, "b": b.port, "fail_timeout": FAIL_TIMEOUT_S},
            ) as nginx,
        ):
            worker.wait_registered()
            warm_up(nginx.url)
            say(
                f"  own cluster, {len(needs)} needs; nginx on {nginx.port} in front of "
                f"gunicorn A on {a.port} and B on {b.port} (2 workers each); the worker"
            )
            with Crowd([nginx.url], needs, hot, donors=4) as crowd:
                time.sleep(WARM_S)
                t0 = crowd.mark("baseline")
                time.sleep(BASELINE_S)
                # The moment that tells most: while pledges are being answered (on A, or B).
                wait_until(lambda: _posting(crowd), 10, step=0.01)
                posting = _posting(crowd)
                os.killpg(a.process.pid, signal.SIGKILL)
                a.process.wait()
                t_kill = crowd.mark("killed")
                say(
                    f"  {t_kill - t0:.0f} s: server A killed (SIGKILL of its process group) "
                    f"with {len(posting)} pledge POSTs in flight through nginx (to A or B)"
                )
                time.sleep(SWITCH_S)
                t_restart = crowd.mark("restart")
                a.process = portal.start(a.env, work / "gunicorn-a-again.log")
                portal.wait_until_up(a.url + "/health/live/", a.process)
                t_back = crowd.mark("back")
                say(f"  {t_back - t0:.0f} s: server A started again")
                time.sleep(REJOIN_S)
                t_end = crowd.mark("stop")

            phases = {
                "baseline": (t0, t_kill),
                "switch": (t_kill, t_kill + SWITCH_WINDOW_S),
                "A down": (t_kill + SWITCH_WINDOW_S, t_restart),
                "A back": (t_restart, t_end),
            }
            for name, (start, end) in phases.items():
                answers = crowd.answers(start, end)
                p95, n = crowd.pledge_p95(start, end)
                say(
                    f"  {name:>8}: {describe(answers)}; answered "
                    f"{_described(_upstreams(answers, a.port, b.port))}; pledges "
                    f"{crowd.outcomes(start, end)}; POST p95 {ms(p95)} (of {n})"
                )
            everything = crowd.answers(t0, t_end)
            gets = [r for r in everything if r.method == "GET"]
            failed_gets = [r for r in gets if not ok(r)]
            passed_on = [
                r for r in gets if r.ended >= t_kill and "," in r.headers.get("x-upstream", "")
            ]
            verdict.check(
                not failed_gets,
                "no GET fails: nginx passes those A could not answer to B",
                f"{len(gets) - len(failed_gets)} of {len(gets)} GETs succeeded, "
                f"{len(passed_on)} of them after A failed them"
                + (f"; failed: {describe(failed_gets)}" if failed_gets else ""),
            )
            failed_posts = [
                p for p in crowd.posts(t0, t_end) if p.outcome in ("failed", "form failed")
            ]
            late = [p for p in failed_posts if p.answer.ended >= t_kill + SWITCH_WINDOW_S]
            early = [p for p in failed_posts if p.answer.ended < t_kill]
            recorded = set(
                Pledge.objects.filter(
                    collaborator__email__in=[p.email for p in failed_posts]
                ).values_list("collaborator__email", flat=True)
            )
            after_switch = crowd.answers(t_kill + SWITCH_WINDOW_S, t_restart)
            failed_after = [r for r in after_switch if r.method == "GET" and not ok(r)] + [
                p.answer
                for p in crowd.pledges(t_kill + SWITCH_WINDOW_S, t_restart)
                if p.outcome in ("failed", "form failed")
            ]
            if failed_posts:
                seen = failed_posts[0].answer
                say(
                    f"  what those donors saw: HTTP {seen.status}, "
                    f"“{' '.join(re.sub('<[^>]+>', ' ', seen.body).split())[:60]}”"
                    if seen.status
                    else f"  what those donors saw: {seen.error}"
                )
            posts_passed_on = [
                p
                for p in crowd.posts(t0, t_end)
                if "," in (p.answer.headers or {}).get("x-upstream", "")
            ]
            verdict.check(
                not failed_posts and not failed_after,
                "no pledge fails: nginx passes the POSTs A could not answer to B, whose one-time "
                "key finds the pledge A made or makes it; after the switch B answers everything",
                (
                    f"{len(failed_posts)} pledge POSTs failed "
                    f"({describe(p.answer for p in failed_posts)}; by "
                    f"{', '.join(sorted({p.via for p in failed_posts}))}), "
                    f"{len(recorded)} of them recorded anyway"
                    + (f" ({len(late) + len(early)} outside the switch)" if late or early else "")
                    if failed_posts
                    else "no pledge POST failed"
                )
                + f"; {len(posts_passed_on)} POSTs passed on from A to B"
                + f"; after the switch {len(failed_after)} failures in "
                f"{describe(after_switch)}, answered "
                f"{_described(_upstreams(after_switch, a.port, b.port))}",
            )
            rejoined = _upstreams(crowd.answers(t_restart, t_end), a.port, b.port)
            verdict.check(
                rejoined.get("A", 0) > 0,
                "once A is back, nginx gives it traffic again",
                _described(rejoined),
            )
            final_checks(verdict, crowd.accepted, received, drain_s=30)
            if verdict.broken:
                say("  nginx's error log ends:\n" + nginx.log_tail())
                say("  gunicorn B's log ends:\n" + b.log_tail())
    return verdict.exit_code()


if __name__ == "__main__":
    run(main)
