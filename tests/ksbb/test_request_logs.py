"""Request ids and log lines: every response carries X-Request-ID, every log record written while
serving it carries the same id, an incoming id is kept only from a configured proxy header, and
LOG_FORMAT=json writes one valid JSON object per line (ksbb.lib.request_id, ksbb.lib.jsonlog)."""

import io
import json
import logging
import re
import sys

import pytest
from log_request_id.filters import RequestIDFilter

from ksbb.lib.jsonlog import JsonFormatter
from tests.ksbb.test_settings import _manage

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def console():
    """The settings' console handler (the one with the request-id filter), writing JSON into a
    buffer for the test."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RequestIDFilter) for f in h.filters)
    )
    buffer = io.StringIO()
    old_stream, old_formatter = handler.setStream(buffer), handler.formatter
    handler.setFormatter(JsonFormatter())
    yield buffer
    handler.setStream(old_stream)
    handler.setFormatter(old_formatter)


def _lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_every_response_has_a_fresh_request_id(client):
    first = client.get("/health/live/")["X-Request-ID"]
    second = client.get("/health/live/")["X-Request-ID"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second


def test_redirects_carry_it_too(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/")
    assert response.status_code == 301
    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_a_log_record_written_during_the_request_carries_its_id(client, db, console):
    # No worker registered: the readiness check logs its failure while serving the request.
    response = client.get("/health/ready/")
    assert response.status_code == 503
    request_id = response["X-Request-ID"]
    records = [line for line in _lines(console) if line["request_id"] == request_id]
    assert any(line["logger"] == "health_check" for line in records), _lines(console)
    # One warning per failing check, not a django.request error per probe on top.
    assert not any(line["logger"] == "django.request" for line in records)
    # Outside a request, the id is "none".
    logging.getLogger("ksbb.test").warning("after the request")
    assert _lines(console)[-1]["request_id"] == "none"


def test_an_incoming_id_is_ignored_unless_a_header_is_configured(client, settings):
    settings.LOG_REQUEST_ID_HEADER = None
    response = client.get("/health/live/", HTTP_X_REQUEST_ID="from-the-client")
    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_the_proxy_id_is_kept_when_configured(client, settings):
    settings.LOG_REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
    response = client.get("/health/live/", HTTP_X_REQUEST_ID="5f2b9c0e8a1d4e7f9b3c6a2d1e0f4b8c")
    assert response["X-Request-ID"] == "5f2b9c0e8a1d4e7f9b3c6a2d1e0f4b8c"


@pytest.mark.parametrize("given", ["", "two words", "x" * 129, 'a"b', "id\u00e9"])
def test_an_id_that_could_forge_a_log_line_is_replaced(client, settings, given):
    settings.LOG_REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
    response = client.get("/health/live/", HTTP_X_REQUEST_ID=given)
    assert GENERATED.fullmatch(response["X-Request-ID"])


def _record(message, *args, exc_info=None) -> logging.LogRecord:
    record = logging.LogRecord(
        "donations.mail", logging.WARNING, __file__, 1, message, args, exc_info
    )
    record.request_id = "abc123"
    return record


def test_the_json_formatter_writes_one_valid_object_per_line():
    line = JsonFormatter().format(_record('Mail %s: "quoted"\nsecond line ✓', 42))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "donations.mail"
    assert entry["message"] == 'Mail 42: "quoted"\nsecond line ✓'
    assert entry["request_id"] == "abc123"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])


def test_the_json_formatter_keeps_the_traceback_in_one_field():
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed"
    assert entry["exception"].startswith("Traceback") and "ValueError: boom" in entry["exception"]


def test_the_json_formatter_survives_arguments_json_cannot_write():
    record = _record("%s", object())
    record.request_id = None
    del record.request_id  # a handler without the filter
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"].startswith("<object object")
    assert entry["request_id"] is None


def test_log_format_json_is_chosen_by_the_environment():
    result = _manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('ksbb').warning('hello')",
        LOG_FORMAT="json",
        DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hello" and entry["logger"] == "ksbb"
    assert entry["request_id"] == "none"


def test_an_unknown_log_format_stops_the_start():
    result = _manage("check", LOG_FORMAT="yaml", DEBUG="1")
    assert result.returncode != 0
    assert "LOG_FORMAT must be text or json" in result.stderr
