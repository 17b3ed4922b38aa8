"""What the recipients' contact persons (RW heads, Loksem coordinators, principals) are sent and
hold: a private link to their site's page, and the messages that carry it (docs/recipients.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ksbb.lib.outbox import OutboxRow
from locations.models import ContactPerson

# How a message reaches its contact person: the contact's own choice, kept with each link and message.
Channel = ContactPerson.Channel


class ContactLinkQuerySet(models.QuerySet):
    def live(self):
        return self.filter(revoked_at=None, expires_at__gt=timezone.now())


class ContactLink(models.Model):
    """One private link given to one contact person: no account, no password. The link's token is
    a public `selector` (to find the row) and a secret whose keyed digest alone is kept
    (recipients.tokens), so neither a database dump nor a staff page can rebuild a link.

    Sending a new link revokes the contact's previous one: at most one is unrevoked at a time."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        OPENED = "opened", _("Opened")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    contact = models.ForeignKey(
        ContactPerson,
        verbose_name=_("contact person"),
        on_delete=models.CASCADE,
        related_name="links",
    )
    selector = models.CharField(_("selector"), max_length=16, unique=True, editable=False)
    digest = models.CharField(_("digest"), max_length=64, editable=False)
    channel = models.CharField(_("sent by"), max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires"))
    first_opened_at = models.DateTimeField(_("first opened"), null=True, blank=True)
    last_opened_at = models.DateTimeField(_("last opened"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoke_reason = models.CharField(_("reason"), max_length=200, blank=True)

    objects = ContactLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact link")
        verbose_name_plural = _("contact links")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(revoked_at=None),
                name="contactlink_one_unrevoked_per_contact",
                violation_error_message=_("This contact person already has a link in use."),
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="contactlink_expires_after_creation",
            ),
            models.CheckConstraint(
                condition=Q(revoked_by=None) | Q(revoked_at__isnull=False),
                name="contactlink_revoker_has_time",
            ),
            models.CheckConstraint(
                condition=Q(last_opened_at=None) | Q(first_opened_at__isnull=False),
                name="contactlink_opened_in_order",
            ),
        ]

    def __str__(self):
        return f"{self.contact} · {self.created_at:%Y-%m-%d}"

    def status(self) -> str:
        """Where the link stands, as staff see it (reads `messages`, prefetched or not)."""
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        if self.first_opened_at:
            return self.Status.OPENED
        sent = any(m.sent_at for m in self.messages.all())
        return self.Status.SENT if sent else self.Status.QUEUED


class OutboundMessage(OutboxRow):
    """A message to a contact person (WhatsApp, SMS or e-mail), waiting or sent: the outbox behind
    recipients.messaging. Written in the transaction of the change it reports, sent by the worker
    after the commit, retried with a growing delay. Staff-only: the address is personal data and a
    private link in the body is blanked on every staff page."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)  # e-mail only
    body = models.TextField(_("body"))
    contact = models.ForeignKey(
        ContactPerson,
        verbose_name=_("contact person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    link = models.ForeignKey(
        ContactLink,
        verbose_name=_("contact link"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    # What the gateway called it (its message id), for a conversation with the provider.
    provider_ref = models.CharField(_("provider reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outboundmessage_unsent_idx",
                condition=Q(sent_at=None),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                # E.164 for WhatsApp and SMS, an address for e-mail.
                condition=(Q(channel="email") & Q(to__contains="@"))
                | (~Q(channel="email") & Q(to__regex=r"^\+[1-9][0-9]{6,14}$")),
                name="outboundmessage_to_fits_channel",
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} · {self.created_at:%Y-%m-%d %H:%M}"


class ContactNotice(models.Model):
    """That a contact person was told something once: a hand-over scheduled at their site, or a
    need of theirs nearing its reconfirmation date (recipients.notices). The unique constraints
    make the worker's job safe to run twice: a notice exists at most once per pledge, or per need
    and confirmation round."""

    class Kind(models.TextChoices):
        HANDOVER = "handover", _("Hand-over scheduled")
        RECONFIRM = "reconfirm", _("Reconfirmation reminder")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    contact = models.ForeignKey(
        ContactPerson, verbose_name=_("contact person"), on_delete=models.CASCADE, related_name="+"
    )
    pledge = models.ForeignKey(
        "donations.Pledge",
        verbose_name=_("pledge"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    need = models.ForeignKey(
        "needs.Need",
        verbose_name=_("need"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # What a notice was about, so that news is told again: for a reminder, the need's last
    # confirmation (or publication); for a hand-over, when it was (re)scheduled.
    round = models.DateTimeField(_("round"), null=True, blank=True)
    message = models.ForeignKey(
        OutboundMessage,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("notice to a contact person")
        verbose_name_plural = _("notices to contact persons")
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "pledge", "round"],
                condition=Q(kind="handover"),
                name="contactnotice_one_per_handover_round",
            ),
            models.UniqueConstraint(
                fields=["contact", "need", "round"],
                condition=Q(kind="reconfirm"),
                name="contactnotice_one_per_reconfirm_round",
            ),
            models.CheckConstraint(
                condition=Q(
                    kind="handover", pledge__isnull=False, need__isnull=True, round__isnull=False
                )
                | Q(kind="reconfirm", pledge__isnull=True, need__isnull=False, round__isnull=False),
                name="contactnotice_fields_fit_its_kind",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.contact}"
