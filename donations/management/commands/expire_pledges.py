import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from donations import services


def _moment(value: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError as e:
        raise CommandError(f"--now: “{value}” is not a date and time (YYYY-MM-DDTHH:MM).") from e
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = (
        "Remind donors whose pledge's hold ends soon, and expire the pledges whose hold has passed, "
        "freeing their quantity (docs/pledges.md). Idempotent and safe to run every minute from "
        "cron, even when two runs overlap."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help=(
                "Act as if it were this moment (ISO 8601, the portal's time zone unless given), "
                "to rehearse what a later run will do. Development only (DEBUG)."
            ),
        )

    def handle(self, *args, now=None, **options):
        if now is not None:
            # A moment in the future would expire holds that donors still count on.
            if not settings.DEBUG:
                raise CommandError(
                    "--now is for development only (DEBUG); it changes real pledges."
                )
            now = _moment(now)
        run = services.run_holds(now=now)
        self.stdout.write(
            f"{run.reminded} reminded, {run.expired} expired ({run.freed} units freed), "
            f"{run.busy} busy (looked at again next run)."
        )
