"""What sites need: categories, aid types and needs, with counters that only donations.services moves."""

import datetime

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import Case, ExpressionWrapper, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from locations.models import Site


class Category(models.Model):
    """KSBB Pangan, UMKM, Pendidikan, Permukiman, … Staff add more; the code never lists them."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True)
    recipients = models.TextField(_("recipients"), blank=True)
    color = models.CharField(
        _("colour"),
        max_length=7,
        default="#1b6ac9",
        help_text=_("Colour on the map, e.g. #1b6ac9."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # How long a pledge may hold its quantity before it expires (docs/pledges.md, "Holds"): food
    # cannot wait long, a business training or a house repair takes longer to arrange.
    hold_days = models.PositiveSmallIntegerField(
        _("hold (days)"),
        default=7,
        help_text=_(
            "Days a submitted pledge holds its quantity while staff confirm it, and again a "
            "confirmed one while its delivery date is agreed."
        ),
    )
    grace_days = models.PositiveSmallIntegerField(
        _("grace after the delivery date (days)"),
        default=3,
        help_text=_("Days a scheduled pledge still holds its quantity after its delivery date."),
    )
    # How long a need stays true without anyone saying so (docs/recipients.md, "Freshness").
    reconfirm_days = models.PositiveSmallIntegerField(
        _("reconfirm after (days)"),
        default=30,
        db_default=30,
        help_text=_(
            "Days after its last confirmation that an open need shows as awaiting reconfirmation."
        ),
    )
    reconfirm_grace_days = models.PositiveSmallIntegerField(
        _("pause after a further (days)"),
        default=14,
        db_default=14,
        help_text=_(
            "Days a need awaits reconfirmation before it stops accepting new pledges, until "
            "reconfirmed. Pledges already made keep their holds."
        ),
    )
    # Above either threshold, an organisation's pledge waits for its vetting before it is
    # scheduled (donations.vetting; docs/staff.md, "Vetted organisations"). Empty: no threshold.
    vetting_threshold_quantity = models.PositiveIntegerField(
        _("vetting needed above (units)"),
        null=True,
        blank=True,
        help_text=_(
            "An organisation not yet vetted may pledge more than this many units, but the pledge "
            "is scheduled only once the organisation is vetted. Empty: no limit in units."
        ),
    )
    vetting_threshold_value = models.PositiveBigIntegerField(
        _("vetting needed above (Rp)"),
        null=True,
        blank=True,
        help_text=_(
            "The same, in estimated Rupiah (the pledge's quantity times its aid type's reference "
            "value; aid types without one are not counted). Empty: no limit in Rupiah."
        ),
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(
                name="category_color_is_hex", condition=Q(color__regex=r"^#[0-9a-fA-F]{6}$")
            ),
            models.CheckConstraint(
                name="category_hold_days_positive",
                condition=Q(hold_days__gt=0),
                violation_error_message=_("A hold lasts at least one day."),
            ),
            models.CheckConstraint(
                name="category_grace_days_positive",
                condition=Q(grace_days__gt=0),
                violation_error_message=_("The grace after the delivery date is at least one day."),
            ),
        ]

    def __str__(self):
        return self.name


class AidType(models.Model):
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="aid_types"
    )
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(
        _("unit"), max_length=30, help_text=_("e.g. parcel, portion, person, unit")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The reference value of one unit, so aid of different units can be summed as an estimated
    # value in Rupiah (docs/open-data.md, "Estimated value"). Empty: no estimate, never zero.
    unit_value = models.PositiveBigIntegerField(
        _("reference value per unit (Rp)"),
        null=True,
        blank=True,
        help_text=_(
            "What one unit is worth, in Rupiah, for the public estimates. Leave empty if unknown: "
            "the aid type is then shown as “no estimate”."
        ),
    )
    unit_value_source = models.CharField(
        _("source of the reference value"),
        max_length=300,
        blank=True,
        help_text=_("Where the value comes from, e.g. a price list, a procurement, a survey."),
    )
    unit_value_set_on = models.DateField(_("reference value set on"), null=True, blank=True)
    # Each reference value as it stood, with who set it: the public estimates depend on them.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("aid type")
        verbose_name_plural = _("aid types")
        ordering = ["category__order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "name"], name="aidtype_unique_per_category"
            ),
            models.CheckConstraint(
                name="aidtype_unit_value_sourced",
                condition=Q(unit_value__isnull=True)
                | (
                    Q(unit_value__gt=0)
                    & Q(unit_value_set_on__isnull=False)
                    & ~Q(unit_value_source="")
                ),
                violation_error_message=_(
                    "A reference value is more than zero and has its source and the date it was set."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.unit})"

    def clean(self):
        if self.unit_value is None:
            return
        errors = {}
        if not self.unit_value_source.strip():
            errors["unit_value_source"] = _("Say where the reference value comes from.")
        if self.unit_value_set_on is None:
            errors["unit_value_set_on"] = _("Give the date the reference value was set.")
        if errors:
            raise ValidationError(errors)


class Freshness(models.TextChoices):
    """Whether an open need is known to be still needed (Category.reconfirm_days)."""

    CONFIRMED = "confirmed", _("Confirmed")
    AWAITING = "awaiting", _("Awaiting reconfirmation")
    PAUSED = "paused", _("Paused until reconfirmed")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PARTLY_PLEDGED = "partly_pledged", _("Partly pledged")
    FULLY_PLEDGED = "fully_pledged", _("Fully pledged")
    DELIVERED = "delivered", _("Delivered")
    CLOSED = "closed", _("Closed")


# A need's place, as its pages and the API show it: the site, its kelurahan, kecamatan and kota and
# the aid type's category, in the same query, without the regions' boundaries (never shown with a
# need, and up to 30 kB each: they once cost the map page ~40% of its time).
PLACES = ("site__kelurahan__parent__parent", "aid_type__category")
PLACE_BOUNDARIES = (
    "site__kelurahan__boundary",
    "site__kelurahan__parent__boundary",
    "site__kelurahan__parent__parent__boundary",
)


class NeedQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)

    def with_places(self):
        """select_related the site, its regions and the category (PLACES), boundaries left out."""
        return self.select_related(*PLACES).defer(*PLACE_BOUNDARIES)

    def with_site(self):
        """select_related the site, its kelurahan (boundary left out) and the category: what a
        pledge shows and checks, without with_places()'s kecamatan and kota, whose columns cost
        every query its compiling."""
        return self.select_related("site__kelurahan", "aid_type__category").defer(
            "site__kelurahan__boundary"
        )

    def with_reconfirm_dates(self):
        """Annotated `last_confirmed`, and `awaiting_from` and `paused_from`: when, by its category's
        days, the need awaits reconfirmation and when it pauses (Need.freshness's rule)."""
        day = Value(datetime.timedelta(days=1), output_field=models.DurationField())
        return (
            self.annotate(
                last_confirmed_at=Coalesce(F("confirmed_at"), F("created_at")),
            )
            .annotate(
                awaiting_from=ExpressionWrapper(
                    F("last_confirmed_at") + F("aid_type__category__reconfirm_days") * day,
                    output_field=models.DateTimeField(),
                ),
            )
            .annotate(
                paused_from=ExpressionWrapper(
                    F("awaiting_from") + F("aid_type__category__reconfirm_grace_days") * day,
                    output_field=models.DateTimeField(),
                ),
            )
        )

    def by_freshness(self, freshness: str):
        """Open needs in the given Freshness state, by the same rule as Need.freshness."""
        now = timezone.now()
        needs = self.open().filter(published=True).with_reconfirm_dates()
        if freshness == Freshness.CONFIRMED:
            return needs.filter(awaiting_from__gt=now)
        if freshness == Freshness.AWAITING:
            return needs.filter(awaiting_from__lte=now, paused_from__gt=now)
        return needs.filter(paused_from__lte=now)

    def open(self):
        """Needs a donor can still pledge to."""
        return self.filter(status__in=[NeedStatus.OPEN, NeedStatus.PARTLY_PLEDGED])

    def in_region(self, code: str):
        return self.filter(
            Q(site__kelurahan__code=code) | Q(site__kelurahan__code__startswith=code + ".")
        )

    def overlapping(self, need: "Need"):
        """Other needs at the same site, for the same aid type, in an overlapping period, that already
        have pledges: a donor and staff should look before aid doubles up."""
        return self.overlapping_with(
            pk=need.pk,
            site=need.site_id,
            aid_type=need.aid_type_id,
            start=need.period_start,
            end=need.period_end,
        )

    def overlapping_with(self, *, pk, site, aid_type, start, end):
        """overlapping() for a need given by its fields, each a value or an expression: with
        OuterRef("need__…") it is one EXISTS per row of a pledge list (the staff queue's flag).

        Periods overlap when the other one ends after this one starts (or never ends) and starts
        before this one ends (a need without an end runs on for ever)."""
        if not hasattr(end, "resolve_expression"):
            end = Value(end, output_field=models.DateField())
        return (
            self.filter(site_id=site, aid_type_id=aid_type, quantity_pledged__gt=0)
            .filter(Q(period_end__isnull=True) | Q(period_end__gte=start))
            .filter(
                period_start__lte=Coalesce(
                    end, Value(datetime.date.max), output_field=models.DateField()
                )
            )
            .exclude(pk=pk)
        )


class NeedSeries(models.Model):
    """A need that comes back every period (350 food packages every month): each period is a Need
    of its own, with its own pledges, so the figures per period stay true. The next period's need is
    made from the series only once the site's contact person (or staff) confirms it is still needed
    (needs.services.continue_series)."""

    class Every(models.TextChoices):
        MONTH = "month", _("Every month")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="need_series"
    )
    aid_type = models.ForeignKey(
        AidType, verbose_name=_("aid type"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    quantity_needed = models.PositiveIntegerField(_("quantity needed per period"))
    beneficiaries = models.PositiveIntegerField(_("number of beneficiaries"), default=0)
    every = models.CharField(_("every"), max_length=10, choices=Every.choices, default=Every.MONTH)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("recurring need")
        verbose_name_plural = _("recurring needs")
        ordering = ["site", "title"]
        constraints = [
            models.CheckConstraint(
                name="needseries_quantity_positive", condition=Q(quantity_needed__gt=0)
            ),
            models.CheckConstraint(
                name="needseries_title_not_blank", condition=Q(title__regex=r"\S")
            ),
        ]

    def __str__(self):
        return self.title


class Need(models.Model):
    """What one site needs.

    The category is the aid type's: storing it twice would let the two disagree.
    quantity_pledged and quantity_delivered are counters that only donations.services changes,
    under the need's row lock; the check constraint below stands behind that lock.
    """

    class BeneficiaryKind(models.TextChoices):
        HOUSEHOLD = "household", _("Household")
        PERSON = "person", _("Person")
        BUSINESS = "business", _("Business owner")
        PUPIL = "pupil", _("Pupil")
        TEACHER = "teacher", _("Teacher")
        KAMPUNG = "kampung", _("Kampung")

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="needs"
    )
    series = models.ForeignKey(
        NeedSeries,
        verbose_name=_("recurring need"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="periods",
        editable=False,
    )
    aid_type = models.ForeignKey(
        AidType, verbose_name=_("aid type"), on_delete=models.PROTECT, related_name="needs"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    quantity_needed = models.PositiveIntegerField(_("quantity needed"))
    quantity_pledged = models.PositiveIntegerField(_("quantity pledged"), default=0, editable=False)
    quantity_delivered = models.PositiveIntegerField(
        _("quantity delivered"), default=0, editable=False
    )
    beneficiaries = models.PositiveIntegerField(_("number of beneficiaries"), default=0)
    beneficiary_kind = models.CharField(
        _("beneficiary kind"),
        max_length=10,
        choices=BeneficiaryKind.choices,
        default=BeneficiaryKind.HOUSEHOLD,
    )
    criteria = models.TextField(_("recipient criteria"), blank=True)
    period_start = models.DateField(_("start"))
    period_end = models.DateField(_("end"), null=True, blank=True)
    published = models.BooleanField(_("published"), default=True)
    is_closed = models.BooleanField(
        _("closed"), default=False, help_text=_("The need no longer accepts pledges.")
    )
    external_ref = models.CharField(
        _("external reference"), max_length=64, unique=True, null=True, blank=True
    )
    # Derived by PostgreSQL from the counters, so it can never disagree with them and can be indexed.
    status = models.GeneratedField(
        verbose_name=_("status"),
        expression=Case(
            When(is_closed=True, then=Value(NeedStatus.CLOSED.value)),
            When(
                quantity_delivered__gte=F("quantity_needed"), then=Value(NeedStatus.DELIVERED.value)
            ),
            When(
                quantity_pledged__gte=F("quantity_needed"),
                then=Value(NeedStatus.FULLY_PLEDGED.value),
            ),
            When(quantity_pledged__gt=0, then=Value(NeedStatus.PARTLY_PLEDGED.value)),
            default=Value(NeedStatus.OPEN.value),
        ),
        output_field=models.CharField(max_length=16, choices=NeedStatus.choices),
        db_persist=True,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The last time someone said the need is still true (needs.services.confirm): the site's
    # contact person through their private link, or staff. Until then, its creation counts.
    confirmed_at = models.DateTimeField(_("last confirmed"), null=True, blank=True, editable=False)
    # A database default too: the benchmarks' seeding inserts needs in SQL.
    confirmed_by_contact = models.BooleanField(
        _("confirmed by the recipient"), default=False, db_default=False, editable=False
    )

    objects = NeedQuerySet.as_manager()
    # Every change of a need, its quantities above all (before → after, who, why), append-only. The
    # status is derived from the counters, so the history leaves it out.
    history = HistoricalRecords(excluded_fields=["status"])

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The public map and list filter on status first, then narrow by aid type.
            models.Index(fields=["status", "aid_type"], name="need_status_aidtype_idx"),
            # The map's list shows the newest 20 published needs: read in this order, not sorted
            # from all 50,000 on every visit (33 → 0.4 ms).
            models.Index(
                models.F("created_at").desc(),
                models.F("id").desc(),
                condition=Q(published=True),
                name="need_newest_published_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="need_quantity_needed_positive",
                condition=Q(quantity_needed__gt=0),
                violation_error_message=_("The quantity needed must be greater than zero."),
            ),
            models.CheckConstraint(
                name="need_counters_ordered",
                condition=Q(quantity_delivered__lte=F("quantity_pledged"))
                & Q(quantity_pledged__lte=F("quantity_needed")),
                violation_error_message=_(
                    "Quantity delivered ≤ quantity pledged ≤ quantity needed."
                ),
            ),
            models.CheckConstraint(
                name="need_period_ordered",
                condition=Q(period_end__isnull=True) | Q(period_end__gte=F("period_start")),
                violation_error_message=_("The end date cannot be before the start date."),
            ),
            models.CheckConstraint(name="need_title_not_blank", condition=Q(title__regex=r"\S")),
            models.UniqueConstraint(
                fields=["series", "period_start"],
                condition=Q(series__isnull=False),
                name="need_one_per_series_period",
            ),
            models.CheckConstraint(
                name="need_confirmed_by_contact_has_time",
                condition=Q(confirmed_by_contact=False) | Q(confirmed_at__isnull=False),
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("need_detail", args=[self.pk])

    def clean(self):
        self._validate_quantity_covers_pledges()

    def _validate_quantity_covers_pledges(self):
        # The counters are not form fields, so Django would skip the constraint that names them.
        if self.quantity_needed is not None and self.quantity_needed < self.quantity_pledged:
            raise ValidationError(
                {
                    "quantity_needed": _(
                        "%(pledged)s are already pledged; the quantity needed cannot be less than that."
                    )
                    % {"pledged": self.quantity_pledged}
                }
            )

    @property
    def category(self) -> Category:
        return self.aid_type.category

    @property
    def status_label(self) -> str:
        """The status in words (a generated field gets no get_status_display())."""
        return NeedStatus(self.status).label

    @property
    def quantity_remaining(self) -> int:
        return self.quantity_needed - self.quantity_pledged

    @property
    def is_open(self) -> bool:
        return self.published and self.status in (NeedStatus.OPEN, NeedStatus.PARTLY_PLEDGED)

    @property
    def is_pledgeable(self) -> bool:
        """Open, and not paused for want of a reconfirmation."""
        return self.is_open and self.freshness != Freshness.PAUSED

    def get_freshness_display(self) -> str:
        return Freshness(self.freshness).label

    @property
    def last_confirmed(self):
        return self.confirmed_at or self.created_at

    @property
    def freshness(self) -> str:
        """Whether the need is known to be still needed: awaiting reconfirmation once its category's
        `reconfirm_days` have passed since it was last confirmed, paused a grace later. Only an
        open need can go stale: a fully pledged or closed one needs no one's word."""
        if not self.is_open:
            return Freshness.CONFIRMED
        category = self.aid_type.category
        age = timezone.now() - self.last_confirmed
        if age < datetime.timedelta(days=category.reconfirm_days):
            return Freshness.CONFIRMED
        grace = datetime.timedelta(days=category.reconfirm_days + category.reconfirm_grace_days)
        return Freshness.AWAITING if age < grace else Freshness.PAUSED


class ProposalQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Proposal.Status.PENDING)


class Proposal(models.Model):
    """A site's contact person proposing, through their private link, a different quantity for a
    need, that it is no longer needed, or a new need at their site. A proposal changes nothing by
    itself: it waits for staff of the area, and an approval is applied through the needs services
    (needs.services.approve_proposal), the proposal and the approver in the need's history."""

    class Kind(models.TextChoices):
        QUANTITY = "quantity", _("A different quantity")
        NO_LONGER_NEEDED = "no_longer_needed", _("No longer needed")
        NEW_NEED = "new_need", _("A new need")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    kind = models.CharField(_("proposal"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="proposals"
    )
    need = models.ForeignKey(
        "Need",
        verbose_name=_("need"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="proposals",
    )
    contact = models.ForeignKey(
        "locations.ContactPerson",
        verbose_name=_("proposed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposals",
    )
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    aid_type = models.ForeignKey(
        AidType, verbose_name=_("aid type"), null=True, blank=True, on_delete=models.PROTECT
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    beneficiaries = models.PositiveIntegerField(_("number of beneficiaries"), null=True, blank=True)
    note = models.TextField(_("note"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_reason = models.TextField(_("reason"), blank=True)
    created_need = models.ForeignKey(
        "Need",
        verbose_name=_("need created"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = ProposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("proposal from the recipients")
        verbose_name_plural = _("proposals from the recipients")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="proposal_fields_fit_its_kind",
                condition=(
                    # "quantity > 0" alone would let a NULL through: a CHECK passes on unknown.
                    Q(kind="quantity", need__isnull=False, aid_type__isnull=True)
                    & Q(quantity__isnull=False, quantity__gt=0)
                    | Q(
                        kind="no_longer_needed",
                        need__isnull=False,
                        quantity__isnull=True,
                        aid_type__isnull=True,
                    )
                    | (
                        Q(kind="new_need", need__isnull=True)
                        & Q(quantity__isnull=False, quantity__gt=0)
                        & Q(aid_type__isnull=False)
                        & Q(title__regex=r"\S")
                    )
                ),
            ),
            models.CheckConstraint(
                name="proposal_decided_has_time",
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="proposal_created_need_on_approval",
                condition=Q(created_need__isnull=True) | Q(status="approved", kind="new_need"),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.need or self.title}"
