"""`as_of`: the figures as they stood at the end of a day, Jakarta time, from recorded timestamps."""

import datetime
import zoneinfo

import pytest

from donations.models import Delivery, Pledge, PledgeEvent
from needs.models import Need
from tests.transparency.test_transparency_figures import fixed_set
from transparency import figures

JKT = zoneinfo.ZoneInfo("Asia/Jakarta")


def at(day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2020, 10, day, hour, minute, tzinfo=JKT)


@pytest.fixture
def data(jakarta, province_staff):
    """The fixed set, back-dated: needs on 1 Oct; PT Dua Kategori pledges on 20 Oct; Human Initiative
    on 25 Oct, scheduled on 26 Oct, deliveries on 27 and 28 Oct; Budi pledges at 23:30 on 26 Oct and
    cancels at 00:30 on 27 Oct; Dana Fintech pledges on 29 Oct."""
    d = fixed_set(province_staff)
    p = d["pledges"]
    Need.objects.update(created_at=at(1))
    for key, day in (("two_a", at(20)), ("two_b", at(20)), ("hi", at(25)), ("fin", at(29))):
        Pledge.objects.filter(pk=p[key].pk).update(created_at=day)
        PledgeEvent.objects.filter(pledge=p[key]).update(at=day)
    PledgeEvent.objects.filter(pledge=p["hi"], to_status__in=["confirmed", "scheduled"]).update(
        at=at(26)
    )
    PledgeEvent.objects.filter(pledge=p["hi"], quantity=20).update(at=at(27))
    PledgeEvent.objects.filter(pledge=p["hi"], quantity=30).update(at=at(28))
    Pledge.objects.filter(pk=p["anon"].pk).update(created_at=at(26, 23, 30))
    PledgeEvent.objects.filter(pledge=p["anon"], to_status="submitted").update(at=at(26, 23, 30))
    PledgeEvent.objects.filter(pledge=p["anon"], to_status="cancelled").update(at=at(27, 0, 30))
    assert Delivery.objects.count() == 2
    return d


def day(n: int) -> datetime.date:
    return datetime.date(2020, 10, n)


def test_before_anything_was_pledged_there_is_nothing(data):
    f = figures.compute(day(19))
    assert (f["collaborators"], f["pledges"], f["deliveries"]) == (0, 0, 0)
    assert f["needs"] == 3


def test_a_pledge_made_late_that_day_in_jakarta_counts_for_that_day(data):
    f = figures.compute(day(26))
    # PT Dua Kategori, Human Initiative (scheduled) and the anonymous donor (not yet cancelled).
    assert f["collaborators"] == 3
    assert {r["kind"]: r["collaborators"] for r in f["by_kind"]} == {
        "company": 1,
        "humanitarian": 1,
        "individual": 1,
    }
    statuses = {(r["category"], r["status"]): r["pledges"] for r in f["by_status"]}
    assert statuses == {
        ("pangan", "submitted"): 2,
        ("pangan", "scheduled"): 1,
        ("umkm", "submitted"): 1,
    }
    assert f["deliveries"] == 0 and f["beneficiaries_reached"] == 0


def test_a_cancellation_after_midnight_in_jakarta_counts_the_next_day(data):
    f = figures.compute(day(27))
    assert f["collaborators"] == 2
    assert f["deliveries"] == 1
    sembako = next(a for a in f["by_aid_type"] if a["aid_type"] == "Paket sembako")
    assert sembako["quantity_delivered"] == 20
    assert f["beneficiaries_reached"] == 0  # 20 of 50 delivered


def test_deliveries_count_by_their_date(data):
    f = figures.compute(day(28))
    assert f["deliveries"] == 2
    assert f["beneficiaries_reached"] == 40
    statuses = {(r["category"], r["status"]): r["pledges"] for r in f["by_status"]}
    assert statuses[("pangan", "delivered")] == 1
    assert ("umkm", "confirmed") not in statuses  # Dana Fintech pledged on the 29th


def test_today_and_a_date_after_the_last_change_agree(data):
    now = figures.compute()
    then = figures.compute(day(30))
    for key in (
        "collaborators",
        "pledges",
        "deliveries",
        "beneficiaries_reached",
        "by_status",
        "by_kind",
        "by_category",
        "by_kota",
        "by_kecamatan",
    ):
        assert now[key] == then[key], key
