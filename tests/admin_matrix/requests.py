"""Every request a logged-in staff member can send to the admin, generated from the admin itself.

Each registered ModelAdmin's get_urls() (its own views, the history and version pages, custom views),
each action, each autocomplete (every foreign key whose model has a searchable admin), "view on site"
for each row, and the site's own pages. A URL or action these tables do not describe is an error
naming it, so a new path cannot slip past the matrix: describe it here, and it is tested.
"""

from dataclasses import dataclass, field

from django.contrib import admin
from django.db import models
from django.urls import URLPattern, URLResolver, reverse

# URL names (after "admin:<app>_<model>") by what they need: nothing, a row, a row and one of its
# history versions.
LIST_SUFFIXES = ("_changelist", "_add")
OBJECT_SUFFIXES = ("_change", "_delete", "_history")
VERSION_SUFFIX = "_simple_history"
# The admins' own views, by full URL name.
CUSTOM_VIEWS = {
    "donations_pledge_deliver": "object",
    "donations_pledge_dashboard": "list",
    "donations_delivery_evidence": "object",
    "donations_collaborator_letter": "object",
    "donations_receipt_photo": "object",
    "needs_need_import": "list",
    "needs_need_import_template": "template",
    "auth_user_password_change": "object",
}
# The site's own URLs; the model admins' are read from each admin.
SITE_VIEWS = {
    "index": "site",
    "app_list": "apps",
    "password_change": "site",
    "password_change_done": "site",
    "jsi18n": "site",
    "autocomplete": "autocomplete",
    "view_on_site": "view_on_site",
    # The login page answers a signed-in user with a redirect; logging out would end the run's
    # session; the catch-all answers unknown admin URLs (tried below with one).
    "login": "skip",
    "logout": "skip",
    None: "catch_all",
}
# What each action's intermediate form asks for, so that the POST is one a permitted user would send.
ACTION_DATA = {
    "delete_selected": {"post": "yes"},
    "export_csv": {},
    "export_xlsx": {},
    "confirm_pledges": {},
    "schedule_pledges": {"apply": "1", "scheduled_for": "2030-01-15", "reason": "Matrix"},
    "reject_pledges": {"apply": "1", "reason": "Matrix"},
    "hand_over_pledges": {"apply": "1", "reason": "Matrix"},
    "mark_verified": {"apply": "1", "note": "Matrix"},
    "mark_unreachable": {"apply": "1", "note": "Matrix"},
    "mark_replaced": {"apply": "1", "note": "Matrix"},
    "confirm_needs": {},
    "send_link": {},
    "revoke_link": {},
    "resolve_disputes": {"apply": "1", "resolution": "Matrix"},
    "erase_collaborators": {"apply": "1", "reason": "Matrix"},
    "complete_erasure_requests": {},
    "vet_organisations": {},
    "refuse_vetting": {"apply": "1", "reason": "Matrix"},
    "check_deliveries": {"apply": "1", "override_reason": ""},
    "approve_proposals": {"apply": "1", "reason": "Matrix"},
    "continue_series": {},
    "refuse_proposals": {"apply": "1", "reason": "Matrix"},
    "cleanup_expired_attempts": {},
    "publish_needs": {},
    "reopen_needs": {},
    "close_needs": {"apply": "1", "reason": "Matrix", "pledges": "keep_scheduled"},
    "unpublish_needs": {"apply": "1", "reason": "Matrix", "pledges": "cancel_all"},
    "export_subscriptions": {},
    "erase_subscriptions": {"apply": "1", "confirm": "on"},
}


class Unmapped(Exception):
    """An admin URL or action the matrix does not describe yet."""


@dataclass
class Request:
    label: str
    url: str
    target: str = ""  # "inside", "outside", "any" or "" (no row)
    model: type[models.Model] | None = None
    kind: str = ""
    post: dict | None = None  # fixed POST data; None: replay the form a superuser is shown
    methods: tuple[str, ...] = ("GET", "POST")
    row: models.Model | None = field(default=None, repr=False)


def _patterns(resolver_patterns):
    for pattern in resolver_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern


def _kind(name: str | None) -> str:
    if name is None:
        return "legacy_redirect"  # <id>/ → <id>/change/
    if name in CUSTOM_VIEWS:
        return CUSTOM_VIEWS[name]
    if name.endswith(VERSION_SUFFIX):
        return "version"
    if name.endswith(LIST_SUFFIXES):
        return "list"
    if name.endswith(OBJECT_SUFFIXES):
        return "object"
    raise Unmapped(f"admin URL {name!r}: say in CUSTOM_VIEWS what it needs")


def model_admin_requests(world) -> list[Request]:
    requests = []
    for model, model_admin in admin.site._registry.items():
        targets = world.targets(model)
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for pattern in _patterns(model_admin.get_urls()):
            kind = _kind(pattern.name)
            if kind == "list":
                requests.append(Request(pattern.name, reverse(f"admin:{pattern.name}"), kind=kind))
            elif kind == "template":
                for fmt in ("csv", "xlsx"):
                    url = reverse(f"admin:{pattern.name}", args=[fmt])
                    requests.append(Request(pattern.name, url, kind=kind, methods=("GET",)))
            else:
                for target, row in targets.items():
                    requests.append(_row_request(pattern.name, kind, changelist, target, row))
        requests += _action_requests(model, model_admin, world, changelist)
    return requests


def _row_request(name, kind, changelist, target, row) -> Request:
    model = type(row)
    if kind == "legacy_redirect":
        url = f"{changelist}{row.pk}/"
    elif kind == "version":
        version = row.history.order_by("-history_id").first()
        url = reverse(f"admin:{name}", args=[row.pk, version.history_id])
    else:
        url = reverse(f"admin:{name}", args=[row.pk])
    return Request(name or "legacy_redirect", url, target, model, kind, row=row)


def _action_requests(model, model_admin, world, changelist) -> list[Request]:
    from django.test import RequestFactory

    request = RequestFactory().get(changelist)
    request.user = world.bureau
    selection = [row.pk for row in world.targets(model).values()]
    requests = []
    for name in model_admin.get_actions(request):
        if name not in ACTION_DATA:
            raise Unmapped(f"admin action {name!r} of {model.__name__}: add it to ACTION_DATA")
        data = {"action": name, "_selected_action": selection, **ACTION_DATA[name]}
        label = f"{model._meta.model_name}:{name}"
        requests.append(Request(label, changelist, model=model, kind="action", post=data))
    return requests


def site_requests(world) -> list[Request]:
    requests = []
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLResolver):  # a model admin's URLs, generated above
            continue
        if pattern.name not in SITE_VIEWS:
            raise Unmapped(f"admin site URL {pattern.name!r}: add it to SITE_VIEWS")
        kind = SITE_VIEWS[pattern.name]
        if kind == "site":
            requests.append(Request(pattern.name, reverse(f"admin:{pattern.name}"), kind=kind))
        elif kind == "apps":
            for app_label in {m._meta.app_label for m in admin.site._registry}:
                url = reverse("admin:app_list", args=[app_label])
                requests.append(Request(f"app_list:{app_label}", url, kind=kind))
        elif kind == "catch_all":
            requests.append(Request("catch_all", "/admin/no/such/page/", kind=kind))
        elif kind == "autocomplete":
            requests += _autocomplete_requests(world)
        elif kind == "view_on_site":
            requests += _view_on_site_requests(world)
    return requests


def _autocomplete_requests(world) -> list[Request]:
    """Every foreign key of every admin's model whose target has an admin with search fields, with
    no term and with the outside rows' marker as the term."""
    requests = []
    for model in admin.site._registry:
        for db_field in model._meta.get_fields():
            if not (db_field.is_relation and db_field.concrete and db_field.many_to_one):
                continue
            remote_admin = admin.site._registry.get(db_field.related_model)
            if remote_admin is None or not remote_admin.search_fields:
                continue
            for term in ("", "OUTSIDE"):
                url = reverse("admin:autocomplete") + (
                    f"?app_label={model._meta.app_label}&model_name={model._meta.model_name}"
                    f"&field_name={db_field.name}&term={term}"
                )
                label = f"autocomplete:{model._meta.model_name}.{db_field.name}:{term}"
                # Its view answers GET only (a POST is a 405 before anything is read).
                requests.append(
                    Request(
                        label,
                        url,
                        model=db_field.related_model,
                        kind="autocomplete",
                        methods=("GET",),
                    )
                )
    return requests


def _view_on_site_requests(world) -> list[Request]:
    from django.contrib.contenttypes.models import ContentType

    requests = []
    for model in admin.site._registry:
        content_type = ContentType.objects.get_for_model(model)
        for target, row in world.targets(model).items():
            url = reverse("admin:view_on_site", args=[content_type.pk, row.pk])
            requests.append(
                Request(
                    f"view_on_site:{model._meta.model_name}",
                    url,
                    target,
                    model,
                    "view_on_site",
                    methods=("GET",),
                    row=row,
                )
            )
    return requests


def all_requests(world) -> list[Request]:
    return [*model_admin_requests(world), *site_requests(world)]
