"""The staff side of donations: the pledge queue and its actions, deliveries, the dashboard.

Every change goes through donations.services; the admin only collects what staff decide. Rows are
limited to the staff member's areas by locations.scoping.
"""

import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from donations import holds, services, vetting
from donations.converters import TokenConverter
from donations.forms import (
    DeliveryForm,
    ErasureForm,
    ReasonForm,
    ScheduleForm,
    SecondCheckForm,
    VettingRefusalForm,
)
from donations.models import (
    HOLDING_STATUSES,
    Collaborator,
    Delivery,
    ErasureRequest,
    Opd,
    OutboundMail,
    Pledge,
    PledgeEvent,
    PledgeStatus,
    Receipt,
    ReceiptState,
    Vetting,
    VettingDecision,
    receipt_state_sql,
)
from ksbb.lib.admin import action_form_page, admin_link, apply_to_each, without_tokens
from ksbb.lib.admin_export import ExportActionsMixin
from ksbb.lib.private_files import private_file_response
from locations.admin import area_filters
from locations.admin_history import ReadOnlyHistoryAdmin
from locations.models import ContactPerson, Site
from locations.personal_data import PersonalDataAdminMixin
from locations.scoping import AreaScopedAdminMixin, scope
from needs.models import Category, Freshness, Need

PLEDGE_AREA = "need__site__kelurahan__code"
VERIFIED = ContactPerson.Verification.VERIFIED


class ReadOnlyMixin:
    """For rows only donations.services writes: staff read them here, nothing more.

    Deleting one would also leave the need's counters out of step with its pledges.
    """

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def shown_name(prefix: str = ""):
    """A collaborator's name as the public sees it, for searching: nothing for one who gives
    anonymously, whose real name is personal data."""
    return Case(
        When(**{f"{prefix}is_anonymous": True}, then=Value("")),
        default=F(f"{prefix}public_name"),
    )


class CollaboratorForm(forms.ModelForm):
    def clean_kind(self):
        # What services.save_collaborator refuses, said on the field.
        kind = self.cleaned_data["kind"]
        if kind == Collaborator.Kind.INDIVIDUAL and self.instance.vetting != Vetting.NOT_ASKED:
            raise forms.ValidationError(
                _("An organisation that asked to be vetted cannot become an individual.")
            )
        return kind


class VettingDecisionInline(ReadOnlyMixin, admin.TabularInline):
    model = VettingDecision
    fields = ["at", "vetting", "by", "reason"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class VettedFilter(admin.SimpleListFilter):
    title = _("vetting")
    parameter_name = "vetting"

    def lookups(self, request, model_admin):
        return Vetting.choices

    def queryset(self, request, queryset):
        if self.value() in Vetting.values:
            return queryset.filter(vetting=self.value())
        return queryset


@admin.register(Collaborator)
class CollaboratorAdmin(PersonalDataAdminMixin, AreaScopedAdminMixin, admin.ModelAdmin):
    """Collaborators. Staff bound to an area see only those with a pledge there; e-mail, phone
    and an anonymous donor's real name only with the personal-data permission (recorded).
    Organisations are vetted here (docs/staff.md, "Vetted organisations"): their statement letter is
    read through letter_view, by staff who may vet, and each decision is kept below."""

    area_lookup = "pledges__" + PLEDGE_AREA
    area_lookup_many = True
    # Why a donor was erased may name them: shown only with the right too.
    personal_fields = ("public_name", "email", "phone", "erase_reason")
    personal_search_fields = ("public_name", "email")
    list_display = ["__str__", "kind", "vetting", "is_anonymous", "created_at", "erased_at"]
    list_filter = [
        "kind",
        VettedFilter,
        "is_anonymous",
        ("erased_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["shown_name"]
    readonly_fields = [
        "public_id",
        "erased_at",
        "erased_by",
        "erase_reason",
        "vetting",
        "legal_id",
        "letter",
        "vetting_submitted_at",
        "vetted_at",
        "vetting_reason",
    ]
    inlines = [VettingDecisionInline]
    actions = ["vet_organisations", "refuse_vetting", "erase_collaborators"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(shown_name=shown_name())

    form = CollaboratorForm

    def save_model(self, request, obj, form, change):
        services.save_collaborator(obj, changed=form.changed_data if change else None)

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm("donations.erase_personal_data")

    def has_vet_permission(self, request) -> bool:
        return request.user.has_perm("donations.vet_collaborator")

    @admin.display(description=_("statement letter"))
    def letter(self, collaborator):
        if not collaborator.statement_letter:
            return "–"
        url = reverse("admin:donations_collaborator_letter", args=[collaborator.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Open the letter"))

    def get_urls(self):
        return [
            path(
                "<path:object_id>/letter/",
                self.admin_site.admin_view(self.letter_view),
                name="donations_collaborator_letter",
            ),
            *super().get_urls(),
        ]

    def letter_view(self, request, object_id):
        """The statement letter, to staff who may vet and may view this collaborator."""
        collaborator = self.get_object(request, unquote(object_id))
        if collaborator is None or not self.has_view_permission(request, collaborator):
            raise Http404
        if not self.has_vet_permission(request):
            raise PermissionDenied
        if not collaborator.statement_letter:
            raise Http404
        return private_file_response(collaborator.statement_letter)

    @admin.action(description=_("Vet: a verified organisation"), permissions=["vet"])
    def vet_organisations(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset,
            lambda collaborator: services.decide_vetting(
                collaborator, by=request.user, vetted=True
            ),
            refused=services.PledgeError,
            success=lambda names: gettext("Verified organisations: %(names)s.") % {"names": names},
        )

    @admin.action(description=_("Refuse the vetting, with a reason…"), permissions=["vet"])
    def refuse_vetting(self, request, queryset):
        form = VettingRefusalForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self, request, queryset, form, gettext("Refuse the vetting"), "refuse_vetting"
            )
        apply_to_each(
            self,
            request,
            queryset,
            lambda collaborator: services.decide_vetting(
                collaborator, by=request.user, vetted=False, reason=form.cleaned_data["reason"]
            ),
            refused=services.PledgeError,
            success=lambda names: gettext("Vetting refused: %(names)s.") % {"names": names},
        )
        return None

    @admin.action(
        description=_("Erase personal data, on the donor's request…"), permissions=["erase"]
    )
    def erase_collaborators(self, request, queryset):
        """The right to be forgotten (donations.services.erase_collaborator), each in its own
        transaction: a refusal names its collaborator and leaves the others to proceed."""
        form = ErasureForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self, request, queryset, form, gettext("Erase personal data"), "erase_collaborators"
            )
        apply_to_each(
            self,
            request,
            queryset,
            lambda collaborator: services.erase_collaborator(
                collaborator, by=request.user, reason=form.cleaned_data["reason"]
            ),
            refused=services.PledgeError,
            success=lambda names: gettext("Erased, now “Anonim”: %(ids)s.") % {"ids": names},
            name=lambda collaborator: collaborator.public_id,
        )
        return None


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ReadOnlyMixin, AreaScopedAdminMixin, admin.ModelAdmin):
    """Donors' own requests to be erased (donations.services.request_erasure): done at once when
    nothing of theirs was running, otherwise open here until staff complete it, once they no longer
    need to reach the donor. A request holds no personal data; the collaborator is named as the
    public sees them."""

    area_lookup = "collaborator__pledges__" + PLEDGE_AREA
    area_lookup_many = True
    list_display = ["__str__", "collaborator", "requested_at", "running", "completed_at"]
    list_filter = [("completed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["collaborator"]
    fields = ["collaborator_link", "requested_at", "running", "completed_at", "completed_by"]
    readonly_fields = fields
    actions = ["complete_erasure_requests"]

    def get_queryset(self, request):
        running = Pledge.objects.filter(
            collaborator=OuterRef("collaborator"), status__in=HOLDING_STATUSES
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                running_pledges=Coalesce(
                    Subquery(
                        running.order_by()
                        .values("collaborator")
                        .annotate(n=Count("pk"))
                        .values("n")
                    ),
                    0,
                )
            )
        )

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm("donations.erase_personal_data")

    @admin.display(description=_("pledges in progress"), ordering="running_pledges")
    def running(self, request_row):
        return request_row.running_pledges

    @admin.display(description=_("collaborator"))
    def collaborator_link(self, request_row):
        return admin_link(request_row.collaborator)

    @admin.action(
        description=_("Complete: erase the donor's personal data now"), permissions=["erase"]
    )
    def complete_erasure_requests(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset,
            lambda erasure: services.complete_erasure(erasure, by=request.user),
            refused=services.PledgeError,
            success=lambda names: gettext("Erased, now “Anonim”: %(ids)s.") % {"ids": names},
        )


@admin.register(Opd)
class OpdAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active"]
    list_select_related = ["region"]
    search_fields = ["name"]
    autocomplete_fields = ["region"]


class PledgeEventInline(ReadOnlyMixin, admin.TabularInline):
    model = PledgeEvent
    fields = ["at", "from_status", "to_status", "quantity", "actor_label", "actor", "reason"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


def evidence_link(delivery) -> str:
    """A link to the delivery's evidence photo through the view that checks the staff member's area
    (DeliveryAdmin.evidence_view); the stored file has no public address."""
    if not delivery.evidence:
        return "–"
    url = reverse("admin:donations_delivery_evidence", args=[delivery.pk])
    return format_html('<a href="{}">{}</a>', url, gettext("Open the photo"))


class DeliveryInline(ReadOnlyMixin, admin.TabularInline):
    model = Delivery
    fields = ["delivered_on", "quantity", "opd", "recorded_by", "evidence_photo", "note"]
    readonly_fields = fields

    @admin.display(description=_("evidence photo"))
    def evidence_photo(self, delivery):
        return evidence_link(delivery)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("opd", "recorded_by")


def overdue_cutoff() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=settings.KSBB_PLEDGE_OVERDUE_DAYS)


def overdue(queryset):
    """Pledges submitted or confirmed more than KSBB_PLEDGE_OVERDUE_DAYS ago with nothing done since."""
    return (
        queryset.filter(status__in=[PledgeStatus.SUBMITTED, PledgeStatus.CONFIRMED])
        .alias(last_action=Coalesce("confirmed_at", "created_at"))
        .filter(last_action__lt=overdue_cutoff())
    )


def with_flags(queryset):
    """Each pledge with `has_overlap` (its need's Need.objects.overlapping, as one EXISTS),
    `site_verified` (its site has a verified contact) and `has_dispute` (its recipients reported a
    problem with a delivery that staff have not resolved): no query per row."""
    other_need = Need.objects.overlapping_with(
        pk=OuterRef("need_id"),
        site=OuterRef("need__site_id"),
        aid_type=OuterRef("need__aid_type_id"),
        start=OuterRef("need__period_start"),
        end=OuterRef("need__period_end"),
    )
    verified = ContactPerson.objects.filter(
        site_id=OuterRef("need__site_id"), verification_status=VERIFIED
    )
    disputes = Receipt.objects.filter(delivery__pledge=OuterRef("pk")).open_disputes()
    return vetting.annotate(queryset).annotate(
        has_overlap=Exists(other_need),
        site_verified=Exists(verified),
        has_dispute=Exists(disputes),
    )


class AwaitingVettingFilter(admin.SimpleListFilter):
    """Pledges that cannot be scheduled until their organisation is vetted (donations.vetting)."""

    title = _("organisation's vetting")
    parameter_name = "vetting"

    def lookups(self, request, model_admin):
        return [("awaits", _("Waits for the organisation's vetting"))]

    def queryset(self, request, queryset):
        if self.value() == "awaits":
            return queryset.filter(vetting.awaits_vetting(), status__in=HOLDING_STATUSES)
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue"))]

    def queryset(self, request, queryset):
        return overdue(queryset) if self.value() == "yes" else queryset


def deadline_window(queryset, window: str):
    """Holding pledges by their hold's deadline: past it (the next expire_pledges run frees them),
    due within 24 hours, or later."""
    now = timezone.now()
    soon = now + holds.DUE_SOON
    queryset = queryset.filter(status__in=HOLDING_STATUSES)
    if window == "past":
        return queryset.filter(hold_until__lte=now)
    if window == "24h":
        return queryset.filter(hold_until__gt=now, hold_until__lte=soon)
    return queryset.filter(hold_until__gt=soon)


class DeadlineFilter(admin.SimpleListFilter):
    title = _("hold deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return [
            ("past", _("Past the deadline")),
            ("24h", _("Due within 24 hours")),
            ("later", _("Later")),
        ]

    def queryset(self, request, queryset):
        if self.value() in ("past", "24h", "later"):
            return deadline_window(queryset, self.value())
        return queryset


class AgeFilter(admin.SimpleListFilter):
    title = _("age")
    parameter_name = "age"
    DAYS = {"1": (None, 1), "7": (None, 7), "7+": (7, None), "30+": (30, None)}

    def lookups(self, request, model_admin):
        return [
            ("1", _("Today")),
            ("7", _("Past 7 days")),
            ("7+", _("Older than 7 days")),
            ("30+", _("Older than 30 days")),
        ]

    def queryset(self, request, queryset):
        if self.value() not in self.DAYS:
            return queryset
        older_than, newer_than = self.DAYS[self.value()]
        now = timezone.now()
        if older_than:
            queryset = queryset.filter(created_at__lt=now - datetime.timedelta(days=older_than))
        if newer_than:
            queryset = queryset.filter(created_at__gte=now - datetime.timedelta(days=newer_than))
        return queryset


class CategoryFilter(admin.SimpleListFilter):
    title = _("category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [(str(c.pk), c.name) for c in Category.objects.all()]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():  # a category's id; anything else is ignored
            return queryset.filter(need__aid_type__category_id=self.value())
        return queryset


@admin.register(Pledge)
class PledgeAdmin(
    PersonalDataAdminMixin,
    ExportActionsMixin,
    AreaScopedAdminMixin,
    ReadOnlyMixin,
    admin.ModelAdmin,
):
    """The pledge queue. Pledges are made by donations.services.pledge and moved, one by one or in
    bulk, by the actions below, which call services.transition; a delivery is recorded on its own
    page (deliver_view). Nothing is edited by hand.

    The token is the donor's private link: it is never shown, not even to staff, and "view on site"
    opens the public need page. The donor's e-mail and phone are shown only with the personal-data
    permission, and each showing is recorded.
    """

    personal_fields = ("donor_contact",)
    personal_search_fields = ("collaborator__public_name", "collaborator__email")

    export_fields = [
        ("pledge_id", "pk"),
        ("status", "status"),
        ("quantity", "quantity"),
        ("quantity_delivered", "quantity_delivered"),
        ("need_id", "need_id"),
        ("need", "need__title"),
        ("site", "need__site__name"),
        ("kelurahan_code", "need__site__kelurahan__code"),
        ("category", "need__aid_type__category__slug"),
        # Blank for an anonymous donor (see "anonymous"): their name is personal data, below.
        ("collaborator", "collaborator_shown_name"),
        ("collaborator_kind", "collaborator__kind"),
        ("anonymous", "collaborator__is_anonymous"),
        ("scheduled_for", "scheduled_for"),
        ("scheduled_opd", "scheduled_opd__name"),
        ("hold_until", "hold_until"),
        ("created_at", "created_at"),
    ]
    private_export_fields = [
        ("collaborator_name", "collaborator__public_name"),
        ("collaborator_email", "collaborator__email"),
        ("collaborator_phone", "collaborator__phone"),
    ]
    private_export_owner = "collaborator"

    area_lookup = PLEDGE_AREA
    change_form_template = "admin/donations/pledge/change_form.html"
    change_list_template = "admin/donations/pledge/change_list.html"
    list_display = [
        "id",
        "collaborator",
        "collaborator_kind",
        "need",
        "site",
        "category",
        "quantity",
        "quantity_delivered",
        "status",
        "scheduled_for",
        "hold_deadline",
        "created_at",
        "flags",
    ]
    list_filter = [
        "status",
        CategoryFilter,
        *area_filters(PLEDGE_AREA),
        "collaborator__kind",
        AwaitingVettingFilter,
        AgeFilter,
        DeadlineFilter,
        OverdueFilter,
    ]
    list_select_related = [
        "collaborator",
        "need__site__kelurahan",
        "need__aid_type__category",
    ]
    # id__exact: a search for a pledge number, which ignores words rather than failing on them.
    search_fields = [
        "id__exact",
        "collaborator_shown_name",
        "need__title",
        "need__site__name",
        "need__site__kelurahan__name",
    ]
    fields = [
        ("collaborator", "need"),
        ("quantity", "quantity_delivered", "status"),
        "message",
        ("scheduled_for", "scheduled_opd", "status_reason"),
        ("hold_until", "reminded_at", "extended_at"),
        ("created_at", "confirmed_at", "scheduled_at", "delivered_at", "closed_at"),
    ]
    readonly_fields = flatten(fields)
    inlines = [PledgeEventInline, DeliveryInline]
    actions = ["confirm_pledges", "schedule_pledges", "reject_pledges", "hand_over_pledges"]

    def get_queryset(self, request):
        return with_flags(super().get_queryset(request)).annotate(
            collaborator_shown_name=shown_name("collaborator__")
        )

    def view_on_site(self, pledge):
        return pledge.need.get_absolute_url()

    def personal_records(self, request, pledge):
        return [pledge.collaborator] if super().personal_records(request, pledge) else []

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(None, {"fields": self.fields})]
        if obj is not None:
            fieldsets += [
                (_("Donor"), {"fields": ["donor_contact"]}),
                (_("Need and site"), {"fields": ["need_summary", "site_summary", "overlap"]}),
                (_("Contact persons at the site"), {"fields": ["site_contacts"]}),
                (_("Other pledges"), {"fields": ["other_pledges"]}),
            ]
        return self.visible_fieldsets(request, fieldsets)

    def get_readonly_fields(self, request, obj=None):
        return [
            *self.readonly_fields,
            "donor_contact",
            "need_summary",
            "site_summary",
            "overlap",
            "site_contacts",
            "other_pledges",
        ]

    # Columns

    @admin.display(description=_("kind"), ordering="collaborator__kind")
    def collaborator_kind(self, pledge):
        return pledge.collaborator.get_kind_display()

    @admin.display(description=_("site"), ordering="need__site__name")
    def site(self, pledge):
        return pledge.need.site

    @admin.display(description=_("category"), ordering="need__aid_type__category__order")
    def category(self, pledge):
        return pledge.need.aid_type.category

    @admin.display(description=_("held until"), ordering="hold_until")
    def hold_deadline(self, pledge):
        if not pledge.is_holding:
            return "–"
        text = timezone.localtime(pledge.hold_until).strftime("%Y-%m-%d %H:%M")
        if pledge.extended_at:
            text += " " + gettext("(extended)")
        return text

    @admin.display(description=_("attention"))
    def flags(self, pledge):
        notes = []
        if pledge.has_dispute:
            notes.append(gettext("disputed by the recipients"))
        if pledge.has_overlap:
            notes.append(gettext("overlap"))
        if pledge.is_holding and not pledge.site_verified:
            notes.append(gettext("no verified contact"))
        if pledge.awaits_vetting and pledge.status in (
            PledgeStatus.SUBMITTED,
            PledgeStatus.CONFIRMED,
        ):
            notes.append(
                gettext("waits for the organisation's vetting (%(state)s)")
                % {"state": pledge.collaborator.get_vetting_display()}
            )
        if pledge.is_holding:
            now = timezone.now()
            if pledge.hold_until <= now:
                notes.append(gettext("past deadline"))
            elif pledge.hold_until <= now + holds.DUE_SOON:
                notes.append(gettext("deadline within 24 h"))
        if (
            pledge.status in (PledgeStatus.SUBMITTED, PledgeStatus.CONFIRMED)
            and (pledge.confirmed_at or pledge.created_at) < overdue_cutoff()
        ):
            notes.append(gettext("overdue"))
        return ", ".join(notes)

    # The pledge's page

    @admin.display(description=_("name, e-mail and phone"))
    def donor_contact(self, pledge):
        c = pledge.collaborator
        return format_html(
            "{} · {} · {} · {}",
            c.public_name,
            c.get_kind_display(),
            c.email,
            c.phone or gettext("no phone"),
        )

    @admin.display(description=_("need"))
    def need_summary(self, pledge):
        need = pledge.need
        return format_html(
            '<a href="{}">{}</a>: {} {} {}, {} {}, {} {} ({})',
            reverse("admin:needs_need_change", args=[need.pk]),
            need.title,
            need.quantity_needed,
            need.aid_type.unit,
            gettext("needed"),
            need.quantity_pledged,
            gettext("pledged"),
            need.quantity_delivered,
            gettext("delivered"),
            need.status_label,
        )

    @admin.display(description=_("site"))
    def site_summary(self, pledge):
        site = pledge.need.site
        return format_html(
            "{}, {} ({})",
            admin_link(site),
            site.kelurahan.name,
            site.kelurahan.code,
        )

    @admin.display(description=_("overlap"))
    def overlap(self, pledge):
        others = Need.objects.overlapping(pledge.need)
        if not others:
            return gettext("None: no other need at this site for the same aid is pledged.")
        return format_html(
            "<strong>{}</strong> {}",
            gettext("This site already receives similar aid:"),
            format_html_join(
                ", ",
                "{} ({})",
                ((admin_link(n), n.quantity_pledged) for n in others),
            ),
        )

    @admin.display(description=_("contacts"))
    def site_contacts(self, pledge):
        # Phones are on each contact's own page, where seeing them is recorded.
        contacts = pledge.need.site.contacts.select_related("verified_by")
        if not contacts:
            return gettext("No contact person recorded: add one on the site's page.")
        return format_html_join(
            "",
            "<div>{}: {} · {}</div>",
            (
                (
                    admin_link(c),
                    c.get_verification_status_display(),
                    c.verified_at
                    and timezone.localtime(c.verified_at).strftime("%Y-%m-%d %H:%M")
                    or "",
                )
                for c in contacts
            ),
        )

    @admin.display(description=_("on the need and at the site"))
    def other_pledges(self, pledge):
        others = (
            Pledge.objects.filter(need__site_id=pledge.need.site_id)
            .exclude(pk=pledge.pk)
            .select_related("collaborator", "need")
        )
        if not others:
            return gettext("None.")
        return format_html_join(
            "",
            '<div><a href="{}">#{}</a> {}: {} × {} ({}){}</div>',
            (
                (
                    reverse("admin:donations_pledge_change", args=[o.pk]),
                    o.pk,
                    o.collaborator,
                    o.quantity,
                    o.need,
                    o.get_status_display(),
                    " · " + gettext("same need") if o.need_id == pledge.need_id else "",
                )
                for o in others
            ),
        )

    # Permissions: triage (the transitions) needs the change permission on pledges, which the
    # admin's own form never uses (ReadOnlyMixin); recording a delivery needs add_delivery.

    def has_triage_permission(self, request):
        return request.user.has_perm("donations.change_pledge")

    def has_deliver_permission(self, request):
        return request.user.has_perm("donations.add_delivery")

    # Actions

    def _transition_all(self, request, queryset, to_status, **kwargs):
        return self._change_all(
            request,
            queryset,
            to_status,
            lambda pledge, actor: services.transition(pledge, to_status, actor=actor, **kwargs),
        )

    def _change_all(self, request, queryset, to_status, change):
        """`change(pledge, actor)` (a service that moves a pledge to `to_status`) for each selected
        pledge on its own (one transaction each): a refusal names its pledge and leaves the others
        to proceed; a summary says which did what."""
        actor = services.Actor.staff(request.user)
        done, refused = [], []
        for pledge in queryset.order_by("pk"):
            try:
                change(pledge, actor)
            except services.PledgeError as e:
                refused.append(pledge.pk)
                self.message_user(request, e.message, messages.ERROR)
            else:
                done.append(pledge.pk)
        label = PledgeStatus(to_status).label
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d pledge is now %(status)s: %(pledges)s.",
                    "%(count)d pledges are now %(status)s: %(pledges)s.",
                    len(done),
                )
                % {"count": len(done), "status": label, "pledges": _numbers(done)},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d pledge was refused: %(pledges)s.",
                    "%(count)d pledges were refused: %(pledges)s.",
                    len(refused),
                )
                % {"count": len(refused), "pledges": _numbers(refused)},
                messages.WARNING,
            )
        if not done and not refused:
            self.message_user(request, gettext("No pledge was changed."), messages.WARNING)
        return self._back(request, queryset)

    def _back(self, request, queryset):
        """After an action started on a pledge's page, go back to that page."""
        pk = request.POST.get("_from_change")
        if pk and queryset.filter(pk=pk).exists():
            return HttpResponseRedirect(reverse("admin:donations_pledge_change", args=[pk]))
        return None

    @admin.action(description=_("Confirm the selected pledges"), permissions=["triage"])
    def confirm_pledges(self, request, queryset):
        return self._transition_all(request, queryset, PledgeStatus.CONFIRMED)

    @admin.action(description=_("Schedule the selected pledges…"), permissions=["triage"])
    def schedule_pledges(self, request, queryset):
        form = ScheduleForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            return self._transition_all(
                request,
                queryset,
                PledgeStatus.SCHEDULED,
                scheduled_for=form.cleaned_data["scheduled_for"],
                scheduled_opd=form.cleaned_data["opd"],
                reason=form.cleaned_data["reason"],
            )
        return action_form_page(
            self, request, queryset, form, gettext("Schedule the delivery"), "schedule_pledges"
        )

    @admin.action(description=_("Reject the selected pledges…"), permissions=["triage"])
    def reject_pledges(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            return self._transition_all(
                request, queryset, PledgeStatus.REJECTED, reason=form.cleaned_data["reason"]
            )
        return action_form_page(self, request, queryset, form, gettext("Reject"), "reject_pledges")

    @admin.action(description=_("Expire early (hand over)…"), permissions=["triage"])
    def hand_over_pledges(self, request, queryset):
        """End a stalled pledge's hold now, with a reason, so another collaborator can take its
        quantity; services.expire_early tells the donor and the area's staff."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            return self._change_all(
                request,
                queryset,
                PledgeStatus.EXPIRED,
                lambda pledge, actor: services.expire_early(pledge, actor=actor, reason=reason),
            )
        return action_form_page(
            self,
            request,
            queryset,
            form,
            gettext("Expire early and hand the quantity over"),
            "hand_over_pledges",
        )

    # Pages of its own: recording a delivery, the dashboard

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/deliver/",
                view(self.deliver_view),
                name="donations_pledge_deliver",
            ),
            path("dashboard/", view(self.dashboard_view), name="donations_pledge_dashboard"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_triage": self.has_triage_permission(request),
            "can_deliver": self.has_deliver_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def deliver_view(self, request, object_id):
        """Record a hand-over of (part of) a scheduled pledge through services.record_delivery."""
        pledge = self.get_object(request, object_id)  # another area's pledge is a 404
        if not self.has_deliver_permission(request):
            raise PermissionDenied
        form = DeliveryForm(
            request.POST if request.method == "POST" else None,
            request.FILES if request.method == "POST" else None,
            pledge=pledge,
        )
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                services.record_delivery(
                    pledge,
                    quantity=data["quantity"],
                    delivered_on=data["delivered_on"],
                    opd=data["opd"],
                    evidence=data["evidence"],
                    note=data["note"],
                    actor=services.Actor.staff(request.user),
                )
            except services.PledgeError as e:
                form.add_error(e.field, e.message)
            else:
                self.message_user(
                    request,
                    gettext("Delivery of %(quantity)s recorded for pledge #%(pk)s.")
                    % {"quantity": data["quantity"], "pk": pledge.pk},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:donations_pledge_change", args=[pledge.pk])
                )
        ctx = {
            **self.admin_site.each_context(request),
            "title": gettext("Record a delivery"),
            "opts": self.model._meta,
            "original": pledge,
            "form": form,
        }
        return TemplateResponse(request, "admin/donations/pledge/deliver.html", ctx)

    def dashboard_view(self, request):
        """What waits for the staff member, in their areas: small aggregate queries, none per row."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        pledges = self.get_queryset(request)
        waiting = dict(
            pledges.filter(status__in=HOLDING_STATUSES)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        today = timezone.localdate()
        monday = today - datetime.timedelta(days=today.weekday())
        deliveries = scope(
            Delivery.objects.filter(delivered_on__gte=monday, delivered_on__lte=today),
            request.user,
            "pledge__need__site__kelurahan__code",
        )
        unverified_sites = (
            scope(Site.objects.all(), request.user, "kelurahan__code")
            .filter(needs__pledges__status__in=HOLDING_STATUSES)
            .exclude(contacts__verification_status=VERIFIED)
            .annotate(open_pledges=Count("needs__pledges", distinct=True))
            .select_related("kelurahan")
            .order_by("kelurahan__code", "name")
        )
        needs = scope(Need.objects.all(), request.user, "site__kelurahan__code")
        unanswered = (
            scope(Delivery.objects.all(), request.user, "pledge__need__site__kelurahan__code")
            .annotate(state=receipt_state_sql(today))
            .aggregate(
                awaiting=Count("pk", filter=Q(state=ReceiptState.AWAITING)),
                unconfirmed=Count("pk", filter=Q(state=ReceiptState.UNCONFIRMED)),
            )
        )
        ctx = {
            **self.admin_site.each_context(request),
            "title": gettext("Staff dashboard"),
            "needs_awaiting": needs.by_freshness(Freshness.AWAITING).count(),
            "needs_paused": needs.by_freshness(Freshness.PAUSED).count(),
            "open_disputes": scope(
                Receipt.objects.open_disputes(),
                request.user,
                "delivery__pledge__need__site__kelurahan__code",
            ).count(),
            "deliveries_awaiting": unanswered["awaiting"],
            "deliveries_unconfirmed": unanswered["unconfirmed"],
            "opts": self.model._meta,
            "waiting": [(PledgeStatus(s), waiting.get(s, 0)) for s in HOLDING_STATUSES],
            "overdue": overdue(pledges).count(),
            "due_soon": deadline_window(pledges, "24h").count(),
            "overdue_days": settings.KSBB_PLEDGE_OVERDUE_DAYS,
            "deliveries_this_week": deliveries.count(),
            "unverified_sites": unverified_sites[:50],
        }
        return TemplateResponse(request, "admin/donations/pledge/dashboard.html", ctx)


def without_private_links(text: str) -> str:
    """`text` with the token of every donor's private link (…/komitmen/<token>/…) blanked."""
    blank = gettext("[the donor's private key]")
    return without_tokens(text, "donations:pledge_status", TokenConverter.regex, blank)


def _numbers(pks) -> str:
    return ", ".join(f"#{pk}" for pk in pks)


@admin.register(Delivery)
class DeliveryAdmin(ExportActionsMixin, AreaScopedAdminMixin, ReadOnlyMixin, ReadOnlyHistoryAdmin):
    """Recorded by donations.services.record_delivery only (on the pledge's page). The evidence
    photo is served by evidence_view to staff whose area includes the delivery, never by its name."""

    export_fields = [
        ("delivery_id", "pk"),
        ("pledge_id", "pledge_id"),
        ("quantity", "quantity"),
        ("delivered_on", "delivered_on"),
        ("opd", "opd__name"),
        ("need", "pledge__need__title"),
        ("kelurahan_code", "pledge__need__site__kelurahan__code"),
        ("note", "note"),
    ]

    area_lookup = "pledge__need__site__kelurahan__code"
    list_display = [
        "pledge",
        "quantity",
        "delivered_on",
        "opd",
        "recorded_by",
        "created_at",
        "checked_by",
    ]
    list_filter = ["opd", "delivered_on", ("checked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["pledge__need", "opd", "recorded_by", "checked_by"]
    search_fields = ["pledge__need__title", "collaborator_shown_name", "opd__name"]
    fields = [
        "pledge",
        ("quantity", "delivered_on"),
        ("opd", "recorded_by"),
        "evidence_photo",
        "note",
        "created_at",
        ("checked_by", "checked_at"),
        "check_override_reason",
    ]
    readonly_fields = flatten(fields)
    actions = ["check_deliveries"]

    def has_check_permission(self, request) -> bool:
        # Who may record a delivery may check another's.
        return request.user.has_perm("donations.add_delivery")

    @admin.action(description=_("Second check of the selected deliveries…"), permissions=["check"])
    def check_deliveries(self, request, queryset):
        """donations.services.check_delivery for each, in its own transaction: one refused (your
        own recording, already checked) is named and the others proceed."""
        form = SecondCheckForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self, request, queryset, form, gettext("Second check"), "check_deliveries"
            )
        apply_to_each(
            self,
            request,
            queryset,
            lambda delivery: services.check_delivery(
                delivery, by=request.user, override_reason=form.cleaned_data["override_reason"]
            ),
            refused=services.PledgeError,
            success=lambda names: gettext("Checked: %(deliveries)s.") % {"deliveries": names},
            name=lambda delivery: f"#{delivery.pk}",
        )
        return None

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(collaborator_shown_name=shown_name("pledge__collaborator__"))
        )

    @admin.display(description=_("evidence photo"))
    def evidence_photo(self, delivery):
        return evidence_link(delivery)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/evidence/",
                self.admin_site.admin_view(self.evidence_view),
                name="donations_delivery_evidence",
            ),
            *super().get_urls(),
        ]

    def evidence_view(self, request, object_id):
        """The evidence photo, to staff who may view this delivery (another area's is a 404)."""
        delivery = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, delivery) or not delivery.evidence:
            raise Http404
        return private_file_response(delivery.evidence)


class ResolutionForm(forms.Form):
    resolution = forms.CharField(
        label=_("Resolution"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was found and done: recorded with your name, shown to staff."),
    )


class OpenDisputeFilter(admin.SimpleListFilter):
    title = _("dispute")
    parameter_name = "dispute"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("resolved", _("Resolved"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.open_disputes()
        if self.value() == "resolved":
            return queryset.exclude(resolved_at=None)
        return queryset


@admin.register(Receipt)
class ReceiptAdmin(PersonalDataAdminMixin, AreaScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    """What the recipients said about each delivery (donations.services.record_receipt, from their
    contact person's private link). A problem is a dispute until staff resolve it here (the
    action, donations.services.resolve_dispute). Who received it is personal data; the photo is
    served to staff by photo_view, whatever the recipients chose for the public."""

    area_lookup = "delivery__pledge__need__site__kelurahan__code"
    personal_fields = ("received_by",)
    list_display = [
        "delivery",
        "need",
        "outcome",
        "quantity_received",
        "created_at",
        "resolved_at",
    ]
    list_filter = [OpenDisputeFilter, "outcome"]
    list_select_related = ["delivery__pledge__need"]
    search_fields = ["delivery__pledge__need__title", "note"]
    fields = [
        "delivery",
        "need",
        ("outcome", "quantity_received"),
        "received_by",
        "note",
        ("receipt_photo", "photo_public"),
        ("contact", "created_at"),
        ("resolved_at", "resolved_by"),
        "resolution",
    ]
    readonly_fields = flatten(fields)
    actions = ["resolve_disputes"]

    @admin.display(description=_("need"))
    def need(self, receipt):
        return admin_link(receipt.delivery.pledge.need)

    @admin.display(description=_("photo"))
    def receipt_photo(self, receipt):
        if not receipt.photo:
            return "–"
        url = reverse("admin:donations_receipt_photo", args=[receipt.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Open the photo"))

    def personal_records(self, request, receipt):
        # The name of who received it belongs to nobody with a record here: the page is recorded
        # against the contact person who answered, whose site it is.
        shown = super().personal_records(request, receipt)
        return [receipt.contact] if shown and receipt.contact else []

    def has_change_permission(self, request, obj=None):
        # Resolving is a change, made by the action on the list; a receipt's page stays read-only.
        return obj is None and request.user.has_perm("donations.change_receipt")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/photo/",
                self.admin_site.admin_view(self.photo_view),
                name="donations_receipt_photo",
            ),
            *super().get_urls(),
        ]

    def photo_view(self, request, object_id):
        receipt = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, receipt) or not receipt.photo:
            raise Http404
        return private_file_response(receipt.photo)

    @admin.action(description=_("Resolve the selected disputes…"), permissions=["change"])
    def resolve_disputes(self, request, queryset):
        form = ResolutionForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self, request, queryset, form, gettext("Resolve disputes"), "resolve_disputes"
            )
        apply_to_each(
            self,
            request,
            queryset,
            lambda receipt: services.resolve_dispute(
                receipt, by=request.user, resolution=form.cleaned_data["resolution"]
            ),
            refused=services.PledgeError,
            success=lambda names: gettext("Resolved: %(receipts)s.") % {"receipts": names},
            done_name=lambda receipt, _resolved: f"#{receipt.pk}",
        )
        return None


@admin.register(PledgeEvent)
class PledgeEventAdmin(AreaScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    """The pledges' history, append-only."""

    area_lookup = "pledge__need__site__kelurahan__code"
    list_display = ["at", "pledge", "from_status", "to_status", "quantity", "actor_label", "actor"]
    list_filter = ["to_status", "actor_label"]
    list_select_related = ["pledge__need", "actor"]
    search_fields = ["pledge__need__title", "reason"]


@admin.register(OutboundMail)
class OutboundMailAdmin(PersonalDataAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    """The mail outbox: what was sent, and what is waiting for `manage.py send_queued_mail`. The
    address is personal data (its showing recorded against the donor); a donor's private link in
    a body is blanked, so no staff page leads to it."""

    personal_fields = ("to",)
    personal_search_fields = ("to",)
    list_display = ["created_at", "subject", "pledge", "sent_at", "attempts", "last_error"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject"]
    fields = [
        "to",
        "subject",
        "body_without_links",
        "pledge",
        "created_at",
        "sent_at",
        "attempts",
        "last_error",
    ]
    readonly_fields = fields

    def personal_records(self, request, mail):
        # A mail to the donor shows their address; one to the area's staff, nobody's.
        donor = mail.pledge.collaborator if mail.pledge else None
        shown = super().personal_records(request, mail)
        return [donor] if shown and donor and donor.email.lower() == mail.to.lower() else []

    @admin.display(description=_("body"))
    def body_without_links(self, mail):
        return without_private_links(mail.body)


# The need's admin with closing and unpublishing, which decide for the pledges (replaces needs.admin's).
from donations import admin_needs  # noqa: E402, F401
