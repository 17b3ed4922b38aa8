from django.contrib import admin
from django.contrib.admin.utils import flatten

from donations.models import Collaborator, Delivery, Opd, OutboundMail, Pledge, PledgeEvent


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


@admin.register(Collaborator)
class CollaboratorAdmin(admin.ModelAdmin):
    list_display = ["public_name", "kind", "is_anonymous", "created_at"]
    list_filter = ["kind", "is_anonymous"]
    search_fields = ["public_name", "email"]


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


class DeliveryInline(ReadOnlyMixin, admin.TabularInline):
    model = Delivery
    fields = ["delivered_on", "quantity", "opd", "recorded_by", "evidence", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("opd", "recorded_by")


@admin.register(Pledge)
class PledgeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Pledges are made by donations.services.pledge and moved by its transition functions.

    The token is the donor's private link and is never shown, not even to staff.
    """

    list_display = [
        "id",
        "collaborator",
        "need",
        "quantity",
        "quantity_delivered",
        "status",
        "created_at",
    ]
    list_filter = ["status"]
    list_select_related = ["collaborator", "need"]
    # id__exact: a search for a pledge number, which ignores words rather than failing on them.
    search_fields = ["id__exact", "collaborator__public_name", "collaborator__email", "need__title"]
    fields = [
        ("collaborator", "need"),
        ("quantity", "quantity_delivered", "status"),
        "message",
        ("scheduled_for", "status_reason"),
        ("created_at", "confirmed_at", "scheduled_at", "delivered_at", "closed_at"),
    ]
    readonly_fields = flatten(fields)
    inlines = [PledgeEventInline, DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Recorded by donations.services.record_delivery only."""

    list_display = ["pledge", "quantity", "delivered_on", "opd", "recorded_by", "created_at"]
    list_filter = ["opd"]
    list_select_related = ["pledge__need", "opd", "recorded_by"]
    search_fields = ["pledge__need__title", "pledge__collaborator__public_name", "opd__name"]


@admin.register(PledgeEvent)
class PledgeEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The pledges' history, append-only."""

    list_display = ["at", "pledge", "from_status", "to_status", "quantity", "actor_label", "actor"]
    list_filter = ["to_status", "actor_label"]
    list_select_related = ["pledge__need", "actor"]
    search_fields = ["pledge__need__title", "reason"]


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The mail outbox: what was sent, and what is waiting for `manage.py send_queued_mail`."""

    list_display = ["created_at", "to", "subject", "sent_at", "attempts", "last_error"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["to", "subject"]
    fields = ["to", "subject", "body", "pledge", "created_at", "sent_at", "attempts", "last_error"]
    readonly_fields = fields
