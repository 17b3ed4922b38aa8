"""Admin brute-force protection (django-axes): five wrong passwords for a username from one address
lock that pair for the cool-off, with a friendly 429 page; staff can unlock it early in the admin."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from tests import factories

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
ATTACKER = "203.0.113.7"


@pytest.fixture
def officer(db):
    return factories.UserFactory(username="petugas.gambir", is_staff=True)


def _login(client, username, password, address=ATTACKER, **extra):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def _fail(client, username, times, address=ATTACKER, **extra):
    return [_login(client, username, "wrong", address, **extra).status_code for _ in range(times)]


def test_five_wrong_passwords_lock_the_username_even_for_the_right_one(client, officer):
    assert _fail(client, "petugas.gambir", 4) == [200] * 4  # the login form, with its error
    assert _fail(client, "petugas.gambir", 1) == [429]
    response = _login(client, "petugas.gambir", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_is_friendly_translated_and_holds_no_personal_data(client, officer):
    _fail(client, "petugas.gambir", 5)
    response = _login(client, "petugas.gambir", PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert '<html lang="en">' in html
    assert '<header class="site-header">' in html  # the portal's own page (base.html)
    assert "Sign-in paused" in html and "1 hour" in html
    assert "petugas.gambir" not in html and ATTACKER not in html
    indonesian = _login(client, "petugas.gambir", PASSWORD)
    assert '<html lang="id">' in indonesian.content.decode()


def test_another_username_is_not_affected(client, officer):
    other = factories.UserFactory(username="provinsi", is_staff=True)
    _fail(client, "petugas.gambir", 5)
    response = _login(client, other.username, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_the_same_username_from_another_address_is_not_affected(client, officer):
    _fail(client, "petugas.gambir", 5)
    assert _login(client, "petugas.gambir", PASSWORD, address="198.51.100.20").status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, officer, settings):
    # The same rule as the pledge rate limits (donations.ratelimit.client_address).
    settings.KSBB_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    _fail(client, "petugas.gambir", 5, proxy, HTTP_X_FORWARDED_FOR="spoofed, 198.51.100.1")
    locked = _login(client, "petugas.gambir", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert locked.status_code == 429
    other = _login(client, "petugas.gambir", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert other.status_code == 302
    assert AccessAttempt.objects.get().ip_address == "198.51.100.1"


def test_a_success_before_the_limit_starts_the_count_again(client, officer):
    _fail(client, "petugas.gambir", 4)
    assert _login(client, "petugas.gambir", PASSWORD).status_code == 302
    client.logout()
    assert _fail(client, "petugas.gambir", 4) == [200] * 4


def test_staff_unlock_a_locked_account_in_the_admin(client, officer, province_staff):
    _fail(client, "petugas.gambir", 5)
    attempt = AccessAttempt.objects.get(username="petugas.gambir")
    assert attempt.failures_since_start == 5

    staff = Client()
    staff.force_login(province_staff)
    listing = staff.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "petugas.gambir" in listing.content.decode()
    deleted = staff.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not AccessAttempt.objects.exists()

    assert _login(client, "petugas.gambir", PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, officer):
    _fail(client, "petugas.gambir", 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=61))
    assert _login(client, "petugas.gambir", PASSWORD).status_code == 302


def test_an_area_officer_cannot_see_the_attempts(client, kelurahan_officer):
    client.force_login(kelurahan_officer)
    assert client.get("/admin/axes/accessattempt/").status_code == 403
