"""Settings come from the environment: production refuses to start half-configured, and is hardened."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 60 + "-production-secret-for-the-check",
    "ALLOWED_HOSTS": "ksbb.example.id",
    "EMAIL_URL": "smtp+tls://user:pass@mail.example.id:587",
}


def _manage(*args, **env) -> subprocess.CompletedProcess:
    test_only = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "KSBB_TILE_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in test_only}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, "DATABASE_URL": os.environ.get("DATABASE_URL", ""), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_URL"])
def test_without_debug_a_missing_value_stops_the_start_naming_it(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert f"Set {missing}" in result.stderr or f"variable {missing}" in result.stderr


def test_check_deploy_is_clean_with_debug_off():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
