"""Personal data in the admin: who may see it, and the record of each time they did.

Personal data are a donor's e-mail and phone (and the real name of a donor who gives anonymously) and
a contact person's phone and e-mail. Staff see them only with the permission below, and every page
or export that shows them to a staff member records who, when and which record (PersonalDataView).
"""

from collections.abc import Iterable

from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.contenttypes.models import ContentType
from django.db import models

from locations.models import PersonalDataView

VIEW_PERMISSION = "locations.view_personal_data"
# Exports carry personal columns only for staff who also hold this: a spreadsheet travels further
# than a page.
EXPORT_PERMISSION = "donations.export_personal_data"
Via = PersonalDataView.Via


def may_see(user) -> bool:
    return user.has_perm(VIEW_PERMISSION)


def record(request, objects: Iterable[models.Model], via: str) -> None:
    """Record that `request.user` was shown the personal data of `objects` (one row each)."""
    by_model: dict[type[models.Model], list] = {}
    for obj in objects:
        by_model.setdefault(type(obj), []).append(obj.pk)
    for model, pks in by_model.items():
        record_ids(request, model, pks, via)


def record_ids(request, model: type[models.Model], pks: Iterable, via: str) -> None:
    """Record that `request.user` was shown the personal data of `model`'s rows `pks`."""
    content_type = ContentType.objects.get_for_model(model)
    path = request.path[:300]
    PersonalDataView.objects.bulk_create(
        (
            PersonalDataView(
                user=request.user,
                content_type=content_type,
                object_id=str(pk),
                via=via,
                path=path,
            )
            for pk in dict.fromkeys(pks)  # once each, in order
        ),
        batch_size=1000,
    )


def _without(fieldsets, hidden: set[str]):
    """`fieldsets` without the names in `hidden` (a line of several fields keeps the others)."""
    result = []
    for name, options in fieldsets:
        lines = []
        for line in options.get("fields", ()):
            if isinstance(line, list | tuple):
                kept = tuple(f for f in line if f not in hidden)
                if kept:
                    lines.append(kept)
            elif line not in hidden:
                lines.append(line)
        if lines:
            result.append((name, {**options, "fields": lines}))
    return result


class PersonalDataAdminMixin:
    """An admin whose pages show personal data only to staff with VIEW_PERMISSION, and record it.

    `personal_fields` are the form fields and read-only displays that show personal data: without
    the permission they leave the page, the form (so a save keeps them as they are), the changelist
    and the search. With it, opening a page that shows them records a view of each record in
    `personal_records(request, obj)`.
    """

    personal_fields: tuple[str, ...] = ()
    personal_search_fields: tuple[str, ...] = ()
    # The foreign key to the person whose data an export's private columns are ("pk": the row).
    private_export_owner: str = "pk"

    def personal_records(self, request, obj) -> Iterable[models.Model]:
        """Whose personal data this object's page shows (to a staff member with the permission)."""
        shown = set(flatten_fieldsets(self.get_fieldsets(request, obj)))
        return [obj] if shown & set(self.personal_fields) else []

    def get_fieldsets(self, request, obj=None):
        return self.visible_fieldsets(request, super().get_fieldsets(request, obj))

    def visible_fieldsets(self, request, fieldsets):
        """`fieldsets` as this staff member may see them; an admin that writes its own
        get_fieldsets returns its fieldsets through this."""
        if may_see(request.user):
            return fieldsets
        return _without(fieldsets, set(self.personal_fields))

    def get_list_display(self, request):
        hidden = () if may_see(request.user) else self.personal_fields
        return [f for f in super().get_list_display(request) if f not in hidden]

    def get_search_fields(self, request):
        fields = list(super().get_search_fields(request))
        if may_see(request.user):
            return [*fields, *self.personal_search_fields]
        return fields

    def exports_personal_data(self, request) -> bool:
        # ksbb.lib.admin_export.ExportActionsMixin asks.
        return may_see(request.user) and request.user.has_perm(EXPORT_PERMISSION)

    def record_export(self, request, queryset) -> None:
        owner = self.private_export_owner
        if owner == "pk":
            model, lookup = self.model, "pk"
        else:
            model, lookup = self.model._meta.get_field(owner).related_model, f"{owner}_id"
        owners = queryset.order_by().values_list(lookup, flat=True).iterator(2000)
        record_ids(request, model, owners, Via.EXPORT)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # Only a page that was shown counts (not a redirect after a save, nor a refusal).
        obj = getattr(response, "context_data", {}).get("original")
        if response.status_code == 200 and obj is not None and may_see(request.user):
            people = list(self.personal_records(request, obj))
            # The page's own record, or someone shown on it (a pledge's donor, a site's contacts).
            record(request, [p for p in people if p == obj], Via.PAGE)
            record(request, [p for p in people if p != obj], Via.RELATED_PAGE)
        return response
