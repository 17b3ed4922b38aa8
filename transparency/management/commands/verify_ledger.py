from django.core.management.base import BaseCommand, CommandError

from transparency.ledger_check import Mismatch, disagreements


class Command(BaseCommand):
    help = (
        "Check the public ledger's chain, then that every collaborator, need, pledge, delivery and "
        "receipt in the tables is as its last ledger entry says (a silent edit is named with both values)."
    )

    def handle(self, *args, **options):
        try:
            found = disagreements()
        except Mismatch as e:
            raise CommandError(f"The ledger's chain is broken: {e}") from e
        for disagreement in found:
            self.stdout.write(str(disagreement))
        if found:
            raise CommandError(f"{len(found)} disagreements between the tables and the ledger.")
        self.stdout.write("The chain is intact and every row agrees with the ledger.")
