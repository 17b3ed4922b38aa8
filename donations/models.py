"""Collaborators, their pledges against needs, and the deliveries that fulfil them."""

import datetime
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from ksbb.lib.outbox import OutboxRow
from locations.models import Region
from needs.models import PLACE_BOUNDARIES, PLACES, Need


def new_public_id() -> str:
    return "k" + secrets.token_hex(8)


def statement_path(collaborator: "Collaborator", filename: str) -> str:
    # A random name, as for evidence photos: the file has no public address and its name says nothing.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "pdf"
    return f"statements/{secrets.token_hex(16)}.{ext}"


class Vetting(models.TextChoices):
    """Where an organisation stands with the staff who vet collaborators (docs/staff.md, "Vetted
    organisations"). Individuals are never asked and stay NOT_ASKED."""

    NOT_ASKED = "not_asked", _("Not submitted")
    PENDING = "pending", _("Awaiting vetting")
    VETTED = "vetted", _("Verified organisation")
    REFUSED = "refused", _("Refused")


class Collaborator(models.Model):
    """A person or organisation that gives (kolaborator / donatur).

    E-mail and phone are personal data: never shown publicly nor exported as open data.
    """

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        COMPANY = "company", _("Company")
        HUMANITARIAN = "humanitarian", _("Humanitarian organisation")
        FINTECH = "fintech", _("Fintech organisation")
        COMMUNITY = "community", _("Community")
        STATE_OWNED = "state_owned", _("State-owned enterprise (BUMN/BUMD)")
        OTHER = "other", _("Other")

    public_name = models.CharField(_("public name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    email = models.EmailField(_("e-mail"), max_length=254)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_anonymous = models.BooleanField(
        _("anonymous"), default=False, help_text=_("Shown as “Anonymous” on public pages.")
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    # How the public ledger names the collaborator (docs/ledger.md): random, so it reveals neither
    # a name nor how many collaborators there are, and never changes, so erasing a name touches
    # no entry.
    public_id = models.CharField(
        _("public id"), max_length=17, unique=True, default=new_public_id, editable=False
    )
    # The right to be forgotten (UU 27/2022): donations.services.erase_collaborator.
    erased_at = models.DateTimeField(
        _("personal data erased"), null=True, blank=True, editable=False
    )
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # db_default: the benchmarks' seeding inserts collaborators in SQL.
    erase_reason = models.TextField(
        _("erased on whose request"), blank=True, default="", db_default="", editable=False
    )
    # Vetting (organisations only): written by donations.services.submit_vetting and
    # decide_vetting, each decision kept in VettingDecision. db_default: the benchmarks' SQL.
    legal_id = models.CharField(
        _("legal identity"),
        max_length=64,
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text=_("NIB for a business, the registration number (AHU) for a foundation."),
    )
    statement_letter = models.FileField(
        _("statement letter"),
        upload_to=statement_path,
        blank=True,
        default="",
        db_default="",
        max_length=100,
        editable=False,
    )
    vetting = models.CharField(
        _("vetting"),
        max_length=10,
        choices=Vetting.choices,
        default=Vetting.NOT_ASKED,
        db_default=Vetting.NOT_ASKED,
        editable=False,
    )
    vetting_submitted_at = models.DateTimeField(
        _("vetting asked on"), null=True, blank=True, editable=False
    )
    vetted_at = models.DateTimeField(_("vetting decided on"), null=True, blank=True, editable=False)
    vetting_reason = models.TextField(
        _("reason of the refusal"), blank=True, default="", db_default="", editable=False
    )

    class Meta:
        verbose_name = _("collaborator")
        verbose_name_plural = _("collaborators")
        ordering = ["public_name"]
        permissions = [
            # Staff exports of admin lists carry e-mails, phones and contact names only with this.
            ("export_personal_data", _("Can export personal data (donors' and contact persons')")),
            ("erase_personal_data", _("Can erase a donor's personal data on their request")),
            ("vet_collaborator", _("Can vet organisations and read their statement letters")),
        ]
        constraints = [
            # One collaborator per e-mail address, whatever its case: a returning donor is recognised.
            models.UniqueConstraint(
                Lower("email"),
                name="collaborator_unique_email_ci",
                violation_error_message=_("A collaborator with this e-mail is already registered."),
            ),
            models.CheckConstraint(
                name="collaborator_name_not_blank", condition=Q(public_name__regex=r"\S")
            ),
            models.CheckConstraint(
                name="collaborator_erased_keeps_nothing",
                condition=Q(erased_at__isnull=True)
                | Q(
                    is_anonymous=True,
                    phone="",
                    email__endswith="@erased.invalid",
                    legal_id="",
                    statement_letter="",
                ),
            ),
            models.CheckConstraint(
                name="collaborator_individuals_not_vetted",
                condition=~Q(kind="individual")
                | Q(vetting=Vetting.NOT_ASKED, legal_id="", statement_letter=""),
                violation_error_message=_(
                    "An individual is never vetted: only organisations give a legal identity."
                ),
            ),
            models.CheckConstraint(
                name="collaborator_vetting_pending_complete",
                condition=~Q(vetting=Vetting.PENDING)
                | (Q(vetting_submitted_at__isnull=False) & ~Q(legal_id="")),
            ),
            models.CheckConstraint(
                name="collaborator_vetting_decided_when",
                condition=Q(vetting__in=[Vetting.VETTED, Vetting.REFUSED], vetted_at__isnull=False)
                | Q(vetting__in=[Vetting.NOT_ASKED, Vetting.PENDING], vetted_at__isnull=True),
            ),
            models.CheckConstraint(
                name="collaborator_refusal_has_reason",
                condition=~Q(vetting=Vetting.REFUSED) | Q(vetting_reason__regex=r"\S"),
            ),
        ]

    def __str__(self):
        # As the public sees it: staff pages name collaborators this way too, and show an anonymous
        # donor's real name only where personal data may be shown (locations.personal_data).
        return str(self.display_name)

    @property
    def display_name(self) -> str:
        """What the public sees."""
        return str(_("Anonymous")) if self.is_anonymous else self.public_name

    @property
    def is_organisation(self) -> bool:
        return self.kind != self.Kind.INDIVIDUAL

    @property
    def is_vetted(self) -> bool:
        """The public "verified organisation" mark."""
        return self.vetting == Vetting.VETTED


class VettingDecision(models.Model):
    """Each step of an organisation's vetting, in order: who asked or decided, when, and why. Kept
    when the collaborator's personal data is erased (it holds none: no legal identity, no file)."""

    collaborator = models.ForeignKey(
        Collaborator,
        verbose_name=_("collaborator"),
        on_delete=models.CASCADE,
        related_name="vetting_decisions",
    )
    vetting = models.CharField(_("vetting"), max_length=10, choices=Vetting.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the organisation itself, through its private pledge link."),
    )
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("vetting decision")
        verbose_name_plural = _("vetting decisions")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="vetting_decision_staff_decides",
                condition=~Q(vetting__in=["vetted", "refused"]) | Q(by__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.get_vetting_display()} {self.at:%Y-%m-%d}"


class Opd(models.Model):
    """A provincial government unit that facilitates hand-overs (Satpol PP, a Kelurahan office, …)."""

    class Kind(models.TextChoices):
        SATPOL_PP = "satpol_pp", _("Satpol PP")
        KELURAHAN_OFFICE = "kelurahan", _("Kelurahan office")
        KECAMATAN_OFFICE = "kecamatan", _("Kecamatan office")
        SUKU_DINAS = "suku_dinas", _("City agency (Suku Dinas)")
        DINAS = "dinas", _("Provincial agency (Dinas)")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=150, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opds",
        help_text=_("Empty for province-level units."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("OPD")
        verbose_name_plural = _("OPDs")
        ordering = ["name"]

    def __str__(self):
        return self.name


class PledgeStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    CONFIRMED = "confirmed", _("Confirmed")
    SCHEDULED = "scheduled", _("Scheduled")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")


# A pledge holds its quantity on the need while in one of these.
HOLDING_STATUSES = (PledgeStatus.SUBMITTED, PledgeStatus.CONFIRMED, PledgeStatus.SCHEDULED)


def new_token() -> str:
    return secrets.token_urlsafe(32)


class PledgeQuerySet(models.QuerySet):
    def holding(self):
        return self.filter(status__in=HOLDING_STATUSES)

    def with_places(self):
        """With the collaborator, and the need's site, regions and category as Need.with_places
        reads them: the regions' boundaries left out."""
        return self.select_related("collaborator", *(f"need__{p}" for p in PLACES)).defer(
            *(f"need__{b}" for b in PLACE_BOUNDARIES)
        )


class Pledge(models.Model):
    """A collaborator's promise of a quantity towards one need (komitmen bantuan).

    Created and moved only through donations.services, which keeps the need's counters in step.
    """

    collaborator = models.ForeignKey(
        Collaborator,
        verbose_name=_("collaborator"),
        on_delete=models.PROTECT,
        related_name="pledges",
    )
    need = models.ForeignKey(
        Need, verbose_name=_("need"), on_delete=models.PROTECT, related_name="pledges"
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    quantity_delivered = models.PositiveIntegerField(
        _("quantity delivered"), default=0, editable=False
    )
    message = models.TextField(_("message"), max_length=1000, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PledgeStatus.choices, default=PledgeStatus.SUBMITTED
    )
    # The donor's private link /komitmen/<token>/: unguessable, never shown publicly.
    token = models.CharField(
        _("token"), max_length=64, unique=True, default=new_token, editable=False
    )
    # The pledge form's one-time key (a hidden field): the same form sent twice, by a donor tapping
    # again or by nginx passing the POST to another app server after the first one died, finds the
    # pledge it made instead of making a second (donations.services.pledge_from_donor).
    submission = models.UUIDField(
        _("form submission"), null=True, blank=True, unique=True, editable=False
    )
    scheduled_for = models.DateField(_("scheduled delivery date"), null=True, blank=True)
    # Known when scheduling, so the site's contact person is told who comes; the delivery records
    # the OPD that actually facilitated it.
    scheduled_opd = models.ForeignKey(
        Opd,
        verbose_name=_("facilitating OPD (planned)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scheduled_pledges",
    )
    status_reason = models.TextField(_("reason"), blank=True)
    # The donor's language when pledging: later mails about this pledge speak it too.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="id"
    )
    created_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    scheduled_at = models.DateTimeField(_("scheduled"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    closed_at = models.DateTimeField(
        _("closed"),
        null=True,
        blank=True,
        help_text=_("When it was cancelled, rejected or expired."),
    )
    # The hold (docs/pledges.md): while holding, the pledge keeps its quantity until this moment,
    # then `manage.py expire_pledges` frees it. Set by the services with each status and extension.
    hold_until = models.DateTimeField(_("held until"), null=True, blank=True)
    # Both belong to the current deadline: confirming or scheduling sets a new one and clears them.
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    extended_at = models.DateTimeField(_("hold extended"), null=True, blank=True)

    objects = PledgeQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("model", "pledge")
        verbose_name_plural = _("pledges")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="pledge_status_created_idx"),
            # expire_pledges runs every minute and looks only at holds that are running.
            models.Index(
                fields=["hold_until"],
                name="pledge_running_hold_idx",
                condition=Q(status__in=HOLDING_STATUSES),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="pledge_quantity_positive",
                condition=Q(quantity__gt=0),
                violation_error_message=_("Quantity must be greater than zero."),
            ),
            models.CheckConstraint(
                name="pledge_delivered_within_quantity",
                condition=Q(quantity_delivered__lte=F("quantity")),
                violation_error_message=_("The quantity delivered exceeds the quantity pledged."),
            ),
            models.CheckConstraint(
                name="pledge_delivered_means_all_delivered",
                condition=~Q(status="delivered") | Q(quantity_delivered=F("quantity")),
            ),
            models.CheckConstraint(
                name="pledge_scheduled_has_date",
                condition=~Q(status="scheduled") | Q(scheduled_for__isnull=False),
            ),
            models.CheckConstraint(
                name="pledge_closed_has_time",
                condition=~Q(status__in=["cancelled", "rejected", "expired"])
                | Q(closed_at__isnull=False),
            ),
            models.CheckConstraint(
                name="pledge_delivered_has_time",
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
            ),
            # A hold without an end would block the need for ever: the no-overlap guarantee must
            # not become a way to freeze aid.
            models.CheckConstraint(
                name="pledge_holding_has_deadline",
                condition=~Q(status__in=HOLDING_STATUSES) | Q(hold_until__isnull=False),
            ),
            models.CheckConstraint(
                name="pledge_extended_has_deadline",
                condition=Q(extended_at__isnull=True) | Q(hold_until__isnull=False),
            ),
        ]

    def __str__(self):
        return _("Pledge #%(pk)s: %(quantity)s for %(need)s") % {
            "pk": self.pk,
            "quantity": self.quantity,
            "need": self.need,
        }

    def private_url(self) -> str:
        """The donor's private page: its token is the donor's only key, so this is given to the
        donor alone (their mails, their confirmation page), never put on a staff page. Deliberately
        not get_absolute_url, which the admin's "view on site" and other generic code follow."""
        return reverse("donations:pledge_status", args=[self.token])

    @property
    def is_holding(self) -> bool:
        return self.status in HOLDING_STATUSES

    @property
    def quantity_outstanding(self) -> int:
        return self.quantity - self.quantity_delivered


def evidence_path(delivery: "Delivery", filename: str) -> str:
    # A random name: the uploader's file name can carry personal data and must not become a URL.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"evidence/{secrets.token_hex(16)}.{ext}"


class Delivery(models.Model):
    """A recorded hand-over of (part of) a pledge, facilitated by an OPD (penyaluran)."""

    pledge = models.ForeignKey(
        Pledge, verbose_name=_("pledge"), on_delete=models.PROTECT, related_name="deliveries"
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    delivered_on = models.DateField(_("delivery date"))
    opd = models.ForeignKey(
        Opd, verbose_name=_("facilitating OPD"), on_delete=models.PROTECT, related_name="deliveries"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    evidence = models.ImageField(_("evidence photo"), upload_to=evidence_path, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    # The second check (docs/staff.md, "No one checks their own work"): another staff member than
    # who recorded it, or a superuser's override with its reason (recorded in the public ledger).
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("second check by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("second check"), null=True, blank=True)
    check_override_reason = models.TextField(
        _("why the recorder checked it themselves"), blank=True, default="", db_default=""
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-delivered_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="delivery_quantity_positive",
                condition=Q(quantity__gt=0),
                violation_error_message=_("Quantity must be greater than zero."),
            ),
            models.CheckConstraint(
                name="delivery_checker_has_a_time",
                condition=Q(checked_by__isnull=True) | Q(checked_at__isnull=False),
            ),
            # Not who recorded it, unless overridden with a reason. (A NULL recorder, a deleted
            # account, leaves the comparison unknown, which the check lets pass.)
            models.CheckConstraint(
                name="delivery_second_check_by_another",
                condition=Q(checked_by__isnull=True)
                | ~Q(checked_by=F("recorded_by"))
                | ~Q(check_override_reason=""),
            ),
        ]

    def __str__(self):
        return _("Delivery of %(quantity)s on %(date)s") % {
            "quantity": self.quantity,
            "date": self.delivered_on,
        }

    def receipt_state(self, today=None) -> str:
        """Confirmed or disputed by the recipients, awaiting their word for
        KSBB_RECEIPT_DAYS after the delivery date, unconfirmed after (needs `receipt` loaded)."""
        receipt = getattr(self, "receipt", None)
        if receipt is not None:
            return ReceiptState.DISPUTED if receipt.is_dispute else ReceiptState.CONFIRMED
        if self.delivered_on < receipt_wait_ends(today or timezone.localdate()):
            return ReceiptState.UNCONFIRMED
        return ReceiptState.AWAITING

    def get_receipt_state_display(self) -> str:
        return ReceiptState(self.receipt_state()).label

    @property
    def is_verified(self) -> bool:
        """Confirmed by its recipients, or checked by a second staff member (needs `receipt`
        loaded): the public figures count it as verified, the rest as recorded only."""
        receipt = getattr(self, "receipt", None)
        return self.checked_at is not None or (receipt is not None and not receipt.is_dispute)


def verified_sql(before: datetime.datetime | None = None) -> Q:
    """Delivery.is_verified in SQL, counting only what was said or checked before `before`."""
    confirmed = Q(receipt__outcome="received")
    checked = Q(checked_at__isnull=False)
    if before is not None:
        confirmed &= Q(receipt__created_at__lt=before)
        checked &= Q(checked_at__lt=before)
    return confirmed | checked


class ReceiptState(models.TextChoices):
    """What the recipients said about a delivery (Delivery.receipt_state)."""

    CONFIRMED = "confirmed", _("Confirmed by the recipient")
    DISPUTED = "disputed", _("Disputed by the recipient")
    AWAITING = "awaiting", _("Awaiting the recipient's confirmation")
    UNCONFIRMED = "unconfirmed", _("Not confirmed by the recipient")


def receipt_wait_ends(today: datetime.date) -> datetime.date:
    """A delivery dated before this day and still without its recipients' word is unconfirmed."""
    return today - datetime.timedelta(days=settings.KSBB_RECEIPT_DAYS)


def receipt_state_sql(
    today: datetime.date | None = None, answered_before: datetime.datetime | None = None
) -> Case:
    """Delivery.receipt_state in SQL, for counting: as of `today`, counting only the receipts
    given before `answered_before` (all, when None)."""
    answered = Q(receipt__isnull=False)
    if answered_before is not None:
        answered &= Q(receipt__created_at__lt=answered_before)
    return Case(
        When(answered & Q(receipt__outcome="received"), then=Value(ReceiptState.CONFIRMED.value)),
        When(answered, then=Value(ReceiptState.DISPUTED.value)),
        When(
            delivered_on__lt=receipt_wait_ends(today or timezone.localdate()),
            then=Value(ReceiptState.UNCONFIRMED.value),
        ),
        default=Value(ReceiptState.AWAITING.value),
    )


class ReceiptQuerySet(models.QuerySet):
    def open_disputes(self):
        return self.exclude(outcome="received").filter(resolved_at=None)


class Receipt(models.Model):
    """The recipients' word on one delivery, given once by the site's contact person through their
    private link (donations.services.record_receipt): received (all of it), or a problem. A problem
    is a dispute in the staff queue until staff record its resolution. Who received it is kept
    private; the photo, re-encoded without metadata, is public only if the contact chose so."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("Received")
        LESS = "less", _("Less than recorded")
        NOT_RECEIVED = "not_received", _("Not received")
        WRONG_ITEMS = "wrong_items", _("Wrong items")

    delivery = models.OneToOneField(
        Delivery, verbose_name=_("delivery"), on_delete=models.PROTECT, related_name="receipt"
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    quantity_received = models.PositiveIntegerField(_("quantity received"), null=True, blank=True)
    received_by = models.CharField(_("received by"), max_length=150, blank=True)
    note = models.TextField(_("note"), max_length=1000, blank=True)
    photo = models.ImageField(_("photo"), upload_to=evidence_path, blank=True)
    photo_public = models.BooleanField(_("photo shown publicly"), default=False)
    contact = models.ForeignKey(
        "locations.ContactPerson",
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="receipts",
    )
    created_at = models.DateTimeField(_("answered"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("dispute resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution = models.TextField(_("resolution"), blank=True)

    objects = ReceiptQuerySet.as_manager()

    class Meta:
        verbose_name = _("recipient's receipt")
        verbose_name_plural = _("recipients' receipts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="receipt_quantity_fits_outcome",
                condition=(
                    Q(outcome__in=["received", "less"], quantity_received__isnull=False)
                    | Q(outcome__in=["not_received", "wrong_items"], quantity_received__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="receipt_public_photo_exists", condition=Q(photo_public=False) | ~Q(photo="")
            ),
            models.CheckConstraint(
                name="receipt_only_a_dispute_is_resolved",
                condition=Q(resolved_at__isnull=True) | ~Q(outcome="received"),
            ),
            models.CheckConstraint(
                name="receipt_resolution_has_time",
                condition=Q(resolved_by__isnull=True, resolution="") | Q(resolved_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()} · {self.delivery}"

    @property
    def is_dispute(self) -> bool:
        return self.outcome != self.Outcome.RECEIVED


class PledgeEvent(models.Model):
    """One step in a pledge's history: who moved it, when, from what to what, and why. Append-only."""

    pledge = models.ForeignKey(
        Pledge, verbose_name=_("pledge"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(
        _("from status"), max_length=10, choices=PledgeStatus.choices, blank=True
    )
    to_status = models.CharField(_("to status"), max_length=10, choices=PledgeStatus.choices)
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=20, help_text=_("donor, staff or system"))
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("pledge event")
        verbose_name_plural = _("pledge events")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"


class OutboundMail(OutboxRow):
    """A mail waiting to be sent, or sent: the outbox behind donations.mail (staff-only; personal data)."""

    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    pledge = models.ForeignKey(
        Pledge,
        verbose_name=_("pledge"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mails",
    )

    class Meta:
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mail")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # send_queued_mail looks only at what is unsent.
            models.Index(
                fields=["created_at"],
                name="outboundmail_unsent_idx",
                condition=models.Q(sent_at=None),
            ),
        ]

    def __str__(self):
        return self.subject


class ErasureRequest(models.Model):
    """A donor's request, from their own page, to have their personal data erased
    (donations.services.request_erasure). Done at once when none of their pledges is still running;
    otherwise staff complete it once they no longer need to reach the donor. Holds no personal data:
    it stays, with who completed it and when, after the erasure."""

    collaborator = models.ForeignKey(
        Collaborator,
        verbose_name=_("collaborator"),
        on_delete=models.PROTECT,
        related_name="erasure_requests",
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["collaborator"],
                condition=Q(completed_at__isnull=True),
                name="erasure_request_one_open",
            ),
            models.CheckConstraint(
                name="erasure_request_completed_by_needs_time",
                condition=Q(completed_by__isnull=True) | Q(completed_at__isnull=False),
            ),
        ]

    def __str__(self):
        return _("Erasure request #%(pk)s") % {"pk": self.pk}

    @property
    def is_open(self) -> bool:
        return self.completed_at is None
