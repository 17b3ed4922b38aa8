"""`make serve`: scripts/serve.sh's local-only values, and the real server as it runs in production:
gunicorn through ksbb/gunicorn.conf.py with DEBUG off, behind a TLS proxy (X-Forwarded-Proto), against
the test database, serving collected static files hashed and compressed."""

import contextlib
import http.client
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password

from bench import server as bench_server
from locations.registry import load_regions
from tests import factories
from tests.ksbb.csp_checks import assert_scripts_carry_the_nonce, assert_strict_policy

ROOT = Path(settings.BASE_DIR)
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


def _serve_env(checkout: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(checkout / "scripts" / "serve.sh"), "--env"],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def checkout(tmp_path):
    """A copy of the script in a checkout of its own, so its .data/ is not the real one."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "serve.sh", tmp_path / "scripts" / "serve.sh")
    return tmp_path


def test_serve_supplies_local_only_values_and_says_so(checkout):
    first = _serve_env(checkout, DEBUG="1")
    assert first.returncode == 0, first.stderr
    assert "DEBUG=0" in first.stdout.splitlines()
    assert "ALLOWED_HOSTS=127.0.0.1,localhost" in first.stdout
    assert "EMAIL_URL=consolemail://" in first.stdout
    assert "SECURE_SSL_REDIRECT=0" in first.stdout
    for name in ["ALLOWED_HOSTS", "EMAIL_URL", "SECURE_SSL_REDIRECT"]:
        assert f"{name} is not set; using the local-only value" in first.stderr
    assert "DEBUG=1 ignored" in first.stderr
    assert "generated a local-only one into .data/secret_key" in first.stderr

    key = checkout / ".data" / "secret_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    secret = key.read_text()
    assert len(secret) >= 50 and secret not in first.stdout + first.stderr

    second = _serve_env(checkout)
    assert "using the local-only one in .data/secret_key" in second.stderr
    assert key.read_text() == secret


def test_serve_keeps_what_the_environment_sets(checkout):
    result = _serve_env(
        checkout,
        SECRET_KEY="s" * 60,
        ALLOWED_HOSTS="ksbb.example.id",
        EMAIL_URL="smtp+tls://mail.example.id:587",
        SECURE_SSL_REDIRECT="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "ALLOWED_HOSTS=ksbb.example.id" in result.stdout
    assert "SECURE_SSL_REDIRECT=1" in result.stdout
    assert not (checkout / ".data").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgis://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def production_env(tmp, port: int, **extra: str) -> dict:
    """Only what a production start sets (DEBUG off), nothing of the test run's environment."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "DEBUG": "0",
        "SECRET_KEY": "t" * 60 + "-serve-test",
        "ALLOWED_HOSTS": "127.0.0.1",
        "EMAIL_URL": "consolemail://",
        "DATABASE_URL": _database_url(),
        "STATIC_ROOT": str(tmp / "static"),
        "PORT": str(port),
        **extra,
    }


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    """gunicorn with the production settings (only the environment, DEBUG off) on a free port."""
    tmp = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = production_env(tmp, port, GUNICORN_WORKERS="1")
    # The API docs' and browsable API's bundles are left out only to keep this test quick (their
    # brotli pass takes most of collectstatic's time); the pages fetched here do not use them.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
        + ["--ignore", "drf_spectacular_sidecar", "--ignore", "rest_framework"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    SERVER_LOG["path"] = tmp / "gunicorn.log"
    with serving(env, port, tmp / "gunicorn.log"):
        yield port


SERVER_LOG: dict[str, Path] = {}


@contextlib.contextmanager
def serving(env: dict, port: int, log_path: Path):
    """bench.server's gunicorn with `env`, once it listens on `port` (the test fails with its log
    otherwise); yields the process and stops it afterwards."""
    proc = bench_server.start(env, log_path)
    try:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail("gunicorn stopped: " + log_path.read_text()[-3000:])
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not listen: " + log_path.read_text()[-3000:])
        yield proc
    finally:
        bench_server.stop(proc)


def _request(port, method, path, *, https=True, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = {"X-Forwarded-Proto": "https"} if https else {}
    sent.update(headers or {})
    if body is not None:
        body = urlencode(body)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=sent)
    response = conn.getresponse()
    content = response.read()
    conn.close()
    return response, content


def _cookies(response) -> SimpleCookie:
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return jar


def _assert_hardened_cookie(morsel):
    assert morsel["secure"] and morsel["httponly"], morsel.OutputString()
    assert morsel["samesite"] == "Lax", morsel.OutputString()


def test_the_worker_loads_the_portal_before_its_first_request(server):
    """gunicorn.conf.py's post_worker_init (ksbb.warmup): the URLs and every template of the portal's
    are loaded when the worker starts, not by the first visitor's request."""
    from ksbb.warmup import project_templates

    _request(server, "GET", "/")
    log = SERVER_LOG["path"].read_text()
    assert f"warmed up: {len(project_templates())} templates" in log, log[-3000:]
    assert "does not compile" not in log


def test_plain_http_is_sent_to_https(server):
    response, _ = _request(server, "GET", "/", https=False)
    assert response.status == 301
    assert response.headers["Location"] == f"https://127.0.0.1:{server}/"


def test_the_page_headers_with_debug_off(server):
    response, content = _request(server, "GET", "/")
    assert response.status == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = assert_strict_policy(response.headers["Content-Security-Policy"])
    # No KSBB_TILE_URL in this environment: the default OpenStreetMap tiles are allowed, only they.
    assert policy["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]
    # The home page is everybody's (ksbb.lib.http_cache): no cookie, a shared cache may keep it.
    assert response.headers.get("Set-Cookie") is None
    assert "public" in response.headers["Cache-Control"]
    assert b"Traceback" not in content


def test_the_csrf_cookie_is_hardened(server):
    page, _ = _request(server, "GET", "/admin/login/")
    _assert_hardened_cookie(_cookies(page)["csrftoken"])


def test_the_map_page_has_no_inline_script_with_debug_off(server):
    response, content = _request(server, "GET", "/peta/")
    assert response.status == 200
    header = response.headers["Content-Security-Policy"]
    assert assert_scripts_carry_the_nonce(header, content.decode()) == 0
    assert re.search(rb'src="/static/js/maps\.[0-9a-f]{12}\.js"', content)


def test_the_language_cookie_is_hardened(server):
    # The language form carries no CSRF token (ksbb.views.set_language).
    response, _ = _request(
        server,
        "POST",
        "/i18n/setlang/",
        body={"language": "en", "next": "/"},
        headers={"Origin": f"https://127.0.0.1:{server}"},
    )
    assert response.status == 302
    _assert_hardened_cookie(_cookies(response)["django_language"])


@pytest.mark.django_db(transaction=True)
def test_the_session_cookie_is_hardened(server):
    load_regions()
    factories.seed_categories()
    # Hashed as the server's settings hash (the suite's own hasher is a fast one it does not know).
    user = factories.UserFactory(username="provinsi", is_staff=True, is_superuser=True)
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    page, content = _request(server, "GET", "/admin/login/")
    csrf = _cookies(page)["csrftoken"].value
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)[1].decode()
    response, _ = _request(
        server,
        "POST",
        "/admin/login/?next=/admin/",
        body={"username": "provinsi", "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Cookie": f"csrftoken={csrf}", "Origin": f"https://127.0.0.1:{server}"},
    )
    assert response.status == 302, response.headers
    _assert_hardened_cookie(_cookies(response)["sessionid"])


def test_hashed_static_files_are_compressed_and_cached_for_ever(server):
    _, content = _request(server, "GET", "/")
    hashed = re.search(rb'href="(/static/css/ksbb\.[0-9a-f]{12}\.css)"', content)[1].decode()
    response, body = _request(server, "GET", hashed, headers={"Accept-Encoding": "br, gzip"})
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "br"
    assert "max-age=315360000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]
    assert len(body) < (ROOT / "static" / "css" / "ksbb.css").stat().st_size / 2

    gzip, _ = _request(server, "GET", hashed, headers={"Accept-Encoding": "gzip"})
    assert gzip.headers["Content-Encoding"] == "gzip"
    # The unhashed name may change content at the next release: it is cached briefly.
    plain, _ = _request(server, "GET", "/static/css/ksbb.css")
    assert "immutable" not in plain.headers["Cache-Control"]
