"""`make loadtest`: the portal's capacity, measured as a curve and as a ratio (docs/benchmarks.md).

1. Prepares a database of its own, `ksbb_load`, in the cluster DATABASE_URL names (made anew each
   run and left afterwards for a look; never the development data): migrate, `load_demo`, then
   scaled to 50,000 needs with bench/needs_layer.py's seeding, with a fresh set of 5 "hot" needs of
   8 units for every load on the portal, so that donors race for the last units in each. The
   static files are collected into a temporary STATIC_ROOT meanwhile.
2. Serves the portal as in production: gunicorn with ksbb/gunicorn.conf.py, DEBUG off, a private
   redis-server as its cache (CACHE_URL, as docs/deploy.md sets up) and the background worker
   beside it (`manage.py procrastinate worker`), behind nginx with deploy/nginx/'s configuration
   (docs/deploy.md: it keeps the shared public pages and the map layer as their Cache-Control
   says; `--no-nginx` sends the visitors to gunicorn directly). Every visitor comes from
   127.0.0.1, so the pledge rate limits are raised for the run.
3. Steps the crowd (bench/loadtest/locustfile.py's Visitor, 1–3 s of think time): for each step
   (--steps, default 50, 100, 200, 300, 500 visitors) locust starts the visitors over --ramp
   seconds, lets them settle for --settle seconds, measures for --measure seconds and stops them;
   the server is left to finish what they left queued, then the database is checked (no need
   over-committed, every accepted pledge there, every counter what the pledges hold). Then the
   closed-loop levels: the same mix without think time for --saturation-users users (default 1×
   and 2× gunicorn's workers), --saturation-measure seconds each: the most the portal serves.
4. Stops it and serves, with the same gunicorn settings behind the same nginx, bench/loadtest/bare.py's
   bare Django view (no middleware, no database, no template, no Cache-Control: nginx keeps
   nothing of it), under the same loads: BareVisitor keeps the think
   time and makes one request per action. This is the ceiling of the machine for this stack. Its
   closed-loop levels are also measured before the portal is started (after step 1): a virtual
   machine's speed drifts, and the ceiling is the higher of the two (bench/loadtest/curve.py).
5. Prints each load's table as it ends, then the curve, the capacity, both sustainable
   throughputs and their ratio (defined in bench/loadtest/curve.py, printed with them). Writes
   every load's figures to artifacts/loadtest/results.json and its raw samples beside.

One database and one gunicorn serve all the loads of a server, as in production, where crowds grow
and shrink without a restart; each load is measured only after its ramp and settling, and after a
load the server finishes its queue before the next starts, so an overloaded step leaves nothing
behind. What does carry over is warm caches and connections, as in production, and the pledges of
the earlier loads (a few thousand rows beside 50,000 needs). A fresh server per step would put its
cold start into every step, and a fresh database would cost a minute of seeding per step.

Exits non-zero when a target is missed: the --must-hold step (300 visitors) or a smaller one does
not hold (pages p95 under 300 ms, no error, database clean), the ratio is under --min-ratio (0.3),
or the database is wrong after any load. It always stops the servers.
"""

import argparse
import contextlib
import datetime
import io
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from bench import server as portal
from bench.loadtest import cpu, curve
from bench.nginx import Nginx, portal_http
from bench.server import ROOT, VENV

ARTIFACTS = ROOT / "artifacts" / "loadtest"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
DB_NAME = "ksbb_load"
DEFAULT_STEPS = "50,100,200,300,500"
HOT_NEEDS = 5
HOT_QUANTITY = 8
# The servers log as production does, whatever the harness's own level.
SERVER_LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
SATURATION_RAMP = 2.0  # seconds to start a closed-loop level's users
DRAIN_PAUSE = 2.0  # seconds after a load's queue is served, for the requests still in the workers
USER_CLASSES = {
    ("portal", curve.VISITORS): "Visitor",
    ("portal", curve.CLOSED_LOOP): "ClosedLoopVisitor",
    ("bare", curve.VISITORS): "BareVisitor",
    ("bare", curve.CLOSED_LOOP): "ClosedLoopBareVisitor",
}


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


def visitor_data(hot_sets: list[list[int]]) -> dict:
    """What the visitors pick from, in the database Django is set up on: up to 5,000 needs open to
    pledges (none of the hot ones, which wait for their own load), the hot needs of every load,
    the active categories and the kota."""
    from django.db.models import F

    from locations.models import Region
    from needs.models import Category, Need

    hot = [pk for needs in hot_sets for pk in needs]
    pledgeable = Need.objects.published().filter(
        is_closed=False, quantity_pledged__lt=F("quantity_needed")
    )
    return {
        "needs": list(
            pledgeable.exclude(pk__in=hot).order_by("?").values_list("pk", flat=True)[:5000]
        ),
        "hot_sets": hot_sets,
        "categories": list(Category.objects.filter(is_active=True).values_list("slug", flat=True)),
        "kota": list(Region.objects.kota().values_list("code", flat=True)),
    }


def prepare(needs_total: int, loads: int) -> dict:
    """Migrate, load the demo, scale to `needs_total` needs with a set of hot needs per load;
    return the visitors' data."""
    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.models import Max

    # Importing it sets Django up; its seed() is the one `make bench` uses for 50,000 needs.
    from bench.needs_layer import seed
    from needs.models import Need

    t0 = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_demo", stdout=io.StringIO())
    demo_needs = Need.objects.count()
    newest = Need.objects.aggregate(m=Max("pk"))["m"] or 0
    seed(max(HOT_NEEDS * loads, needs_total - demo_needs))
    # bench's seed invents counters without pledges behind them; here every counter must be what
    # the pledges hold, so that the over-commit check after the run means something. The scaled-up
    # needs start open; the demo's keep their pledges in every status.
    scaled = Need.objects.filter(pk__gt=newest)
    scaled.update(quantity_pledged=0, quantity_delivered=0)
    # A few small needs per load that half the pledges crowd onto, so donors race for the last
    # units; fresh ones for every load, as the earlier loads fill theirs.
    hot = list(scaled.order_by("pk").values_list("pk", flat=True)[: HOT_NEEDS * loads])
    Need.objects.filter(pk__in=hot).update(quantity_needed=HOT_QUANTITY)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    data = visitor_data([hot[i : i + HOT_NEEDS] for i in range(0, len(hot), HOT_NEEDS)])
    log(
        f"  {Need.objects.count():,} needs ({demo_needs:,} from the demo), {loads} × "
        f"{HOT_NEEDS} hot needs of {HOT_QUANTITY} units, in {time.monotonic() - t0:.0f} s"
    )
    connections.close_all()
    return {**data, "postgresql": server_version}


def check_database(accepted: list[str], hot: list[int]) -> dict:
    """What the database says after a load: no need over-committed, every counter what its
    pledges hold (counter_mismatches), every pledge the portal accepted present; and, for the
    load's hot needs, their counters beside the sum of the pledges holding them."""
    from django.db.models import Case, F, Sum, When
    from django.db.models.functions import Coalesce

    from donations.models import HOLDING_STATUSES, Pledge, PledgeStatus
    from donations.services import counter_mismatches
    from needs.models import Need

    problems = []
    over = Need.objects.filter(quantity_pledged__gt=F("quantity_needed")).count()
    if over:
        problems.append(f"{over} needs have more pledged than they need")
    mismatched = list(counter_mismatches().values_list("pk", flat=True)[:10])
    if mismatched:
        problems.append(f"counters differ from the pledges on needs {mismatched}")
    found = len(set(Pledge.objects.filter(token__in=accepted).values_list("token", flat=True)))
    if found != len(set(accepted)):
        problems.append(f"{len(set(accepted)) - found} accepted pledges are missing")
    # As counter_mismatches counts: what holding and delivered pledges hold, what closed ones
    # delivered before they closed.
    held = Sum(
        Case(
            When(
                pledges__status__in=[*HOLDING_STATUSES, PledgeStatus.DELIVERED],
                then=F("pledges__quantity"),
            ),
            default=F("pledges__quantity_delivered"),
        )
    )
    hot_needs = [
        {"need": pk, "needed": needed, "pledged": pledged, "held": held_}
        for pk, needed, pledged, held_ in Need.objects.filter(pk__in=hot)
        .annotate(held=Coalesce(held, 0))
        .order_by("pk")
        .values_list("pk", "quantity_needed", "quantity_pledged", "held")
    ]
    for h in hot_needs:
        if h["pledged"] != h["held"]:
            problems.append(f"hot need {h['need']}: counter {h['pledged']}, pledges {h['held']}")
    hot_text = ", ".join(f"{h['pledged']}/{h['needed']} ({h['held']})" for h in hot_needs)
    return {
        "over_committed": over,
        "counter_mismatches": mismatched,
        "accepted": len(set(accepted)),
        "found": found,
        "hot_needs": hot_needs,
        "problems": problems,
        "summary": (
            f"over-committed needs {over}, counter mismatches {len(mismatched)}, accepted pledges "
            f"found {found} of {len(set(accepted))}; hot needs pledged/needed (held by pledges): "
            f"{hot_text or 'none'}"
        ),
    }


def run_load(
    host: str,
    user_class: str,
    users: int,
    *,
    ramp: float,
    settle: float,
    measure: float,
    data: dict | None,
    work: Path,
    meter: cpu.Meter | None = None,
    log_path: Path | None = None,
) -> tuple[dict, tuple[float, float]]:
    """One load: locust headless with `users` of `user_class`, started over `ramp` s, stopped
    `settle + measure` s after the last one started. Returns what the locustfile recorded and the
    measured window (the last `measure` s)."""
    work.mkdir(parents=True, exist_ok=True)
    samples_file, data_file = work / "samples.json", work / "data.json"
    samples_file.unlink(missing_ok=True)
    if data is not None:
        data_file.write_text(json.dumps(data))
    command = [
        str(VENV / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "-u",
        str(users),
        "-r",
        f"{users / ramp if ramp > 0 else users:g}",
        # A bound only: the locustfile quits settle + measure after the last user started.
        "-t",
        f"{int(ramp + settle + measure + 60)}s",
        "--stop-timeout",
        "10",
        "--host",
        host,
        user_class,
    ]
    env = {
        **os.environ,
        "KSBB_LOADTEST_DATA": str(data_file) if data is not None else "",
        "KSBB_LOADTEST_SAMPLES": str(samples_file),
        "KSBB_LOADTEST_STOP_AFTER": f"{settle + measure:g}",
    }
    with open(log_path or os.devnull, "a") as out:
        out.write(f"\n=== {user_class}, {users} users ===\n")
        out.flush()
        generator = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        if meter:
            meter.watch(generator.pid, "locust")
        try:
            generator.wait(timeout=ramp + settle + measure + 180)
        except subprocess.TimeoutExpired:
            os.killpg(generator.pid, signal.SIGKILL)
            generator.wait()
            raise RuntimeError(f"locust did not stop; see {log_path}") from None
    if not samples_file.exists():
        raise RuntimeError(f"locust wrote no results (exit {generator.returncode}); see {log_path}")
    raw = json.loads(samples_file.read_text())
    return raw, curve.window_of(raw["times"], settle, measure)


def drain(url: str, timeout: float = 180) -> None:
    """Wait until the server has finished what the stopped visitors left queued: a request made
    now is accepted behind all of it. Then a moment for the last ones in the workers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=60):
                break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer {url} after the load") from None
            time.sleep(1)
    time.sleep(DRAIN_PAUSE)


def gunicorn_workers() -> int:
    """As ksbb/gunicorn.conf.py counts them."""
    return int(os.environ.get("GUNICORN_WORKERS", (os.cpu_count() or 1) * 2 + 1))


def plan(args) -> list[tuple[str, int]]:
    return [(curve.VISITORS, u) for u in args.steps] + [
        (curve.CLOSED_LOOP, u) for u in args.saturation_users
    ]


def durations(args, mode: str) -> dict:
    if mode == curve.VISITORS:
        return {"ramp": args.ramp, "settle": args.settle, "measure": args.measure}
    return {"ramp": SATURATION_RAMP, "settle": args.settle, "measure": args.saturation_measure}


def apply_loads(
    server_name: str,
    host: str,
    args,
    work: Path,
    meter: cpu.Meter,
    data: dict | None,
    check,
    phase: str | None = None,
) -> list[dict]:
    """Every load of the plan on one server (`phase` curve.BEFORE: its closed-loop levels only);
    `check(accepted, i)` checks the database after the i-th (None: nothing to check)."""
    loads = []
    for i, (mode, users) in enumerate(plan(args)):
        if phase == curve.BEFORE and mode != curve.CLOSED_LOOP:
            continue
        times = durations(args, mode)
        log(
            f"{curve.SERVER_NAMES[server_name]}: {users} "
            + ("visitors, 1–3 s think time" if mode == curve.VISITORS else "users, closed loop")
            + f"; {times['ramp']:g} s ramp, {times['settle']:g} s settling, "
            f"{times['measure']:g} s measured" + (" (before the portal)" if phase else "") + " …"
        )
        began = time.monotonic()
        load_data = None
        if data is not None:
            load_data = {k: data[k] for k in ("needs", "categories", "kota")}
            load_data["hot"] = data["hot_sets"][i]
        raw, window = run_load(
            host,
            USER_CLASSES[(server_name, mode)],
            users,
            **times,
            data=load_data,
            work=work / f"{server_name}-{i}",
            meter=meter,
            log_path=args.artifacts / "locust.log",
        )
        drain(host + "/")
        database = check(raw["accepted"], i) if check else None
        load = curve.summarize(
            raw,
            server=server_name,
            mode=mode,
            users=users,
            window=window,
            cpu=meter.window(*window),
            database=database,
        )
        load["wall_seconds"] = time.monotonic() - began  # ramp, stop, drain and checks included
        if phase:
            load["phase"] = phase
        samples = args.artifacts / (
            f"samples-{server_name}-{mode.replace(' ', '-')}-{users:04d}"
            + (f"-{phase}" if phase else "")
            + ".json"
        )
        samples.write_text(json.dumps({"window": window, **raw}))
        log(curve.load_report(load))
        loads.append(load)
    return loads


def serve_portal(args, database_url: str, work: Path, data: dict, redis_port: int) -> list[dict]:
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
        KSBB_TRUSTED_PROXY_COUNT="1" if args.nginx else "0",
        LOG_LEVEL=SERVER_LOG_LEVEL,
    )
    server = portal.start(env, args.artifacts / "gunicorn-portal.log")
    stack = contextlib.ExitStack()
    worker = None
    if args.worker:
        with open(args.artifacts / "worker.log", "w") as out:
            worker = subprocess.Popen(
                portal.WORKER,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    try:
        portal.wait_until_up(f"http://127.0.0.1:{port}/", server)
        host, groups = stack.enter_context(front(args, work, "portal", server, port))
        if worker:
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited; see {args.artifacts / 'worker.log'}")
            groups[worker.pid] = "worker"
        log(
            f"Portal on {host}: "
            + ("nginx in front of " if "nginx" in groups.values() else "")
            + f"gunicorn ({gunicorn_workers()} workers), DEBUG off, Redis cache, "
            + ("the background worker beside it" if worker else "no background worker")
        )
        redis = {f"redis-server 127.0.0.1:{redis_port}": "redis"}
        with cpu.Meter(groups, DB_NAME, redis) as meter:
            loads = apply_loads(
                "portal",
                host,
                args,
                work,
                meter,
                data,
                lambda accepted, i: check_database(accepted, data["hot_sets"][i]),
            )
        if worker and worker.poll() is not None:
            log(f"  note: the worker exited during the run; see {args.artifacts / 'worker.log'}")
        return loads
    finally:
        stack.close()
        if worker:
            portal.stop(worker)
        portal.stop(server)


def serve_bare(args, work: Path, phase: str | None = None) -> list[dict]:
    """The bare view under the plan's loads; `phase` curve.BEFORE: its closed-loop levels only,
    before the portal's loads (the ceiling is measured on both sides of them)."""
    port = portal.free_port()
    env = portal.production_env("", port, work / "static", LOG_LEVEL=SERVER_LOG_LEVEL)
    server = portal.start(
        env, args.artifacts / "gunicorn-bare.log", "bench.loadtest.bare:application"
    )
    try:
        portal.wait_until_up(f"http://127.0.0.1:{port}/", server)
        with front(args, work, "bare", server, port) as (host, groups):
            log(
                f"Bare Django view on {host}: "
                + ("the same nginx, " if "nginx" in groups.values() else "")
                + "the same gunicorn settings, no middleware, no database"
                + (", its closed-loop levels before the portal's" if phase else "")
            )
            with cpu.Meter(groups, DB_NAME) as meter:
                return apply_loads("bare", host, args, work, meter, None, None, phase=phase)
    finally:
        portal.stop(server)


@contextlib.contextmanager
def front(args, work: Path, name: str, server: subprocess.Popen, port: int):
    """nginx in front of gunicorn `server` on `port`, configured as docs/deploy.md does
    (deploy/nginx/), one worker process per core (`worker_processes auto`); none with --no-nginx.
    Yields the address the visitors ask and the processes to meter ({pid: kind})."""
    groups = {server.pid: "gunicorn"}
    if not args.nginx:
        yield f"http://127.0.0.1:{port}", groups
        return
    with Nginx(work / f"nginx-{name}", portal_http([port]), workers="auto") as proxy:
        yield proxy.url, {**groups, proxy.process.pid: "nginx"}


def int_list(text: str) -> list[int]:
    values = sorted({int(v) for v in text.replace(" ", "").split(",") if v})
    if any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("counts of users are positive")
    return values


def machine(postgresql: str | None, load_average: tuple) -> dict:
    from importlib.metadata import version

    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        # Not imported: locust's gevent would patch this process.
        **{name: version(name) for name in ("django", "gunicorn", "locust", "procrastinate")},
        "postgresql": postgresql,
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
        "load_average_at_start": load_average,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--steps",
        type=int_list,
        default=DEFAULT_STEPS,
        help=f"visitors per step, comma-separated ({DEFAULT_STEPS})",
    )
    parser.add_argument(
        "--ramp", type=float, default=10, help="seconds to start a step's visitors (10)"
    )
    parser.add_argument(
        "--settle", type=float, default=5, help="seconds after the ramp before measuring (5)"
    )
    parser.add_argument("--measure", type=float, default=60, help="seconds measured per step (60)")
    parser.add_argument(
        "--saturation-users",
        type=int_list,
        default=None,
        help="users of each closed-loop level, no think time ('' for none; default: 1× and 2× "
        "gunicorn's workers)",
    )
    parser.add_argument(
        "--saturation-measure",
        type=float,
        default=20,
        help="seconds measured per closed-loop level (20)",
    )
    parser.add_argument("--needs", type=int, default=50_000, help="needs in ksbb_load (50,000)")
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=ARTIFACTS,
        help="where the figures and logs go (artifacts/loadtest)",
    )
    parser.add_argument(
        "--must-hold",
        type=int,
        default=300,
        help="the step that must hold, with every smaller one (300; 0: no such target)",
    )
    parser.add_argument(
        "--min-ratio", type=float, default=0.3, help="the least ratio portal / ceiling (0.3)"
    )
    parser.add_argument(
        "--no-nginx",
        dest="nginx",
        action="store_false",
        help="send the visitors to gunicorn directly, without nginx and its cache in front",
    )
    parser.add_argument(
        "--no-worker",
        dest="worker",
        action="store_false",
        help="serve without the background worker beside gunicorn",
    )
    args = parser.parse_args(argv)
    if args.saturation_users is None:
        w = gunicorn_workers()
        args.saturation_users = [w, 2 * w]
    loads = plan(args)
    if not loads:
        parser.error("nothing to measure: no step and no closed-loop level")
    # Each load also costs locust's start and stop, the drain and the checks: about 5 s.
    seconds = sum(
        (3 if mode == curve.CLOSED_LOOP else 2) * (sum(durations(args, mode).values()) + 5)
        for mode, _ in loads
    )
    log(
        f"Plan: visitor steps {args.steps}, closed-loop levels {args.saturation_users}, on the "
        "portal then on the bare view (its closed-loop levels before the portal too); about "
        f"{seconds / 60:.0f} min of load after 2–4 min of preparation."
    )

    started, load_average = time.monotonic(), os.getloadavg()
    if load_average[0] > 0.5:
        log(f"Note: the machine is not quiet (load average {load_average[0]:.1f}).")
    args.artifacts.mkdir(parents=True, exist_ok=True)
    # What an earlier run wrote (samples.json, locust_*.csv, gunicorn.log: before the steps).
    logs = ("locust", "gunicorn*", "worker", "collectstatic")
    for pattern in ("samples*.json", "locust*.csv", *(f"{name}.log" for name in logs)):
        for old in args.artifacts.glob(pattern):
            old.unlink()
    (args.artifacts / "results.json").unlink(missing_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ksbb-loadtest-"))
    try:
        log(f"Preparing the database {DB_NAME} and collecting the static files …")
        database_url = recreate_database(base_database_url())
        # This process is the harness: Django for preparing and checking, in development mode.
        os.environ.update(
            DATABASE_URL=database_url,
            DEBUG="1",
            DJANGO_SETTINGS_MODULE="ksbb.settings",
            EMAIL_URL="dummymail://",  # the demo's mails would flood the output
            LOG_LEVEL="WARNING",  # nor its INFO lines (the servers log as production does)
        )
        # The static files are collected meanwhile (production's storage: hashed, compressed).
        with open(args.artifacts / "collectstatic.log", "w") as out:
            collecting = subprocess.Popen(
                [str(VENV / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=ROOT,
                env=portal.production_env(database_url, 0, work / "static"),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            data = prepare(args.needs, len(loads))
        except BaseException:
            collecting.kill()
            collecting.wait()
            raise
        if collecting.wait() != 0:
            raise RuntimeError(f"collectstatic failed; see {args.artifacts}/collectstatic.log")
        log(f"  static files collected; {time.monotonic() - started:.0f} s so far")
        # The ceiling on both sides of the portal's loads (curve.py: the higher counts).
        bare_loads = serve_bare(args, work, phase=curve.BEFORE)
        with portal.redis_server() as redis_port:
            portal_loads = serve_portal(args, database_url, work, data, redis_port)
        bare_loads += serve_bare(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    verdict = curve.conclude(
        portal_loads, bare_loads, must_hold=args.must_hold, min_ratio=args.min_ratio
    )
    log("")
    log("The curve (each load over its measured window; CPU in % of the machine):")
    log(curve.curve_table(portal_loads + bare_loads))
    log(curve.verdict_report(verdict))
    results = {
        "when": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(data.get("postgresql"), load_average),
        "options": {**vars(args), "saturation_ramp": SATURATION_RAMP},
        "definitions": curve.__doc__,
        "loads": portal_loads + bare_loads,
        "verdict": verdict,
        "minutes": (time.monotonic() - started) / 60,
    }
    (args.artifacts / "results.json").write_text(json.dumps(results, indent=1, default=str))
    log(
        f"{results['minutes']:.1f} min in all. Figures: {args.artifacts / 'results.json'}; "
        "raw samples, locust's and the servers' logs beside it."
    )
    return 1 if verdict["missed"] else 0


if __name__ == "__main__":
    sys.exit(main())
