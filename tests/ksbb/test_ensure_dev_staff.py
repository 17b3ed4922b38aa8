"""`manage.py ensure_dev_staff`: known staff logins for development, one per role, and never without
DEBUG. What the officer and the auditor may see is tested on the demo (test_load_demo.py)."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from locations.models import Region, StaffArea
from locations.scoping import AREA_OFFICER_GROUP, AUDITOR_GROUP

User = get_user_model()
USERNAMES = ["admin", "petugas.gambir", "auditor"]
FIRST_SCREEN = """\
Staff logins for http://127.0.0.1:8000/admin/ (development only):
  admin          / ksbb-dev   superuser: sees and changes everything
  petugas.gambir / ksbb-dev   area officer of Kecamatan Gambir, Jakarta Pusat: sees and works only there
  auditor        / ksbb-dev   auditor: reads the whole province, changes nothing
"""


def _run() -> str:
    out = io.StringIO()
    call_command("ensure_dev_staff", stdout=out)
    return out.getvalue()


def _accounts() -> list[tuple]:
    """Everything the command sets, per account, password hash included."""
    return [
        (
            u.username,
            u.password,
            u.is_active,
            u.is_staff,
            u.is_superuser,
            sorted(u.groups.values_list("name", flat=True)),
            sorted(StaffArea.objects.filter(user=u).values_list("region__code", flat=True)),
        )
        for u in User.objects.filter(username__in=USERNAMES).order_by("username")
    ]


def test_creates_a_superuser_an_area_officer_and_an_auditor(jakarta, settings):
    settings.DEBUG = True
    settings.KSBB_BASE_URL = "http://127.0.0.1:8000"
    assert _run() == FIRST_SCREEN
    admin, officer, auditor = (User.objects.get(username=name) for name in USERNAMES)
    for user in (admin, officer, auditor):
        assert user.is_active and user.is_staff and user.check_password("ksbb-dev")
    assert admin.is_superuser and not officer.is_superuser and not auditor.is_superuser
    assert list(officer.groups.values_list("name", flat=True)) == [AREA_OFFICER_GROUP]
    assert list(auditor.groups.values_list("name", flat=True)) == [AUDITOR_GROUP]
    assert [a.region.code for a in StaffArea.objects.filter(user=officer)] == ["31.71.01"]
    assert not StaffArea.objects.filter(user__in=[admin, auditor]).exists()


def test_a_second_run_changes_nothing_and_prints_the_same(jakarta, settings):
    settings.DEBUG = True
    first = _run()
    before = _accounts()
    assert _run() == first
    assert _accounts() == before
    assert User.objects.filter(username__in=USERNAMES).count() == 3


def test_running_it_again_puts_changed_accounts_back(jakarta, settings):
    settings.DEBUG = True
    _run()
    expected = _accounts()
    admin = User.objects.get(username="admin")
    admin.set_password("forgotten")
    admin.is_active = False
    admin.save()
    officer = User.objects.get(username="petugas.gambir")
    officer.is_superuser = True
    officer.groups.clear()
    StaffArea.objects.filter(user=officer).update(region=Region.objects.get(code="31.72"))
    _run()
    assert User.objects.filter(username__in=USERNAMES).count() == 3
    admin.refresh_from_db()
    assert admin.is_active and admin.check_password("ksbb-dev")
    assert [row[2:] for row in _accounts()] == [row[2:] for row in expected]


def test_without_regions_it_still_creates_the_logins_and_says_the_area_is_missing(db, settings):
    settings.DEBUG = True
    out, err = io.StringIO(), io.StringIO()
    call_command("ensure_dev_staff", stdout=out, stderr=err)
    assert User.objects.filter(username__in=USERNAMES).count() == 3
    assert "petugas.gambir / ksbb-dev" in out.getvalue()
    assert "31.71.01 is not loaded yet" in err.getvalue()


def test_without_debug_it_refuses_and_creates_nothing(jakarta, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("ensure_dev_staff")
    assert not User.objects.filter(username__in=USERNAMES).exists()


def test_without_debug_an_existing_admin_keeps_its_password(db, settings):
    User.objects.create_user("admin", password="a real secret")
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("ensure_dev_staff")
    assert User.objects.get(username="admin").check_password("a real secret")
