"""The contact persons' private links: sent, revoked, opened. One function per change, each in one
transaction, called by the admin, the commands and the demo alike (docs/recipients.md)."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from locations.models import ContactPerson
from recipients import messaging, tokens
from recipients.models import ContactLink


class LinkError(Exception):
    """A link that cannot be sent; the message says why."""


def link_url(token: str) -> str:
    return settings.KSBB_BASE_URL.rstrip("/") + reverse("recipients:home", args=[token])


@transaction.atomic
def send_link(
    contact: ContactPerson, *, by=None, template: str = "private_link", extra: dict | None = None
) -> tuple[ContactLink, str]:
    """Give `contact` a new private link, by the channel they use, and revoke the one they had.
    Only a verified contact person gets one: the link speaks for their site. Returns the link and
    its token, which is nowhere else once this returns (only its digest is stored). The message is
    recipients/messages/<template>.txt (a reminder carries its link too), with `extra` to say."""
    contact = ContactPerson.objects.select_for_update().select_related("site").get(pk=contact.pk)
    if contact.verification_status != ContactPerson.Verification.VERIFIED:
        raise LinkError(_("Only a verified contact person receives a private link."))
    now = timezone.now()
    _revoke(contact, by=by, reason=_("Replaced by a new link"), at=now)
    token, selector, digest = tokens.new()
    link = ContactLink.objects.create(
        contact=contact,
        selector=selector,
        digest=digest,
        channel=messaging.address(contact)[0],
        created_at=now,
        created_by=by,
        expires_at=now + datetime.timedelta(days=settings.KSBB_CONTACT_LINK_DAYS),
    )
    messaging.queue(
        contact,
        template,
        {
            **(extra or {}),
            "url": link_url(token),
            "site": contact.site,
            "expires_at": link.expires_at,
        },
        link=link,
    )
    return link, token


@transaction.atomic
def revoke_link(contact: ContactPerson, *, by=None, reason: str = "") -> int:
    """End `contact`'s link at once (a lost phone, a contact who left). Returns how many ended."""
    ContactPerson.objects.select_for_update().filter(pk=contact.pk).first()
    return _revoke(contact, by=by, reason=reason or _("Revoked by staff"), at=timezone.now())


def _revoke(contact: ContactPerson, *, by, reason: str, at) -> int:
    return ContactLink.objects.filter(contact=contact, revoked_at=None).update(
        revoked_at=at, revoked_by=by, revoke_reason=reason[:200]
    )


@dataclass(frozen=True)
class Opening:
    """What a token opens: its link (None when unknown) and whether it may be used."""

    link: ContactLink | None
    state: str  # "ok", "unknown", "expired", "revoked", "unverified"

    @property
    def ok(self) -> bool:
        return self.state == "ok"


def open_link(token: str, *, record: bool = True) -> Opening:
    """The link `token` belongs to, if it is one, and whether it is still good: not revoked, not
    expired, and its contact person still verified (a changed phone ends what the old one was
    given). A good link's opening is recorded for staff (first and last)."""
    selector, secret = tokens.split(token)
    link = (
        ContactLink.objects.select_related("contact__site__kelurahan")
        .defer("contact__site__kelurahan__boundary")
        .filter(selector=selector)
        .first()
    )
    if link is None or not tokens.matches(secret, link.digest):
        return Opening(None, "unknown")
    now = timezone.now()
    if link.revoked_at:
        return Opening(link, "revoked")
    if link.expires_at <= now:
        return Opening(link, "expired")
    if link.contact.verification_status != ContactPerson.Verification.VERIFIED:
        return Opening(link, "unverified")
    if record:
        ContactLink.objects.filter(pk=link.pk).update(
            first_opened_at=Coalesce(F("first_opened_at"), now), last_opened_at=now
        )
    return Opening(link, "ok")
