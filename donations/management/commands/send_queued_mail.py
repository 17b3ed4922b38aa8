from django.core.management.base import BaseCommand

from donations.mail import MAX_ATTEMPTS, deliver_queued


class Command(BaseCommand):
    help = (
        "Send the mails still waiting in the outbox (a mail server was down when they were queued). "
        f"Safe to run every minute from cron; a mail is given up after {MAX_ATTEMPTS} attempts."
    )

    def handle(self, *args, **options):
        sent, failed = deliver_queued()
        self.stdout.write(f"{sent} sent, {failed} still failing.")
