from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from ksbb.lib.admin import action_form_page, apply_to_each
from ksbb.lib.admin_export import ExportActionsMixin
from ksbb.lib.phones import PhoneNumberField
from locations import services
from locations.admin_history import ReadOnlyHistoryAdmin
from locations.models import ContactPerson, PersonalDataView, Region, Site, StaffArea
from locations.personal_data import PersonalDataAdminMixin, may_see
from locations.scoping import AreaScopedAdminMixin

# Changed only through locations.services.verify_contact, never by editing the form.
VERIFICATION_FIELDS = ("verification_status", "verified_at", "verified_by", "replaced_by")
# A contact person's personal data (locations.personal_data): shown only to who may see them.
CONTACT_PERSONAL_FIELDS = ("phone", "email")
Verification = ContactPerson.Verification


class ContactPersonForm(forms.ModelForm):
    """A contact's form, on its own page and on its site's: the phone as staff write it, saved in
    E.164, shown in the international format; a number that is none is the field's error."""

    class Meta:
        model = ContactPerson
        fields = ["site", "name", "role", "phone", "email", "channel", "note"]
        field_classes = {"phone": PhoneNumberField}


def area_filters(code_lookup: str) -> list[type[admin.SimpleListFilter]]:
    """Kota › kecamatan › kelurahan filters for rows whose kelurahan code is at `code_lookup`.
    Kemendagri codes nest, so each level filters by code prefix. A level lists its choices once
    the level above is chosen (one query per level shown); the admin ignores a filter that lists
    nothing, so a level chosen alone lists its siblings."""

    class _Level(admin.SimpleListFilter):
        parent_parameter = ""

        def lookups(self, request, model_admin):
            parent = None
            if self.parent_parameter:
                # The level above as chosen, or as implied by this level's own choice.
                chosen = request.GET.get(self.parameter_name, "")
                parent = request.GET.get(self.parent_parameter) or chosen.rpartition(".")[0]
                if not parent:
                    return []
            regions = Region.objects.filter(level=self.parameter_name)
            if parent:
                regions = regions.filter(parent__code=parent)
            return [(r.code, r.display_name) for r in regions.only("code", "name")]

        def queryset(self, request, queryset):
            if self.value():
                return queryset.filter(
                    Q(**{code_lookup: self.value()})
                    | Q(**{f"{code_lookup}__startswith": self.value() + "."})
                )
            return queryset

    class KotaFilter(_Level):
        title = _("kota")
        parameter_name = "kota"

    class KecamatanFilter(_Level):
        title = _("kecamatan")
        parameter_name = "kecamatan"
        parent_parameter = "kota"

    class KelurahanFilter(_Level):
        title = _("kelurahan")
        parameter_name = "kelurahan"
        parent_parameter = "kecamatan"

    return [KotaFilter, KecamatanFilter, KelurahanFilter]


@admin.register(Region)
class RegionAdmin(LeafletGeoAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    list_select_related = ["parent"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]

    def get_readonly_fields(self, request, obj=None):
        # Code, level and parent come from the registry (manage.py import_regions).
        return ("code", "level", "parent") if obj else ()


class ContactInline(admin.TabularInline):
    model = ContactPerson
    form = ContactPersonForm
    fk_name = "site"
    fields = ["name", "role", "phone", "email", "channel", "note", *VERIFICATION_FIELDS]
    readonly_fields = VERIFICATION_FIELDS
    extra = 1

    def get_fields(self, request, obj=None):
        # A contact's phone and e-mail are personal data (locations.personal_data); SiteAdmin
        # records their views.
        fields = super().get_fields(request, obj)
        if may_see(request.user):
            return fields
        return [f for f in fields if f not in CONTACT_PERSONAL_FIELDS]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("verified_by", "replaced_by")


@admin.register(Site)
class SiteAdmin(PersonalDataAdminMixin, ExportActionsMixin, AreaScopedAdminMixin, LeafletGeoAdmin):
    export_fields = [
        ("site_id", "pk"),
        ("external_ref", "external_ref"),
        ("kind", "kind"),
        ("name", "name"),
        ("kelurahan_code", "kelurahan__code"),
        ("kelurahan", "kelurahan__name"),
        ("address", "address"),
        ("location_is_approximate", "location_is_approximate"),
    ]

    area_lookup = "kelurahan__code"
    # A staff member adds sites only in their own kelurahan.
    scoped_foreign_keys = {"kelurahan": "code"}
    list_display = ["kind", "name", "kelurahan", "verified_contacts", "location_is_approximate"]
    list_filter = ["kind", "location_is_approximate", *area_filters("kelurahan__code")]
    search_fields = ["name", "kelurahan__name"]
    # Site.kelurahan's limit_choices_to keeps the autocomplete to kelurahan.
    autocomplete_fields = ["kelurahan"]
    inlines = [ContactInline]

    def get_queryset(self, request):
        # A site's name includes its kelurahan's: the changelist and the autocomplete of other
        # admins (needs) print it for every row.
        return super().get_queryset(request).select_related("kelurahan")

    def get_changelist_instance(self, request):
        # Counted in the changelist's one query, not per row.
        changelist = super().get_changelist_instance(request)
        changelist.queryset = changelist.queryset.annotate(
            n_verified=Count(
                "contacts", filter=Q(contacts__verification_status=Verification.VERIFIED)
            )
        )
        return changelist

    @admin.display(description=_("verified contacts"))
    def verified_contacts(self, site):
        return getattr(site, "n_verified", None)

    def personal_records(self, request, obj):
        # The contacts inline shows each contact's phone and e-mail.
        return list(obj.contacts.all())

    def save_formset(self, request, form, formset, change):
        if formset.model is not ContactPerson:
            return super().save_formset(request, form, formset, change)
        # Contacts change through their service, which re-opens a changed contact's verification.
        for contact in formset.save(commit=False):
            services.save_contact(contact, by=request.user)
        for contact in formset.deleted_objects:
            contact.delete()
        return None


class VerificationNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you found when you called, e.g. who answered."),
    )


class VerifyForm(VerificationNoteForm):
    override_reason = forms.CharField(
        label=_("Only to verify a contact you created or last changed (superusers): why"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Leave empty: no one verifies their own work. A superuser who must may give the reason "
            "here; the public ledger records that the rule was set aside."
        ),
    )


class ReplacementForm(VerificationNoteForm):
    replaced_by = forms.ModelChoiceField(
        label=_("Replaced by"),
        queryset=ContactPerson.objects.none(),
        help_text=_("Another contact person at the same site; add them on the site's page first."),
    )

    def __init__(self, *args, contact: ContactPerson, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["replaced_by"].queryset = ContactPerson.objects.filter(
            site_id=contact.site_id
        ).exclude(pk=contact.pk)


@admin.register(ContactPerson)
class ContactPersonAdmin(
    PersonalDataAdminMixin, ExportActionsMixin, AreaScopedAdminMixin, ReadOnlyHistoryAdmin
):
    """Contact persons and their verification. The verification is recorded only by the actions
    below (locations.services.verify_contact: who, when, a note), never by editing the form. The
    phone and e-mail are personal data: on the contact's own page only, to staff who may see them
    (recorded)."""

    form = ContactPersonForm
    personal_fields = CONTACT_PERSONAL_FIELDS

    export_fields = [
        ("contact_id", "pk"),
        ("site", "site__name"),
        ("kelurahan_code", "site__kelurahan__code"),
        ("role", "role"),
        ("channel", "channel"),
        ("verification_status", "verification_status"),
        ("verified_at", "verified_at"),
    ]
    private_export_fields = [("name", "name"), ("phone", "phone"), ("email", "email")]

    area_lookup = "site__kelurahan__code"
    list_display = [
        "name",
        "site",
        "role",
        "verification_status",
        "verified_at",
        "verified_by",
    ]
    list_filter = ["verification_status", "role", *area_filters("site__kelurahan__code")]
    list_select_related = ["site__kelurahan", "verified_by"]
    search_fields = ["name", "site__name"]
    autocomplete_fields = ["site"]
    readonly_fields = VERIFICATION_FIELDS
    actions = ["mark_verified", "mark_unreachable", "mark_replaced"]

    def save_model(self, request, obj, form, change):
        services.save_contact(obj, by=request.user)

    def _verify_all(self, request, queryset, status, **kwargs):
        apply_to_each(
            self,
            request,
            queryset,
            lambda contact: services.verify_contact(contact, status, by=request.user, **kwargs),
            refused=services.ContactError,
            success=lambda names: (
                gettext("%(status)s: %(contacts)s.")
                % {"status": Verification(status).label, "contacts": names}
            ),
        )

    def _note_action(self, request, queryset, status, title, action):
        form = VerificationNoteForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            return self._verify_all(request, queryset, status, note=form.cleaned_data["note"])
        return action_form_page(self, request, queryset, form, title, action)

    @admin.action(description=_("Mark as verified…"), permissions=["change"])
    def mark_verified(self, request, queryset):
        form = VerifyForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            return self._verify_all(request, queryset, Verification.VERIFIED, **form.cleaned_data)
        return action_form_page(self, request, queryset, form, gettext("Verified"), "mark_verified")

    @admin.action(description=_("Mark as unreachable…"), permissions=["change"])
    def mark_unreachable(self, request, queryset):
        return self._note_action(
            request, queryset, Verification.UNREACHABLE, gettext("Unreachable"), "mark_unreachable"
        )

    @admin.action(description=_("Mark as replaced by…"), permissions=["change"])
    def mark_replaced(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Choose one contact person to replace."), messages.WARNING
            )
            return None
        contact = queryset.get()
        form = ReplacementForm(request.POST if "apply" in request.POST else None, contact=contact)
        if form.is_bound and form.is_valid():
            return self._verify_all(
                request,
                queryset,
                Verification.REPLACED,
                note=form.cleaned_data["note"],
                replaced_by=form.cleaned_data["replaced_by"],
            )
        return action_form_page(
            self, request, queryset, form, gettext("Replaced by another contact"), "mark_replaced"
        )


@admin.register(PersonalDataView)
class PersonalDataViewAdmin(admin.ModelAdmin):
    """Who looked at whose personal data: written by locations.personal_data, never by hand. The
    provincial staff read it (the permission to view it is theirs alone)."""

    list_display = ["at", "user", "content_type", "record", "via", "path"]
    list_filter = ["via", "content_type", "at"]
    list_select_related = ["user", "content_type"]
    search_fields = ["user__username", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("record"), ordering="object_id")
    def record(self, view):
        # A link, not the record's name: the log itself shows no personal data.
        opts = view.content_type.model_class()._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[view.object_id])
        return format_html('<a href="{}">#{}</a>', url, view.object_id)


@admin.register(StaffArea)
class StaffAreaAdmin(admin.ModelAdmin):
    list_display = ["user", "region"]
    list_select_related = ["user", "region"]
    search_fields = ["user__username", "region__name", "region__code"]
    autocomplete_fields = ["user", "region"]
