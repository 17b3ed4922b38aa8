"""Alerts for an area or a category (docs/alerts.md): a visitor's subscription by e-mail, the mails
sent to them (an outbox), and which need each immediate subscriber was told of.

A subscription is personal data: it is never shown on a public page, in the API or the open data;
unsubscribing deletes it with its mails and alerts, and staff can export or erase it on request."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ksbb.lib.outbox import OutboxRow
from locations.models import Region
from needs.models import Category, Need


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", _("At once, for each new need")
    WEEKLY = "weekly", _("A weekly digest")


class SubscriptionQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(confirmed_at__isnull=False)

    def for_address(self, email: str):
        """The address's subscription, whatever the case of its letters (the unique index's)."""
        return self.alias(address=Lower("email")).filter(address=email.strip().lower())


class Subscription(models.Model):
    """One address's alerts: for the needs in its regions (a kota, kecamatan or kelurahan each,
    everything below it included) and its categories (none: every category), at once or weekly.

    `token` is the key of every link sent to the address (confirm, manage, unsubscribe). It is kept
    in clear, unlike a contact person's link (recipients.tokens): every later mail must carry it,
    and what it opens is this subscription alone. An address has at most one subscription."""

    email = models.EmailField(_("e-mail"), max_length=254)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    frequency = models.CharField(_("how often"), max_length=10, choices=Frequency.choices)
    regions = models.ManyToManyField(Region, verbose_name=_("areas"), related_name="+")
    categories = models.ManyToManyField(
        Category, verbose_name=_("categories"), blank=True, related_name="+"
    )
    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    last_digest_at = models.DateTimeField(_("last digest"), null=True, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert subscription")
        verbose_name_plural = _("alert subscriptions")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="subscription_one_per_address",
                violation_error_message=_("This address already has alerts."),
            ),
            models.CheckConstraint(
                condition=Q(frequency__in=Frequency.values), name="subscription_frequency_known"
            ),
            models.CheckConstraint(
                condition=Q(language__in=[code for code, _name in settings.LANGUAGES]),
                name="subscription_language_known",
            ),
            models.CheckConstraint(
                condition=Q(email__contains="@"), name="subscription_email_is_an_address"
            ),
            models.CheckConstraint(
                condition=Q(last_digest_at=None) | Q(confirmed_at__isnull=False),
                name="subscription_digest_only_when_confirmed",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="subscription_unconfirmed_idx",
                condition=Q(confirmed_at=None),
            ),
        ]

    def __str__(self):
        return f"{_('Alert subscription')} #{self.pk}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class AlertMail(OutboxRow):
    """A mail to a subscriber, waiting or sent: the outbox behind alerts.mail. Deleted with its
    subscription. `unsubscribe_url` is set on alerts and digests: the sender turns it into the
    List-Unsubscribe and List-Unsubscribe-Post headers (RFC 2369, RFC 8058)."""

    class Kind(models.TextChoices):
        CONFIRM = "confirm", _("Confirm the subscription")
        KNOWN = "known", _("Already subscribed")
        ALERT = "alert", _("New needs")
        DIGEST = "digest", _("Weekly digest")

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("alert subscription"),
        on_delete=models.CASCADE,
        related_name="mails",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    to = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    unsubscribe_url = models.URLField(_("unsubscribe link"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("alert mail")
        verbose_name_plural = _("alert mails")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["created_at"], name="alertmail_unsent_idx", condition=Q(sent_at=None)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["confirm", "known", "alert", "digest"]),
                name="alertmail_kind_known",
            ),
            models.CheckConstraint(
                # What a subscriber receives regularly can be ended in one click.
                condition=Q(kind__in=["confirm", "known"]) | ~Q(unsubscribe_url=""),
                name="alertmail_alerts_can_be_unsubscribed",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"


class NeedAlert(models.Model):
    """That an immediate subscriber was told of a need. Unique per subscription and need, so a
    need reaches a subscriber once, however many sweeps run, on however many workers."""

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("alert subscription"),
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    need = models.ForeignKey(
        Need, verbose_name=_("need"), on_delete=models.CASCADE, related_name="+"
    )
    mail = models.ForeignKey(
        AlertMail,
        verbose_name=_("alert mail"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("need alert")
        verbose_name_plural = _("need alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "need"], name="needalert_once_per_subscription"
            ),
        ]

    def __str__(self):
        return f"{self.subscription} · {self.need_id}"
