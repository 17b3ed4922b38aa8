"""Closing and unpublishing needs in the admin: the need's own admin (needs.admin) with the two actions
that must decide what becomes of the pledges still holding quantity, which only donations can."""

from django.contrib import admin
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from donations import services
from donations.forms import CloseNeedForm
from donations.models import Pledge
from ksbb.lib.admin import action_form_page
from needs.admin import NeedAdmin
from needs.models import Need


class NeedWithPledgesAdmin(NeedAdmin):
    actions = [*NeedAdmin.actions, "close_needs", "unpublish_needs"]
    refusals = (*NeedAdmin.refusals, services.PledgeError)

    def _withdraw(self, request, queryset, *, unpublish: bool, action: str, title: str, done):
        form = CloseNeedForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            actor = services.Actor.staff(request.user)
            keep = form.cleaned_data["pledges"] == CloseNeedForm.KEEP_SCHEDULED
            cancelled = []

            def withdraw(need):
                cancelled.extend(
                    services.close_need(
                        need,
                        actor=actor,
                        reason=form.cleaned_data["reason"],
                        keep_scheduled=keep,
                        unpublish=unpublish,
                    )
                )

            response = self.apply_to_each(request, queryset, withdraw, done)
            if cancelled:
                self.message_user(
                    request,
                    ngettext(
                        "%(n)d pledge was cancelled and its donor told.",
                        "%(n)d pledges were cancelled and their donors told.",
                        len(cancelled),
                    )
                    % {"n": len(cancelled)},
                )
            return response
        holding = (
            Pledge.objects.holding()
            .filter(need__in=queryset)
            .select_related("need__aid_type", "collaborator")
            .order_by("need_id", "pk")
        )
        return action_form_page(
            self, request, queryset, form, title, action, extra={"holding_pledges": holding}
        )

    @admin.action(description=_("Close the selected needs…"), permissions=["change"])
    def close_needs(self, request, queryset):
        return self._withdraw(
            request,
            queryset,
            unpublish=False,
            action="close_needs",
            title=gettext("Close needs"),
            done=lambda n: (
                ngettext("%(n)d need is closed.", "%(n)d needs are closed.", n) % {"n": n}
            ),
        )

    @admin.action(description=_("Unpublish the selected needs…"), permissions=["change"])
    def unpublish_needs(self, request, queryset):
        return self._withdraw(
            request,
            queryset,
            unpublish=True,
            action="unpublish_needs",
            title=gettext("Unpublish needs"),
            done=lambda n: (
                ngettext(
                    "%(n)d need is off the public pages.",
                    "%(n)d needs are off the public pages.",
                    n,
                )
                % {"n": n}
            ),
        )


admin.site.unregister(Need)
admin.site.register(Need, NeedWithPledgesAdmin)
