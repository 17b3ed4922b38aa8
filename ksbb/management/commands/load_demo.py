"""`manage.py load_demo`: the demo data set (ksbb/demo/), deterministic and idempotent. It says what it
created in a line or two (the totals with `-v 2`); the mails the demo's pledges queue stay unsent in
the outbox rather than filling the terminal."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ksbb import demo
from locations.boundaries import BoundaryFileError
from locations.registry import RegistryError


class Command(BaseCommand):
    help = (
        "Load invented demo data: every region (with boundaries and RW points when "
        "KSBB_BOUNDARIES and KSBB_RW_POINTS name files), sites and contact persons, needs in "
        "every category, collaborators and pledges in every status. Running it again adds nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if demo needs already exist (make run uses this).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help=f"Seed of the random choices (default {demo.DEFAULT_SEED}); "
            "it shapes a database that has no demo data yet.",
        )
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Load even with DEBUG off, e.g. on a staging server. Never on production data.",
        )

    def handle(self, *args, **options):
        # Invented needs and donors must not reach a real portal's public pages by accident.
        if not settings.DEBUG and not options["allow_without_debug"]:
            raise CommandError(
                "load_demo adds invented needs and donors and runs only with DEBUG on "
                "(or with --allow-without-debug)."
            )
        if options["if_empty"] and demo.demo_exists():
            self.stdout.write("Demo data already loaded; nothing to do.")
            return
        started = time.monotonic()
        try:
            created = demo.load_demo(seed=options["seed"])
        except (RegistryError, BoundaryFileError, OSError) as e:
            raise CommandError(f"{e} Nothing was changed.") from e
        elapsed = time.monotonic() - started
        mails = created.pop("mails", 0)
        made = ", ".join(f"{n} {what}" for what, n in created.items() if n) or "nothing"
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f} s; created {made}.")
        )
        if mails:
            self.stdout.write(
                f"  Their {mails} mails stay unsent in the outbox: /admin/donations/outboundmail/"
            )
        if options["verbosity"] >= 2:
            for line in demo.summary():
                self.stdout.write(f"  {line}")
