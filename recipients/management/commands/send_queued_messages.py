from django.core.management.base import BaseCommand

from recipients.messaging import MAX_ATTEMPTS, deliver_queued


class Command(BaseCommand):
    help = (
        "Send the messages to contact persons (WhatsApp, SMS, e-mail) whose retry is due (a gateway "
        "was away when they were queued). The background worker does this every minute; safe to "
        f"run from cron instead. A message is given up after {MAX_ATTEMPTS} attempts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="Try every waiting message now, without waiting for its retry delay.",
        )

    def handle(self, *args, all=False, **options):
        sent, failed = deliver_queued(due_only=not all)
        self.stdout.write(f"{sent} sent, {failed} still failing.")
