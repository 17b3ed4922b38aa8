"""The donations app's background jobs, run by the worker (`manage.py procrastinate worker`;
docs/deploy.md). Each only calls what a management command calls too, so operators who prefer cron
keep `send_queued_mail` and `expire_pledges`."""

import logging

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from donations import mail, services

log = logging.getLogger(__name__)


# A mail server's refusal is recorded on the mail and retried by send_queued_mail; what reaches the
# job is the database failing (restarted, failed over): tried again 2, 4, 8, … s later.
@app.task(
    name="donations.send_mail",
    queue="mail",
    retry=RetryStrategy(max_attempts=10, exponential_wait=2),
)
def send_mail(mail_id: int) -> None:
    """Send one queued mail, deferred by donations.mail.queue with the change it reports. A
    failure to send stays in the outbox for `send_queued_mail` to retry, with its backoff."""
    mail.deliver(mail_id)


@app.periodic(cron="* * * * *")
@app.task(name="donations.send_queued_mail", queue="mail", queueing_lock="send_queued_mail")
def send_queued_mail(timestamp: int) -> None:
    """Every minute: the mails whose retry is due (a mail server was away)."""
    sent, failed = mail.deliver_queued()
    if sent or failed:
        log.info("queued mail: %s sent, %s still failing", sent, failed)


@app.periodic(cron="* * * * *")
@app.task(name="donations.run_holds", queueing_lock="run_holds")
def run_holds(timestamp: int) -> None:
    """Every minute: reminders before a hold ends, and the holds that have passed."""
    run = services.run_holds()
    if run.reminded or run.expired or run.busy:
        log.info(
            "holds: %s reminded, %s expired (%s units freed), %s busy",
            run.reminded,
            run.expired,
            run.freed,
            run.busy,
        )
