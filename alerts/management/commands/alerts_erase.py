import json

from django.core.management.base import BaseCommand

from alerts import services


class Command(BaseCommand):
    help = (
        "Delete an address's alert subscription with its mails and alerts, on the subscriber's "
        "request, and print (as JSON) what was deleted (docs/alerts.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        erased = services.erase(email)
        self.stdout.write(json.dumps(erased, ensure_ascii=False, indent=2))
        self.stderr.write(f"Erased {len(erased)} alert subscription(s).")
