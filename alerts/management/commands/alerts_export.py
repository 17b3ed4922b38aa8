import json

from django.core.management.base import BaseCommand

from alerts import services


class Command(BaseCommand):
    help = "Print, as JSON, everything kept about an address's alert subscription (docs/alerts.md)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        found = services.export_address(email)
        self.stdout.write(json.dumps(found, ensure_ascii=False, indent=2))
        if not found:
            self.stderr.write("No alert subscription for this address.")
