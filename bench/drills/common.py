"""What the fault drills share: a throwaway PostgreSQL cluster, the portal on it under gunicorn,
a small data set, a visitor's HTTP client, and the way a drill reports what it did and saw.

Each drill makes its own cluster in a temporary folder on a free port, so stopping or filling
anything there disturbs nobody else's database; it is removed when the drill ends.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

from bench import server as portal

PG_BIN = Path(os.environ.get("KSBB_PG_BIN", "/usr/lib/postgresql/15/bin"))
DB_NAME = "ksbb_drill"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# The pledge form's one-time key, a hidden field a browser sends back (Pledge.submission).
SUBMISSION = re.compile(r'name="submission" value="([^"]+)"')
TOKEN = re.compile(r"^/komitmen/([A-Za-z0-9_-]+)/$")


def say(message: str) -> None:
    print(message, flush=True)


@dataclass
class Verdict:
    """The promises a drill checked: each with what was seen."""

    name: str
    broken: list[str] = field(default_factory=list)

    def check(self, ok: bool, promise: str, seen: str) -> None:
        say(f"  [{'ok' if ok else 'BROKEN'}] {promise}: {seen}")
        if not ok:
            self.broken.append(promise)

    def exit_code(self) -> int:
        if self.broken:
            say(f"{self.name}: {len(self.broken)} promise(s) broken.")
            return 1
        say(f"{self.name}: every promise kept.")
        return 0


class Cluster:
    """A PostgreSQL 15 cluster of the drill's own (as the `postgres` user when run as root, since
    PostgreSQL refuses to run as root), with PostGIS and an empty database `ksbb_drill`."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ksbb-drill-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgresql.log"
        self.port = portal.free_port()
        self.user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
        self.url = f"postgis://{self.user}@127.0.0.1:{self.port}/{DB_NAME}"

    def _as_owner(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(a) for a in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def __enter__(self) -> "Cluster":
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._as_owner(
            PG_BIN / "initdb",
            "-D",
            self.data,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-U",
            self.user,
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                "unix_socket_directories = ''\nmax_connections = 60\n"
            )
        self.start()
        self.psql("template1", "CREATE EXTENSION IF NOT EXISTS postgis")
        self.psql("postgres", f"CREATE DATABASE {DB_NAME}")
        return self

    def __exit__(self, *exc) -> None:
        self._as_owner(
            PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False
        )
        shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, database: str, sql: str) -> str:
        return subprocess.run(
            [
                PG_BIN / "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-qAtc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
        ).stdout.strip()

    def start(self) -> None:
        self._as_owner(
            PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_owner(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")


def setup_django(database_url: str, **env: str) -> None:
    """This process as the drill's harness: Django on the drill's database, in development mode
    (the portal under test runs in gunicorn with DEBUG off)."""
    os.environ.update(
        DATABASE_URL=database_url,
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="ksbb.settings",
        EMAIL_URL="dummymail://",
        **env,
    )
    import django

    django.setup()


def seed(needs: int = 200) -> list[int]:
    """Migrate and add `needs` open needs with bench/needs_layer.py's seeding; return their ids.

    Its counters are invented; here they are zeroed, so every counter is what the pledges hold."""
    import io

    from django.core.management import call_command
    from django.db.models import Max

    from bench.needs_layer import seed as make_needs
    from needs.models import Need

    call_command("migrate", verbosity=0, interactive=False, stdout=io.StringIO())
    newest = Need.objects.aggregate(m=Max("pk"))["m"] or 0
    make_needs(needs)
    made = Need.objects.filter(pk__gt=newest)
    made.update(quantity_pledged=0, quantity_delivered=0, quantity_needed=1000)
    return list(made.order_by("pk").values_list("pk", flat=True))


class Gunicorn:
    """The portal under gunicorn with DEBUG off on the drill's database, for a `with` block.
    Static files are hashed (the manifest the templates need) but not compressed: the drills
    fetch none, and compressing them takes most of a minute."""

    def __init__(
        self,
        database_url: str,
        work: Path,
        name: str = "gunicorn",
        collect: bool = True,
        **env: str,
    ) -> None:
        """`name` names its log (and metrics folder) in `work`; `collect=False` serves the static
        files an earlier Gunicorn of the same `work` collected (several app servers of one release)."""
        self.port = portal.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = work / f"{name}.log"
        self.collect = collect
        self.env = portal.production_env(
            database_url,
            self.port,
            work / "static",
            # Its own, in the drill's folder: a killed server leaves nothing behind elsewhere.
            PROMETHEUS_MULTIPROC_DIR=str(work / f"{name}-metrics"),
            STATICFILES_STORAGE="django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
            **{
                # Every drill visitor comes from 127.0.0.1.
                "KSBB_PLEDGE_RATE_PER_ADDRESS": "1000000/h",
                "KSBB_PLEDGE_RATE_PER_EMAIL": "1000000/h",
                "KSBB_API_PLEDGE_THROTTLE": "1000000/hour",
                "GUNICORN_WORKERS": "3",
                **env,  # a drill's own values win
            },
        )

    def __enter__(self) -> "Gunicorn":
        if self.collect:
            portal.collectstatic(self.env)
        self.process = portal.start(self.env, self.log)
        try:
            portal.wait_until_up(self.url + "/peta/", self.process)
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        portal.stop(self.process)

    def manage(self, *args: str) -> str:
        """A management command with the portal's environment; its output."""
        done = subprocess.run(
            [str(portal.VENV / "python"), "manage.py", *args],
            cwd=portal.ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Answer:
    method: str
    path: str
    status: int | None  # None: no HTTP answer at all (refused, reset, timed out)
    headers: dict
    body: str
    error: str = ""
    started: float = 0.0
    ended: float = 0.0
    base_url: str = ""  # the server asked

    @property
    def friendly_503(self) -> bool:
        """The portal's own 503: Retry-After, and the translated page (JSON under /api/)."""
        if self.status != 503 or "retry-after" not in self.headers:
            return False
        if self.path.startswith("/api/"):
            return (
                self.headers.get("content-type") == "application/json" and '"detail"' in self.body
            )
        return "<html lang=" in self.body and "Traceback" not in self.body

    @property
    def pledge_token(self) -> str | None:
        """The token of an accepted pledge: the form redirects to its page, the API answers 201,
        or 200 to a request sent again with its one-time key (nginx passed it to another server
        after the first one made the pledge and died before answering)."""
        if self.status == 302:
            match = TOKEN.match(self.headers.get("location", ""))
            return match[1] if match else None
        if self.status in (200, 201) and self.method == "POST":
            try:
                return json.loads(self.body).get("token")
            except ValueError:
                return None
        return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A visitor: keeps cookies (the portal's are Secure; TLS would end at the proxy, so they are
    sent back over plain HTTP here) and does not follow redirects, so the drill sees them."""

    def __init__(self, base_url: str, timeout: float = 15) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.answers: list[Answer] = []  # every request this visitor made, in order
        self.asking: tuple[str, str, float] | None = None  # (method, path, since) while it waits
        jar = CookieJar(DefaultCookiePolicy(secure_protocols=("https", "http")))
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), _NoRedirects()
        )

    def request(self, method: str, path: str, body: bytes | None = None, headers=None) -> Answer:
        request = urllib.request.Request(
            self.base_url + path, data=body, method=method, headers=headers or {}
        )
        started = time.monotonic()
        self.asking = (method, path, started)
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                status, head, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            status, head, raw = e.code, e.headers, e.read()
        except Exception as e:  # refused, reset, timed out: no HTTP answer
            status, head, raw = None, {}, f"{type(e).__name__}: {e}".encode()
        finally:
            self.asking = None
        answer = Answer(
            method,
            path,
            status,
            {k.lower(): v for k, v in head.items()},
            raw.decode(errors="replace") if status else "",
            error="" if status else raw.decode(),
            started=started,
            ended=time.monotonic(),
            base_url=self.base_url,
        )
        self.answers.append(answer)
        return answer

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def pledge_by_form(
        self, need: int, email: str, quantity: int = 1, name: str = "Donatur Latihan"
    ) -> Answer:
        form = self.get(f"/kebutuhan/{need}/dukung/")
        match = CSRF.search(form.body) if form.status == 200 else None
        if not match:
            return form
        data = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": match[1],
                "public_name": name,
                "kind": "individual",
                "email": email,
                "quantity": quantity,
                "show_name": "on",
                "submission": key[1] if (key := SUBMISSION.search(form.body)) else "",
            }
        ).encode()
        return self.request(
            "POST",
            f"/kebutuhan/{need}/dukung/",
            data,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def pledge_by_api(
        self, need: int, email: str, quantity: int = 1, name: str = "Donatur API"
    ) -> Answer:
        body = {
            "need": need,
            "public_name": name,
            "kind": "company",
            "email": email,
            "quantity": quantity,
            "submission": str(uuid.uuid4()),  # its one-time key: a retry makes no second pledge
        }
        return self.request(
            "POST",
            "/api/v1/pledges/",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Accept": "application/json"},
        )


def run(drill) -> None:
    """Run a drill's main() and exit with its code (for `python -m bench.drills.<name>`)."""
    started = time.monotonic()
    code = drill()
    say(f"({time.monotonic() - started:.0f} s)")
    sys.exit(code)
