from django.core.management.base import BaseCommand

from donations.mail import MAX_ATTEMPTS, deliver_queued


class Command(BaseCommand):
    help = (
        "Send the mails waiting in the outbox whose retry is due (a mail server was away when they "
        "were queued). The background worker does this every minute; safe to run from cron "
        f"instead. A mail is given up after {MAX_ATTEMPTS} attempts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="Try every waiting mail now, without waiting for its retry delay "
            "(the mail server is known to be back).",
        )

    def handle(self, *args, all=False, **options):
        sent, failed = deliver_queued(due_only=not all)
        self.stdout.write(f"{sent} sent, {failed} still failing.")
