"""A returning donor's own page (docs/pledges.md, "A donor's own page"): reached through a link
mailed to the address they pledged with, signed by the portal and short-lived
(KSBB_DONOR_LINK_MINUTES). The link carries no secret of its own to store or to leak from the
database: the signature is the key, and it stops working when it expires or when the address it
was sent to changes (an erasure replaces it)."""

import hashlib

from django.conf import settings
from django.core import signing
from django.urls import reverse

from donations.models import Collaborator

SALT = "ksbb.donations.donor-page"


def _address_mark(collaborator: Collaborator) -> str:
    return hashlib.sha256(collaborator.email.lower().encode()).hexdigest()[:16]


def make_key(collaborator: Collaborator) -> str:
    return signing.dumps({"c": collaborator.pk, "m": _address_mark(collaborator)}, salt=SALT)


def page_url(collaborator: Collaborator) -> str:
    """The page's address, at the portal's public address, for the mail."""
    base = settings.KSBB_BASE_URL.rstrip("/")
    return base + reverse("donations:donor_page", args=[make_key(collaborator)])


def read_key(key: str) -> Collaborator | None:
    """The collaborator a key opens, or None when it is forged, expired or no longer theirs."""
    try:
        data = signing.loads(key, salt=SALT, max_age=settings.KSBB_DONOR_LINK_MINUTES * 60)
        collaborator = Collaborator.objects.get(pk=int(data["c"]), erased_at=None)
    except (signing.BadSignature, KeyError, TypeError, ValueError, Collaborator.DoesNotExist):
        return None
    return collaborator if data.get("m") == _address_mark(collaborator) else None
