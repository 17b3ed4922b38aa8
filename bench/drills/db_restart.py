"""Drill: the database restarts in the middle of the load.

On a PostgreSQL cluster of its own, the portal (gunicorn, DEBUG off) serves a steady stream of
pledges (by the form and by the API) and page reads from several threads. Mid-stream the drill
stops the database (`pg_ctl stop -m fast`), waits, and starts it again. Promises checked:
- during the outage every answer is the friendly 503 (never a 500, never a dropped connection);
- the portal recovers by itself within RECOVERY_BOUND seconds of the database being back;
- every pledge the portal accepted (a redirect to /komitmen/<token>/, or 201 from the API) is in
  the database afterwards, and every need's counters match its pledges.
"""

import itertools
import random
import shutil
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench.drills.common import Browser, Cluster, Gunicorn, Verdict, run, say, seed, setup_django

PLEDGERS, READERS = 4, 2
BEFORE_S, OUTAGE_S, RECOVERY_BOUND, AFTER_S = 4, 5, 10, 4


def _describe(answers) -> str:
    counts = Counter()
    for a in answers:
        if a.status is None:
            counts[f"no answer ({a.error.split(':')[0]})"] += 1
        elif a.friendly_503:
            counts["503 friendly" + (" JSON" if a.path.startswith("/api/") else " page")] += 1
        else:
            counts[str(a.status)] += 1
    return ", ".join(f"{n} × {what}" for what, n in counts.most_common()) or "none"


def _ok(a) -> bool:
    return a.status is not None and a.status < 400


def main() -> int:
    verdict = Verdict("Database restart drill")
    say("Drill: the database restarts mid-load")
    work = Path(tempfile.mkdtemp(prefix="ksbb-drill-"))
    try:
        with Cluster() as cluster:
            setup_django(cluster.url)
            needs = seed(200)
            from django.db import connections

            connections.close_all()
            say(f"  own cluster on port {cluster.port}; {len(needs)} needs; gunicorn, DEBUG off")
            with Gunicorn(cluster.url, work) as app:
                browsers, stop = [], threading.Event()

                def pledger(i: int) -> None:
                    browser = Browser(app.url)
                    browsers.append(browser)
                    for n in itertools.count():
                        if stop.is_set():
                            return
                        email = f"drill-{i}-{n}@drill.invalid"
                        need = random.choice(needs)
                        if n % 2:
                            browser.pledge_by_api(need, email)
                        else:
                            browser.pledge_by_form(need, email)
                        time.sleep(0.05)

                def reader(i: int) -> None:
                    browser = Browser(app.url)
                    browsers.append(browser)
                    while not stop.is_set():
                        need = random.choice(needs)
                        for path in (
                            "/peta/?category=pangan",
                            f"/kebutuhan/{need}/",
                            f"/api/v1/needs/{need}/",
                            "/transparansi/",
                        ):
                            browser.get(path)
                        time.sleep(0.05)

                threads = [threading.Thread(target=pledger, args=(i,)) for i in range(PLEDGERS)]
                threads += [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
                for t in threads:
                    t.start()
                try:
                    time.sleep(BEFORE_S)
                    t_stop = time.monotonic()
                    cluster.stop("fast")
                    say(
                        f"  database stopped (pg_ctl stop -m fast, {time.monotonic() - t_stop:.1f} s)"
                    )
                    time.sleep(OUTAGE_S)
                    t_start = time.monotonic()
                    cluster.start()
                    t_up = time.monotonic()
                    say(
                        f"  database started again ({t_up - t_start:.1f} s) after "
                        f"{t_up - t_stop:.1f} s away"
                    )
                    time.sleep(RECOVERY_BOUND + AFTER_S)
                finally:
                    stop.set()
                    for t in threads:
                        t.join(timeout=30)
            answers = sorted((a for b in browsers for a in b.answers), key=lambda a: a.ended)
            before = [a for a in answers if a.ended < t_stop]
            outage = [a for a in answers if t_stop <= a.ended <= t_up]
            after = [a for a in answers if a.ended > t_up]
            say(f"  before: {_describe(before)}")
            say(f"  outage: {_describe(outage)}")
            say(f"  after:  {_describe(after)}")

            verdict.check(
                bool(before) and all(_ok(a) for a in before),
                "the portal serves before the fault",
                f"{sum(_ok(a) for a in before)} of {len(before)} requests succeeded",
            )
            unfriendly = [a for a in outage if not (_ok(a) or a.friendly_503)]
            verdict.check(
                any(a.friendly_503 for a in outage) and not unfriendly,
                "during the outage every failure is the friendly 503",
                f"{sum(a.friendly_503 for a in outage)} friendly 503s, "
                f"{len(unfriendly)} other failures"
                + (
                    f" (first: {unfriendly[0].status or unfriendly[0].error})" if unfriendly else ""
                ),
            )
            failures_after = [a for a in after if not _ok(a)]
            recovered_in = max((a.ended - t_up for a in failures_after), default=0.0)
            late = [a for a in failures_after if a.ended - t_up > RECOVERY_BOUND]
            bad_after = [a for a in failures_after if not a.friendly_503]
            verdict.check(
                not late and not bad_after and any(_ok(a) for a in after),
                f"the portal recovers by itself within {RECOVERY_BOUND} s",
                f"last failure {recovered_in:.1f} s after the database was back; "
                f"{sum(_ok(a) for a in after)} of {len(after)} requests after it succeeded",
            )

            from donations.models import Pledge
            from donations.services import counter_mismatches

            connections.close_all()  # this process's connection died with the restart
            accepted = {a.pledge_token for a in answers if a.method == "POST"} - {None}
            found = set(Pledge.objects.filter(token__in=accepted).values_list("token", flat=True))
            stored = Pledge.objects.filter(collaborator__email__endswith="@drill.invalid").count()
            verdict.check(
                bool(accepted) and found == accepted,
                "every accepted pledge is in the database",
                f"{len(found)} of {len(accepted)} accepted pledges found; {stored} drill pledges "
                f"stored in all ({stored - len(found)} recorded though their answer was a 503)",
            )
            mismatched = counter_mismatches().count()
            verdict.check(
                mismatched == 0, "the needs' counters match their pledges", f"{mismatched} differ"
            )
            if verdict.broken:
                say("  gunicorn's log ends:\n" + app.log_tail())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return verdict.exit_code()


if __name__ == "__main__":
    run(main)
