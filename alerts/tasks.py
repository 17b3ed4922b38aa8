"""The alerts app's background jobs, run by the worker (docs/deploy.md, docs/alerts.md). Each calls
only what the `send_alerts` command calls too."""

import logging

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from alerts import mail, services
from ksbb.lib import jobs

log = logging.getLogger(__name__)


@app.task(
    name="alerts.send_alert_mail",
    queue="mail",
    retry=RetryStrategy(max_attempts=10, exponential_wait=2),
)
def send_alert_mail(mail_id: int) -> None:
    """Send one queued mail to a subscriber (alerts.mail.queue defers it with its change)."""
    mail.deliver(mail_id)


@app.task(name="alerts.send_alerts", lock="alerts", queueing_lock="alerts.send_alerts")
def send_alerts() -> None:
    """The sweep, at once: deferred when needs are published (needs.signals)."""
    sent = services.send_alerts()
    if sent:
        log.info("alerts: %s mails", sent)


def on_need_published(sender, need_ids, **kwargs) -> None:
    """needs.signals.need_published: wake the sweep (one waiting job for a burst of needs)."""
    jobs.defer_once(send_alerts, key="alerts.send_alerts", lock="alerts")


@app.periodic(cron="*/5 * * * *")
@app.task(name="alerts.sweep", lock="alerts", queueing_lock="alerts.sweep")
def sweep(timestamp: int) -> None:
    """Every five minutes: the same sweep, for whatever the signal's job missed."""
    sent = services.send_alerts()
    if sent:
        log.info("alerts sweep: %s mails", sent)


@app.periodic(cron="17 * * * *")
@app.task(name="alerts.send_digests", lock="alerts", queueing_lock="alerts.send_digests")
def send_digests(timestamp: int) -> None:
    """Every hour: the weekly digests that are due."""
    sent = services.send_digests()
    if sent:
        log.info("alert digests: %s mails", sent)


@app.periodic(cron="41 * * * *")
@app.task(name="alerts.forget_unconfirmed", queueing_lock="alerts.forget_unconfirmed")
def forget_unconfirmed(timestamp: int) -> None:
    """Every hour: delete the subscriptions nobody confirmed in time."""
    forgotten = services.forget_unconfirmed()
    if forgotten:
        log.info("alerts: %s unconfirmed subscriptions deleted", forgotten)


@app.periodic(cron="* * * * *")
@app.task(name="alerts.send_queued_mail", queue="mail", queueing_lock="alerts.send_queued_mail")
def send_queued_mail(timestamp: int) -> None:
    """Every minute: the subscribers' mails whose retry is due."""
    sent, failed = mail.deliver_queued()
    if sent or failed:
        log.info("queued alert mail: %s sent, %s still failing", sent, failed)
