"""Jakarta's regions (kota › kecamatan › kelurahan), the sites aid goes to, and who to call there."""

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.measure import D
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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

    code = models.CharField(_("kode Kemendagri"), max_length=13, unique=True)
    name = models.CharField(_("nama"), max_length=100)
    level = models.CharField(_("tingkat"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("induk"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # SRID 4326 (WGS 84, lon/lat), as the official GeoJSON files are.
    boundary = models.MultiPolygonField(_("batas wilayah"), srid=4326, null=True, blank=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("wilayah")
        verbose_name_plural = _("wilayah")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="region_code_matches_level",
                condition=(
                    Q(level="kota", code__regex=CODE_PATTERNS["kota"])
                    | Q(level="kecamatan", code__regex=CODE_PATTERNS["kecamatan"])
                    | Q(level="kelurahan", code__regex=CODE_PATTERNS["kelurahan"])
                ),
                violation_error_message=_("Kode wilayah tidak sesuai dengan tingkatnya."),
            ),
            models.CheckConstraint(
                name="region_parent_only_below_kota",
                condition=Q(level="kota", parent__isnull=True)
                | (~Q(level="kota") & Q(parent__isnull=False)),
                violation_error_message=_(
                    "Kota tidak berinduk; kecamatan dan kelurahan harus berinduk."
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
                    "parent": _("Kode %(code)s tidak berada di bawah induk %(parent)s.")
                    % {"code": self.code, "parent": self.parent.code}
                }
            )

    def ancestors(self) -> list["Region"]:
        """Kota first, this region last. One query per level (at most three)."""
        chain, region = [], self
        while region is not None:
            chain.append(region)
            region = region.parent
        return chain[::-1]


class SiteQuerySet(models.QuerySet):
    def in_region(self, code: str):
        return self.filter(Q(kelurahan__code=code) | Q(kelurahan__code__startswith=code + "."))


class Site(models.Model):
    """Where aid goes: an RW, a Loksem, a school, a kampung."""

    class Kind(models.TextChoices):
        RW = "rw", _("RW")
        LOKSEM = "loksem", _("Loksem")
        SCHOOL = "school", _("Sekolah")
        KAMPUNG = "kampung", _("Kampung")
        OTHER = "other", _("Lainnya")

    kind = models.CharField(_("jenis"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("nama"), max_length=150)
    kelurahan = models.ForeignKey(
        Region,
        verbose_name=_("kelurahan"),
        on_delete=models.PROTECT,
        related_name="sites",
        limit_choices_to={"level": Region.Level.KELURAHAN},
    )
    point = models.PointField(_("titik lokasi"), srid=4326)
    location_is_approximate = models.BooleanField(
        _("lokasi perkiraan"),
        default=False,
        help_text=_(
            "Titik ditempatkan kira-kira karena batas atau koordinat sebenarnya belum tersedia."
        ),
    )
    address = models.CharField(_("alamat"), max_length=255, blank=True)
    external_ref = models.CharField(
        _("referensi eksternal"), max_length=64, unique=True, null=True, blank=True
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diubah"), auto_now=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("sasaran")
        verbose_name_plural = _("sasaran")
        ordering = ["kelurahan__code", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kelurahan", "kind", "name"],
                name="site_unique_name_per_kelurahan",
                violation_error_message=_(
                    "Sasaran dengan jenis dan nama ini sudah ada di kelurahan ini."
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
            raise ValidationError({"kelurahan": _("Pilih sebuah kelurahan.")})

    def _validate_point_in_kelurahan(self):
        """A point must lie inside its kelurahan (one query). Skipped while the kelurahan has no boundary."""
        if not (self.kelurahan_id and self.point and self.kelurahan.boundary):
            return
        tolerance = D(m=settings.KSBB_SITE_BOUNDARY_TOLERANCE_M)
        inside = Region.objects.filter(
            pk=self.kelurahan_id, boundary__distance_lte=(self.point, tolerance)
        ).exists()
        if not inside:
            raise ValidationError(
                {
                    "point": _("Titik berada di luar batas Kelurahan %(name)s.")
                    % {"name": self.kelurahan.name}
                }
            )


class ContactPerson(models.Model):
    """The narahubung on site, whom staff call to confirm a need and arrange the hand-over.

    Personal data (UU 27/2022): never shown publicly nor exported as open data.
    """

    class Role(models.TextChoices):
        RW_HEAD = "rw_head", _("Ketua RW")
        LOKSEM_COORDINATOR = "loksem_coordinator", _("Koordinator Loksem")
        SCHOOL_HEAD = "school_head", _("Kepala sekolah")
        COOPERATIVE = "cooperative", _("Pengurus koperasi")
        OTHER = "other", _("Lainnya")

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", _("Belum diverifikasi")
        VERIFIED = "verified", _("Terverifikasi")
        UNREACHABLE = "unreachable", _("Tidak dapat dihubungi")
        REPLACED = "replaced", _("Diganti")

    site = models.ForeignKey(
        Site, verbose_name=_("sasaran"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("nama"), max_length=150)
    role = models.CharField(_("peran"), max_length=20, choices=Role.choices)
    phone = models.CharField(_("telepon"), max_length=32)
    verification_status = models.CharField(
        _("status verifikasi"),
        max_length=12,
        choices=Verification.choices,
        default=Verification.UNVERIFIED,
    )
    verified_at = models.DateTimeField(_("waktu verifikasi"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("diverifikasi oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    replaced_by = models.ForeignKey(
        "self",
        verbose_name=_("digantikan oleh"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
    )
    note = models.TextField(_("catatan"), blank=True)

    class Meta:
        verbose_name = _("narahubung")
        verbose_name_plural = _("narahubung")
        ordering = ["site", "name"]
        constraints = [
            models.CheckConstraint(
                name="contact_checked_has_time",
                condition=Q(verification_status="unverified") | Q(verified_at__isnull=False),
                violation_error_message=_("Status verifikasi memerlukan waktu verifikasi."),
            ),
            models.CheckConstraint(
                name="contact_not_replaced_by_self",
                condition=~Q(replaced_by=models.F("pk")),
            ),
            models.CheckConstraint(
                name="contact_phone_has_digits",
                condition=Q(phone__regex=r"^\+?[0-9][0-9 .-]{5,30}$"),
                violation_error_message=_("Nomor telepon tidak valid."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_role_display()})"


class StaffArea(models.Model):
    """A staff member's area: they work on what lies in this region (by code prefix)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("petugas"),
        on_delete=models.CASCADE,
        related_name="staff_areas",
    )
    region = models.ForeignKey(
        Region, verbose_name=_("wilayah"), on_delete=models.CASCADE, related_name="staff_areas"
    )

    class Meta:
        verbose_name = _("wilayah tugas")
        verbose_name_plural = _("wilayah tugas")
        constraints = [
            models.UniqueConstraint(fields=["user", "region"], name="staffarea_unique_user_region")
        ]

    def __str__(self):
        return f"{self.user} → {self.region}"
