"""One public truth: the home page, the transparency page and totals.json give the same figures on
the same data, because all three read transparency.figures. The data mixes what each could count
differently: cancelled, rejected and expired pledges, an unpublished need with a pledge, a closed
need."""

import json

import pytest
from django.urls import reverse

from donations import services
from needs.models import AidType, Need
from tests import factories
from tests.transparency.test_transparency_figures import fixed_set


@pytest.fixture
def mixed(jakarta, province_staff):
    """fixed_set (3 counting collaborators; Budi cancelled), plus one donor each rejected, expired
    and pledged to a need that was then unpublished, and a closed need."""
    fixed_set(province_staff)
    staff = services.Actor.staff(province_staff)
    site = factories.SiteFactory(name="RW 09 Gambir")
    aid = AidType.objects.get(category__slug="pangan", name="Paket sembako")
    need = factories.NeedFactory(site=site, aid_type=aid, quantity_needed=60)
    rejected = services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=5)
    services.transition(rejected, "rejected", actor=staff, reason="Ganda")
    expired = services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=5)
    services.expire_early(expired, actor=staff, reason="Tidak ada kabar")
    hidden = factories.NeedFactory(site=site, aid_type=aid, quantity_needed=10)
    services.pledge(need=hidden, collaborator=factories.CollaboratorFactory(), quantity=2)
    Need.objects.filter(pk=hidden.pk).update(published=False)
    factories.NeedFactory(site=site, aid_type=aid, quantity_needed=7, is_closed=True)
    aid.unit_value, aid.unit_value_source, aid.unit_value_set_on = 250_000, "Uji", "2020-05-01"
    aid.save()


def _totals(client) -> dict:
    """totals.json's headline figures (the rows with no category, status, kind or region)."""
    url = reverse("transparency:open_data", args=["totals", "json"])
    rows = json.loads(client.get(url).content)["rows"]
    keys = ("category", "status", "collaborator_kind", "region_code")
    return {r["figure"]: r["value"] for r in rows if not any(r[k] for k in keys)}


def test_home_transparency_and_totals_agree(client, mixed):
    client.cookies["django_language"] = "en"
    home = client.get(reverse("home")).context
    page = client.get(reverse("transparency:transparency")).context["figures"]
    totals = _totals(client)
    assert home["collaborators"] == page["collaborators"] == totals["collaborators"] == 3
    assert home["needs_total"] == page["needs"] == totals["needs"]
    assert home["needs_open"] == page["needs_open"] == totals["needs_open"]
    assert home["value_delivered"] == page["value_delivered"] == totals["value_delivered"]
    assert home["value_delivered"] == 50 * 250_000
    assert home["needs_without_estimate"] == page["needs_without_estimate"] == 1  # UMKM's
    assert [(r["aid_type"], r["unit"], r["quantity_delivered"]) for r in home["delivered"]] == [
        (r["aid_type"], r["unit"], r["quantity_delivered"])
        for r in page["by_aid_type"]
        if r["quantity_delivered"]
    ]


def test_the_home_page_never_adds_quantities_of_different_units(client, mixed):
    client.cookies["django_language"] = "en"
    html = client.get(reverse("home")).content.decode()
    assert "Aid delivered (units)" not in html
    home = client.get(reverse("home")).context
    assert home["delivered"], "fixed_set delivers 50 paket"
    assert {(r["aid_type"], r["unit"]) for r in home["delivered"]} == {("Paket sembako", "paket")}


@pytest.mark.parametrize("language, written", [("id", "Rp 12.500.000"), ("en", "Rp 12,500,000")])
def test_figures_are_written_as_the_reader_writes_numbers(client, mixed, language, written):
    client.cookies["django_language"] = language
    for page in ("home", "transparency:transparency"):
        html = client.get(reverse(page)).content.decode()
        assert written in html, page
    # Downloads stay machine-readable.
    assert _totals(client)["value_delivered"] == 12_500_000


def test_without_any_reference_value_the_pages_say_no_estimate_not_rp_0(client, mixed):
    AidType.objects.update(unit_value=None, unit_value_source="", unit_value_set_on=None)
    client.cookies["django_language"] = "en"
    home = client.get(reverse("home")).content.decode()
    page = client.get(reverse("transparency:transparency")).content.decode()
    assert "Rp None" not in home + page and "Rp 0" not in home + page
    assert "Worth an estimated" not in home
    assert "no estimate" in page
    assert _totals(client)["value_delivered"] is None  # an empty cell, never 0
