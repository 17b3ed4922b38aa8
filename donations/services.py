"""Every state change of pledges and deliveries, each one function in one transaction.

Views, the admin, the API and management commands call these and nothing else writes a pledge, a
delivery or a need's counters. Locks are always taken need first, then pledge, so two of these
functions running together cannot deadlock.
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, F, Sum, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from donations import mail
from donations.models import (
    HOLDING_STATUSES,
    Collaborator,
    Delivery,
    Opd,
    Pledge,
    PledgeEvent,
    PledgeStatus,
)
from locations.models import ContactPerson
from needs.models import Need

S = PledgeStatus

# The lifecycle in one table (docs/architecture.md). DELIVERED is reached only by record_delivery.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.CONFIRMED, S.CANCELLED, S.REJECTED, S.EXPIRED}),
    S.CONFIRMED: frozenset({S.SCHEDULED, S.CANCELLED, S.REJECTED, S.EXPIRED}),
    S.SCHEDULED: frozenset({S.SCHEDULED, S.DELIVERED, S.CANCELLED, S.REJECTED, S.EXPIRED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}
CLOSING = (S.CANCELLED, S.REJECTED, S.EXPIRED)


class PledgeError(Exception):
    """A state change that was refused. The message is for the person who asked.

    `field` names the form field at fault, if any; `remaining` is what the need has left when the
    refusal is about quantity, so the form can offer it.
    """

    def __init__(self, message: str, *, field: str | None = None, remaining: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.remaining = remaining


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: a staff user, the donor (through their private link) or the system."""

    label: str
    user: AbstractBaseUser | None = None

    @classmethod
    def staff(cls, user) -> "Actor":
        return cls("staff", user)


DONOR = Actor("donor")
SYSTEM = Actor("system")


def _attribute(need: Need, actor: Actor, reason: str) -> None:
    """Say who moved a need's counters and why, for its history row (django-simple-history)."""
    need._history_user = actor.user
    need._change_reason = reason[:100]


def _record(pledge: Pledge, before: str, actor: Actor, reason: str = "", quantity=None) -> None:
    PledgeEvent.objects.create(
        pledge=pledge,
        from_status=before,
        to_status=pledge.status,
        quantity=quantity,
        actor=actor.user,
        actor_label=actor.label,
        reason=reason,
    )


@transaction.atomic
def pledge(
    *,
    need: Need,
    collaborator: Collaborator,
    quantity: int,
    message: str = "",
    actor: Actor = DONOR,
) -> Pledge:
    """Promise `quantity` towards `need`. Locks the need's row, so concurrent pledges queue here
    and can never together exceed what the need needs."""
    need = Need.objects.select_for_update().get(pk=need.pk)
    if not need.published or not need.is_pledgeable:
        raise PledgeError(_("This need no longer accepts pledges."), remaining=0)
    if quantity < 1:
        raise PledgeError(_("The quantity must be a positive whole number."), field="quantity")
    if quantity > need.quantity_remaining:
        raise PledgeError(
            _("Only %(remaining)s %(unit)s are still needed; lower your pledge.")
            % {"remaining": need.quantity_remaining, "unit": need.aid_type.unit},
            field="quantity",
            remaining=need.quantity_remaining,
        )
    created = Pledge.objects.create(
        need=need, collaborator=collaborator, quantity=quantity, message=message
    )
    need.quantity_pledged += quantity
    _attribute(need, actor, _("Pledge #%(pk)s made") % {"pk": created.pk})
    need.save(update_fields=["quantity_pledged", "updated_at"])
    _record(created, "", actor, quantity=quantity)
    return created


@dataclass(frozen=True)
class DonorDetails:
    """What a donor types into the pledge form about themselves."""

    public_name: str
    kind: str
    email: str
    phone: str = ""
    show_name: bool = True


def _collaborator_for(details: DonorDetails) -> Collaborator:
    """The collaborator with this e-mail (any case), or a new one.

    A returning donor keeps their recorded name and kind: an unauthenticated form must not let anyone
    who types an address rename its owner. Asking for anonymity is honoured, since it only hides.
    """
    collaborator, created = Collaborator.objects.get_or_create(
        email__iexact=details.email,
        defaults={
            "email": details.email,
            "public_name": details.public_name,
            "kind": details.kind,
            "phone": details.phone,
            "is_anonymous": not details.show_name,
        },
    )
    if not created and not details.show_name and not collaborator.is_anonymous:
        collaborator.is_anonymous = True
        collaborator.save(update_fields=["is_anonymous"])
    return collaborator


@transaction.atomic
def pledge_from_donor(
    need: Need, *, details: DonorDetails, quantity: int, message: str = "", language: str = "id"
) -> Pledge:
    """The public pledge flow: find or make the collaborator, pledge, and queue the mails (the donor's
    private link; the area's staff). One transaction: a refused pledge leaves no collaborator behind,
    and an accepted one always has its mails queued."""
    collaborator = _collaborator_for(details)
    created = pledge(need=need, collaborator=collaborator, quantity=quantity, message=message)
    if language != created.language:
        created.language = language
        created.save(update_fields=["language"])
    mail.queue(collaborator.email, "pledge_created", {"pledge": created}, pledge=created)
    overlaps = list(Need.objects.overlapping(created.need).select_related("aid_type"))
    for address in mail.area_staff_emails(created):
        mail.queue(
            address,
            "staff_new_pledge",
            {
                "pledge": created,
                "overlaps": overlaps,
                "admin_url": reverse("admin:donations_pledge_change", args=[created.pk]),
            },
            pledge=created,
            language=settings.LANGUAGE_CODE,
        )
    return created


def _lock(pledge_id: int) -> tuple[Need, Pledge]:
    need_id = Pledge.objects.values_list("need_id", flat=True).get(pk=pledge_id)
    need = Need.objects.select_for_update().get(pk=need_id)
    locked = Pledge.objects.select_for_update().select_related("collaborator").get(pk=pledge_id)
    locked.need = need
    return need, locked


def site_has_verified_contact(site_id: int) -> bool:
    return ContactPerson.objects.filter(
        site_id=site_id, verification_status=ContactPerson.Verification.VERIFIED
    ).exists()


@transaction.atomic
def transition(
    pledge: Pledge,
    to_status: str,
    *,
    actor: Actor,
    reason: str = "",
    scheduled_for: date | None = None,
) -> Pledge:
    """Move a pledge along its lifecycle. Leaving the flow frees what was not delivered, at once."""
    need, locked = _lock(pledge.pk)
    before = locked.status
    if to_status == S.DELIVERED:
        raise PledgeError(_("A pledge becomes delivered only by recording a delivery."))
    if to_status not in TRANSITIONS[before]:
        raise PledgeError(
            _("Pledge #%(pk)s is %(before)s and cannot become %(after)s.")
            % {
                "pk": locked.pk,
                "before": S(before).label,
                "after": S(to_status).label if to_status in S.values else to_status,
            }
        )
    now = timezone.now()
    if to_status == S.SCHEDULED:
        if scheduled_for is None:
            raise PledgeError(_("Set a delivery date."), field="scheduled_for")
        if not site_has_verified_contact(need.site_id):
            raise PledgeError(
                _(
                    "Pledge #%(pk)s cannot be scheduled yet: the site has no verified contact person."
                )
                % {"pk": locked.pk}
            )
        locked.scheduled_for = scheduled_for
        locked.scheduled_at = now
    elif to_status == S.CONFIRMED:
        locked.confirmed_at = now
    elif to_status in CLOSING:
        need.quantity_pledged -= locked.quantity_outstanding
        _attribute(
            need,
            actor,
            _("Pledge #%(pk)s %(status)s") % {"pk": locked.pk, "status": S(to_status).label},
        )
        need.save(update_fields=["quantity_pledged", "updated_at"])
        locked.closed_at = now
    locked.status = to_status
    locked.status_reason = reason
    locked.save()
    _record(locked, before, actor, reason)
    if to_status == S.SCHEDULED:
        mail.queue(locked.collaborator.email, "pledge_scheduled", {"pledge": locked}, pledge=locked)
    return locked


def cancel(pledge: Pledge, *, actor: Actor = DONOR, reason: str = "") -> Pledge:
    """The donor withdraws; what was not yet delivered goes back to the need."""
    return transition(pledge, S.CANCELLED, actor=actor, reason=reason)


@transaction.atomic
def record_delivery(
    pledge: Pledge,
    *,
    quantity: int,
    delivered_on: date,
    opd: Opd,
    actor: Actor,
    evidence=None,
    note: str = "",
) -> Delivery:
    """Record a hand-over of (part of) a scheduled pledge; the pledge is delivered once all of it is."""
    need, locked = _lock(pledge.pk)
    if locked.status != S.SCHEDULED:
        raise PledgeError(
            _("Pledge #%(pk)s is %(status)s; only a scheduled pledge can be delivered.")
            % {"pk": locked.pk, "status": S(locked.status).label}
        )
    if quantity < 1 or quantity > locked.quantity_outstanding:
        raise PledgeError(
            _("The delivery quantity must be between 1 and %(max)s.")
            % {"max": locked.quantity_outstanding},
            field="quantity",
        )
    delivery = Delivery.objects.create(
        pledge=locked,
        quantity=quantity,
        delivered_on=delivered_on,
        opd=opd,
        recorded_by=actor.user,
        evidence=evidence or "",
        note=note,
    )
    before = locked.status
    locked.quantity_delivered += quantity
    if locked.quantity_delivered == locked.quantity:
        locked.status = S.DELIVERED
        locked.delivered_at = timezone.now()
    locked.save()
    need.quantity_delivered += quantity
    _attribute(need, actor, _("Delivery for pledge #%(pk)s") % {"pk": locked.pk})
    need.save(update_fields=["quantity_delivered", "updated_at"])
    _record(locked, before, actor, note, quantity=quantity)
    mail.queue(
        locked.collaborator.email,
        "pledge_delivered",
        {"pledge": locked, "delivery": delivery},
        pledge=locked,
    )
    return delivery


def counter_mismatches():
    """Needs whose counters disagree with their pledges (should be none; `manage.py check_counters`).

    A need's pledged counter is what its pledges hold plus what closed pledges delivered before they
    closed; its delivered counter is the sum of its pledges' deliveries. One query.
    """
    held = Sum(
        Case(
            When(pledges__status__in=[*HOLDING_STATUSES, S.DELIVERED], then=F("pledges__quantity")),
            default=F("pledges__quantity_delivered"),
        )
    )
    return (
        Need.objects.annotate(
            expected_pledged=Coalesce(held, 0),
            expected_delivered=Coalesce(Sum("pledges__quantity_delivered"), 0),
        )
        .exclude(quantity_pledged=F("expected_pledged"), quantity_delivered=F("expected_delivered"))
        .order_by("pk")
    )
