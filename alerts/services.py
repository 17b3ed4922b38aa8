"""Every change of an alert subscription, each one function in one transaction (docs/alerts.md),
and the two sendings: immediate alerts (`send_alerts`, the sweep) and weekly digests
(`send_digests`). Views, the admin, the commands and the worker's jobs call these."""

import datetime
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts import mail, matching
from alerts.models import AlertMail, Frequency, NeedAlert, Subscription
from locations.models import Region
from locations.scoping import enclosing_codes
from needs import coverage
from needs.models import Category, Need

# An unconfirmed subscription is deleted after this long (forget_unconfirmed).
UNCONFIRMED_DAYS = 7
# How far back the sweep looks for needs published: a worker down for longer than this loses
# the alerts of the needs published before (the digests are unaffected).
SWEEP_WINDOW = datetime.timedelta(days=2)
DIGEST_EVERY = datetime.timedelta(days=7)
# At most this many needs listed in one mail, with a link to the map for the rest.
NEEDS_PER_MAIL = 20
LEAST_COVERED = 5
MAX_REGIONS = 20


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 43 characters


def subscribe(
    *,
    email: str,
    language: str,
    frequency: str,
    regions: list[Region],
    categories: list[Category],
) -> Subscription:
    """Ask an address for alerts: a new or still unconfirmed subscription takes these choices and
    is sent the confirmation link. A confirmed one is left as it is (whoever typed the address may
    not be its owner), and its owner is sent the link to manage it. Either way the visitor is told
    the same thing, so the form never says whether an address is subscribed."""
    for attempt in range(2):
        try:
            return _subscribe(email.strip(), language, frequency, regions, categories)
        except IntegrityError:  # the same address, subscribing at the same moment
            if attempt:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _subscribe(email, language, frequency, regions, categories) -> Subscription:
    found = Subscription.objects.select_for_update().for_address(email).first()
    if found is not None and found.is_confirmed:
        mail.queue(found, AlertMail.Kind.KNOWN, {})
        return found
    subscription = found or Subscription(email=email, token=new_token())
    subscription.email = email
    subscription.language = language
    subscription.frequency = frequency
    subscription.created_at = timezone.now()  # the days to confirm start again
    with transaction.atomic():
        subscription.save()
    subscription.regions.set(regions)
    subscription.categories.set(categories)
    mail.queue(subscription, AlertMail.Kind.CONFIRM, {"choices": describe(subscription)})
    return subscription


@transaction.atomic
def confirm(subscription: Subscription) -> Subscription:
    """The address's owner followed the link: alerts start (for needs published from now)."""
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.confirmed_at is None:
        locked.confirmed_at = timezone.now()
        locked.save(update_fields=["confirmed_at"])
    return locked


@transaction.atomic
def change(
    subscription: Subscription,
    *,
    frequency: str,
    regions: list[Region],
    categories: list[Category],
) -> Subscription:
    """The subscriber's new choices (the manage page)."""
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    locked.frequency = frequency
    locked.save(update_fields=["frequency"])
    locked.regions.set(regions)
    locked.categories.set(categories)
    return locked


@transaction.atomic
def unsubscribe(subscription: Subscription) -> None:
    """Delete the subscription, with its mails and the record of its alerts: nothing is kept."""
    Subscription.objects.filter(pk=subscription.pk).delete()


def export(subscription: Subscription) -> dict:
    """Everything kept about a subscription, as JSON-ready data (the manage page's download, the
    `alerts_export` command, the admin's export)."""
    return {
        "email": subscription.email,
        "language": subscription.language,
        "frequency": subscription.frequency,
        "regions": [
            {"code": r.code, "name": r.name, "level": r.level}
            for r in subscription.regions.order_by("code")
        ],
        "categories": [
            {"slug": c.slug, "name": c.name} for c in subscription.categories.order_by("order")
        ],
        "created_at": _iso(subscription.created_at),
        "confirmed_at": _iso(subscription.confirmed_at),
        "last_digest_at": _iso(subscription.last_digest_at),
        "needs_alerted": [
            {"need": a.need_id, "at": _iso(a.created_at)}
            for a in subscription.alerts.order_by("created_at", "pk")
        ],
        "mails": [
            {
                "kind": m.kind,
                "subject": m.subject,
                "created_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
            }
            for m in subscription.mails.order_by("created_at", "pk")
        ],
    }


def export_address(email: str) -> list[dict]:
    return [export(s) for s in Subscription.objects.for_address(email)]


@transaction.atomic
def erase(email: str) -> list[dict]:
    """Delete every subscription of the address (the right to be forgotten), returning what was
    deleted as `export` describes it."""
    found = list(Subscription.objects.select_for_update().for_address(email))
    erased = [export(s) for s in found]
    Subscription.objects.filter(pk__in=[s.pk for s in found]).delete()
    return erased


@transaction.atomic
def erase_subscriptions(subscriptions) -> int:
    """Delete these subscriptions (the admin's erase action); returns how many."""
    pks = [s.pk for s in subscriptions]
    _total, by_model = Subscription.objects.filter(pk__in=pks).delete()
    return by_model.get(Subscription._meta.label, 0)


def forget_unconfirmed(*, now: datetime.datetime | None = None) -> int:
    """Delete the subscriptions nobody confirmed within UNCONFIRMED_DAYS; returns how many."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=UNCONFIRMED_DAYS)
    with transaction.atomic():
        stale = Subscription.objects.filter(confirmed_at=None, created_at__lt=cutoff)
        count = stale.count()
        stale.delete()
    return count


def place_name(region: Region) -> str:
    """A region as people write it, its level told apart (kecamatan and kelurahan share names)."""
    prefix = {Region.Level.KECAMATAN: "Kec. ", Region.Level.KELURAHAN: "Kel. "}
    return prefix.get(region.level, "") + region.display_name


def describe(subscription: Subscription) -> dict:
    """The choices, as a mail or a page names them (the frequency lazily: a mail is rendered in
    the subscriber's language, not the caller's)."""
    return {
        "regions": [place_name(r) for r in subscription.regions.order_by("code")],
        "categories": [c.name for c in subscription.categories.order_by("order", "name")],
        "frequency": Frequency(subscription.frequency).label,
    }


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def _item(need: Need) -> dict:
    """A need as a mail lists it."""
    return {
        "title": need.title,
        "place": f"{place_name(need.site.kelurahan)}, {place_name(need.site.kelurahan.parent)}",
        "category": need.aid_type.category.name,
        "remaining": need.quantity_remaining,
        "unit": need.aid_type.unit,
        "url": settings.KSBB_BASE_URL.rstrip("/") + need.get_absolute_url(),
    }


def _choices(subscription: Subscription) -> tuple[list[str], list[int]]:
    codes = list(subscription.regions.values_list("code", flat=True))
    return codes, list(subscription.categories.values_list("pk", flat=True))


# Immediate alerts


def send_alerts(*, now: datetime.datetime | None = None) -> int:
    """Tell each confirmed immediate subscriber of the needs published in their areas and
    categories since they confirmed (within SWEEP_WINDOW) that they were not told of yet: one mail
    per subscriber per sweep. Safe to run at any time, twice, or on two workers at once: a need
    reaches a subscriber once (NeedAlert). Returns the number of mails queued."""
    now = now or timezone.now()
    published = matching.published_since(now - SWEEP_WINDOW)
    if not published:
        return 0
    needs = list(
        Need.objects.open().published().filter(pk__in=published).with_places().order_by("pk")
    )
    if not needs:
        return 0
    codes = {code for n in needs for code in enclosing_codes(n.site.kelurahan.code)}
    subscribers = (
        Subscription.objects.confirmed()
        .filter(frequency=Frequency.IMMEDIATE, regions__code__in=codes)
        .values_list("pk", flat=True)
        .distinct()
    )
    return sum(_alert_one(pk, needs, published) for pk in subscribers)


@transaction.atomic
def _alert_one(pk: int, needs: list[Need], published: dict) -> bool:
    # The subscriber's lock: a second sweep waits here, then finds the first one's NeedAlerts.
    subscription = (
        Subscription.objects.select_for_update()
        .filter(pk=pk, frequency=Frequency.IMMEDIATE, confirmed_at__isnull=False)
        .first()
    )
    if subscription is None:  # unsubscribed or changed meanwhile
        return False
    codes, categories = _choices(subscription)
    told = set(
        NeedAlert.objects.filter(subscription=subscription, need__in=needs).values_list(
            "need_id", flat=True
        )
    )
    new = [
        n
        for n in needs
        if n.pk not in told
        and published[n.pk] >= subscription.confirmed_at
        and matching.matches(codes, categories, n.site.kelurahan.code, n.aid_type.category_id)
    ]
    if not new:
        return False
    sent = mail.queue(
        subscription,
        AlertMail.Kind.ALERT,
        {"needs": [_item(n) for n in new[:NEEDS_PER_MAIL]], "more": len(new) - NEEDS_PER_MAIL},
    )
    NeedAlert.objects.bulk_create(
        [NeedAlert(subscription=subscription, need=n, mail=sent) for n in new]
    )
    return True


# Weekly digests


def _due(now: datetime.datetime) -> Q:
    cutoff = now - DIGEST_EVERY
    return Q(last_digest_at__lte=cutoff) | Q(last_digest_at=None, confirmed_at__lte=cutoff)


def send_digests(*, now: datetime.datetime | None = None) -> int:
    """Send each weekly subscriber whose week has passed one digest: the needs published in their
    areas and categories since the last one, and the least covered open needs there. Nothing is
    sent when there is nothing open there. Returns the number of mails queued."""
    now = now or timezone.now()
    due = (
        Subscription.objects.confirmed()
        .filter(_due(now), frequency=Frequency.WEEKLY)
        .values_list("pk", flat=True)
    )
    return sum(_digest_one(pk, now) for pk in list(due))


@transaction.atomic
def _digest_one(pk: int, now: datetime.datetime) -> bool:
    subscription = (
        Subscription.objects.select_for_update(skip_locked=True)
        .filter(_due(now), pk=pk, frequency=Frequency.WEEKLY, confirmed_at__isnull=False)
        .first()
    )
    if subscription is None:  # another worker has it, or it changed
        return False
    since = subscription.last_digest_at or subscription.confirmed_at
    subscription.last_digest_at = now
    subscription.save(update_fields=["last_digest_at"])
    codes, categories = _choices(subscription)
    there = matching.needs_for(codes, categories)
    published = matching.published_since(since, there.values_list("pk", flat=True))
    new = list(there.filter(pk__in=published).with_places().order_by("-pk")[:NEEDS_PER_MAIL])
    least = list(
        coverage.least_covered_first(there.exclude(pk__in=[n.pk for n in new])).with_places()[
            :LEAST_COVERED
        ]
    )
    if not new and not least:
        return False
    mail.queue(
        subscription,
        AlertMail.Kind.DIGEST,
        {
            "new": [_item(n) for n in new],
            "least": [_item(n) for n in least],
            "since": since,
        },
    )
    return True
