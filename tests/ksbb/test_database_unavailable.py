"""When the database cannot be reached, visitors get a friendly 503 that says to come back shortly
(JSON under /api/), rendered without touching the database; any other fault is the friendly 500.
Neither ever shows a traceback or the exception's text."""

import contextlib
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connections
from django.test import Client, override_settings

from ksbb.errors import RETRY_AFTER_SECONDS

SECRET = "password=hunter2 host=db.internal"


@pytest.fixture(autouse=True)
def _debug_off():
    """As in production: with DEBUG on, Django would show its technical error page instead."""
    with override_settings(DEBUG=False):
        yield


@contextlib.contextmanager
def database_down(error=OperationalError):
    """Every query fails as it does while PostgreSQL restarts (the connection is refused)."""
    failure = error(f"connection failed: {SECRET}: Connection refused")
    with mock.patch.object(connections["default"], "_cursor", side_effect=failure):
        yield


@pytest.fixture
def visitor():
    """A browser that reads the portal in English; the test sees the response, not the exception."""
    client = Client(raise_request_exception=False)
    client.cookies["django_language"] = "en"
    return client


def _assert_nothing_leaks(response):
    body = response.content.decode()
    assert "Traceback" not in body
    assert SECRET not in body and "hunter2" not in body
    assert "connection failed" not in body
    for name in ("OperationalError", "InterfaceError", "RuntimeError", "KeyError"):
        assert name not in body


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_page_answers_503_with_retry_after_when_the_database_is_down(visitor, need, error):
    with database_down(error):
        response = visitor.get("/peta/?category=pangan")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "The portal is temporarily unavailable" in html
    assert f"try again in about {RETRY_AFTER_SECONDS} seconds" in html
    _assert_nothing_leaks(response)


def test_the_503_page_is_in_indonesian_by_default(need):
    with database_down():
        response = Client(raise_request_exception=False).get("/peta/")
    assert response.status_code == 503
    assert '<html lang="id">' in response.content.decode()


def test_the_503_page_reads_no_session_or_user_of_a_signed_in_visitor(visitor, province_staff):
    # A signed-in staff member's session lives in the database: the page must not try to load it,
    # or the error page itself would fail and the visitor would get a bare server error.
    visitor.force_login(province_staff)
    with database_down():
        response = visitor.get("/admin/donations/pledge/")
    assert response.status_code == 503
    assert "The portal is temporarily unavailable" in response.content.decode()


def test_a_pledge_sent_while_the_database_is_down_gets_the_503_page(visitor, need):
    with database_down():
        response = visitor.post(
            f"/kebutuhan/{need.pk}/dukung/",
            {
                "public_name": "Budi",
                "kind": "individual",
                "email": "budi@example.test",
                "quantity": "5",
            },
        )
    assert response.status_code == 503
    assert "it may already be recorded" in response.content.decode()
    _assert_nothing_leaks(response)


@pytest.mark.parametrize(
    "method, path",
    [("get", "/api/v1/needs/layer/"), ("get", "/api/v1/needs/"), ("post", "/api/v1/pledges/")],
)
def test_the_api_answers_json_503_when_the_database_is_down(visitor, need, method, path):
    body = {
        "need": need.pk,
        "public_name": "Budi",
        "kind": "individual",
        "email": "budi@example.test",
        "quantity": 5,
    }
    with database_down():
        response = getattr(visitor, method)(path, body if method == "post" else None)
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The service is temporarily unavailable. Please retry shortly."
    }
    _assert_nothing_leaks(response)


def test_any_other_fault_is_the_friendly_500_without_retry_after(visitor, need, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError(f"bug near {SECRET}")

    monkeypatch.setattr("needs.views.NeedFilter", broken)
    response = visitor.get("/peta/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Something went wrong on our side" in html
    _assert_nothing_leaks(response)


def test_any_other_fault_under_the_api_is_a_json_500(visitor, need, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError(SECRET)

    monkeypatch.setattr("needs.layer.features", broken)
    response = visitor.get("/api/v1/needs/layer/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert response.json() == {"detail": "A server error occurred."}
    _assert_nothing_leaks(response)


def test_a_database_error_raised_from_another_still_counts_as_unavailable(
    visitor, need, monkeypatch
):
    # A library that catches the driver's error and raises its own keeps the cause: still a 503.
    def broken(*args, **kwargs):
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError as e:
            raise RuntimeError("could not build the filter") from e

    monkeypatch.setattr("needs.views.NeedFilter", broken)
    response = visitor.get("/peta/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)


@pytest.mark.parametrize("path", ["/kebutuhan/1/dukung/", "/api/v1/pledges/"])
def test_a_session_the_database_could_not_save_is_the_503_not_a_bad_request(path):
    """Django reports a failed session save (SessionMiddleware) as SessionInterrupted, a 400 that
    blames the visitor; it is the database's fault: the 503, come back shortly."""
    from django.contrib.sessions.exceptions import SessionInterrupted
    from django.test import RequestFactory

    from ksbb import urls
    from ksbb.errors import bad_request

    assert urls.handler400 == "ksbb.errors.bad_request"
    interrupted = SessionInterrupted("The request's session was deleted before it completed.")
    answer = bad_request(RequestFactory().post(path), interrupted)
    assert answer.status_code == 503 and answer["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert bad_request(RequestFactory().get(path), ValueError("no")).status_code == 400
