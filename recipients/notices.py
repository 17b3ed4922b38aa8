"""What contact persons are told without anyone asking: a hand-over scheduled at their site, and
their needs nearing the day they await reconfirmation (docs/recipients.md). Run by the worker
(recipients.tasks.tell_contacts) or `manage.py tell_contacts` from cron; safe to run twice at once
or again: a ContactNotice row, unique per pledge or per need and confirmation round, is written in
the transaction that queues its message."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from donations.models import Pledge, PledgeStatus
from locations.models import ContactPerson
from needs.models import Need
from recipients import messaging, services
from recipients.models import ContactNotice


@dataclass
class Told:
    handovers: int = 0
    reminders: int = 0


def tell_contacts(now: datetime.datetime | None = None) -> Told:
    now = now or timezone.now()
    return Told(handovers=_handovers(now), reminders=_reminders(now))


def _verified_by_site(site_ids) -> dict[int, list[ContactPerson]]:
    contacts = defaultdict(list)
    for contact in ContactPerson.objects.filter(
        site_id__in=site_ids, verification_status=ContactPerson.Verification.VERIFIED
    ).select_related("site"):
        contacts[contact.site_id].append(contact)
    return contacts


def _handovers(now) -> int:
    """Each scheduled hand-over still to come, told once to each verified contact of its site:
    when, what, from whom as shown publicly, which OPD facilitates. Rescheduling starts a new
    round: the contact is told the new date."""
    pledges = list(
        Pledge.objects.filter(
            status=PledgeStatus.SCHEDULED, scheduled_for__gte=timezone.localdate(now)
        )
        .select_related("need__aid_type", "need__site", "collaborator", "scheduled_opd")
        .order_by("pk")
    )
    told = set(
        ContactNotice.objects.filter(
            kind=ContactNotice.Kind.HANDOVER, pledge__in=pledges
        ).values_list("pledge_id", "contact_id", "round")
    )
    contacts = _verified_by_site({p.need.site_id for p in pledges})
    sent = 0
    for pledge in pledges:
        for contact in contacts[pledge.need.site_id]:
            if (pledge.pk, contact.pk, pledge.scheduled_at) in told:
                continue
            sent += _once(
                ContactNotice(
                    kind=ContactNotice.Kind.HANDOVER,
                    contact=contact,
                    pledge=pledge,
                    round=pledge.scheduled_at,
                ),
                lambda contact=contact, pledge=pledge: messaging.queue(
                    contact, "handover", {"pledge": pledge, "site": contact.site}
                ),
            )
    return sent


def _reminders(now) -> int:
    """Each verified contact whose open needs will await reconfirmation within
    KSBB_RECONFIRM_REMINDER_DAYS (or already do) is sent a reminder, with a new private link, once
    per need and confirmation: a need confirmed again starts a new round."""
    soon = now + datetime.timedelta(days=settings.KSBB_RECONFIRM_REMINDER_DAYS)
    due = list(
        Need.objects.open()
        .published()
        .with_reconfirm_dates()
        .filter(awaiting_from__lte=soon)
        .select_related("site")
        .order_by("pk")
    )
    told = set(
        ContactNotice.objects.filter(kind=ContactNotice.Kind.RECONFIRM, need__in=due).values_list(
            "need_id", "contact_id", "round"
        )
    )
    contacts = _verified_by_site({n.site_id for n in due})
    sent = 0
    by_contact = defaultdict(list)
    for need in due:
        for contact in contacts[need.site_id]:
            if (need.pk, contact.pk, need.last_confirmed_at) not in told:
                by_contact[contact].append(need)
    for contact, needs in by_contact.items():
        sent += _remind(contact, needs)
    return sent


@transaction.atomic
def _remind(contact: ContactPerson, needs: list[Need]) -> int:
    notices = [
        ContactNotice(
            kind=ContactNotice.Kind.RECONFIRM,
            contact=contact,
            need=need,
            round=need.last_confirmed_at,
        )
        for need in needs
    ]
    try:
        with transaction.atomic():
            ContactNotice.objects.bulk_create(notices)
    except IntegrityError:  # another run told them meanwhile
        return 0
    link, _ = services.send_link(
        contact,
        template="reconfirm_reminder",
        extra={"needs": needs, "due": min(n.awaiting_from for n in needs)},
    )
    ContactNotice.objects.filter(pk__in=[n.pk for n in notices]).update(
        message=link.messages.first()
    )
    return 1


def _once(notice: ContactNotice, queue) -> int:
    try:
        with transaction.atomic():
            notice.save()
            notice.message = queue()
            notice.save(update_fields=["message"])
    except IntegrityError:  # another run told them meanwhile
        return 0
    return 1
