from django.core.management.base import BaseCommand, CommandError

from ledger import services as ledger_services
from transparency.ledger_check import Mismatch, open_ledger


class Command(BaseCommand):
    help = (
        "Once, when a portal that ran without a ledger gets one: record the current state of every "
        "collaborator, need, pledge, delivery and receipt the ledger has never seen (docs/ledger.md)."
    )

    def handle(self, *args, **options):
        try:
            opened = open_ledger()
        except Mismatch as e:
            raise CommandError(f"The ledger's chain is broken: {e}") from e
        ledger_services.seal()
        self.stdout.write(
            "Recorded: " + ", ".join(f"{n} {kind}" for kind, n in opened.items()) + "."
        )
