"""`make loadtest`: 50 visitors on the portal served as in production, with 50,000 needs.

1. Prepares a database of its own, `ksbb_load`, in the cluster DATABASE_URL names (made anew each
   run and left afterwards for a look; never the development data): migrate, `load_demo`, then
   scaled to 50,000 needs with bench/needs_layer.py's seeding.
2. Collects the static files into a temporary STATIC_ROOT and starts gunicorn with
   ksbb/gunicorn.conf.py, DEBUG off, on a free port of 127.0.0.1, with a private redis-server as
   its cache (CACHE_URL, as docs/deploy.md sets up). Every visitor comes from 127.0.0.1, so the
   pledge rate limits are raised for the run.
3. Runs locust headless (bench/loadtest/locustfile.py): 50 users, ramped up, for a bounded time.
4. Prints p50/p95/p99 per kind of request and overall, requests per second and the errors; then
   checks in the database that no need is over-committed and that every accepted pledge is there.

Exits non-zero when a target is missed: any error, p95 of the pages ≥ 300 ms, an over-commit or a
lost pledge. It always stops gunicorn. Logs, locust's CSV stats and the raw timings stay in
artifacts/loadtest/.
"""

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import server as portal
from bench.loadtest import cpu
from bench.server import ROOT, VENV

ARTIFACTS = ROOT / "artifacts" / "loadtest"
DB_NAME = "ksbb_load"
PAGE_TARGET_MS = 300
# HTML pages a visitor waits for; the target is on these. The API requests are reported beside.
PAGES = (
    "home",
    "map page",
    "need page",
    "transparency",
    "pledge form",
    "pledge submit",
    "pledge page",
)
APIS = ("map layer", "map boundaries", "need popup")
HOT_NEEDS = 5
HOT_QUANTITY = 8


def log(message: str) -> None:
    print(message, flush=True)


def base_database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = subprocess.run(
            [str(ROOT / "scripts" / "devdb.sh"), "start"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    return url


def recreate_database(url: str) -> str:
    """Drop and create ksbb_load beside the database `url` names; return its URL."""
    import psycopg

    parts = urlsplit(url)
    conninfo = {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v is not None}) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    with psycopg.connect(
        **{k: v for k, v in {**conninfo, "dbname": DB_NAME}.items() if v is not None}
    ) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return parts._replace(path=f"/{DB_NAME}").geturl()


def prepare(needs_total: int, data_file: Path) -> None:
    """Migrate, load the demo, scale to `needs_total` needs; write what the visitors pick from."""
    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.models import F, Max

    # Importing it sets Django up; its seed() is the one `make bench` uses for 50,000 needs.
    from bench.needs_layer import seed
    from locations.models import Region
    from needs.models import Category, Need

    t0 = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_demo", stdout=io.StringIO())
    demo_needs = Need.objects.count()
    newest = Need.objects.aggregate(m=Max("pk"))["m"] or 0
    seed(max(0, needs_total - demo_needs))
    # bench's seed invents counters without pledges behind them; here every counter must be what
    # the pledges hold, so that the over-commit check after the run means something. The scaled-up
    # needs start open; the demo's keep their pledges in every status.
    scaled = Need.objects.filter(pk__gt=newest)
    scaled.update(quantity_pledged=0, quantity_delivered=0)
    # A few small needs that half the pledges crowd onto, so donors race for the last units.
    hot = list(scaled.order_by("pk").values_list("pk", flat=True)[:HOT_NEEDS])
    Need.objects.filter(pk__in=hot).update(quantity_needed=HOT_QUANTITY)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    pledgeable = Need.objects.published().filter(
        is_closed=False, quantity_pledged__lt=F("quantity_needed")
    )
    needs = list(pledgeable.order_by("?").values_list("pk", flat=True)[:5000])
    data = {
        "needs": needs,
        "hot": hot,
        "categories": list(Category.objects.filter(is_active=True).values_list("slug", flat=True)),
        "kota": list(Region.objects.kota().values_list("code", flat=True)),
    }
    data_file.write_text(json.dumps(data))
    log(
        f"  {Need.objects.count():,} needs ({demo_needs:,} from the demo), "
        f"{HOT_NEEDS} hot needs of {HOT_QUANTITY} units, in {time.monotonic() - t0:.0f} s"
    )
    connections.close_all()


def percentile(sorted_values: list[float], p: float) -> float:
    """The nearest-rank percentile (no interpolation: a value some request really took)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def report(results: dict, seconds: float) -> tuple[int, float]:
    """Print the table; return (errors, p95 of the pages)."""
    samples = results["samples"]
    by_name: dict[str, list] = {}
    for name, ms, status, ok in samples:
        by_name.setdefault(name, []).append((ms, status, ok))

    def row(label: str, rows: list) -> float:
        times = sorted(ms for ms, _, _ in rows)
        errors = sum(1 for _, _, ok in rows if not ok)
        p50, p95, p99 = (percentile(times, p) for p in (50, 95, 99))
        log(
            f"  {label:<22}{len(rows):>7}{len(rows) / seconds:>8.1f}"
            f"{p50:>9.0f}{p95:>9.0f}{p99:>9.0f}{max(times, default=0):>9.0f}{errors:>7}"
        )
        return p95

    log(
        f"  {'request':<22}{'count':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'errors':>7}"
    )
    for name in (*PAGES, *APIS):
        if name in by_name:
            row(name, by_name[name])
    for name in sorted(set(by_name) - set(PAGES) - set(APIS)):
        row(name, by_name[name])
    pages = [r for n in PAGES for r in by_name.get(n, [])]
    page_p95 = row("all pages", pages)
    row("all requests", [r for rows in by_name.values() for r in rows])
    errors = sum(1 for *_, ok in samples if not ok)
    failures: dict[str, int] = {}
    for name, _, status, ok in samples:
        if not ok:
            failures[f"{name} → HTTP {status or 'no answer'}"] = (
                failures.get(f"{name} → HTTP {status or 'no answer'}", 0) + 1
            )
    for what, n in sorted(failures.items()):
        log(f"    error: {what} ×{n}")
    log("  " + ", ".join(f"{k}: {v}" for k, v in results["outcomes"].items()))
    return errors, page_p95


def check_database(accepted: list[str]) -> list[str]:
    """What is wrong in the database after the run (nothing, when the portal kept its promises)."""
    from django.db.models import F

    from donations.models import Pledge
    from donations.services import counter_mismatches
    from needs.models import Need

    problems = []
    over = Need.objects.filter(quantity_pledged__gt=F("quantity_needed")).count()
    if over:
        problems.append(f"{over} needs have more pledged than they need")
    mismatched = list(counter_mismatches().values_list("pk", flat=True)[:10])
    if mismatched:
        problems.append(f"counters differ from the pledges on needs {mismatched}")
    found = set(Pledge.objects.filter(token__in=accepted).values_list("token", flat=True))
    if len(found) != len(set(accepted)):
        problems.append(f"{len(set(accepted)) - len(found)} accepted pledges are missing")
    log(
        f"  over-committed needs: {over}; counter mismatches: {len(mismatched)}; "
        f"accepted pledges found: {len(found)} of {len(set(accepted))}"
    )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5, help="users started per second")
    parser.add_argument("--time", default="60s", help="how long the load runs (locust's -t)")
    parser.add_argument("--needs", type=int, default=50_000)
    args = parser.parse_args()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ksbb-loadtest-"))
    data_file, samples_file = work / "data.json", ARTIFACTS / "samples.json"
    samples_file.unlink(missing_ok=True)

    log(f"Preparing the database {DB_NAME} …")
    database_url = recreate_database(base_database_url())
    # This process is the harness: Django for preparing and checking, in development mode.
    os.environ.update(
        DATABASE_URL=database_url,
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="ksbb.settings",
        EMAIL_URL="dummymail://",  # the demo's mails would flood the output
    )
    prepare(args.needs, data_file)

    with portal.redis_server() as redis_port:
        return serve_and_load(args, database_url, work, data_file, samples_file, redis_port)


def serve_and_load(args, database_url, work, data_file, samples_file, redis_port) -> int:
    port = portal.free_port()
    # Every visitor comes from 127.0.0.1: the pledge rate limits would stop them, not the portal.
    # The cache is a Redis of its own, as docs/deploy.md sets up even on one server: the workers
    # share rate limits and snapshots.
    env = portal.production_env(
        database_url,
        port,
        work / "static",
        CACHE_URL=f"redis://127.0.0.1:{redis_port}/0",
        KSBB_PLEDGE_RATE_PER_ADDRESS="1000000/h",
        KSBB_PLEDGE_RATE_PER_EMAIL="1000000/h",
        KSBB_API_PLEDGE_THROTTLE="1000000/hour",
    )
    log("Collecting static files …")
    portal.collectstatic(env)
    server = portal.start(env, ARTIFACTS / "gunicorn.log")
    host = f"http://127.0.0.1:{port}"
    try:
        portal.wait_until_up(host + "/", server)
        log(
            f"gunicorn on {host} (DEBUG off, cache: Redis); locust: {args.users} users, "
            f"{args.spawn_rate:g}/s ramp, {args.time} …"
        )
        started = time.monotonic()
        with (
            cpu.Meter(server.pid, DB_NAME) as meter,
            open(ARTIFACTS / "locust.log", "w") as locust_log,
        ):
            subprocess.run(
                [
                    str(VENV / "locust"),
                    "-f",
                    str(Path(__file__).with_name("locustfile.py")),
                    "--headless",
                    "--only-summary",
                    "-u",
                    str(args.users),
                    "-r",
                    str(args.spawn_rate),
                    "-t",
                    args.time,
                    "--stop-timeout",
                    "10",
                    "--host",
                    host,
                    "--csv",
                    str(ARTIFACTS / "locust"),
                ],
                cwd=ROOT,
                env={
                    **os.environ,
                    "KSBB_LOADTEST_DATA": str(data_file),
                    "KSBB_LOADTEST_SAMPLES": str(samples_file),
                },
                stdout=locust_log,
                stderr=subprocess.STDOUT,
                timeout=600,
            )
        elapsed = time.monotonic() - started
    finally:
        portal.stop(server)
        shutil.rmtree(work, ignore_errors=True)
    if not samples_file.exists():
        log(f"locust wrote no results; see {ARTIFACTS / 'locust.log'}")
        return 1
    results = json.loads(samples_file.read_text())
    log(f"Results ({elapsed:.0f} s including the ramp and the stop):")
    errors, page_p95 = report(results, elapsed)
    log(meter.report())
    log("Database after the run:")
    problems = check_database(results["accepted"])
    if errors:
        problems.append(f"{errors} errors (target: none)")
    if not page_p95 < PAGE_TARGET_MS:
        problems.append(f"p95 of the pages is {page_p95:.0f} ms (target: under {PAGE_TARGET_MS})")
    for problem in problems:
        log(f"TARGET MISSED: {problem}")
    if not problems:
        log("All targets met: no errors, pages p95 under 300 ms, no over-commit, no pledge lost.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
