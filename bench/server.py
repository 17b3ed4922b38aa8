"""The portal served as in production, for the load test and the fault drills: gunicorn with
ksbb/gunicorn.conf.py, DEBUG off, static files collected into a STATIC_ROOT of the caller's, on a
free port of 127.0.0.1, in a process group of its own so that stopping it stops its workers."""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv" / "bin"
# The background worker as production starts it: below the app servers' priority, as the systemd
# unit of docs/deploy.md says (Nice=10), so its rebuilds use the cores the requests leave.
WORKER = ["nice", "-n", "10", str(VENV / "python"), "manage.py", "procrastinate", "worker"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(database_url: str, port: int, static_root: Path, **extra: str) -> dict:
    """The environment of a production start; `extra` adds or overrides variables."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_URL": "dummymail://",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_ROOT": str(static_root),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        # Quiet: one line per request would drown the log.
        "GUNICORN_ACCESSLOG": "",
        **extra,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def collectstatic(env: dict) -> None:
    subprocess.run(
        [str(VENV / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def start(env: dict, log_path: Path, application: str | None = None) -> subprocess.Popen:
    """gunicorn with ksbb/gunicorn.conf.py, serving the portal or `application` (module:callable)."""
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [str(VENV / "gunicorn"), "-c", "ksbb/gunicorn.conf.py", *filter(None, [application])],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s")


def stop(server: subprocess.Popen) -> None:
    """Stop gunicorn and its workers, gracefully first."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


@contextmanager
def redis_server(start_seconds: float = 10) -> Iterator[int]:
    """A private redis-server on a free port of 127.0.0.1, saving nothing to disk; yields its port
    and kills it afterwards. RuntimeError when it is not installed or does not answer."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is missing: scripts/bootstrap.sh --test installs it")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        probe = redis.Redis(port=port)
        deadline = time.monotonic() + start_seconds
        while True:
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(
                        f"redis-server did not start: {process.stdout.read().decode()}"
                    ) from None
                time.sleep(0.02)
        yield port
    finally:
        process.kill()
        process.wait(timeout=10)
