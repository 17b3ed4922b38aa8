"""Which rows a staff member may see and change: the one place the area rule lives.

Superusers and the provincial bureau see everything. Everyone else works inside the regions they are
assigned (StaffArea): a row is theirs when its kelurahan's code equals a region's code or starts with
it followed by a dot (Kemendagri codes nest by prefix: 31.71 › 31.71.01 › 31.71.01.1001). An auditor
with no assigned area reads the whole province (the group can only view); any other staff member with
no area sees nothing, so a missing assignment never opens everything.
"""

from django.contrib.admin.utils import unquote
from django.db.models import Q, QuerySet
from django.http import Http404

from locations.models import StaffArea

PROVINCIAL_GROUP = "Provincial staff"
AREA_OFFICER_GROUP = "Area officer"
AUDITOR_GROUP = "Auditor"

_CACHE_ATTR = "_ksbb_area_codes"


def area_codes(user) -> list[str] | None:
    """The region codes `user` is limited to, or None when they see all. One query, then cached on
    the user object for the rest of the request."""
    if hasattr(user, _CACHE_ATTR):
        return getattr(user, _CACHE_ATTR)
    if not user.is_authenticated or not user.is_active:
        codes = []
    elif user.is_superuser:
        codes = None
    else:
        groups = set(user.groups.values_list("name", flat=True))
        assigned = list(StaffArea.objects.filter(user=user).values_list("region__code", flat=True))
        if PROVINCIAL_GROUP in groups or not assigned and AUDITOR_GROUP in groups:
            codes = None
        else:
            codes = sorted(assigned)
    setattr(user, _CACHE_ATTR, codes)
    return codes


def scope(queryset: QuerySet, user, code_lookup: str) -> QuerySet:
    """`queryset` narrowed to `user`'s areas; `code_lookup` is the path to the kelurahan's code, e.g.
    "need__site__kelurahan__code" for pledges."""
    codes = area_codes(user)
    if codes is None:
        return queryset
    if not codes:
        return queryset.none()
    inside = Q()
    for code in codes:
        inside |= Q(**{code_lookup: code}) | Q(**{f"{code_lookup}__startswith": code + "."})
    return queryset.filter(inside)


class AreaScopedAdminMixin:
    """An admin whose rows are limited to the staff member's areas: the changelist, the change,
    delete and history pages (another area's object is a 404), the actions (they act on the scoped
    changelist queryset), the autocompletes (they search get_queryset) and the foreign-key choices
    named in `scoped_foreign_keys` ({field name: path from the related model to the kelurahan code})."""

    area_lookup: str = ""
    scoped_foreign_keys: dict[str, str] = {}

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user, self.area_lookup)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def _require_in_area(self, request, object_id):
        # get_object reads the id as the change page does (a malformed one, "abc" or "1e3", is no
        # object rather than an error) and answers 404 outside the area.
        self.get_object(request, unquote(object_id))

    def history_view(self, request, object_id, extra_context=None):
        self._require_in_area(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # django-simple-history's page of one historical version.
        self._require_in_area(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.scoped_foreign_keys:
            related = db_field.remote_field.model._default_manager.all()
            kwargs["queryset"] = scope(
                related, request.user, self.scoped_foreign_keys[db_field.name]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
