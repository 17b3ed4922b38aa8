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


def in_area(code: str, codes: list[str] | None) -> bool:
    """Whether the kelurahan `code` lies in the regions `codes` (as area_codes returns them)."""
    return codes is None or any(code == c or code.startswith(c + ".") for c in codes)


def enclosing_codes(kelurahan_code: str) -> list[str]:
    """The codes of the kota, the kecamatan and the kelurahan itself: every region that holds it."""
    parts = kelurahan_code.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts) + 1)]


def within(code_lookup: str, codes) -> Q:
    """Rows whose kelurahan code (at `code_lookup`) lies in one of the regions `codes` (none: no
    row)."""
    inside = Q(pk__in=[])
    for code in codes:
        inside |= Q(**{code_lookup: code}) | Q(**{f"{code_lookup}__startswith": code + "."})
    return inside


def scope(queryset: QuerySet, user, code_lookup: str) -> QuerySet:
    """`queryset` narrowed to `user`'s areas; `code_lookup` is the path to the kelurahan's code, e.g.
    "need__site__kelurahan__code" for pledges."""
    codes = area_codes(user)
    if codes is None:
        return queryset
    if not codes:
        return queryset.none()
    return queryset.filter(within(code_lookup, codes))


class AreaScopedAdminMixin:
    """An admin whose rows are limited to the staff member's areas, on every path that reaches them:
    the changelist, the change, delete and history pages and "view on site" (another area's object
    is a 404, whatever URL is guessed; ksbb.admin_site checks the last), the actions and exports
    (they act on the scoped changelist queryset), the autocompletes (they search get_queryset), and
    the foreign-key choices of every form: a key to a model whose admin is area-scoped offers only
    that admin's rows, and `scoped_foreign_keys` ({field name: path from the related model to the
    kelurahan code}) scopes keys to other models (a site's kelurahan).

    `area_lookup` is the path from the model to its kelurahan's code; when it crosses a
    many-valued relation (a collaborator's pledges) set `area_lookup_many` so a row is listed once.
    """

    area_lookup: str = ""
    area_lookup_many: bool = False
    scoped_foreign_keys: dict[str, str] = {}

    def scoped(self, queryset: QuerySet, user) -> QuerySet:
        """`queryset` (of this admin's model) narrowed to `user`'s areas."""
        if not self.area_lookup_many or area_codes(user) is None:
            return scope(queryset, user, self.area_lookup)
        inside = scope(self.model._default_manager.all(), user, self.area_lookup)
        return queryset.filter(pk__in=inside.values("pk"))

    def get_queryset(self, request):
        return self.scoped(super().get_queryset(request), request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def _require_in_area(self, request, object_id):
        # get_object reads the id as the change page does (a malformed one, "abc" or "1e3", is no
        # object rather than an error) and answers 404 outside the area.
        return self.get_object(request, unquote(object_id))

    def history_view(self, request, object_id, extra_context=None):
        self._require_in_area(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        remote = db_field.remote_field.model
        remote_admin = self.admin_site._registry.get(remote)
        if db_field.name in self.scoped_foreign_keys:
            kwargs["queryset"] = scope(
                remote._default_manager.all(), request.user, self.scoped_foreign_keys[db_field.name]
            )
        elif isinstance(remote_admin, AreaScopedAdminMixin):
            kwargs["queryset"] = remote_admin.scoped(remote._default_manager.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
