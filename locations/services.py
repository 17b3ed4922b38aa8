"""State changes of the locations app. Each is one function, in one transaction."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from ledger.services import record_override
from locations.models import ContactPerson

Verification = ContactPerson.Verification


class ContactError(Exception):
    """A verification that was refused; the message says why."""


# What a verification is about: who wrote any of these cannot be the one who verifies them.
AUTHORED_FIELDS = ("site", "name", "role", "phone", "email", "channel")


def authors(contact: ContactPerson) -> set[int]:
    """The staff who created the contact person, and who last changed their details (by the
    contact's history): no one verifies their own work."""
    rows = list(
        contact.history.order_by("history_date", "history_id").values(
            "history_user_id", *AUTHORED_FIELDS
        )
    )
    if not rows:
        return set()
    found = {rows[0]["history_user_id"]}
    changed = [
        after["history_user_id"]
        for before, after in zip(rows, rows[1:], strict=False)
        if any(before[f] != after[f] for f in AUTHORED_FIELDS)
    ]
    if changed:
        found.add(changed[-1])
    return found - {None}


@transaction.atomic
def verify_contact(
    contact: ContactPerson,
    status: str,
    *,
    by,
    note: str = "",
    replaced_by: ContactPerson | None = None,
    override_reason: str = "",
) -> ContactPerson:
    """Record what staff found when they called a contact person: verified, unreachable or replaced.
    Staff who created the contact or last changed their details do not verify them: another does.
    A superuser who must may, with `override_reason`; the public ledger records that override."""
    if status not in (Verification.VERIFIED, Verification.UNREACHABLE, Verification.REPLACED):
        raise ContactError(_("Unknown verification status: %(status)s.") % {"status": status})
    contact = ContactPerson.objects.select_for_update().get(pk=contact.pk)
    if status == Verification.VERIFIED and by is not None and by.pk in authors(contact):
        if not (by.is_superuser and override_reason.strip()):
            raise ContactError(
                _(
                    "You created this contact person or last changed their details: another staff "
                    "member verifies them. (A superuser may override this with a reason, which the "
                    "public ledger records.)"
                )
            )
        record_override("verify_own_contact", contact.pk, by)
        overridden = _("verified by its author (override): %(reason)s") % {
            "reason": override_reason.strip()
        }
        note = f"{note} ({overridden})" if note else overridden
    if status == Verification.REPLACED:
        if replaced_by is None:
            raise ContactError(_("Name the replacement contact person."))
        if replaced_by.pk == contact.pk or replaced_by.site_id != contact.site_id:
            raise ContactError(
                _("The replacement must be another contact person at the same site.")
            )
    contact.verification_status = status
    contact.verified_at = timezone.now()
    contact.verified_by = by
    contact.replaced_by = replaced_by if status == Verification.REPLACED else None
    if note:
        contact.note = note
    # For the contact's history row (django-simple-history): who called, and what they noted.
    contact._history_user = by
    contact._change_reason = note[:100]
    contact.save(
        update_fields=["verification_status", "verified_at", "verified_by", "replaced_by", "note"]
    )
    return contact


# What a verification vouches for: a change to any makes the contact unverified again. The e-mail
# is one: a private link may go there, and nobody has checked a new address belongs to the contact.
VERIFIED_FIELDS = ("name", "phone", "email")


@transaction.atomic
def save_contact(contact: ContactPerson, *, by=None, reason: str = "", **fields) -> ContactPerson:
    """Save `contact`, new or changed (by its caller, or by `fields`: name, role, phone, e-mail,
    channel, note…). The phone is saved in E.164 (ksbb.lib.phones.to_e164); a phone that is no
    phone number, or the e-mail channel without an e-mail, raises a ValidationError naming the field.

    A contact who was verified, unreachable or replaced and whose name, phone or e-mail changes goes back
    to unverified, since the verification was of the old person or number. Locks the row against a
    verification arriving meanwhile. The history records who (`by`) and why. The one way the admin,
    the importer and any other caller change a contact person."""
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.normalise()
    if contact.pk:
        before = ContactPerson.objects.select_for_update().get(pk=contact.pk)
        moved = any(getattr(before, f) != getattr(contact, f) for f in VERIFIED_FIELDS)
        if moved and before.verification_status != Verification.UNVERIFIED:
            contact.verification_status = Verification.UNVERIFIED
            contact.verified_at = contact.verified_by = contact.replaced_by = None
            reason = reason or _("Name, phone or e-mail changed: to be verified again")
    contact._history_user = by
    contact._change_reason = reason[:100]
    contact.save()
    return contact


def create_contacts(contacts: list[ContactPerson], *, by=None, reason: str) -> list[ContactPerson]:
    """Many new contact persons in one insert, each with its first history row (the demo, imports).
    They start unverified: verify_contact records a call. Phones are saved in E.164, as by
    save_contact, which raises the same ValidationError. The caller owns the transaction."""
    if any(c.verification_status != Verification.UNVERIFIED for c in contacts):
        raise ValueError("A new contact person starts unverified.")
    for contact in contacts:
        contact.normalise()
    return bulk_create_with_history(
        contacts, ContactPerson, default_user=by, default_change_reason=reason[:100]
    )
