"""Collaborators, their pledges against needs, and the deliveries that fulfil them."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from locations.models import Region
from needs.models import Need


class Collaborator(models.Model):
    """A person or organisation that gives (kolaborator / donatur).

    E-mail and phone are personal data: never shown publicly nor exported as open data.
    """

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Perorangan")
        COMPANY = "company", _("Perusahaan")
        HUMANITARIAN = "humanitarian", _("Lembaga kemanusiaan")
        FINTECH = "fintech", _("Lembaga teknologi finansial")
        COMMUNITY = "community", _("Komunitas")
        STATE_OWNED = "state_owned", _("BUMN/BUMD")
        OTHER = "other", _("Lainnya")

    public_name = models.CharField(_("nama publik"), max_length=150)
    kind = models.CharField(_("jenis"), max_length=12, choices=Kind.choices)
    email = models.EmailField(_("e-mail"), max_length=254)
    phone = models.CharField(_("telepon"), max_length=32, blank=True)
    is_anonymous = models.BooleanField(
        _("anonim"), default=False, help_text=_("Tampil sebagai “Anonim” di halaman publik.")
    )
    created_at = models.DateTimeField(_("terdaftar"), auto_now_add=True)

    class Meta:
        verbose_name = _("kolaborator")
        verbose_name_plural = _("kolaborator")
        ordering = ["public_name"]
        constraints = [
            # One collaborator per e-mail address, whatever its case: a returning donor is recognised.
            models.UniqueConstraint(
                Lower("email"),
                name="collaborator_unique_email_ci",
                violation_error_message=_("Kolaborator dengan e-mail ini sudah terdaftar."),
            ),
            models.CheckConstraint(
                name="collaborator_name_not_blank", condition=Q(public_name__regex=r"\S")
            ),
        ]

    def __str__(self):
        return self.public_name

    @property
    def display_name(self) -> str:
        """What the public sees."""
        return str(_("Anonim")) if self.is_anonymous else self.public_name


class Opd(models.Model):
    """A provincial government unit that facilitates hand-overs (Satpol PP, a Kelurahan office, …)."""

    class Kind(models.TextChoices):
        SATPOL_PP = "satpol_pp", _("Satpol PP")
        KELURAHAN_OFFICE = "kelurahan", _("Kantor Kelurahan")
        KECAMATAN_OFFICE = "kecamatan", _("Kantor Kecamatan")
        SUKU_DINAS = "suku_dinas", _("Suku Dinas")
        DINAS = "dinas", _("Dinas")
        OTHER = "other", _("Lainnya")

    name = models.CharField(_("nama"), max_length=150, unique=True)
    kind = models.CharField(_("jenis"), max_length=12, choices=Kind.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("wilayah"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opds",
        help_text=_("Kosong untuk unit tingkat provinsi."),
    )
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("OPD")
        verbose_name_plural = _("OPD")
        ordering = ["name"]

    def __str__(self):
        return self.name


class PledgeStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Diajukan")
    CONFIRMED = "confirmed", _("Dikonfirmasi")
    SCHEDULED = "scheduled", _("Dijadwalkan")
    DELIVERED = "delivered", _("Tersalurkan")
    CANCELLED = "cancelled", _("Dibatalkan")
    REJECTED = "rejected", _("Ditolak")
    EXPIRED = "expired", _("Kedaluwarsa")


# A pledge holds its quantity on the need while in one of these.
HOLDING_STATUSES = (PledgeStatus.SUBMITTED, PledgeStatus.CONFIRMED, PledgeStatus.SCHEDULED)


def new_token() -> str:
    return secrets.token_urlsafe(32)


class PledgeQuerySet(models.QuerySet):
    def holding(self):
        return self.filter(status__in=HOLDING_STATUSES)


class Pledge(models.Model):
    """A collaborator's promise of a quantity towards one need (komitmen bantuan).

    Created and moved only through donations.services, which keeps the need's counters in step.
    """

    collaborator = models.ForeignKey(
        Collaborator,
        verbose_name=_("kolaborator"),
        on_delete=models.PROTECT,
        related_name="pledges",
    )
    need = models.ForeignKey(
        Need, verbose_name=_("kebutuhan"), on_delete=models.PROTECT, related_name="pledges"
    )
    quantity = models.PositiveIntegerField(_("jumlah"))
    quantity_delivered = models.PositiveIntegerField(
        _("jumlah tersalurkan"), default=0, editable=False
    )
    message = models.TextField(_("pesan"), max_length=1000, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PledgeStatus.choices, default=PledgeStatus.SUBMITTED
    )
    # The donor's private link /komitmen/<token>/: unguessable, never shown publicly.
    token = models.CharField(
        _("token"), max_length=64, unique=True, default=new_token, editable=False
    )
    scheduled_for = models.DateField(_("jadwal penyaluran"), null=True, blank=True)
    status_reason = models.TextField(_("alasan"), blank=True)
    # The donor's language when pledging: later mails about this pledge speak it too.
    language = models.CharField(_("bahasa"), max_length=8, choices=settings.LANGUAGES, default="id")
    created_at = models.DateTimeField(_("diajukan"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("dikonfirmasi"), null=True, blank=True)
    scheduled_at = models.DateTimeField(_("dijadwalkan"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("tersalurkan"), null=True, blank=True)
    closed_at = models.DateTimeField(
        _("ditutup"),
        null=True,
        blank=True,
        help_text=_("Waktu dibatalkan, ditolak atau kedaluwarsa."),
    )

    objects = PledgeQuerySet.as_manager()

    class Meta:
        verbose_name = _("komitmen bantuan")
        verbose_name_plural = _("komitmen bantuan")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"], name="pledge_status_created_idx")]
        constraints = [
            models.CheckConstraint(
                name="pledge_quantity_positive",
                condition=Q(quantity__gt=0),
                violation_error_message=_("Jumlah harus lebih dari nol."),
            ),
            models.CheckConstraint(
                name="pledge_delivered_within_quantity",
                condition=Q(quantity_delivered__lte=F("quantity")),
                violation_error_message=_("Jumlah tersalurkan melebihi jumlah komitmen."),
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
        ]

    def __str__(self):
        return _("Komitmen #%(pk)s: %(quantity)s untuk %(need)s") % {
            "pk": self.pk,
            "quantity": self.quantity,
            "need": self.need,
        }

    def get_absolute_url(self):
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
        Pledge, verbose_name=_("komitmen"), on_delete=models.PROTECT, related_name="deliveries"
    )
    quantity = models.PositiveIntegerField(_("jumlah"))
    delivered_on = models.DateField(_("tanggal penyaluran"))
    opd = models.ForeignKey(
        Opd, verbose_name=_("OPD fasilitator"), on_delete=models.PROTECT, related_name="deliveries"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dicatat oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    evidence = models.ImageField(_("foto bukti"), upload_to=evidence_path, blank=True)
    note = models.TextField(_("catatan"), blank=True)
    created_at = models.DateTimeField(_("dicatat"), auto_now_add=True)

    class Meta:
        verbose_name = _("penyaluran")
        verbose_name_plural = _("penyaluran")
        ordering = ["-delivered_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="delivery_quantity_positive",
                condition=Q(quantity__gt=0),
                violation_error_message=_("Jumlah harus lebih dari nol."),
            ),
        ]

    def __str__(self):
        return _("Penyaluran %(quantity)s pada %(date)s") % {
            "quantity": self.quantity,
            "date": self.delivered_on,
        }


class PledgeEvent(models.Model):
    """One step in a pledge's history: who moved it, when, from what to what, and why. Append-only."""

    pledge = models.ForeignKey(
        Pledge, verbose_name=_("komitmen"), on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(
        _("dari"), max_length=10, choices=PledgeStatus.choices, blank=True
    )
    to_status = models.CharField(_("ke"), max_length=10, choices=PledgeStatus.choices)
    quantity = models.PositiveIntegerField(_("jumlah"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(
        _("pelaku"), max_length=20, help_text=_("donatur, petugas atau sistem")
    )
    reason = models.TextField(_("alasan"), blank=True)
    at = models.DateTimeField(_("waktu"), auto_now_add=True)

    class Meta:
        verbose_name = _("riwayat komitmen")
        verbose_name_plural = _("riwayat komitmen")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"


class OutboundMail(models.Model):
    """A mail waiting to be sent, or sent: the outbox behind donations.mail (staff-only; personal data)."""

    to = models.EmailField(_("kepada"))
    subject = models.CharField(_("subjek"), max_length=200)
    body = models.TextField(_("isi"))
    pledge = models.ForeignKey(
        Pledge,
        verbose_name=_("komitmen"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mails",
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    sent_at = models.DateTimeField(_("terkirim"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    last_error = models.CharField(_("galat terakhir"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("surel keluar")
        verbose_name_plural = _("surel keluar")
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
