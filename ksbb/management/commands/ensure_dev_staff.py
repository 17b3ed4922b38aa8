"""Development only: a superuser admin / ksbb-dev, so `make run` ends with a login that works."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"
PASSWORD = "ksbb-dev"


class Command(BaseCommand):
    help = (
        f"Create the superuser {USERNAME!r} (or reset its password) for development. "
        "Refused unless DEBUG is on."
    )

    def handle(self, *args, **options):
        # A known password must never reach a production database.
        if not settings.DEBUG:
            raise CommandError(
                "ensure_dev_staff sets a well-known password and runs only with DEBUG on; "
                "in production create staff with `manage.py createsuperuser`."
            )
        user, _created = get_user_model().objects.get_or_create(username=USERNAME)
        user.is_active = user.is_staff = user.is_superuser = True
        user.set_password(PASSWORD)
        user.save()
        self.stdout.write(f"Staff login (development only): {USERNAME} / {PASSWORD}")
