from django.core.management.base import BaseCommand

from alerts import mail, services


class Command(BaseCommand):
    help = (
        "What the worker's alert jobs do, for operators who prefer cron: the immediate alerts' "
        "sweep, the weekly digests that are due, the unconfirmed subscriptions that expired, and "
        "the mails whose retry is due (--all: every unsent one)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Send every unsent alert mail now.")

    def handle(self, *args, **options):
        alerts = services.send_alerts()
        digests = services.send_digests()
        forgotten = services.forget_unconfirmed()
        sent, failed = mail.deliver_queued(due_only=not options["all"])
        self.stdout.write(
            f"{alerts} alert mails, {digests} digests queued; {forgotten} unconfirmed deleted; "
            f"{sent} retried mails sent, {failed} still failing."
        )
