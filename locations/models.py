"""Jakarta's regions (kota › kecamatan › kelurahan), the sites aid goes to, and who to call there."""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ksbb.lib.phones import E164_PATTERN, to_e164

# Kemendagri codes nest by prefix: 31.71 › 31.71.01 › 31.71.01.1001.
CODE_PATTERNS = {
    "kota": r"^\d{2}\.\d{2}$",
    "kecamatan": r"^\d{2}\.\d{2}\.\d{2}$",
    "kelurahan": r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$",
}


class RegionQuerySet(models.QuerySet):
    def kota(self):
        return self.filter(level=Region.Level.KOTA)

    def kecamatan(self):
        return self.filter(level=Region.Level.KECAMATAN)

    def kelurahan(self):
        return self.filter(level=Region.Level.KELURAHAN)

    def within_code(self, code: str):
        """The region with this code and everything below it."""
        return self.filter(Q(code=code) | Q(code__startswith=code + "."))


class Region(models.Model):
    class Level(models.TextChoices):
        KOTA = "kota", _("Kota/Kabupaten")
        KECAMATAN = "kecamatan", _("Kecamatan")
        KELURAHAN = "kelurahan", _("Kelurahan")

    code = models.CharField(_("Kemendagri code"), max_length=13, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # SRID 4326 (WGS 84, lon/lat), as the official GeoJSON files are.
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="region_code_matches_level",
                condition=(
                    Q(level="kota", code__regex=CODE_PATTERNS["kota"])
                    | Q(level="kecamatan", code__regex=CODE_PATTERNS["kecamatan"])
                    | Q(level="kelurahan", code__regex=CODE_PATTERNS["kelurahan"])
                ),
                violation_error_message=_("The region code does not match its level."),
            ),
            models.CheckConstraint(
                name="region_parent_only_below_kota",
                condition=Q(level="kota", parent__isnull=True)
                | (~Q(level="kota") & Q(parent__isnull=False)),
                violation_error_message=_(
                    "A kota has no parent; a kecamatan or kelurahan must have one."
                ),
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        """Kota names without their 'Kota Administrasi' prefix, as people say them."""
        for prefix in ("Kota Administrasi ", "Kabupaten Administrasi "):
            if self.name.startswith(prefix):
                return self.name[len(prefix) :]
        return self.name

    def clean(self):
        self._validate_parent_nests_code()

    def _validate_parent_nests_code(self):
        if self.parent_id and not self.code.startswith(self.parent.code + "."):
            raise ValidationError(
                {
                    "parent": _("Code %(code)s is not under parent %(parent)s.")
                    % {"code": self.code, "parent": self.parent.code}
                }
            )

    def covers(self, point, tolerance_m: float = 0) -> bool:
        """Whether `point` lies inside the boundary or within `tolerance_m` metres of it; False
        without a boundary. Computed by GEOS, no query. Degrees become metres at 111,320 m per
        degree, planar: at Jakarta's 6° S the error is under 1 %."""
        if self.boundary is None:
            return False
        if self.boundary.contains(point):
            return True
        return self.boundary.distance(point) * 111_320 <= tolerance_m

    def ancestors(self) -> list["Region"]:
        """Kota first, this region last. One query per level (at most three)."""
        chain, region = [], self
        while region is not None:
            chain.append(region)
            region = region.parent
        return chain[::-1]


class RwArea(models.Model):
    """An RW (rukun warga) area's boundary inside its kelurahan, where one is loaded
    (`manage.py import_rw_areas`): the map shades unmet need per RW with it. Kemendagri codes stop
    at the kelurahan, so an RW's `code` is the kelurahan's code and its number ("…-RW01"), as the
    reference files write it."""

    code = models.CharField(_("code"), max_length=24, unique=True)
    kelurahan = models.ForeignKey(
        Region,
        verbose_name=_("kelurahan"),
        on_delete=models.PROTECT,
        related_name="rw_areas",
        limit_choices_to={"level": Region.Level.KELURAHAN},
    )
    number = models.PositiveSmallIntegerField(_("RW number"))
    boundary = models.MultiPolygonField(_("boundary"), srid=4326)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("RW area")
        verbose_name_plural = _("RW areas")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["kelurahan", "number"], name="rwarea_one_per_number"),
            models.CheckConstraint(name="rwarea_number_positive", condition=Q(number__gt=0)),
            models.CheckConstraint(
                name="rwarea_code_shape",
                condition=Q(code__regex=r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}-RW[0-9]{2,3}$"),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def name(self) -> str:
        return f"RW {self.number:02d}"


class SiteQuerySet(models.QuerySet):
    def in_region(self, code: str):
        return self.filter(Q(kelurahan__code=code) | Q(kelurahan__code__startswith=code + "."))


class Site(models.Model):
    """Where aid goes: an RW, a Loksem, a school, a kampung."""

    class Kind(models.TextChoices):
        RW = "rw", _("RW")
        LOKSEM = "loksem", _("Loksem")
        SCHOOL = "school", _("School")
        KAMPUNG = "kampung", _("Kampung")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=150)
    kelurahan = models.ForeignKey(
        Region,
        verbose_name=_("kelurahan"),
        on_delete=models.PROTECT,
        related_name="sites",
        limit_choices_to={"level": Region.Level.KELURAHAN},
    )
    point = models.PointField(_("location point"), srid=4326)
    location_is_approximate = models.BooleanField(
        _("approximate location"),
        default=False,
        help_text=_(
            "The point is placed roughly because the actual boundary or coordinates are not available yet."
        ),
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    external_ref = models.CharField(
        _("external reference"), max_length=64, unique=True, null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["kelurahan__code", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kelurahan", "kind", "name"],
                name="site_unique_name_per_kelurahan",
                violation_error_message=_(
                    "A site of this kind with this name already exists in this kelurahan."
                ),
            ),
            models.CheckConstraint(name="site_name_not_blank", condition=Q(name__regex=r"\S")),
        ]

    def __str__(self):
        return f"{self.name} ({self.kelurahan.name})"

    def clean(self):
        self._validate_kelurahan_level()
        self._validate_point_in_kelurahan()

    def _validate_kelurahan_level(self):
        if self.kelurahan_id and self.kelurahan.level != Region.Level.KELURAHAN:
            raise ValidationError({"kelurahan": _("Choose a kelurahan.")})

    def _validate_point_in_kelurahan(self):
        """A point must lie inside its kelurahan. Skipped while the kelurahan has no boundary."""
        if not (self.kelurahan_id and self.point and self.kelurahan.boundary):
            return
        if not self.kelurahan.covers(self.point, settings.KSBB_SITE_BOUNDARY_TOLERANCE_M):
            raise ValidationError(
                {
                    "point": _("The point lies outside the boundary of Kelurahan %(name)s.")
                    % {"name": self.kelurahan.name}
                }
            )


CHANNEL_NEEDS_EMAIL = _("Messages can go by e-mail only to a contact with an e-mail address.")


class ContactPerson(models.Model):
    """The narahubung on site, whom staff call to confirm a need and arrange the hand-over.

    Personal data (UU 27/2022): never shown publicly nor exported as open data.
    """

    class Role(models.TextChoices):
        RW_HEAD = "rw_head", _("RW head")
        LOKSEM_COORDINATOR = "loksem_coordinator", _("Loksem coordinator")
        SCHOOL_HEAD = "school_head", _("School principal")
        COOPERATIVE = "cooperative", _("Cooperative board member")
        OTHER = "other", _("Other")

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", _("Not verified")
        VERIFIED = "verified", _("Verified")
        UNREACHABLE = "unreachable", _("Unreachable")
        REPLACED = "replaced", _("Replaced")

    class Channel(models.TextChoices):
        WHATSAPP = "whatsapp", _("WhatsApp")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    # E.164 (+6281234567890), as SMS and WhatsApp gateways expect: written only through
    # locations.services, which normalise it (ksbb.lib.phones.to_e164).
    phone = models.CharField(_("phone"), max_length=32)
    email = models.EmailField(_("e-mail"), blank=True)
    channel = models.CharField(
        _("channel"),
        max_length=10,
        choices=Channel.choices,
        default=Channel.WHATSAPP,
        help_text=_("How messages reach this contact."),
    )
    verification_status = models.CharField(
        _("verification status"),
        max_length=12,
        choices=Verification.choices,
        default=Verification.UNVERIFIED,
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    replaced_by = models.ForeignKey(
        "self",
        verbose_name=_("replaced by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
    )
    note = models.TextField(_("note"), blank=True)

    # Who changed what and when (verification above all), append-only; readable in the admin.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["site", "name"]
        constraints = [
            models.CheckConstraint(
                name="contact_checked_has_time",
                condition=Q(verification_status="unverified") | Q(verified_at__isnull=False),
                violation_error_message=_("A verification status needs a verification time."),
            ),
            models.CheckConstraint(
                name="contact_not_replaced_by_self",
                condition=~Q(replaced_by=models.F("pk")),
            ),
            models.CheckConstraint(
                name="contact_phone_e164",
                condition=Q(phone__regex=E164_PATTERN),
                violation_error_message=_("The phone number is not valid."),
            ),
            models.CheckConstraint(
                name="contact_email_channel_has_email",
                condition=~Q(channel="email") | ~Q(email=""),
                violation_error_message=CHANNEL_NEEDS_EMAIL,
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_role_display()})"

    def clean(self):
        self._validate_channel()

    def _validate_channel(self):
        if self.channel == self.Channel.EMAIL and not self.email:
            raise ValidationError({"channel": CHANNEL_NEEDS_EMAIL})

    def normalise(self) -> None:
        """The phone in E.164 and a channel it can use, or a ValidationError naming the field."""
        try:
            self.phone = to_e164(self.phone)
        except ValueError as e:
            raise ValidationError({"phone": e.args[0]}) from e
        self._validate_channel()


class StaffArea(models.Model):
    """A staff member's area: they work on what lies in this region (by code prefix)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="staff_areas",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="staff_areas"
    )

    class Meta:
        verbose_name = _("assigned area")
        verbose_name_plural = _("assigned areas")
        constraints = [
            models.UniqueConstraint(fields=["user", "region"], name="staffarea_unique_user_region")
        ]

    def __str__(self):
        return f"{self.user} → {self.region}"


class PersonalDataView(models.Model):
    """One staff member opening one person's personal details (a donor's or a contact person's e-mail
    and phone) in the admin: who, when, which record, where. Indonesia's personal data protection
    law (UU 27/2022) expects a controller to be able to say who accessed whose data. Written by
    locations.personal_data only, append-only; the provincial staff list it in the admin."""

    class Via(models.TextChoices):
        PAGE = "page", _("its own page")
        RELATED_PAGE = "related_page", _("a related page")
        HISTORY = "history", _("its history")
        EXPORT = "export", _("an export")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        # A staff member who has looked at personal data is deactivated, never deleted: the record stays.
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    content_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("kind of record"), on_delete=models.PROTECT
    )
    object_id = models.CharField(_("record"), max_length=40)
    via = models.CharField(_("seen on"), max_length=12, choices=Via.choices)
    path = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("personal data view")
        verbose_name_plural = _("personal data views")
        ordering = ["-at", "-pk"]
        indexes = [
            # "Who looked at this person?": a record's views, newest first.
            models.Index(fields=["content_type", "object_id", "-at"], name="pdv_record_idx"),
        ]
        permissions = [
            # Donors' and contact persons' e-mail and phone are shown only with this.
            ("view_personal_data", _("Can see personal data (each view is recorded)")),
        ]

    def __str__(self):
        return (
            f"{self.user} · {self.content_type.name} #{self.object_id} · {self.at:%Y-%m-%d %H:%M}"
        )
