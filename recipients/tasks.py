"""The recipients app's background jobs, run by the worker (docs/deploy.md); `manage.py
send_queued_messages` does what the periodic one does, for operators who prefer cron."""

import logging

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from recipients import messaging, notices

log = logging.getLogger(__name__)


# A gateway's refusal is recorded on the message and retried below; what reaches the job is the
# database failing: tried again 2, 4, 8, … s later.
@app.task(
    name="recipients.send_message",
    queue="mail",
    retry=RetryStrategy(max_attempts=10, exponential_wait=2),
)
def send_message(message_id: int) -> None:
    """Send one queued message (recipients.messaging.queue defers it with its change)."""
    messaging.deliver(message_id)


@app.periodic(cron="* * * * *")
@app.task(
    name="recipients.send_queued_messages", queue="mail", queueing_lock="send_queued_messages"
)
def send_queued_messages(timestamp: int) -> None:
    """Every minute: the messages whose retry is due (a gateway was away)."""
    sent, failed = messaging.deliver_queued()
    if sent or failed:
        log.info("queued messages: %s sent, %s still failing", sent, failed)


@app.periodic(cron="*/10 * * * *")
@app.task(name="recipients.tell_contacts", queueing_lock="tell_contacts", lock="tell_contacts")
def tell_contacts(timestamp: int) -> None:
    """Every ten minutes: hand-overs scheduled, reconfirmation reminders (recipients.notices)."""
    told = notices.tell_contacts()
    if told.handovers or told.reminders:
        log.info("contacts told: %s hand-overs, %s reminders", told.handovers, told.reminders)
