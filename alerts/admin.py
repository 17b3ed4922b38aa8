"""Staff's side of the alert subscriptions (docs/alerts.md): read-only lists, the address shown only
to staff with the personal-data permission (and each showing recorded), an export of a subscriber's
data and their erasure on request, both through alerts.services. The token, and the mails' bodies
that carry it, are never shown: they would let staff act as the subscriber."""

import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alerts import services
from alerts.models import AlertMail, Subscription
from ksbb.lib.admin import action_form_page
from locations import personal_data


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "The subscriber asked for this: delete these subscriptions and all kept about them"
        ),
        required=True,
    )


@admin.register(Subscription)
class SubscriptionAdmin(personal_data.PersonalDataAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "email",
        "frequency",
        "language",
        "areas",
        "created_at",
        "confirmed_at",
    ]
    list_filter = ["frequency", "language", ("confirmed_at", admin.EmptyFieldListFilter)]
    personal_fields = ("email",)
    personal_search_fields = ("email",)
    fields = [
        "email",
        "language",
        "frequency",
        "areas",
        "category_names",
        "created_at",
        "confirmed_at",
        "last_digest_at",
    ]
    readonly_fields = fields
    actions = ["export_subscriptions", "erase_subscriptions"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("regions", "categories")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm("alerts.delete_subscription")

    def has_export_permission(self, request) -> bool:
        return personal_data.may_see(request.user) and request.user.has_perm(
            "alerts.view_subscription"
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # erase_subscriptions asks first, and says what
        return actions

    def delete_model(self, request, obj):
        services.erase_subscriptions([obj])

    def delete_queryset(self, request, queryset):
        services.erase_subscriptions(list(queryset))

    @admin.display(description=_("areas"))
    def areas(self, subscription):
        return ", ".join(r.display_name for r in subscription.regions.all())

    @admin.display(description=_("categories"))
    def category_names(self, subscription):
        return ", ".join(c.name for c in subscription.categories.all()) or gettext("all")

    @admin.action(description=_("Export the subscriber's data (JSON)"), permissions=["export"])
    def export_subscriptions(self, request, queryset):
        chosen = list(queryset.order_by("pk"))
        personal_data.record(request, chosen, personal_data.Via.EXPORT)
        data = [services.export(s) for s in chosen]
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="alert-subscriptions.json"'
        return response

    @admin.action(description=_("Erase, on the subscriber's request…"), permissions=["erase"])
    def erase_subscriptions(self, request, queryset):
        form = ErasureForm(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self,
                request,
                queryset,
                form,
                gettext("Erase alert subscriptions"),
                "erase_subscriptions",
            )
        erased = services.erase_subscriptions(list(queryset))
        self.message_user(
            request,
            gettext("Erased %(count)s alert subscriptions.") % {"count": erased},
            messages.SUCCESS,
        )
        return None


@admin.register(AlertMail)
class AlertMailAdmin(personal_data.PersonalDataAdminMixin, admin.ModelAdmin):
    """What was sent to subscribers, and what could not be: the address to permitted staff only,
    the body never (it carries the subscriber's links)."""

    list_display = ["__str__", "kind", "to", "subject", "sent_at", "attempts", "last_error"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    personal_fields = ("to",)
    fields = [
        "subscription",
        "kind",
        "to",
        "subject",
        "created_at",
        "sent_at",
        "attempts",
        "last_error",
        "next_attempt_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
