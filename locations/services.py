"""State changes of the locations app. Each is one function, in one transaction."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from locations.models import ContactPerson

Verification = ContactPerson.Verification


class ContactError(Exception):
    """A verification that was refused; the message says why."""


@transaction.atomic
def verify_contact(
    contact: ContactPerson,
    status: str,
    *,
    by,
    note: str = "",
    replaced_by: ContactPerson | None = None,
) -> ContactPerson:
    """Record what staff found when they called a contact person: verified, unreachable or replaced."""
    if status not in (Verification.VERIFIED, Verification.UNREACHABLE, Verification.REPLACED):
        raise ContactError(_("Unknown verification status: %(status)s.") % {"status": status})
    contact = ContactPerson.objects.select_for_update().get(pk=contact.pk)
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
