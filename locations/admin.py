from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from locations.models import ContactPerson, Region, Site, StaffArea

# Changed only through locations.services.verify_contact, never by editing the form.
VERIFICATION_FIELDS = ("verification_status", "verified_at", "verified_by", "replaced_by")


class KotaFilter(admin.SimpleListFilter):
    """Sites by kota: Kemendagri codes nest, so a kota's kelurahan share its code as a prefix."""

    title = _("kota")
    parameter_name = "kota"

    def lookups(self, request, model_admin):
        return [(kota.code, kota.display_name) for kota in Region.objects.kota()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(kelurahan__code__startswith=self.value() + ".")
        return queryset


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
    fields = ["name", "role", "phone", "note", *VERIFICATION_FIELDS]
    readonly_fields = VERIFICATION_FIELDS
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("verified_by", "replaced_by")


@admin.register(Site)
class SiteAdmin(LeafletGeoAdmin):
    list_display = ["kind", "name", "kelurahan", "location_is_approximate"]
    list_filter = ["kind", "location_is_approximate", KotaFilter]
    search_fields = ["name", "kelurahan__name"]
    # Site.kelurahan's limit_choices_to keeps the autocomplete to kelurahan.
    autocomplete_fields = ["kelurahan"]
    inlines = [ContactInline]

    def get_queryset(self, request):
        # A site's name includes its kelurahan's: the changelist and the autocomplete of other
        # admins (needs) print it for every row.
        return super().get_queryset(request).select_related("kelurahan")


@admin.register(ContactPerson)
class ContactPersonAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "role", "verification_status"]
    list_filter = ["verification_status", "role"]
    list_select_related = ["site__kelurahan"]
    search_fields = ["name", "site__name"]
    autocomplete_fields = ["site"]
    readonly_fields = VERIFICATION_FIELDS


@admin.register(StaffArea)
class StaffAreaAdmin(admin.ModelAdmin):
    list_display = ["user", "region"]
    list_select_related = ["user", "region"]
    search_fields = ["user__username", "region__name", "region__code"]
    autocomplete_fields = ["user", "region"]
