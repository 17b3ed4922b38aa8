"""Every state change of a need, each one function in one transaction under the need's row lock.

The admin, the importer, the demo and management commands call these; nothing else creates a need
or writes its fields. Each change is recorded in the need's history with who (`by`) and why
(`reason`). The counters (quantity_pledged, quantity_delivered) are donations.services' alone, and
so is closing a need that pledges still hold quantity of (`donations.services.close_need`), since
the pledges are its to cancel.
"""

import calendar
import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from needs.ledger import record_need, record_needs
from needs.models import Need, NeedSeries, Proposal
from needs.signals import announce_published

# What staff and imports may change on a need; publication and closure have services of their own.
EDITABLE = frozenset(
    {
        "site",
        "aid_type",
        "title",
        "description",
        "quantity_needed",
        "beneficiaries",
        "beneficiary_kind",
        "criteria",
        "period_start",
        "period_end",
        "external_ref",
    }
)


class NeedError(Exception):
    """A change that was refused. The message is for the person who asked; `field` names the form
    field at fault, if any."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def _attribute(need: Need, by, reason: str) -> None:
    # For the need's history row (django-simple-history), whose reason column holds 100 characters.
    need._history_user = by
    need._change_reason = reason[:100]


def lock(need_id: int) -> Need:
    """The need's row, locked until the transaction ends (the lock donations.services takes too)."""
    return Need.objects.select_for_update(of=("self",)).get(pk=need_id)


def held_quantity(need: Need) -> int:
    """What pledges still hold of the need and have not delivered: pledged, less delivered (closed
    pledges count only what they delivered, so this is exactly what holding pledges hold)."""
    return need.quantity_pledged - need.quantity_delivered


@transaction.atomic
def confirm(need: Need, *, by=None, by_contact: bool = False) -> Need:
    """Record that `need` is still needed, now: said by the site's contact person through their
    private link (`by_contact`), or by staff (`by`). A paused need accepts pledges again."""
    locked = lock(need.pk)
    if not locked.is_open:
        raise NeedError(_("Only an open need can be confirmed as still needed."))
    locked.confirmed_at = timezone.now()
    locked.confirmed_by_contact = by_contact
    reason = _("Confirmed still needed by the recipient") if by_contact else _("Confirmed by staff")
    _attribute(locked, by, reason)
    locked.save(update_fields=["confirmed_at", "confirmed_by_contact", "updated_at"])
    return locked


@transaction.atomic
def create(*, by=None, reason: str = "", **fields) -> Need:
    """A new need. Published and open unless `published=False` (a draft) is given."""
    unknown = (
        set(fields) - EDITABLE - {"published", "series", "confirmed_at", "confirmed_by_contact"}
    )
    if unknown:
        raise TypeError(f"needs.services.create cannot set {sorted(unknown)}")
    need = Need(**fields)
    _attribute(need, by, reason or _("Created"))
    need.save()
    record_need(need)
    if need.published:
        announce_published([need.pk])
    return need


def create_many(needs: list[Need], *, by=None, reason: str) -> list[Need]:
    """Many new needs in one insert, each with its first history row (imports, the demo). The caller
    owns the transaction: a batch is written whole or not at all."""
    for need in needs:
        if need.quantity_pledged or need.quantity_delivered or need.is_closed:
            raise ValueError("A new need starts open, with nothing pledged or delivered.")
    created = bulk_create_with_history(
        needs, Need, default_user=by, default_change_reason=reason[:100]
    )
    record_needs(created)
    announce_published([need.pk for need in created if need.published])
    return created


def check_quantity(need: Need, quantity: int) -> None:
    """The quantity needed never goes below what is pledged (read under the need's lock)."""
    if quantity < need.quantity_pledged:
        raise NeedError(
            _("%(pledged)s are already pledged; the quantity needed cannot be less than that.")
            % {"pledged": need.quantity_pledged},
            field="quantity_needed",
        )


def changed_fields(need: Need, changes: dict) -> dict:
    """The part of `changes` that differs from the need. Foreign keys compare by id: reading
    need.site would cost a query."""

    def differs(name, value):
        if name in ("site", "aid_type"):
            return getattr(need, f"{name}_id") != getattr(value, "pk", value)
        return getattr(need, name) != value

    return {name: value for name, value in changes.items() if differs(name, value)}


def _apply(locked: Need, changes: dict, by, reason: str) -> list[str]:
    """Write `changes` to a need locked by the caller; returns the fields that changed."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise TypeError(f"needs.services.update cannot set {sorted(unknown)}")
    check_quantity(locked, changes.get("quantity_needed", locked.quantity_needed))
    changed = changed_fields(locked, changes)
    for name, value in changed.items():
        setattr(locked, name, value)
    if changed:
        _attribute(locked, by, reason)
        locked.save(update_fields=[*changed, "updated_at"])
        record_need(locked)
    return list(changed)


@transaction.atomic
def update(need: Need, *, by=None, reason: str = "", **changes) -> Need:
    """Change a need's fields (quantity, title, period, …). The quantity needed never goes below what
    is pledged, checked under the lock so no pledge lands between the check and the write."""
    locked = lock(need.pk)
    _apply(locked, changes, by, reason)
    return locked


def update_locked(locked: Need, *, by=None, reason: str = "", **changes) -> list[str]:
    """update() for a need the caller locked in its own transaction (the importer locks a batch of
    needs in one query). Returns the names of the fields that changed."""
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("update_locked needs the caller's lock.")
    return _apply(locked, changes, by, reason)


def _set_flag(need: Need, field: str, value: bool, by, reason: str, *, allow_held: bool) -> Need:
    locked = lock(need.pk)
    if getattr(locked, field) == value:
        return locked
    held = held_quantity(locked)
    if held and not allow_held:
        raise NeedError(
            _(
                "Pledges still hold %(held)s of this need: decide what becomes of them "
                "(cancel them, or keep the scheduled ones to delivery) when you close or unpublish it."
            )
            % {"held": held}
        )
    setattr(locked, field, value)
    _attribute(locked, by, reason)
    locked.save(update_fields=[field, "updated_at"])
    record_need(locked)
    return locked


@transaction.atomic
def publish(need: Need, *, by=None, reason: str = "") -> Need:
    """Show the need on the public map, list and open data."""
    locked = _set_flag(need, "published", True, by, reason or _("Published"), allow_held=True)
    announce_published([locked.pk])
    return locked


@transaction.atomic
def unpublish(need: Need, *, by=None, reason: str = "", allow_held: bool = False) -> Need:
    """Take the need off the public pages. Refused while pledges hold quantity of it, unless the
    caller has dealt with them (`allow_held`: donations.services.close_need)."""
    return _set_flag(
        need, "published", False, by, reason or _("Unpublished"), allow_held=allow_held
    )


@transaction.atomic
def close(need: Need, *, by=None, reason: str = "", allow_held: bool = False) -> Need:
    """Stop the need accepting pledges (its status becomes closed). Refused while pledges hold
    quantity of it, unless the caller has dealt with them (`allow_held`)."""
    return _set_flag(need, "is_closed", True, by, reason or _("Closed"), allow_held=allow_held)


@transaction.atomic
def reopen(need: Need, *, by=None, reason: str = "") -> Need:
    """Accept pledges again for what remains."""
    return _set_flag(need, "is_closed", False, by, reason or _("Reopened"), allow_held=True)


# Proposals from the recipients (docs/recipients.md): waiting for staff, applied on approval.

# More than this many waiting at one site is abuse or a misunderstanding: staff are asked first.
MAX_PENDING_PER_SITE = 20


def _check_room(site_id: int) -> None:
    if Proposal.objects.pending().filter(site_id=site_id).count() >= MAX_PENDING_PER_SITE:
        raise NeedError(
            _("%(n)s proposals for this site already wait for staff; please call them instead.")
            % {"n": MAX_PENDING_PER_SITE}
        )


@transaction.atomic
def propose_change(
    need: Need, *, contact, kind: str, quantity: int | None = None, note: str = ""
) -> Proposal:
    """The site's contact person proposes a different quantity for `need`, or that it is no
    longer needed. Nothing changes until staff approve it."""
    locked = lock(need.pk)
    _check_room(locked.site_id)
    if kind == Proposal.Kind.QUANTITY:
        if not quantity or quantity < 1:
            raise NeedError(_("Give the quantity now needed."), field="quantity")
        if quantity == locked.quantity_needed:
            raise NeedError(_("That is the quantity already published."), field="quantity")
    elif kind == Proposal.Kind.NO_LONGER_NEEDED:
        quantity = None
    else:
        raise NeedError(_("Choose what you propose."), field="kind")
    return Proposal.objects.create(
        kind=kind,
        site_id=locked.site_id,
        need=locked,
        contact=contact,
        quantity=quantity,
        note=note,
    )


@transaction.atomic
def propose_need(
    site, *, contact, aid_type, title: str, quantity: int, beneficiaries: int | None, note: str = ""
) -> Proposal:
    """The site's contact person proposes a new need at their site."""
    _check_room(site.pk)
    if not title.strip():
        raise NeedError(_("Give the need a short title."), field="title")
    if not quantity or quantity < 1:
        raise NeedError(_("Give the quantity needed."), field="quantity")
    return Proposal.objects.create(
        kind=Proposal.Kind.NEW_NEED,
        site=site,
        contact=contact,
        aid_type=aid_type,
        title=title.strip(),
        quantity=quantity,
        beneficiaries=beneficiaries,
        note=note,
    )


def _decide(proposal: Proposal, status: str, by, reason: str) -> Proposal:
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != Proposal.Status.PENDING:
        raise NeedError(
            _("Proposal #%(pk)s was already decided (%(status)s).")
            % {"pk": locked.pk, "status": locked.get_status_display()}
        )
    locked.status, locked.decided_by, locked.decision_reason = status, by, reason
    locked.decided_at = timezone.now()
    return locked


@transaction.atomic
def approve_proposal(proposal: Proposal, *, by, reason: str = "") -> Proposal:
    """Apply the proposal through the services a staff member's own change goes through (so a
    quantity never drops below what is pledged, and a need still held by pledges is closed from
    its page, where staff decide for them); the need's history names the proposal and the
    approver."""
    locked = _decide(proposal, Proposal.Status.APPROVED, by, reason)
    why = _("Proposal #%(pk)s from the recipients") % {"pk": locked.pk}
    if reason:
        why = f"{why}: {reason}"
    if locked.kind == Proposal.Kind.QUANTITY:
        update(locked.need, by=by, reason=why, quantity_needed=locked.quantity)
    elif locked.kind == Proposal.Kind.NO_LONGER_NEEDED:
        close(locked.need, by=by, reason=why)
    else:
        locked.created_need = create(
            by=by,
            reason=why,
            site=locked.site,
            aid_type=locked.aid_type,
            title=locked.title,
            description=locked.note,
            quantity_needed=locked.quantity,
            beneficiaries=locked.beneficiaries or 0,
            period_start=timezone.localdate(),
        )
    locked.save()
    return locked


@transaction.atomic
def refuse_proposal(proposal: Proposal, *, by, reason: str) -> Proposal:
    """Decline the proposal, saying why (the contact person sees it on their page)."""
    if not reason.strip():
        raise NeedError(_("Say why the proposal is refused."), field="reason")
    locked = _decide(proposal, Proposal.Status.REFUSED, by, reason.strip())
    locked.save()
    return locked


# Recurring needs (docs/recipients.md): a need per period, the next made once confirmed.

# How many days before a period ends its next one may be confirmed.
NEXT_PERIOD_OPENS_DAYS = 7


def period_after(
    start: datetime.date, end: datetime.date | None
) -> tuple[datetime.date, datetime.date]:
    """The month after the period [start, end] (a month from `start` when it has no end)."""
    first = (end + datetime.timedelta(days=1)) if end else _add_month(start)
    return first, _add_month(first) - datetime.timedelta(days=1)


def _add_month(day: datetime.date) -> datetime.date:
    """The same day a month later, or that month's last day."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@transaction.atomic
def start_series(
    *, by, site, aid_type, title: str, quantity_needed: int, beneficiaries: int = 0, start=None
) -> NeedSeries:
    """A recurring need and its first period's need, from `start` (today) for a month."""
    if quantity_needed is None or quantity_needed < 1:
        raise NeedError(_("The quantity must be a positive whole number."), field="quantity_needed")
    series = NeedSeries.objects.create(
        site=site,
        aid_type=aid_type,
        title=title,
        quantity_needed=quantity_needed,
        beneficiaries=beneficiaries or 0,
    )
    start = start or timezone.localdate()
    create(
        by=by,
        reason=_("First period of a recurring need"),
        series=series,
        site=site,
        aid_type=aid_type,
        title=title,
        quantity_needed=quantity_needed,
        beneficiaries=beneficiaries or 0,
        period_start=start,
        period_end=_add_month(start) - datetime.timedelta(days=1),
    )
    return series


def next_period_due(series: NeedSeries, latest: Need | None, today=None) -> bool:
    """Whether the next period may be confirmed: the series is active and its latest period ends
    within NEXT_PERIOD_OPENS_DAYS (or has ended)."""
    if not series.is_active or latest is None or latest.period_end is None:
        return False
    today = today or timezone.localdate()
    return latest.period_end - today <= datetime.timedelta(days=NEXT_PERIOD_OPENS_DAYS)


@transaction.atomic
def continue_series(series: NeedSeries, *, by=None, by_contact: bool = False) -> Need:
    """The next period's need, made because the site's contact person (`by_contact`) or staff
    (`by`) confirmed it is still needed: the series' title, aid type and quantity, its own
    pledges, confirmed now. Refused before the latest period nears its end, or twice."""
    locked = NeedSeries.objects.select_for_update().get(pk=series.pk)
    latest = locked.periods.order_by("-period_start").first()
    if not next_period_due(locked, latest):
        raise NeedError(_("The next period can be confirmed in the last week of the current one."))
    start, end = period_after(latest.period_start, latest.period_end)
    today = timezone.localdate()
    if start < today:  # the series lapsed: the next period starts now, not in the past
        start, end = today, _add_month(today) - datetime.timedelta(days=1)
    who = _("the recipient") if by_contact else _("staff")
    need = create(
        by=by,
        reason=_("Next period of a recurring need, confirmed by %(who)s") % {"who": who},
        series=locked,
        site=locked.site,
        aid_type=locked.aid_type,
        title=locked.title,
        quantity_needed=locked.quantity_needed,
        beneficiaries=locked.beneficiaries,
        period_start=start,
        period_end=end,
        confirmed_at=timezone.now(),
        confirmed_by_contact=by_contact,
    )
    return need


@transaction.atomic
def set_series_active(series: NeedSeries, active: bool) -> NeedSeries:
    """End a recurring need (no more periods are offered), or take it up again."""
    NeedSeries.objects.filter(pk=series.pk).update(is_active=active)
    series.is_active = active
    return series
