from django.core.management.base import BaseCommand

from recipients.notices import tell_contacts


class Command(BaseCommand):
    help = (
        "Tell contact persons of hand-overs scheduled at their site, and remind them of needs "
        "nearing their reconfirmation date (with a new private link). The background worker does "
        "this every ten minutes; safe to run from cron instead, and to run twice."
    )

    def handle(self, *args, **options):
        told = tell_contacts()
        self.stdout.write(f"{told.handovers} hand-overs told, {told.reminders} reminders sent.")
