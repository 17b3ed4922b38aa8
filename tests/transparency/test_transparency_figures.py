"""The transparency figures against hand-computed expectations on a small fixed data set.

The data set (`fixed_set`) goes through donations.services, as the portal's own flows do; the other
transparency and open-data tests import it.
"""

import datetime

import pytest

from donations import services
from donations.models import Collaborator
from locations.models import Region
from needs.models import AidType
from tests import factories
from tests.helpers import schedule
from transparency import figures

OTHER_KELURAHAN = "31.72.01.1001"  # in Jakarta Utara, another kota and kecamatan than Gambir


def fixed_set(staff) -> dict:
    """Three needs, four collaborators, five pledges, two deliveries.

    - Need A (Pangan, Gambir, 100 needed, 100 beneficiaries); need C (Pangan, Gambir, 50, 40);
      need B (UMKM, Jakarta Utara, 10, 10).
    - PT Dua Kategori (company, +62 811 1111 1111) pledges 30 to A and 5 to B: it counts in both
      categories, once in the total.
    - Human Initiative (humanitarian) pledges 50 to C, delivered in two hand-overs (20, 30): C is
      fully delivered, its 40 beneficiaries are reached.
    - Budi Rahasia (anonymous individual) pledges 20 to A and cancels: not counted.
    - Dana Fintech (fintech) pledges 5 to B, confirmed.
    """
    pangan = AidType.objects.get(category__slug="pangan", name="Paket sembako")
    umkm = AidType.objects.get(category__slug="umkm", name="Pelatihan daring")
    gambir = factories.SiteFactory(name="RW 01 Gambir")
    utara = factories.SiteFactory(
        name="Loksem Utara", kind="loksem", kelurahan=Region.objects.get(code=OTHER_KELURAHAN)
    )
    a = factories.NeedFactory(site=gambir, aid_type=pangan, quantity_needed=100, beneficiaries=100)
    c = factories.NeedFactory(site=gambir, aid_type=pangan, quantity_needed=50, beneficiaries=40)
    b = factories.NeedFactory(site=utara, aid_type=umkm, quantity_needed=10, beneficiaries=10)
    two = factories.CollaboratorFactory(
        public_name="PT Dua Kategori", email="csr@duakategori.test", phone="+62 811 1111 1111"
    )
    hi = factories.CollaboratorFactory(
        public_name="Human Initiative", kind="humanitarian", email="halo@hi.test"
    )
    anon = factories.CollaboratorFactory(
        public_name="Budi Rahasia",
        kind="individual",
        email="budi.rahasia@example.test",
        phone="+62 812 9999 0000",
        is_anonymous=True,
    )
    fin = factories.CollaboratorFactory(
        public_name="Dana Fintech", kind="fintech", email="ops@danafintech.test"
    )
    actor = services.Actor.staff(staff)
    opd = factories.OpdFactory()
    p_two_a = services.pledge(need=a, collaborator=two, quantity=30)
    p_two_b = services.pledge(need=b, collaborator=two, quantity=5)
    p_hi = services.pledge(need=c, collaborator=hi, quantity=50)
    schedule(p_hi, staff)
    d1 = services.record_delivery(
        p_hi, quantity=20, delivered_on=datetime.date(2020, 10, 27), opd=opd, actor=actor
    )
    d2 = services.record_delivery(
        p_hi, quantity=30, delivered_on=datetime.date(2020, 10, 28), opd=opd, actor=actor
    )
    p_anon = services.pledge(need=a, collaborator=anon, quantity=20)
    services.cancel(p_anon)
    p_fin = services.pledge(need=b, collaborator=fin, quantity=5)
    services.transition(p_fin, "confirmed", actor=actor)
    return {
        "needs": {"a": a, "b": b, "c": c},
        "collaborators": {"two": two, "hi": hi, "anon": anon, "fin": fin},
        "pledges": {"two_a": p_two_a, "two_b": p_two_b, "hi": p_hi, "anon": p_anon, "fin": p_fin},
        "deliveries": [d1, d2],
    }


@pytest.fixture
def data(jakarta, province_staff):
    return fixed_set(province_staff)


def by(rows, key, value):
    return next(r for r in rows if r[key] == value)


def test_a_collaborator_counts_once_in_the_total_and_once_per_category(data):
    f = figures.compute()
    assert f["collaborators"] == 3  # PT Dua Kategori, Human Initiative, Dana Fintech
    assert by(f["by_category"], "slug", "pangan")["collaborators"] == 2
    assert by(f["by_category"], "slug", "umkm")["collaborators"] == 2
    assert sum(c["collaborators"] for c in f["by_category"]) == 4  # more than the total


def test_a_cancelled_pledge_with_nothing_delivered_does_not_count(data):
    f = figures.compute()
    assert f["pledges"] == 4
    kinds = {r["kind"]: r["collaborators"] for r in f["by_kind"]}
    assert kinds == {"company": 1, "humanitarian": 1, "fintech": 1}


def test_pledges_and_quantities_per_category_and_status(data):
    rows = {
        (r["category"], r["status"]): (r["pledges"], r["quantity"], r["unit"])
        for r in figures.compute()["by_status"]
    }
    assert rows == {
        ("pangan", "submitted"): (1, 30, "paket"),
        ("pangan", "delivered"): (1, 50, "paket"),
        ("pangan", "cancelled"): (1, 20, "paket"),
        ("umkm", "submitted"): (1, 5, "orang"),
        ("umkm", "confirmed"): (1, 5, "orang"),
    }
    f = figures.compute()
    pangan = by(f["by_category"], "slug", "pangan")
    assert (pangan["pledges"], pangan["needs"], pangan["deliveries"]) == (2, 2, 2)
    assert "quantity_pledged" not in pangan  # a category's aid types differ in unit
    sembako = by(f["by_aid_type"], "aid_type", "Paket sembako")
    assert (sembako["quantity_needed"], sembako["quantity_pledged"]) == (150, 80)
    assert (sembako["quantity_delivered"], sembako["unit"]) == (50, "paket")


def test_aid_of_different_units_is_summed_only_as_an_estimated_value(data):
    AidType.objects.filter(name="Paket sembako").update(
        unit_value=250_000, unit_value_source="Harga pasar", unit_value_set_on="2020-05-01"
    )
    f = figures.compute()
    sembako = by(f["by_aid_type"], "aid_type", "Paket sembako")
    assert (sembako["unit_value"], sembako["value_delivered"]) == (250_000, 50 * 250_000)
    assert by(f["by_category"], "slug", "pangan")["value_delivered"] == 50 * 250_000
    # UMKM's training has no reference value: no estimate, never Rp 0, and counted apart.
    umkm = by(f["by_category"], "slug", "umkm")
    assert (umkm["value_delivered"], umkm["needs_without_estimate"]) == (None, 1)
    training = by(f["by_aid_type"], "aid_type", "Pelatihan daring")
    assert training["value_needed"] is None
    assert (f["value_delivered"], f["needs_without_estimate"]) == (50 * 250_000, 1)
    assert f["aid_types_without_estimate"] == 1


def test_deliveries_and_beneficiaries_reached(data):
    f = figures.compute()
    assert f["deliveries"] == 2
    assert f["needs_delivered"] == 1
    assert f["beneficiaries_reached"] == 40  # only need C was wholly delivered
    assert f["needs"] == 3 and f["beneficiaries"] == 150


def test_breakdown_per_kota_and_kecamatan(data):
    f = figures.compute()
    gambir = by(f["by_kecamatan"], "code", "31.71.01")
    assert (gambir["needs"], gambir["collaborators"], gambir["pledges"], gambir["deliveries"]) == (
        2,
        2,
        2,
        2,
    )
    assert (gambir["beneficiaries"], gambir["beneficiaries_reached"]) == (140, 40)
    utara = by(f["by_kota"], "code", "31.72")
    assert (utara["needs"], utara["collaborators"], utara["pledges"], utara["deliveries"]) == (
        1,
        2,
        2,
        0,
    )
    assert {r["code"] for r in f["by_kota"]} == {"31.71", "31.72"}


def test_the_timeline_ends_at_the_totals(data):
    f = figures.compute()
    assert f["timeline"][-1]["collaborators"] == 3
    assert f["timeline"][-1]["deliveries_total"] == 2
    assert {"2020-10"} <= {m["month"] for m in f["timeline"]}  # the deliveries' month


def test_an_unpublished_need_leaves_every_figure(data):
    data["needs"]["b"].__class__.objects.filter(pk=data["needs"]["b"].pk).update(published=False)
    f = figures.compute()
    assert f["collaborators"] == 2
    assert by(f["by_category"], "slug", "pangan")["collaborators"] == 2
    assert [c["slug"] for c in f["by_category"]] == ["pangan"]
    assert not Collaborator.objects.filter(pk__in=[]).exists()
