"""History pages that show what changed and never change anything.

django-simple-history's version page is a revert form: a POST saves the old version over the row,
outside the services (no row lock, no counters, no pledge events, no mail) and with every foreign
key's choices unscoped. Here a version is a read-only page; a value seen in the history is restored
through the row's own change form or action, which call the services (docs/staff.md, "History").
"""

import dataclasses

from django.contrib.admin.utils import display_for_field, display_for_value, unquote
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from locations.personal_data import Via, may_see, record


class _HistoryRowHelper(HistoricalRecordContextHelper):
    """Leaves out the changes of fields the staff member may not see."""

    def __init__(self, *args, hidden: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.hidden = hidden

    def context_for_delta_changes(self, delta):
        kept = [change for change in delta.changes if change.field not in self.hidden]
        return super().context_for_delta_changes(dataclasses.replace(delta, changes=kept))


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin with the revert taken away: the history list and each version are pages
    to read; a POST to a version is refused (405) before anything is looked up. Personal fields
    (PersonalDataAdminMixin.personal_fields) are shown, and their showing recorded, only to staff
    who may see them. The object must be one the admin's get_object returns (area-scoped admins
    answer 404 outside the area)."""

    object_history_version_template = "admin/ksbb_history_version.html"

    def revert_disabled(self, request, obj=None):
        return True

    def _hidden_fields(self, request) -> set[str]:
        return set() if may_see(request.user) else set(getattr(self, "personal_fields", ()))

    def get_historical_record_context_helper(self, request, historical_record):
        return _HistoryRowHelper(self.model, historical_record, hidden=self._hidden_fields(request))

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        obj = response.context_data["object"] if hasattr(response, "context_data") else None
        if obj is not None and getattr(self, "personal_fields", ()) and may_see(request.user):
            record(request, [obj], Via.HISTORY)
        return response

    def render_history_view(self, request, template, context, **kwargs):
        # A TemplateResponse, so history_view above can read what it showed.
        return TemplateResponse(request, template, context, **kwargs)

    @staticmethod
    def _display(instance, field: models.Field) -> str:
        if isinstance(field, models.ForeignKey):
            try:
                value = getattr(instance, field.name)
            except ObjectDoesNotExist:  # the related row is gone since
                value = getattr(instance, field.attname)
            return display_for_value(value, "–")
        if isinstance(field, models.FileField):
            # A stored file's name is no key to it: say whether there was one.
            value = getattr(instance, field.attname)
            return gettext("yes") if value else "–"
        return display_for_field(getattr(instance, field.attname), field, "–")

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """One version, as a page to read (django-simple-history's revert form, replaced)."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404
        if not str(version_id).isdigit():
            raise Http404
        version = get_object_or_404(
            getattr(self.model, self.model._meta.simple_history_manager_attribute).all(),
            history_id=int(version_id),
            id=obj.pk,
        )
        hidden = self._hidden_fields(request)
        fields = [
            f
            for f in self.model._meta.concrete_fields
            if not f.primary_key and f.name not in hidden
        ]
        rows = [(capfirst(f.verbose_name), self._display(version.instance, f)) for f in fields]
        if getattr(self, "personal_fields", ()) and not hidden:
            record(request, [obj], Via.HISTORY)
        opts = self.model._meta
        ctx = {
            **self.admin_site.each_context(request),
            "title": gettext("%(object)s as of %(date)s")
            % {"object": obj, "date": version.history_date.strftime("%Y-%m-%d %H:%M")},
            "opts": opts,
            "original": obj,
            "version": version,
            "rows": rows,
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.object_history_version_template, ctx)
