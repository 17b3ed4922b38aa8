import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.core.validators import MinValueValidator
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from ksbb.lib.admin import action_form_page, apply_to_each
from ksbb.lib.admin_export import ExportActionsMixin
from locations.admin_history import ReadOnlyHistoryAdmin
from locations.scoping import AreaScopedAdminMixin
from needs import services
from needs.admin_import import import_urls
from needs.models import AidType, Category, Freshness, Need, NeedSeries, NeedStatus, Proposal


class CategoryForm(forms.ModelForm):
    def clean_color(self):
        # The database refuses anything else too, but with a message naming only its constraint;
        # the colour is written into pages' style attributes, so nothing else may pass.
        color = self.cleaned_data["color"]
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            raise forms.ValidationError(
                _("Give the colour as # and six hexadecimal digits, e.g. #1b6ac9.")
            )
        return color


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = [
        "name",
        "order",
        "is_active",
        "color",
        "hold_days",
        "grace_days",
        "reconfirm_days",
        "reconfirm_grace_days",
        "vetting_threshold_quantity",
        "vetting_threshold_value",
    ]
    list_filter = ["is_active"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(AidType)
class AidTypeAdmin(ReadOnlyHistoryAdmin):
    """Aid types with their reference value per unit (the public estimates in Rupiah); every value
    they ever had, with who set it, is on the History page."""

    list_display = ["name", "category", "unit", "unit_value", "unit_value_set_on", "is_active"]
    list_filter = ["category", "is_active"]
    list_select_related = ["category"]
    search_fields = ["name", "category__name"]
    fieldsets = [
        (None, {"fields": ["category", "name", "unit", "is_active"]}),
        (
            _("Reference value (public estimates)"),
            {"fields": ["unit_value", "unit_value_source", "unit_value_set_on"]},
        ),
    ]


class NeedStatusFilter(admin.SimpleListFilter):
    # Need.status is a GeneratedField: its choices live on the output field, which the admin's
    # own choices filter does not read.
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return NeedStatus.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(status=self.value())
        return queryset


class FreshnessFilter(admin.SimpleListFilter):
    """Open needs by whether someone said lately that they are still needed (Need.freshness)."""

    title = _("reconfirmation")
    parameter_name = "freshness"

    def lookups(self, request, model_admin):
        return Freshness.choices

    def queryset(self, request, queryset):
        if self.value() in Freshness.values:
            return queryset.by_freshness(self.value())
        return queryset


class NeedForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for the change"),
        required=False,
        max_length=100,
        help_text=_("Recorded in the need's history with your name."),
    )


@admin.register(Need)
class NeedAdmin(ExportActionsMixin, AreaScopedAdminMixin, ReadOnlyHistoryAdmin):
    """Needs, limited to the staff member's areas; their history (quantities above all) is on
    each need's History page. "Import needs" (needs/admin_import.py) previews a file, then imports it.

    Every save and action goes through needs.services. Publishing and reopening are actions here;
    closing and unpublishing, which must decide what becomes of the pledges still holding quantity,
    are added by donations.admin, which registers this class's subclass.
    """

    form = NeedForm
    actions = ["publish_needs", "reopen_needs", "confirm_needs"]
    # The exceptions whose message refuses one need of an action and lets the others proceed.
    refusals: tuple[type[Exception], ...] = (services.NeedError,)

    export_fields = [
        ("need_id", "pk"),
        ("external_ref", "external_ref"),
        ("title", "title"),
        ("site", "site__name"),
        ("kelurahan_code", "site__kelurahan__code"),
        ("category", "aid_type__category__slug"),
        ("aid_type", "aid_type__name"),
        ("unit", "aid_type__unit"),
        ("quantity_needed", "quantity_needed"),
        ("quantity_pledged", "quantity_pledged"),
        ("quantity_delivered", "quantity_delivered"),
        ("status", "status"),
        ("beneficiaries", "beneficiaries"),
        ("period_start", "period_start"),
        ("period_end", "period_end"),
        ("published", "published"),
    ]

    change_list_template = "admin/needs/need/change_list.html"

    area_lookup = "site__kelurahan__code"
    list_display = [
        "title",
        "site",
        "aid_type",
        "category",
        "quantity_needed",
        "quantity_pledged",
        "quantity_delivered",
        "status_label",
        "last_confirmation",
        "published",
    ]
    list_filter = [NeedStatusFilter, FreshnessFilter, "published", "aid_type__category"]
    list_select_related = ["site__kelurahan", "aid_type__category"]
    search_fields = ["title", "site__name", "external_ref"]
    autocomplete_fields = ["site", "aid_type"]
    # Only donations.services moves the counters (and with them the status).
    readonly_fields = [
        "quantity_pledged",
        "quantity_delivered",
        "status_label",
        "last_confirmation",
        "pending_proposals",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["site", "aid_type", "title", "description"]}),
        (
            _("Quantities"),
            {
                "fields": [
                    ("quantity_needed", "quantity_pledged", "quantity_delivered"),
                    ("status_label", "last_confirmation"),
                    "pending_proposals",
                    ("beneficiaries", "beneficiary_kind"),
                    "criteria",
                ]
            },
        ),
        (
            _("Period and publication"),
            {
                "fields": [
                    ("period_start", "period_end"),
                    ("published", "is_closed"),
                    "external_ref",
                    ("created_at", "updated_at"),
                    "change_reason",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        # A new need may start as a draft; afterwards only the actions publish, close and reopen.
        return [*self.readonly_fields, "is_closed", *(["published"] if obj else [])]

    @admin.display(description=_("category"), ordering="aid_type__category__order")
    def category(self, need):
        return need.aid_type.category

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, need):
        # PostgreSQL computes the status on insert: a need being added has none yet.
        return NeedStatus(need.status).label if need.pk else None

    @admin.display(description=_("last confirmed"), ordering="confirmed_at")
    def last_confirmation(self, need):
        if not need.pk:
            return None
        if need.confirmed_at is None:
            when = gettext("never")
        else:
            by = gettext("recipient") if need.confirmed_by_contact else gettext("staff")
            when = f"{formats.date_format(timezone.localtime(need.confirmed_at))} ({by})"
        freshness = need.freshness
        return when if freshness == Freshness.CONFIRMED else f"{when}: {Freshness(freshness).label}"

    @admin.display(description=_("proposals from the recipients"))
    def pending_proposals(self, need):
        waiting = list(need.proposals.pending()) if need.pk else []
        if not waiting:
            return "–"
        url = reverse("admin:needs_proposal_changelist")
        return format_html_join(
            ", ",
            '<a href="{}?status__exact=pending&need__id__exact={}">#{} {}</a>',
            ((url, need.pk, p.pk, p.get_kind_display()) for p in waiting),
        )

    def get_object(self, request, object_id, from_field=None):
        """On a save, lock the need's row as donations.services does, so the form is checked against
        the current counters and no pledge can land between that check and the write."""
        need = super().get_object(request, object_id, from_field)
        # The change and delete views run in a transaction; other POSTs (a history page's) do not
        # save the need and take no lock.
        if request.method == "POST" and transaction.get_connection().in_atomic_block:
            need = Need.objects.select_for_update().get(pk=need.pk)
        return need

    def get_urls(self):
        return [*import_urls(self), *super().get_urls()]

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("change_reason") or gettext("Changed in the admin")
        if change:
            # The form has already written its values onto `obj`; the service compares them with
            # the row it reads under the lock (get_object took it, so the form's check held).
            changed = [name for name in form.changed_data if name in services.EDITABLE]
            services.update(
                obj,
                by=request.user,
                reason=reason,
                **{name: getattr(obj, name) for name in changed},
            )
        else:
            fields = {name: getattr(obj, name) for name in services.EDITABLE | {"published"}}
            created = services.create(by=request.user, reason=reason, **fields)
            # The admin goes on with `obj` (its messages, its log entry, the redirect).
            vars(obj).update(vars(created))

    # Actions: one service call per need, one transaction each, so a refusal names its need and
    # leaves the others to proceed.

    def apply_to_each(self, request, queryset, change, done_message) -> HttpResponseRedirect | None:
        done = 0
        for need in queryset.order_by("pk"):
            try:
                change(need)
            except self.refusals as e:
                self.message_user(request, f"{need}: {e.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)
        pk = request.POST.get("_from_change")
        if pk and queryset.filter(pk=pk).exists():
            return HttpResponseRedirect(reverse("admin:needs_need_change", args=[pk]))
        return None

    @admin.action(description=_("Publish the selected needs"), permissions=["change"])
    def publish_needs(self, request, queryset):
        return self.apply_to_each(
            request,
            queryset,
            lambda need: services.publish(need, by=request.user),
            lambda n: (
                ngettext("%(n)d need is published.", "%(n)d needs are published.", n) % {"n": n}
            ),
        )

    @admin.action(
        description=_("Confirm the selected needs are still needed"), permissions=["change"]
    )
    def confirm_needs(self, request, queryset):
        return self.apply_to_each(
            request,
            queryset,
            lambda need: services.confirm(need, by=request.user),
            lambda n: (
                ngettext(
                    "%(n)d need is confirmed as still needed.",
                    "%(n)d needs are confirmed as still needed.",
                    n,
                )
                % {"n": n}
            ),
        )

    @admin.action(description=_("Reopen the selected needs"), permissions=["change"])
    def reopen_needs(self, request, queryset):
        return self.apply_to_each(
            request,
            queryset,
            lambda need: services.reopen(need, by=request.user),
            lambda n: (
                ngettext(
                    "%(n)d need accepts pledges again.", "%(n)d needs accept pledges again.", n
                )
                % {"n": n}
            ),
        )


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded with your name; the contact person sees it on their page."),
    )


class RefusalForm(DecisionForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded with your name; the contact person sees it on their page."),
    )


@admin.register(Proposal)
class ProposalAdmin(AreaScopedAdminMixin, admin.ModelAdmin):
    """What the sites' contact persons propose (docs/recipients.md): waiting here for staff of the
    area, applied through needs.services on approval (the need's history names the proposal and
    the approver), or refused with a reason. Written by the services only."""

    area_lookup = "site__kelurahan__code"
    list_display = [
        "created_at",
        "kind",
        "site",
        "need",
        "quantity",
        "title",
        "status",
        "decided_by",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["site__kelurahan", "need", "decided_by"]
    search_fields = ["site__name", "need__title", "title", "note"]
    fields = [
        ("kind", "status"),
        ("site", "need"),
        ("quantity", "aid_type", "beneficiaries"),
        "title",
        "note",
        ("contact", "created_at"),
        ("decided_at", "decided_by"),
        "decision_reason",
        "created_need",
    ]
    readonly_fields = flatten(fields)
    actions = ["approve_proposals", "refuse_proposals"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Deciding is a change, made by the actions on the list; a proposal's page is read-only.
        return obj is None and super().has_change_permission(request)

    def _decide_all(self, request, queryset, decide, form_class, title, action):
        form = form_class(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(self, request, queryset, form, title, action)
        apply_to_each(
            self,
            request,
            queryset,
            lambda proposal: decide(proposal, by=request.user, reason=form.cleaned_data["reason"]),
            refused=services.NeedError,
            success=lambda names: f"{title}: {names}.",
            name=lambda proposal: f"#{proposal.pk}",
        )
        return None

    @admin.action(description=_("Approve the selected proposals…"), permissions=["change"])
    def approve_proposals(self, request, queryset):
        return self._decide_all(
            request,
            queryset,
            services.approve_proposal,
            DecisionForm,
            gettext("Approved"),
            "approve_proposals",
        )

    @admin.action(description=_("Refuse the selected proposals…"), permissions=["change"])
    def refuse_proposals(self, request, queryset):
        return self._decide_all(
            request,
            queryset,
            services.refuse_proposal,
            RefusalForm,
            gettext("Refused"),
            "refuse_proposals",
        )


class NeedSeriesForm(forms.ModelForm):
    first_period_start = forms.DateField(
        label=_("First period starts"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=_("Today if left empty. Each period is a month and a need of its own."),
    )

    class Meta:
        model = NeedSeries
        fields = ["site", "aid_type", "title", "quantity_needed", "beneficiaries"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        quantity = self.fields["quantity_needed"]
        # start_series refuses 0: the form says so first, so a save never fails.
        quantity.min_value = 1
        quantity.validators.append(MinValueValidator(1))
        quantity.widget.attrs["min"] = 1


@admin.register(NeedSeries)
class NeedSeriesAdmin(AreaScopedAdminMixin, admin.ModelAdmin):
    """Recurring needs: each period is a need of its own (its own pledges and figures); the next is
    made once the site's contact person, or staff with the action, confirm it is still needed
    (needs.services.continue_series). Added here through needs.services.start_series, with the
    first period's need; afterwards only `is_active` changes (a series that ends)."""

    form = NeedSeriesForm
    area_lookup = "site__kelurahan__code"
    list_display = ["title", "site", "aid_type", "quantity_needed", "latest_period", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["site__kelurahan", "aid_type"]
    search_fields = ["title", "site__name"]
    autocomplete_fields = ["site", "aid_type"]
    actions = ["continue_series"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*NeedSeriesForm.Meta.fields, "first_period_start"]
        return ["site", "aid_type", "title", "quantity_needed", "beneficiaries", "is_active"]

    def get_readonly_fields(self, request, obj=None):
        return ["site", "aid_type", "title", "quantity_needed", "beneficiaries"] if obj else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # its periods are needs with pledges: end it instead

    def get_queryset(self, request):
        periods = Need.objects.filter(series=OuterRef("pk")).order_by("-period_start")
        return (
            super()
            .get_queryset(request)
            .annotate(
                latest_start=Subquery(periods.values("period_start")[:1]),
                latest_end=Subquery(periods.values("period_end")[:1]),
            )
        )

    @admin.display(description=_("latest period"))
    def latest_period(self, series):
        if getattr(series, "latest_start", None) is None:
            return "–"
        return f"{series.latest_start} – {series.latest_end}"

    def save_model(self, request, obj, form, change):
        if change:
            services.set_series_active(obj, obj.is_active)
            return
        created = services.start_series(
            by=request.user,
            site=obj.site,
            aid_type=obj.aid_type,
            title=obj.title,
            quantity_needed=obj.quantity_needed,
            beneficiaries=obj.beneficiaries,
            start=form.cleaned_data.get("first_period_start"),
        )
        vars(obj).update(vars(created))

    @admin.action(description=_("Confirm the next period (still needed)"), permissions=["change"])
    def continue_series(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset,
            lambda series: services.continue_series(series, by=request.user),
            refused=services.NeedError,
            success=lambda names: gettext("Next period published: %(series)s.") % {"series": names},
            done_name=lambda series, need: f"{series} ({need.period_start})",
        )
