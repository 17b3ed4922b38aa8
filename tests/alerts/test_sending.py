"""Immediate alerts and weekly digests, through the outbox and the jobs (eager in the tests, as the
worker runs them after the commit): a need published in a subscribed area reaches each subscriber
once and only once; nothing reaches anyone it is not about; mails carry the one-click unsubscribe."""

import datetime

import pytest
from django.core import mail as sent_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts import mail, services
from alerts.models import AlertMail, NeedAlert, Subscription
from needs import services as need_services
from needs.models import Need
from tests import factories
from tests.alerts.conftest import CIDENG, GAMBIR, UTARA, publish, site_in, subscribe

pytestmark = pytest.mark.django_db


def _alerts(subscription) -> list[AlertMail]:
    return list(subscription.mails.filter(kind="alert").order_by("pk"))


def test_subscribing_mails_a_confirmation_link_in_the_visitors_language(jakarta, run_jobs):
    subscription = run_jobs(subscribe, email="Warga@Example.test", language="en", confirm=False)
    (message,) = sent_mail.outbox
    assert message.to == ["Warga@Example.test"]
    assert message.subject == "Confirm your alerts from the KSBB portal"
    assert f"/peringatan/{subscription.token}/konfirmasi/" in message.body
    assert "Kel. Gambir" in message.body
    assert "At once, for each new need" in message.body  # in the subscriber's language, all of it
    assert "List-Unsubscribe" not in message.extra_headers  # nothing regular to stop yet
    assert subscription.confirmed_at is None


def test_the_confirmation_is_in_indonesian_by_default(jakarta, run_jobs):
    run_jobs(subscribe, confirm=False)
    assert sent_mail.outbox[0].subject == "Konfirmasi peringatan Anda dari portal KSBB"


def test_a_need_published_in_a_subscribed_kelurahan_reaches_the_subscriber_once(jakarta, run_jobs):
    subscription = subscribe()
    sent_mail.outbox.clear()
    need = run_jobs(publish, site_in(GAMBIR))
    (alert,) = _alerts(subscription)
    assert alert.sent_at is not None
    (message,) = sent_mail.outbox
    assert message.to == ["warga@example.test"]
    assert need.title in message.body
    assert f"/kebutuhan/{need.pk}/" in message.body
    unsubscribe = f"http://127.0.0.1:8000/peringatan/{subscription.token}/berhenti/"
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert NeedAlert.objects.get().need == need

    # The sweep again, the signal's job again, the command: nothing more.
    assert services.send_alerts() == 0
    run_jobs(need_services.publish, need)
    assert len(_alerts(subscription)) == 1 and len(sent_mail.outbox) == 1


def test_kecamatan_and_kota_subscriptions_cover_their_kelurahan(jakarta, run_jobs):
    by_kecamatan = subscribe(email="kec@example.test", codes=["31.71.01"])
    by_kota = subscribe(email="kota@example.test", codes=["31.71"])
    elsewhere = subscribe(email="utara@example.test", codes=["31.72"])
    run_jobs(publish, site_in(CIDENG))
    assert len(_alerts(by_kecamatan)) == 1
    assert len(_alerts(by_kota)) == 1
    assert _alerts(elsewhere) == []


def test_a_need_elsewhere_or_in_another_category_sends_nothing(jakarta, run_jobs):
    pangan = factories.CategoryFactory(slug="pangan")
    subscription = subscribe(categories=[pangan])
    sent_mail.outbox.clear()
    run_jobs(publish, site_in(UTARA))
    run_jobs(publish, site_in(CIDENG))
    run_jobs(publish, site_in(GAMBIR), category_slug="pendidikan")
    assert _alerts(subscription) == [] and sent_mail.outbox == []
    run_jobs(publish, site_in(GAMBIR), category_slug="pangan")
    assert len(_alerts(subscription)) == 1


def test_nothing_before_confirmation_nor_of_needs_published_before_it(jakarta, run_jobs):
    unconfirmed = subscribe(email="belum@example.test", confirm=False)
    earlier = run_jobs(publish, site_in(GAMBIR), title="Sebelum konfirmasi")
    assert unconfirmed.mails.filter(kind="alert").count() == 0
    confirmed = services.confirm(unconfirmed)
    assert services.send_alerts() == 0  # `earlier` was published before the confirmation
    later = run_jobs(publish, site_in(GAMBIR), title="Sesudah konfirmasi")
    (alert,) = _alerts(confirmed)
    assert later.title in alert.body and earlier.title not in alert.body


def test_a_draft_alerts_when_it_is_published_not_before(jakarta, run_jobs, province_staff):
    subscription = subscribe()
    draft = run_jobs(publish, site_in(GAMBIR), published=False)
    assert _alerts(subscription) == []
    run_jobs(need_services.publish, draft, by=province_staff)
    (alert,) = _alerts(subscription)
    assert draft.title in alert.body


def test_an_imported_batch_is_one_mail_listing_each_need(jakarta, run_jobs):
    subscription = subscribe()
    site = site_in(GAMBIR)
    aid_type = factories.AidTypeFactory()
    batch = [
        Need(
            site=site,
            aid_type=aid_type,
            title=f"Impor {n}",
            quantity_needed=5,
            period_start=datetime.date(2020, 10, 1),
        )
        for n in range(3)
    ]

    def load():
        with transaction.atomic():
            return need_services.create_many(batch, reason="Impor")

    run_jobs(load)
    (alert,) = _alerts(subscription)
    assert all(f"Impor {n}" in alert.body for n in range(3))
    assert NeedAlert.objects.filter(subscription=subscription).count() == 3


def test_the_sweep_catches_what_the_signal_missed(jakarta):
    """Without the after-commit job (a worker down, a queue lost), the periodic sweep finds the
    need in its history and sends the alert, once."""
    subscription = subscribe()
    publish(site_in(GAMBIR))  # no on_commit run: the signal never fired
    assert _alerts(subscription) == []
    assert services.send_alerts() == 1
    assert services.send_alerts() == 0
    assert len(_alerts(subscription)) == 1


def test_closed_or_fully_pledged_needs_are_not_alerted(jakarta, run_jobs):
    subscription = subscribe()
    need = publish(site_in(GAMBIR))
    need_services.close(need)
    assert services.send_alerts() == 0
    assert _alerts(subscription) == []


def test_a_need_is_alerted_once_per_subscriber_even_by_hand(jakarta):
    subscription = subscribe()
    need = publish(site_in(GAMBIR))
    NeedAlert.objects.create(subscription=subscription, need=need)
    with pytest.raises(IntegrityError), transaction.atomic():
        NeedAlert.objects.create(subscription=subscription, need=need)


def test_a_weekly_subscriber_gets_no_immediate_alert(jakarta, run_jobs):
    weekly = subscribe(frequency="weekly")
    run_jobs(publish, site_in(GAMBIR))
    assert _alerts(weekly) == []


def test_a_failed_send_stays_queued_and_is_retried(jakarta, monkeypatch):
    subscription = subscribe()
    publish(site_in(GAMBIR))
    services.send_alerts()
    (alert,) = _alerts(subscription)

    def refuse(*args, **kwargs):
        raise OSError("mail server away")

    monkeypatch.setattr(mail.EmailMessage, "send", refuse)
    assert mail.deliver(alert.pk) is False
    alert.refresh_from_db()
    assert alert.sent_at is None and "mail server away" in alert.last_error
    monkeypatch.undo()
    AlertMail.objects.filter(pk=alert.pk).update(next_attempt_at=timezone.now())
    assert mail.deliver_queued() == (1, 0)
    assert sent_mail.outbox[-1].extra_headers["List-Unsubscribe-Post"]


# Weekly digests


def _weekly(days_ago=8, **kwargs) -> Subscription:
    subscription = subscribe(frequency="weekly", **kwargs)
    Subscription.objects.filter(pk=subscription.pk).update(
        confirmed_at=timezone.now() - datetime.timedelta(days=days_ago)
    )
    subscription.refresh_from_db()
    return subscription


def _published_long_ago(need: Need, days=30) -> None:
    Need.history.filter(id=need.pk).update(
        history_date=timezone.now() - datetime.timedelta(days=days)
    )


def test_the_weekly_digest_lists_new_and_least_covered_needs(jakarta, donor, run_jobs):
    from donations import services as donations

    subscription = _weekly(codes=["31.71.01"], language="en")
    old_uncovered = publish(site_in(CIDENG), title="Lama, belum ada yang menolong")
    old_covered = publish(site_in(GAMBIR), title="Lama, sebagian tertolong")
    for need in (old_uncovered, old_covered):
        _published_long_ago(need)
    donations.pledge(need=old_covered, collaborator=donor, quantity=5)
    new = publish(site_in(GAMBIR), title="Baru minggu ini")
    publish(site_in(UTARA), title="Baru di Jakarta Utara")

    assert run_jobs(services.send_digests) == 1
    (digest,) = subscription.mails.filter(kind="digest")
    body = digest.body
    assert "Baru minggu ini" in body and "Jakarta Utara" not in body
    new_part, least_part = body.split("least covered first")
    assert new.title in new_part
    assert least_part.index(old_uncovered.title) < least_part.index(old_covered.title)
    assert new.title not in least_part
    message = sent_mail.outbox[-1]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    subscription.refresh_from_db()
    assert subscription.last_digest_at is not None
    assert services.send_digests() == 0  # not due again for a week


def test_no_digest_when_there_is_nothing_to_say_nor_before_the_week(jakarta):
    quiet = _weekly(email="sepi@example.test", codes=[UTARA])
    assert services.send_digests() == 0
    assert not quiet.mails.filter(kind="digest").exists()
    quiet.refresh_from_db()
    assert quiet.last_digest_at is not None  # its week starts again
    fresh = _weekly(email="baru@example.test", days_ago=2)
    publish(site_in(GAMBIR))
    assert services.send_digests() == 0
    assert not fresh.mails.filter(kind="digest").exists()


# Unconfirmed subscriptions expire


def test_unconfirmed_subscriptions_are_deleted_after_seven_days(jakarta):
    stale = subscribe(email="lupa@example.test", confirm=False)
    recent = subscribe(email="baru@example.test", confirm=False)
    confirmed = subscribe(email="aktif@example.test")
    long_ago = timezone.now() - datetime.timedelta(days=8)
    Subscription.objects.filter(pk__in=[stale.pk, confirmed.pk]).update(created_at=long_ago)
    assert services.forget_unconfirmed() == 1
    assert set(Subscription.objects.values_list("pk", flat=True)) == {recent.pk, confirmed.pk}
    assert not AlertMail.objects.filter(subscription_id=stale.pk).exists()


# Subscribing again


def test_subscribing_again_before_confirming_updates_the_same_subscription(jakarta):
    first = subscribe(confirm=False)
    again = subscribe(email="WARGA@example.test", codes=[CIDENG], confirm=False)
    assert again.pk == first.pk and Subscription.objects.count() == 1
    assert list(again.regions.values_list("code", flat=True)) == [CIDENG]
    assert again.mails.filter(kind="confirm").count() == 2


def test_subscribing_a_confirmed_address_changes_nothing_and_tells_its_owner(jakarta):
    confirmed = subscribe()
    again = subscribe(codes=[UTARA], frequency="weekly", confirm=False)
    assert again.pk == confirmed.pk
    again.refresh_from_db()
    assert again.frequency == "immediate"
    assert list(again.regions.values_list("code", flat=True)) == [GAMBIR]
    (known,) = again.mails.filter(kind="known")
    assert f"/peringatan/{confirmed.token}/" in known.body


def test_unsubscribing_deletes_the_subscription_its_mails_and_alerts(jakarta):
    subscription = subscribe()
    publish(site_in(GAMBIR))
    services.send_alerts()
    services.unsubscribe(subscription)
    assert not Subscription.objects.exists()
    assert not AlertMail.objects.exists() and not NeedAlert.objects.exists()


def test_hostile_text_reaches_the_subscriber_exactly_as_typed(jakarta):
    """The mails are plain text: a hostile title is never HTML-escaped, and adds no header."""
    from tests.security.markup import ALL_IN_ONE

    subscription = subscribe()
    need = publish(site_in(GAMBIR))
    Need.objects.filter(pk=need.pk).update(title=ALL_IN_ONE)
    services.send_alerts()
    (alert,) = _alerts(subscription)
    assert ALL_IN_ONE in alert.body
    assert not any(entity in alert.body for entity in ("&lt;", "&gt;", "&quot;", "&#x27;", "&amp;"))
    mail.deliver(alert.pk)
    message = sent_mail.outbox[-1].message()
    assert message.get_content_type() == "text/plain"
    assert set(sent_mail.outbox[-1].extra_headers) == {"List-Unsubscribe", "List-Unsubscribe-Post"}
