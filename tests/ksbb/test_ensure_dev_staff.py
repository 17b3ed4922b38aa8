"""`manage.py ensure_dev_staff`: a known staff login for development, and never without DEBUG."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

User = get_user_model()


def test_creates_a_superuser_with_the_development_password(db, settings, capsys):
    settings.DEBUG = True
    call_command("ensure_dev_staff")
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.is_active
    assert admin.check_password("ksbb-dev")
    assert "Staff login (development only): admin / ksbb-dev" in capsys.readouterr().out


def test_running_it_again_resets_the_password_and_creates_no_second_user(db, settings):
    settings.DEBUG = True
    call_command("ensure_dev_staff")
    admin = User.objects.get(username="admin")
    admin.set_password("forgotten")
    admin.is_active = False
    admin.save()
    call_command("ensure_dev_staff")
    assert User.objects.filter(username="admin").count() == 1
    admin.refresh_from_db()
    assert admin.is_active and admin.check_password("ksbb-dev")


def test_without_debug_it_refuses_and_creates_nothing(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("ensure_dev_staff")
    assert not User.objects.filter(username="admin").exists()


def test_without_debug_an_existing_admin_keeps_its_password(db, settings):
    User.objects.create_user("admin", password="a real secret")
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("ensure_dev_staff")
    assert User.objects.get(username="admin").check_password("a real secret")
