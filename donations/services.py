"""Every state change of pledges and deliveries, each one function in one transaction.

Views, the admin, the API and management commands call these and nothing else writes a pledge, a
delivery or a need's counters. Locks are always taken need first, then pledge, so two of these
functions running together cannot deadlock.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Sum, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from alerts import services as alert_services
from donations import donor_links, holds, ledger, mail, vetting
from donations.models import (
    HOLDING_STATUSES,
    Collaborator,
    Delivery,
    ErasureRequest,
    Opd,
    OutboundMail,
    Pledge,
    PledgeEvent,
    PledgeStatus,
    Receipt,
    Vetting,
    VettingDecision,
)
from ksbb.lib import photos, private_files
from ledger.services import record_override
from locations.models import ContactPerson
from needs import services as needs_services
from needs.models import AidType, Category, Need

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
    """The pledge's history row and, for the public, its new state in the ledger."""
    ledger.record_pledge(pledge)
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
    submission: uuid.UUID | None = None,
) -> Pledge:
    """Promise `quantity` towards `need`. Locks the need's row, so concurrent pledges queue here
    and can never together exceed what the need needs. `submission`: the pledge form's one-time
    key (Pledge.submission)."""
    # The category comes with the row (freshness and the hold rule read it), and the site and its
    # kelurahan (the mails and the staff to tell read them): no query more while the row is
    # locked. Only the need's row is locked.
    need = Need.objects.select_for_update(of=("self",)).with_site().get(pk=need.pk)
    if need.is_open and not need.is_pledgeable:
        raise PledgeError(
            _("This need is paused until its recipients confirm it is still needed."), remaining=0
        )
    if not need.is_pledgeable:
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
        need=need,
        collaborator=collaborator,
        quantity=quantity,
        message=message,
        hold_until=holds.deadline(S.SUBMITTED, need.aid_type.category, now=timezone.now()),
        submission=submission,
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
    hides = not created and not details.show_name and not collaborator.is_anonymous
    if hides:
        collaborator.is_anonymous = True
        collaborator.save(update_fields=["is_anonymous"])
    if created or hides:
        ledger.record_collaborator(collaborator)
    return collaborator


# Public: what the ledger says of a collaborator, and the name it publishes beside the ledger.
PUBLIC_COLLABORATOR_FIELDS = frozenset({"public_name", "kind", "is_anonymous"})


@transaction.atomic
def save_collaborator(collaborator: Collaborator, *, changed: list[str] | None = None) -> None:
    """A collaborator added or edited by staff. A change the public sees (its name, kind or
    anonymity) goes into the ledger; an individual has no vetting to keep."""
    adding = collaborator.pk is None
    if not collaborator.is_organisation and collaborator.vetting != Vetting.NOT_ASKED:
        raise PledgeError(
            _("An organisation that asked to be vetted cannot become an individual."), field="kind"
        )
    collaborator.save()
    if adding or PUBLIC_COLLABORATOR_FIELDS.intersection(changed or ()):
        ledger.record_collaborator(collaborator)


def pledge_made_by(need_id, submission) -> Pledge | None:
    """The pledge the form (or API request) with this one-time key (Pledge.submission) made on the
    need `need_id`, if any: sent again, it is answered with that pledge before any rule is checked
    again (the need may be full now, with this very pledge). Anything that is not a key, or not a
    need's number, finds nothing."""
    try:
        key = submission if isinstance(submission, uuid.UUID) else uuid.UUID(str(submission))
        need_id = int(need_id)
    except (TypeError, ValueError):
        return None
    if not 0 < need_id < 2**63:
        return None
    return Pledge.objects.filter(submission=key, need_id=need_id).first()


@transaction.atomic
def pledge_from_donor(
    need: Need,
    *,
    details: DonorDetails,
    quantity: int,
    message: str = "",
    language: str = "id",
    submission: uuid.UUID | None = None,
) -> Pledge:
    """The public pledge flow: find or make the collaborator, pledge, and queue the mails (the donor's
    private link; the area's staff). One transaction: a refused pledge leaves no collaborator behind,
    and an accepted one always has its mails queued.

    `submission`, the form's one-time key: a form sent again answers the pledge it already made,
    with no second pledge and no mail (the view looks first: pledge_made_by). Two copies at once
    queue on the need's row lock; the second is then refused, by the key's unique constraint or
    because the first took what remained, and answered with the first's pledge."""
    collaborator = _collaborator_for(details)
    try:
        created = pledge(
            need=need,
            collaborator=collaborator,
            quantity=quantity,
            message=message,
            submission=submission,
        )
    except (IntegrityError, PledgeError):
        made = pledge_made_by(need.pk, submission) if submission is not None else None
        if made is None:
            raise
        return made
    if language != created.language:
        created.language = language
        created.save(update_fields=["language"])
    mail.queue(collaborator.email, "pledge_created", {"pledge": created}, pledge=created)
    staff = mail.area_staff_emails(created)
    # Read only for someone to tell: every query here holds the need's row lock, which the
    # donors racing for its last units wait on.
    overlaps = (
        list(Need.objects.overlapping(created.need).select_related("aid_type")) if staff else []
    )
    for address in staff:
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


def _category(need: Need) -> Category:
    """The need's category, for its hold rule (one query; the need may come from a lock without joins)."""
    return Category.objects.get(aid_types__id=need.aid_type_id)


def _close(need: Need, locked: Pledge, to_status: str, actor: Actor, now: datetime, label=None):
    """Take a locked pledge out of the flow: what was not delivered goes back to the need at once.
    The caller sets the status, saves and records. Returns the quantity freed."""
    freed = locked.quantity_outstanding
    need.quantity_pledged -= freed
    _attribute(
        need,
        actor,
        label or _("Pledge #%(pk)s %(status)s") % {"pk": locked.pk, "status": S(to_status).label},
    )
    need.save(update_fields=["quantity_pledged", "updated_at"])
    locked.closed_at = now
    return freed


def _when(moment: datetime | None) -> str:
    return holds.when(moment) if moment else ""


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
    scheduled_opd: Opd | None = None,
) -> Pledge:
    """Move a pledge along its lifecycle. Leaving the flow frees what was not delivered, at once.
    Scheduling sets the date and, when known, the OPD that will facilitate the hand-over."""
    need, locked = _lock(pledge.pk)
    before = locked.status
    if to_status == S.DELIVERED:
        raise PledgeError(_("A pledge becomes delivered only by recording a delivery."))
    if before == S.EXPIRED and to_status != S.EXPIRED:
        # Most often the expiry job took the row lock first: say so rather than just "cannot".
        raise PledgeError(
            _(
                "Pledge #%(pk)s expired on %(when)s and its quantity was freed for others; "
                "it can no longer become %(after)s."
            )
            % {
                "pk": locked.pk,
                "when": _when(locked.closed_at),
                "after": S(to_status).label if to_status in S.values else to_status,
            }
        )
    if to_status not in TRANSITIONS[before]:
        raise PledgeError(
            _("Pledge #%(pk)s is %(before)s and cannot become %(after)s.")
            % {
                "pk": locked.pk,
                "before": S(before).label,
                "after": S(to_status).label if to_status in S.values else to_status,
            }
        )
    if to_status in (S.CONFIRMED, S.SCHEDULED) and before != S.SCHEDULED and _withdrawn(need):
        # Closing kept at most the scheduled pledges (close_need); nothing else moves forward.
        raise PledgeError(
            _("Pledge #%(pk)s cannot become %(after)s: its need is closed or unpublished.")
            % {"pk": locked.pk, "after": S(to_status).label}
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
        if before != S.SCHEDULED and awaiting_vetting(locked):
            raise PledgeError(
                _(
                    "Pledge #%(pk)s cannot be scheduled yet: it is above its category's threshold "
                    "and %(name)s is not a verified organisation (%(state)s). The donor's pledge "
                    "page asks for its legal identity and statement letter."
                )
                % {
                    "pk": locked.pk,
                    "name": locked.collaborator.display_name,
                    "state": locked.collaborator.get_vetting_display(),
                }
            )
        locked.scheduled_for = scheduled_for
        locked.scheduled_opd = scheduled_opd
        locked.scheduled_at = now
    elif to_status == S.CONFIRMED:
        locked.confirmed_at = now
    elif to_status in CLOSING:
        _close(need, locked, to_status, actor, now)
    if to_status in (S.CONFIRMED, S.SCHEDULED):
        # A new stage, a new deadline: with its own reminder and its own extension.
        locked.hold_until = holds.deadline(
            to_status, _category(need), now=now, scheduled_for=scheduled_for
        )
        locked.reminded_at = locked.extended_at = None
    locked.status = to_status
    locked.status_reason = reason
    locked.save()
    _record(locked, before, actor, reason)
    if to_status == S.SCHEDULED:
        mail.queue(locked.collaborator.email, "pledge_scheduled", {"pledge": locked}, pledge=locked)
    elif to_status == S.CONFIRMED and awaiting_vetting(locked):
        mail.queue(
            locked.collaborator.email, "pledge_needs_vetting", {"pledge": locked}, pledge=locked
        )
    return locked


def _withdrawn(need: Need) -> bool:
    return need.is_closed or not need.published


@transaction.atomic
def close_need(
    need: Need, *, actor: Actor, reason: str, keep_scheduled: bool, unpublish: bool = False
) -> list[Pledge]:
    """Close a need (or, with `unpublish`, take it off the public pages) and decide for the pledges
    that still hold quantity of it (docs/pledges.md, "Closing a need"): each is cancelled, its
    quantity released and its donor told kindly in their language, except, with `keep_scheduled`,
    those already scheduled, which go on to delivery. Returns the cancelled pledges."""
    reason = (reason or "").strip()
    if not reason:
        raise PledgeError(_("Say why the need is closed."), field="reason")
    locked_need = needs_services.lock(need.pk)
    holding = Pledge.objects.holding().filter(need=locked_need)
    if keep_scheduled:
        holding = holding.exclude(status=S.SCHEDULED)
    cancelled = []
    for pk in holding.order_by("pk").values_list("pk", flat=True):
        locked = transition(Pledge(pk=pk), S.CANCELLED, actor=actor, reason=reason)
        mail.queue(
            locked.collaborator.email,
            "pledge_need_closed",
            {"pledge": locked, "reason": reason},
            pledge=locked,
        )
        cancelled.append(locked)
    withdraw = needs_services.unpublish if unpublish else needs_services.close
    withdraw(locked_need, by=actor.user, reason=reason, allow_held=True)
    return cancelled


def cancel(pledge: Pledge, *, actor: Actor = DONOR, reason: str = "") -> Pledge:
    """The donor withdraws; what was not yet delivered goes back to the need."""
    return transition(pledge, S.CANCELLED, actor=actor, reason=reason)


def _store_evidence(upload, form_field: str = "evidence") -> str:
    """Write a delivery's photo under its final (random) name and return the name; "" for none.
    What is written is the photo encoded again from its pixels (ksbb.lib.photos: no EXIF, GPS or
    camera serial, at most KSBB_EVIDENCE_MAX_SIDE pixels a side); the upload itself is never kept.

    On a failed write (a full disk, say) whatever part of the file reached the storage is removed
    and the delivery is refused with a message: FileSystemStorage leaves a partial file behind."""
    if not upload:
        return ""
    try:
        data, ext = photos.reencode(upload, max_side=settings.KSBB_EVIDENCE_MAX_SIDE)
    except photos.NotAPhoto as e:
        raise PledgeError(
            _("Upload a JPEG, PNG or WebP photo: this file could not be read as one."),
            field=form_field,
        ) from e
    try:
        return private_files.store(Delivery._meta.get_field("evidence"), data, f"photo.{ext}")
    except OSError as e:
        raise PledgeError(
            _(
                "The photo could not be stored (the server's storage is full or unavailable), so "
                "nothing was recorded. Try again later, or record the delivery without the photo "
                "and tell the portal's administrators."
            ),
            field=form_field,
        ) from e


def _discard_evidence(name: str) -> None:
    private_files.discard(Delivery._meta.get_field("evidence"), name)


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
    """Record a hand-over of (part of) a scheduled pledge; the pledge is delivered once all of it is.

    The photo is written once the checks pass and before its row exists, so no row ever lacks its
    file; if anything fails afterwards, the commit included, the file is removed again."""
    stored = ""
    try:
        with transaction.atomic():
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
            stored = _store_evidence(evidence)
            delivery = Delivery.objects.create(
                pledge=locked,
                quantity=quantity,
                delivered_on=delivered_on,
                opd=opd,
                recorded_by=actor.user,
                evidence=stored,
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
            ledger.record_delivery(delivery)
            _record(locked, before, actor, note, quantity=quantity)
            mail.queue(
                locked.collaborator.email,
                "pledge_delivered",
                {"pledge": locked, "delivery": delivery},
                pledge=locked,
            )
    except BaseException:
        _discard_evidence(stored)
        raise
    return delivery


def record_receipt(
    delivery: Delivery,
    *,
    contact: ContactPerson | None,
    outcome: str,
    quantity_received: int | None = None,
    received_by: str = "",
    note: str = "",
    photo=None,
    photo_public: bool = False,
) -> Receipt:
    """The recipients' word on `delivery`, once, from their contact person: received (a smaller
    quantity makes it "less than recorded"), or a problem. A problem is a dispute: the pledge shows
    it in the staff queue and the area's staff are mailed. The photo is stored as record_delivery
    stores one (re-encoded, no metadata)."""
    Outcome = Receipt.Outcome
    stored = ""
    try:
        with transaction.atomic():
            locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
            if Receipt.objects.filter(delivery=locked).exists():
                raise PledgeError(_("This delivery has already been answered."))
            if outcome not in Outcome.values:
                raise PledgeError(_("Choose what happened."), field="outcome")
            if outcome in (Outcome.RECEIVED, Outcome.LESS):
                if quantity_received is None and outcome == Outcome.RECEIVED:
                    quantity_received = locked.quantity
                if quantity_received is None or not 0 <= quantity_received <= locked.quantity:
                    raise PledgeError(
                        _("The quantity received is between 0 and %(max)s.")
                        % {"max": locked.quantity},
                        field="quantity_received",
                    )
                outcome = Outcome.RECEIVED if quantity_received == locked.quantity else Outcome.LESS
                if not received_by.strip():
                    raise PledgeError(_("Say who received it."), field="received_by")
            else:
                quantity_received = None
                if not note.strip():
                    raise PledgeError(_("Say what went wrong, in a few words."), field="note")
            stored = _store_evidence(photo, form_field="photo")
            receipt = Receipt.objects.create(
                delivery=locked,
                outcome=outcome,
                quantity_received=quantity_received,
                received_by=received_by.strip(),
                note=note.strip(),
                photo=stored,
                photo_public=bool(stored) and photo_public,
                contact=contact,
            )
            ledger.record_receipt(receipt)
            if receipt.is_dispute:
                pledge = Pledge.objects.select_related("need").get(pk=locked.pledge_id)
                with _portal_language():
                    for address in mail.area_staff_emails(pledge):
                        mail.queue(
                            address,
                            "receipt_disputed",
                            {"pledge": pledge, "delivery": locked, "receipt": receipt},
                            language=settings.LANGUAGE_CODE,
                        )
    except BaseException:
        _discard_evidence(stored)
        raise
    return receipt


@transaction.atomic
def resolve_dispute(receipt: Receipt, *, by, resolution: str) -> Receipt:
    """Staff record how a dispute was settled (who, when, what was done); it leaves the queue."""
    locked = Receipt.objects.select_for_update().get(pk=receipt.pk)
    if not locked.is_dispute:
        raise PledgeError(_("Only a reported problem is resolved."))
    if locked.resolved_at:
        raise PledgeError(_("This problem was already resolved."))
    if not resolution.strip():
        raise PledgeError(_("Say how it was resolved."), field="resolution")
    locked.resolved_at = timezone.now()
    locked.resolved_by = by
    locked.resolution = resolution.strip()
    locked.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    ledger.record_receipt(locked)
    return locked


@transaction.atomic
def check_delivery(delivery: Delivery, *, by, override_reason: str = "") -> Delivery:
    """The second check of a recorded delivery, by another staff member than who recorded it: no
    one checks their own work. A superuser may check their own recording only with a reason, and
    that override is itself written in the public ledger. A delivery the recipients confirmed is
    verified already, and can still be checked."""
    locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
    if locked.checked_at is not None:
        raise PledgeError(_("Delivery #%(pk)s was already checked.") % {"pk": locked.pk})
    override_reason = override_reason.strip()
    own = locked.recorded_by_id is not None and locked.recorded_by_id == by.pk
    if own and not (by.is_superuser and override_reason):
        raise PledgeError(
            _(
                "You recorded delivery #%(pk)s: another staff member checks it. (A superuser may "
                "override this with a reason, which the public ledger records.)"
            )
            % {"pk": locked.pk},
            field="override_reason",
        )
    if own:
        record_override("second_check_own_delivery", locked.pk, by)
    locked.checked_by, locked.checked_at = by, timezone.now()
    locked.check_override_reason = override_reason if own else ""
    locked.save(update_fields=["checked_by", "checked_at", "check_override_reason"])
    ledger.record_delivery(locked)
    return locked


ERASED_NAME = "Anonim"
ERASED_MAIL = "[erased on the donor's request]"


@transaction.atomic
def erase_collaborator(collaborator: Collaborator, *, by, reason: str) -> Collaborator:
    """The right to be forgotten (UU 27/2022), on the donor's request: their name becomes "Anonim"
    everywhere, their e-mail and phone and the messages they wrote are gone, and so are the mails
    about them (the unsent ones deleted, the others emptied). Their pledges, deliveries and every
    figure stay; the public ledger never held their name, so every hash of it stays valid
    (docs/ledger.md). Who did it, when and why stay recorded."""
    locked = Collaborator.objects.select_for_update().get(pk=collaborator.pk)
    if locked.erased_at is not None:
        raise PledgeError(_("This collaborator's personal data was already erased."))
    if not reason.strip():
        raise PledgeError(_("Say on whose request, and when."), field="reason")
    address = locked.email
    pledges = list(locked.pledges.values_list("pk", flat=True))
    mails = OutboundMail.objects.filter(Q(to__iexact=address) | Q(pledge__in=pledges))
    mails.filter(sent_at=None, to__iexact=address).delete()
    mails.update(body=ERASED_MAIL)
    OutboundMail.objects.filter(to__iexact=address).update(to=f"{locked.public_id}@erased.invalid")
    # The alerts the same address subscribed to are theirs too (docs/alerts.md).
    alert_services.erase(address)
    Pledge.objects.filter(pk__in=pledges).update(message="")
    PledgeEvent.objects.filter(pledge__in=pledges, actor_label=DONOR.label).update(reason="")
    locked.public_name, locked.is_anonymous = ERASED_NAME, True
    locked.email, locked.phone = f"{locked.public_id}@erased.invalid", ""
    locked.erased_at, locked.erased_by, locked.erase_reason = timezone.now(), by, reason.strip()
    # The legal identity and the letter go too; a vetting decided stays (it names nobody), one
    # still pending is withdrawn, since nothing is left to vet.
    letter = locked.statement_letter.name
    locked.legal_id, locked.statement_letter = "", ""
    if locked.vetting == Vetting.PENDING:
        locked.vetting, locked.vetting_submitted_at = Vetting.NOT_ASKED, None
    locked.save()
    # Whatever the way it was done, the donor's own request is complete.
    ErasureRequest.objects.filter(collaborator=locked, completed_at=None).update(
        completed_at=locked.erased_at, completed_by=by
    )
    transaction.on_commit(lambda: _discard_letter(letter))
    ledger.record_collaborator(locked)
    return locked


# A donor's own page (donations.donor_links): a link mailed on request, and the erasure they may
# ask for there.


def send_donor_link(email: str, *, language: str) -> None:
    """Mail the link to their own page to the collaborator registered with `email`, if there is
    one. Nothing tells the asker whether there was: an address's pledges stay its owner's secret."""
    collaborator = Collaborator.objects.filter(email__iexact=email.strip(), erased_at=None).first()
    if collaborator is None:
        return
    ctx = {
        "collaborator": collaborator,
        "url": donor_links.page_url(collaborator),
        "minutes": settings.KSBB_DONOR_LINK_MINUTES,
    }
    mail.queue(collaborator.email, "donor_link", ctx, language=language)


def running_pledges(collaborator: Collaborator):
    """The collaborator's pledges that staff may still need to reach them about."""
    return collaborator.pledges.filter(status__in=HOLDING_STATUSES)


@transaction.atomic
def request_erasure(collaborator: Collaborator) -> ErasureRequest:
    """The donor asks, from their own page, for their personal data to be erased. Done at once when
    none of their pledges is running; otherwise kept open for staff, who complete it
    (complete_erasure) once they no longer need to reach the donor. Asking again while a request is
    open returns that request."""
    locked = Collaborator.objects.select_for_update().get(pk=collaborator.pk)
    if locked.erased_at is not None:
        raise PledgeError(_("This collaborator's personal data was already erased."))
    request = ErasureRequest.objects.filter(collaborator=locked, completed_at=None).first()
    if request is None:
        request = ErasureRequest.objects.create(collaborator=locked)
    if not running_pledges(locked).exists():
        _erase_on_request(locked, request, by=None)
        request.refresh_from_db()
    return request


def _erase_on_request(collaborator: Collaborator, request: ErasureRequest, *, by) -> None:
    with override(settings.LANGUAGE_CODE):
        reason = _("The donor's own request of %(date)s, from their page (request #%(pk)s).") % {
            "date": timezone.localtime(request.requested_at).strftime("%Y-%m-%d %H:%M"),
            "pk": request.pk,
        }
    erase_collaborator(collaborator, by=by, reason=reason)


@transaction.atomic
def complete_erasure(request: ErasureRequest, *, by) -> ErasureRequest:
    """Staff complete a donor's open erasure request (the admin's action)."""
    locked = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if locked.completed_at is not None:
        raise PledgeError(_("Erasure request #%(pk)s is already complete.") % {"pk": locked.pk})
    _erase_on_request(locked.collaborator, locked, by=by)
    locked.refresh_from_db()
    return locked


# Vetted organisations (docs/staff.md): an organisation sends its legal identity and a statement
# letter through its private pledge link; staff with the permission vet or refuse it.


def _store_letter(upload) -> str:
    """Write a statement letter as donations.vetting keeps it, under a random name."""
    try:
        data, ext = vetting.clean_letter(upload)
    except vetting.NotALetter as e:
        raise PledgeError(str(e), field="statement_letter") from e
    try:
        return private_files.store(
            Collaborator._meta.get_field("statement_letter"), data, f"letter.{ext}"
        )
    except OSError as e:
        raise PledgeError(
            _("The letter could not be stored just now, so nothing was changed. Try again later."),
            field="statement_letter",
        ) from e


def _discard_letter(name: str) -> None:
    private_files.discard(Collaborator._meta.get_field("statement_letter"), name)


def submit_vetting(collaborator: Collaborator, *, legal_id: str, letter) -> Collaborator:
    """An organisation asks to be vetted: its legal identity and statement letter, kept privately;
    staff see it waiting. A second request replaces the first (and a refusal's reason)."""
    if collaborator.erased_at is not None or not collaborator.is_organisation:
        raise PledgeError(_("Only organisations are vetted; nothing more is needed from you."))
    try:
        legal_id = vetting.clean_legal_id(legal_id, collaborator.kind)
    except ValueError as e:
        raise PledgeError(str(e), field="legal_id") from e
    if not letter:
        raise PledgeError(_("Attach the statement letter."), field="statement_letter")
    stored = _store_letter(letter)
    try:
        with transaction.atomic():
            locked = Collaborator.objects.select_for_update().get(pk=collaborator.pk)
            if locked.vetting == Vetting.VETTED:
                raise PledgeError(_("Your organisation is already verified."))
            previous = locked.statement_letter.name
            locked.legal_id, locked.statement_letter = legal_id, stored
            locked.vetting, locked.vetting_submitted_at = Vetting.PENDING, timezone.now()
            locked.vetted_at, locked.vetting_reason = None, ""
            locked.save()
            VettingDecision.objects.create(collaborator=locked, vetting=Vetting.PENDING)
            ledger.record_collaborator(locked)
            transaction.on_commit(lambda: _discard_letter(previous))
    except BaseException:
        _discard_letter(stored)
        raise
    return locked


@transaction.atomic
def decide_vetting(
    collaborator: Collaborator, *, by, vetted: bool, reason: str = ""
) -> Collaborator:
    """Staff vet an organisation that asked, or refuse it with a reason the organisation is told
    (a verified one too, if what it sent turns out false). Each decision is kept, with who took it."""
    locked = Collaborator.objects.select_for_update().get(pk=collaborator.pk)
    reason = reason.strip()
    if vetted and locked.vetting != Vetting.PENDING:
        raise PledgeError(
            _("%(name)s has not asked to be vetted (%(state)s): there is nothing to vet.")
            % {"name": locked.display_name, "state": locked.get_vetting_display()}
        )
    if not vetted:
        if locked.vetting not in (Vetting.PENDING, Vetting.VETTED):
            raise PledgeError(
                _("%(name)s is %(state)s: there is nothing to refuse.")
                % {"name": locked.display_name, "state": locked.get_vetting_display()}
            )
        if not reason:
            raise PledgeError(_("Say why, for the organisation to put it right."), field="reason")
    locked.vetting = Vetting.VETTED if vetted else Vetting.REFUSED
    locked.vetted_at, locked.vetting_reason = timezone.now(), "" if vetted else reason
    locked.save()
    VettingDecision.objects.create(
        collaborator=locked, vetting=locked.vetting, by=by, reason=reason
    )
    ledger.record_collaborator(locked)
    if locked.erased_at is not None:
        return locked  # no one left to tell: its address reaches no one
    # Told at the private page of its latest pledge still in the flow, if any.
    latest = locked.pledges.holding().select_related("need").order_by("-pk").first()
    mail.queue(
        locked.email,
        "vetting_decided",
        {"collaborator": locked, "pledge": latest},
        pledge=latest,
        language=None if latest else settings.LANGUAGE_CODE,
    )
    return locked


def awaiting_vetting(pledge: Pledge) -> bool:
    """Whether `pledge` (with its collaborator) waits for its organisation's vetting: one query by
    primary key, for the aid type's reference value and its category's thresholds."""
    aid_type = AidType.objects.select_related("category").get(pk=pledge.need.aid_type_id)
    return vetting.awaits(pledge.collaborator, pledge.quantity, aid_type)


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


# Holds (docs/pledges.md): a pledge keeps its quantity until `hold_until`; the donor is reminded
# before, may extend once, and `manage.py expire_pledges` frees what stalls. Staff may hand a
# stalled pledge's quantity over early.


def _portal_language():
    """History and staff mails speak the portal's language, whoever triggered the change."""
    return override(settings.LANGUAGE_CODE)


@transaction.atomic
def extend_hold(pledge: Pledge, *, actor: Actor = DONOR, now: datetime | None = None) -> Pledge:
    """The donor is still on it: move the deadline once by the rule's own length (the category's
    hold, or its grace for a scheduled pledge). Refused when the pledge no longer holds, its hold
    has already passed, or it was already extended since its last deadline was set."""
    now = now or timezone.now()
    need, locked = _lock(pledge.pk)
    # Checked under the lock: the expiry job or staff may have moved the pledge meanwhile.
    if locked.status == S.EXPIRED:
        raise PledgeError(
            _(
                "Your pledge expired on %(when)s and its quantity is free for other donors again. "
                "You are welcome to pledge again from the need's page."
            )
            % {"when": _when(locked.closed_at)}
        )
    if not locked.is_holding:
        raise PledgeError(
            _("Your pledge is %(status)s: only a pledge that still holds its quantity is extended.")
            % {"status": S(locked.status).label}
        )
    if locked.hold_until <= now:
        raise PledgeError(
            _(
                "The hold ended on %(when)s, so it can no longer be extended; its quantity is being "
                "freed for other donors."
            )
            % {"when": _when(locked.hold_until)}
        )
    if locked.extended_at is not None:
        raise PledgeError(
            _(
                "The hold was already extended once, on %(when)s, and runs until %(until)s. It "
                "cannot be extended again; staff will contact you, or you can cancel."
            )
            % {"when": _when(locked.extended_at), "until": _when(locked.hold_until)}
        )
    locked.hold_until += holds.rule_length(locked.status, _category(need))
    locked.extended_at = now
    locked.save(update_fields=["hold_until", "extended_at"])
    with _portal_language():
        reason = _("Hold extended once, until %(until)s.") % {"until": _when(locked.hold_until)}
    _record(locked, locked.status, actor, reason)
    return locked


def _notify_freed(locked: Pledge, freed: int, *, reason: str, donor_reason: str, by: Actor) -> None:
    """Tell the donor, kindly, and the area's staff, so they can point another collaborator at
    the freed quantity."""
    need = locked.need
    mail.queue(
        locked.collaborator.email,
        "pledge_expired",
        {
            "pledge": locked,
            "freed": freed,
            "reason": donor_reason,
            "handed_over": by.label == "staff",
        },
        pledge=locked,
    )
    for address in mail.area_staff_emails(locked):
        mail.queue(
            address,
            "staff_pledge_freed",
            {
                "pledge": locked,
                "freed": freed,
                "reason": reason,
                "by": by.user,
                "remaining": need.quantity_remaining,
                "admin_url": reverse("admin:needs_need_change", args=[need.pk]),
            },
            pledge=locked,
            language=settings.LANGUAGE_CODE,
        )


@transaction.atomic
def expire_early(pledge: Pledge, *, actor: Actor, reason: str) -> Pledge:
    """Hand-over: staff end a stalled pledge's hold before its deadline, with a reason, so another
    collaborator can take its quantity. Audited (the history with the staff member; the need's own
    history of its counter) and announced to the donor and the area's staff."""
    reason = (reason or "").strip()
    if not reason:
        raise PledgeError(_("Say why the pledge is handed over."), field="reason")
    need, locked = _lock(pledge.pk)
    if not locked.is_holding:
        raise PledgeError(
            _("Pledge #%(pk)s is %(status)s: only a pledge that holds its quantity is handed over.")
            % {"pk": locked.pk, "status": S(locked.status).label}
        )
    label = _("Pledge #%(pk)s handed over: %(reason)s") % {"pk": locked.pk, "reason": reason}
    _expire(need, locked, actor, timezone.now(), reason=reason, donor_reason=reason, label=label)
    return locked


def _expire(need, locked, actor, now, *, reason: str, donor_reason: str, label=None) -> int:
    """Expiry itself, for the job and the hand-over alike: free what was not delivered, record
    why, tell the donor and the area's staff. Returns the quantity freed."""
    before = locked.status
    freed = _close(need, locked, S.EXPIRED, actor, now, label=label)
    locked.status = S.EXPIRED
    locked.status_reason = reason
    locked.save()
    _record(locked, before, actor, reason)
    _notify_freed(locked, freed, reason=reason, donor_reason=donor_reason, by=actor)
    return freed


# What expire_one and remind_one found, for the job's summary.
EXPIRED, REMINDED, BUSY, NOT_DUE = "expired", "reminded", "busy", "not due"


def _lock_without_waiting(pledge_id: int) -> tuple[Need | None, Pledge | None]:
    """The need's row and the pledge's, in the usual order, or (None, None) when another
    transaction holds either: a staff action or donor in progress wins, and the job comes back
    next run; two runs of the job never take the same pledge."""
    need_id = Pledge.objects.filter(pk=pledge_id).values_list("need_id", flat=True).first()
    need = Need.objects.select_for_update(skip_locked=True).filter(pk=need_id).first()
    if need is None:
        return None, None
    locked = (
        Pledge.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("collaborator")
        .filter(pk=pledge_id)
        .first()
    )
    if locked is None:
        return None, None
    locked.need = need
    return need, locked


@transaction.atomic
def expire_one(pledge_id: int, *, now: datetime) -> tuple[str, int]:
    """Expire one pledge whose hold has passed: free its quantity on the need, record the rule,
    tell the donor and the area's staff. Returns (outcome, quantity freed)."""
    need, locked = _lock_without_waiting(pledge_id)
    if locked is None:
        return BUSY, 0
    # Re-read under the lock: staff may have confirmed it, or the donor extended it, meanwhile.
    if not locked.is_holding or locked.hold_until > now:
        return NOT_DUE, 0
    category = _category(need)
    with _portal_language():
        reason = holds.rule_text(locked, category)
    with override(locked.language):
        donor_reason = holds.rule_text(locked, category)
    return EXPIRED, _expire(need, locked, SYSTEM, now, reason=reason, donor_reason=donor_reason)


@transaction.atomic
def remind_one(pledge_id: int, *, now: datetime) -> str:
    """Remind the donor once before the deadline, with their link to extend the hold or cancel."""
    locked = (
        Pledge.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("collaborator", "need__aid_type__category", "need__site__kelurahan")
        .filter(pk=pledge_id)
        .first()
    )
    if locked is None:
        return BUSY
    category = locked.need.aid_type.category
    if not holds.reminder_due(locked, category, now):
        return NOT_DUE
    locked.reminded_at = now
    locked.save(update_fields=["reminded_at"])
    ctx = {"pledge": locked, "can_extend": locked.extended_at is None}
    if locked.extended_at is None:
        ctx["extended_until"] = locked.hold_until + holds.rule_length(locked.status, category)
    mail.queue(locked.collaborator.email, "pledge_reminder", ctx, pledge=locked)
    return REMINDED


@dataclass
class HoldRun:
    """What one run of `manage.py expire_pledges` did."""

    reminded: int = 0
    expired: int = 0
    freed: int = 0
    busy: int = 0


def run_holds(*, now: datetime | None = None) -> HoldRun:
    """Send the reminders that are due and expire the holds that have passed, each pledge in its
    own transaction. Idempotent and safe to run concurrently with itself: what another run, a staff
    action or a donor holds is skipped (`busy`) and looked at again next run."""
    now = now or timezone.now()
    run = HoldRun()
    running = Pledge.objects.holding().order_by("hold_until", "pk")
    for pk in running.filter(hold_until__lte=now).values_list("pk", flat=True):
        outcome, freed = expire_one(pk, now=now)
        run.expired += outcome == EXPIRED
        run.freed += freed
        run.busy += outcome == BUSY
    soon = running.filter(
        reminded_at=None, hold_until__gt=now, hold_until__lte=now + holds.REMINDER_LEAD
    )
    for pk in soon.values_list("pk", flat=True):
        outcome = remind_one(pk, now=now)
        run.reminded += outcome == REMINDED
        run.busy += outcome == BUSY
    return run
