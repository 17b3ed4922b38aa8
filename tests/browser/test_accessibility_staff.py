"""The staff pages with templates of the portal's own (templates/admin/) pass axe-core at WCAG 2.1 AA
with zero violations, at desktop and phone width, in Indonesian and English (tests/browser/axe.py):
the admin's home, the pledge queue and a pledge, an action's form, recording a delivery, the
dashboard, the needs list and a need, a need's past version, and the needs import with its preview.

Which templates those are is read from the tree, so a new custom template without a page here
fails the last test."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from donations import services
from tests import factories
from tests.browser.axe import assert_clean, check_everywhere
from tests.helpers import schedule
from tests.needs.test_import_needs import ROW, write_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "admin"


@pytest.fixture
def world(live_gambir, live_server, settings, tmp_path):
    """A member of the provincial staff signed in, a scheduled pledge, a need with a past version."""
    settings.MEDIA_ROOT = tmp_path
    factories.seed_staff_groups()
    staff = factories.UserFactory(username="biro.provinsi", is_staff=True)
    staff.groups.add(Group.objects.get(name="Provincial staff"))
    need = factories.NeedFactory(title="Paket sembako RW 05 Gambir", quantity_needed=100)
    from needs import services as need_services

    need_services.update(need, by=staff, reason="Jumlah warga diperbarui", quantity_needed=120)
    donor = factories.CollaboratorFactory(public_name="Koperasi Sejahtera")
    pledge = schedule(services.pledge(need=need, collaborator=donor, quantity=40), by=staff)
    factories.OpdFactory(name="Kantor Kelurahan Gambir", kind="kelurahan")
    client = Client()
    client.force_login(staff)
    cookie = {
        "name": "sessionid",
        "value": client.cookies["sessionid"].value,
        "url": live_server.url,
    }
    version = need.history.order_by("-history_id").first().history_id
    return {"need": need, "pledge": pledge, "cookie": cookie, "version": version, "tmp": tmp_path}


def _action(name: str):
    def ready(page):
        page.locator('input[name="_selected_action"]').first.check()
        page.locator('select[name="action"]').select_option(name)
        page.locator('button[name="index"]').first.click()
        expect(page.locator('input[name="apply"]')).to_be_attached()

    return ready


def _preview(folder):
    path = folder / "kebutuhan.csv"
    write_csv(path, [ROW, {**ROW, "external_ref": "DKI-002", "quantity": "0"}], delimiter=";")

    def ready(page):
        page.locator("input[type=file]").set_input_files(str(path))
        page.locator("form [type=submit]").last.click()
        expect(page.get_by_test_id("import-summary")).to_be_visible()

    return ready


PAGES = {
    "admin home": ("admin:index", (), None, "admin/index.html"),
    "pledge queue": (
        "admin:donations_pledge_changelist",
        (),
        None,
        "admin/donations/pledge/change_list.html",
    ),
    "a pledge": (
        "admin:donations_pledge_change",
        ("pledge",),
        None,
        "admin/donations/pledge/change_form.html",
    ),
    "an action's form": (
        "admin:donations_pledge_changelist",
        (),
        lambda world: _action("schedule_pledges"),
        "admin/ksbb_action_form.html",
    ),
    "recording a delivery": (
        "admin:donations_pledge_deliver",
        ("pledge",),
        None,
        "admin/donations/pledge/deliver.html",
    ),
    "dashboard": (
        "admin:donations_pledge_dashboard",
        (),
        None,
        "admin/donations/pledge/dashboard.html",
    ),
    "needs": ("admin:needs_need_changelist", (), None, "admin/needs/need/change_list.html"),
    "a need": ("admin:needs_need_change", ("need",), None, "admin/needs/need/change_form.html"),
    "a need's past version": (
        "admin:needs_need_simple_history",
        ("need", "version"),
        None,
        "admin/ksbb_history_version.html",
    ),
    "needs import": ("admin:needs_need_import", (), None, "admin/needs/need/import.html"),
    "needs import preview": (
        "admin:needs_need_import",
        (),
        lambda world: _preview(world["tmp"]),
        "admin/needs/need/import_preview.html",
    ),
}
# Included by, or the base of, the pages above: not pages of their own.
PARTIALS = {"admin/needs/need/_action_button.html", "admin/base_site.html"}


@pytest.mark.parametrize("name", list(PAGES))
def test_the_staff_page_has_no_accessibility_violation(name, world, live_server, browser):
    url_name, args, ready, _template = PAGES[name]
    values = [world[a].pk if hasattr(world[a], "pk") else world[a] for a in args]
    path = reverse(url_name, args=values)
    found = check_everywhere(
        browser,
        live_server.url,
        path,
        cookies=(world["cookie"],),
        ready=ready(world) if ready else None,
    )
    assert_clean(found)


def test_every_custom_staff_template_is_checked():
    templates = {str(p.relative_to(TEMPLATES.parent)) for p in TEMPLATES.rglob("*.html")} - PARTIALS
    assert templates == {page[3] for page in PAGES.values()}
