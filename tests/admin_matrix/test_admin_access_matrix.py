"""Staff see and change only what their role and area allow, on every admin path.

For every staff role (tests/admin_matrix/world.py) and every request the admin serves
(tests/admin_matrix/requests.py: each ModelAdmin's URLs, history and version pages, custom views,
actions, autocompletes, "view on site", the site's pages), on rows inside and outside the role's
area, GET and POST (the POST a permitted user's page would send, replayed):

- never a server error;
- a row outside an area-bound role's area: never a 200 (404, 403 or a redirect within the admin), and
  no page the role opens names an outside row (they all carry the OUTSIDE marker);
- a read-only role writes nothing, whatever it sends (not a row, in any table); an area officer's
  requests leave the outside rows as they were;
- no page shows a donor's private token, and a role without the personal-data permission is never
  shown an e-mail, a phone or an anonymous donor's real name;
- a role that may view a model opens its rows in its area (so the matrix is never vacuously green).

Each request runs in a savepoint that is rolled back, so every request sees the same rows.
"""

import io
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.db import connection, transaction
from django.test import Client, RequestFactory

from donations.models import Collaborator, Delivery, OutboundMail, Pledge, PledgeEvent
from ksbb.lib.admin_export import XLSX
from ksbb.lib.phones import display
from locations.models import ContactPerson, PersonalDataView
from locations.scoping import AreaScopedAdminMixin
from needs.models import Need
from tests.admin_matrix.requests import Request, all_requests
from tests.admin_matrix.world import OUTSIDE, ROLES, Role, build_world


@pytest.fixture
def world(jakarta, settings, tmp_path, province_staff):
    settings.MEDIA_ROOT = tmp_path
    return build_world(province_staff)


class _FormReader(HTMLParser):
    """The fields of the page's own POST form (not the logout or language forms), as a browser
    would submit them."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.data: list[tuple[str, str]] | None = None
        self._in_form = False
        self._select: str | None = None
        self._select_first: tuple[str, str] | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._submitted = False

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.data is None and a.get("method", "").lower() == "post":
            if a.get("action", "") in ("", self.path):
                self._in_form = True
                self.data = []
            return
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("file", "image", "reset", "button"):
                return
            if kind == "submit":
                if self._submitted:
                    return
                self._submitted = True
            self.data.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
        elif tag == "option" and self._select:
            option = (self._select, a.get("value", ""))
            self._select_first = self._select_first or option
            if "selected" in a:
                self.data.append(option)
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea = name
            self.data.append((name, ""))

    def handle_data(self, data):
        if self._textarea:
            self.data[-1] = (self._textarea, self.data[-1][1] + data)

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            self._in_form = False
        elif tag == "select" and self._select:
            if not self._select_chosen and self._select_first:
                self.data.append(self._select_first)
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _form_data(html: str, path: str) -> dict[str, list[str]]:
    reader = _FormReader(path)
    reader.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in reader.data or []:
        data.setdefault(name, []).append(value)
    return data


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith(XLSX):
        from openpyxl import load_workbook

        sheets = load_workbook(io.BytesIO(content), read_only=True).worksheets
        return "\n".join(
            " ".join(str(v) for v in row if v is not None)
            for sheet in sheets
            for row in sheet.iter_rows(values_only=True)
        )
    return content.decode("utf-8", "replace")


def _table(model) -> tuple[str, str]:
    return (
        connection.ops.quote_name(model._meta.db_table),
        connection.ops.quote_name(model._meta.pk.column),
    )


# Rows written so far in this transaction, in every table but the sessions' (a message to the user
# may be kept there): PostgreSQL counts each insert, update and delete, even one a savepoint undid.
WRITES_SQL = """
    SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables
    WHERE relname <> 'django_session'
"""


def _outside_sql(world) -> str:
    """One query that hashes the outside area's rows and what hangs off them (their pledges'
    events, deliveries and mails, their history): what an area officer must not change."""
    out = world.outside
    rows = {*out.objects.values(), out.donor, out.open_pledge}
    parts = []
    for obj in rows:
        table, pk = _table(type(obj))
        parts.append(
            f"SELECT '{type(obj).__name__}', md5(t::text) FROM {table} t WHERE t.{pk} = {obj.pk}"
        )
    pledges = f"SELECT id FROM {_table(Pledge)[0]} WHERE need_id = {out.need.pk}"
    for model in (PledgeEvent, Delivery, OutboundMail):
        table, pk = _table(model)
        parts.append(
            f"SELECT '{model.__name__}s', md5(coalesce(string_agg(t::text, ',' ORDER BY t.{pk}), '')) "
            f"FROM {table} t WHERE t.pledge_id IN ({pledges})"
        )
    for model in (Need, ContactPerson, Delivery):
        table, _pk = _table(model.history.model)
        parts.append(
            f"SELECT '{model.__name__} history', count(*)::text FROM {table} t "
            f"WHERE t.id = {out.objects[model].pk}"
        )
    return " UNION ALL ".join(parts)


def _row_sql(row) -> str:
    """One query that hashes `row` and counts its history: what a role that may not change it must
    leave alone, whichever page it posts to."""
    table, pk = _table(type(row))
    sql = f"SELECT md5(t::text) FROM {table} t WHERE t.{pk} = {row.pk}"
    history = getattr(type(row), "history", None)
    if history is not None:
        sql += (
            f" UNION ALL SELECT count(*)::text FROM {_table(history.model)[0]} WHERE id = {row.pk}"
        )
    return sql


def _may_change(user, row) -> bool:
    request = RequestFactory().post("/admin/")
    request.user = user
    model_admin = admin.site._registry[type(row)]
    return model_admin.has_change_permission(request, row) or model_admin.has_delete_permission(
        request, row
    )


def _fingerprint(sql: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _redirect_is_safe(response) -> bool:
    location = response.get("Location", "")
    return location.startswith("/admin/")


def _problems(role: Role, req: Request, method: str, response, secrets) -> list[str]:
    status = response.status_code
    where = f"{method} {req.label} [{req.target or '-'}] {req.url} → {status}"
    if status >= 500:
        return [f"{where}: server error"]
    problems = []
    answered = status == 200 or (status in (301, 302) and not _redirect_is_safe(response))
    if role.area_bound and req.target == "outside" and answered:
        problems.append(f"{where}: a row outside the area answered")
    if status in (301, 302):
        if "/komitmen/" in response.get("Location", ""):
            problems.append(f"{where}: redirects to a donor's private link")
        return problems
    body = _body(response)
    for token in secrets["tokens"]:
        if token in body:
            problems.append(f"{where}: shows a donor's private token")
    if role.area_bound and OUTSIDE in body:
        problems.append(f"{where}: names a row outside the area")
    if not role.sees_personal_data:
        shown = [marker for marker in secrets["personal"] if marker in body]
        if shown:
            problems.append(f"{where}: shows personal data {shown}")
    return problems


def _may_open(user, role: Role, req: Request) -> bool:
    """Whether `user` should see this row's change page: they may view the model, and the row is
    theirs (inside their area, or the admin is not scoped by area, or they see every area)."""
    model_admin = admin.site._registry[req.model]
    opts = req.model._meta
    if not (
        user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        or user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
    ):
        return False
    if not isinstance(model_admin, AreaScopedAdminMixin) or not role.area_bound:
        return True
    return req.target == "inside" and role.area is not None


def test_every_admin_path_holds_every_role_and_area(world):
    """One world and one pass per role; the superuser's forms are read once per URL."""
    bureau = Client(raise_request_exception=False)
    bureau.force_login(world.bureau)
    requests = all_requests(world)
    forms: dict[str, dict] = {}
    for req in requests:
        if "POST" in req.methods and req.post is None:
            with transaction.atomic():
                shown = bureau.get(req.url)
                assert shown.status_code < 500, (
                    f"GET {req.url} as a superuser → {shown.status_code}"
                )
                forms[req.url] = (
                    _form_data(_body(shown), req.url) if shown.status_code == 200 else {}
                )
                transaction.set_rollback(True)
    secrets = {
        "tokens": world.tokens(),
        "personal": world.inside.personal + world.outside.personal,
    }
    checks = {"writes": WRITES_SQL, "outside": _outside_sql(world)}
    problems: list[str] = []
    for role_name, role in ROLES.items():
        found, opened = _walk(world, role, world.users[role_name], requests, forms, secrets, checks)
        problems += [f"{role_name}: {problem}" for problem in found]
        if role_name != "officer_without_area":
            assert opened > 0, f"{role_name} opened none of its own rows"
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def _walk(world, role: Role, user, requests, forms, secrets, checks) -> tuple[list[str], int]:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    problems: list[str] = []
    opened = 0
    for req in requests:
        # A row this role may neither change nor delete (a delivery, for an area officer) stays as
        # it is, whatever page of it the role posts to.
        locked_row = req.row is not None and not _may_change(user, req.row)
        for method in req.methods:
            with transaction.atomic():
                before_all = _fingerprint(checks["writes"]) if role.writes_nothing else None
                before_out = _fingerprint(checks["outside"]) if role.area_bound else None
                before_row = _fingerprint(_row_sql(req.row)) if locked_row else None
                if method == "GET":
                    response = client.get(req.url)
                else:
                    response = client.post(
                        req.url, req.post if req.post is not None else forms[req.url]
                    )
                problems += _problems(role, req, method, response, secrets)
                if response.status_code < 500:
                    if role.writes_nothing and _fingerprint(checks["writes"]) != before_all:
                        problems.append(f"{method} {req.label} {req.url}: a read-only role wrote")
                    if role.area_bound and _fingerprint(checks["outside"]) != before_out:
                        problems.append(f"{method} {req.label} {req.url}: changed an outside row")
                    if locked_row and _fingerprint(_row_sql(req.row)) != before_row:
                        problems.append(f"{method} {req.label} {req.url}: changed a read-only row")
                own_row = req.label.endswith("_change") and req.row is not None
                if method == "GET" and own_row and _may_open(user, role, req):
                    opened += 1
                    if response.status_code != 200:
                        problems.append(f"GET {req.url}: its own row → {response.status_code}")
                transaction.set_rollback(True)
    return problems, opened


def test_a_new_admin_is_described_before_it_can_be_served(world):
    """Every registered admin's rows are reachable by the matrix: it has rows to open."""
    empty = [m._meta.label for m in admin.site._registry if not world.targets(m)]
    assert not empty, f"give these models a row in tests/admin_matrix/world.py: {empty}"


def test_the_matrix_holds_personal_data_markers_that_pages_really_carry(world, client):
    """The personal markers are what a permitted page shows, so their absence means something."""
    client.force_login(world.users["provincial"])
    page = client.get(f"/admin/donations/collaborator/{world.inside.anonymous_donor.pk}/change/")
    assert world.inside.anonymous_donor.email in page.content.decode()
    assert PersonalDataView.objects.filter(object_id=str(world.inside.anonymous_donor.pk)).exists()
    contact = world.inside.contact
    html = client.get(f"/admin/locations/contactperson/{contact.pk}/change/").content.decode()
    # The contact's form shows the e-mail, and the phone in the international format.
    shown = [contact.email, display(contact.phone)]
    assert all(marker in world.inside.personal and marker in html for marker in shown)
    assert Collaborator.objects.filter(public_name__startswith=OUTSIDE).exists()
