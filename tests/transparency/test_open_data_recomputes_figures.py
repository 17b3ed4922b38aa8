"""Every figure on the transparency page can be recomputed from the open-data downloads alone."""

import csv
import datetime
import io
import random
from collections import defaultdict

import pytest
from django.urls import reverse

from donations import services
from locations.models import Region
from needs.models import AidType
from tests import factories
from tests.helpers import schedule
from tests.transparency.test_transparency_figures import fixed_set
from transparency import figures


def download(client, name: str) -> list[dict]:
    response = client.get(reverse("transparency:open_data", args=[name, "csv"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[2:]]  # rows[1] is HXL


def recompute(client) -> dict:
    """The figures, from needs.csv, pledges.csv, deliveries.csv and collaborators.csv only."""
    needs, pledges = download(client, "needs"), download(client, "pledges")
    deliveries, people = download(client, "deliveries"), download(client, "collaborators")
    n = int
    reached = [r for r in needs if n(r["quantity_delivered"]) >= n(r["quantity_needed"])]
    counted = [r for r in pledges if r["counts_for_collaborators"] == "true"]

    refs = defaultdict(set)
    for r in people:
        refs["all"].add(r["collaborator_ref"])
        refs["cat", r["category"]].add(r["collaborator_ref"])
        refs["kind", r["collaborator_kind"]].add(r["collaborator_ref"])
        refs["kecamatan", r["kecamatan_code"]].add(r["collaborator_ref"])
        refs["kota", r["kota_code"]].add(r["collaborator_ref"])

    values = {
        (r["category"], r["aid_type"]): int(r["unit_value_idr"]) if r["unit_value_idr"] else None
        for r in download(client, "reference_values")
    }
    aid_types = defaultdict(lambda: defaultdict(int))
    categories = defaultdict(lambda: defaultdict(int))
    for r in needs:
        a, c = aid_types[r["category"], r["aid_type"]], categories[r["category"]]
        c["needs"] += 1
        a["needs"] += 1
        a["quantity_needed"] += n(r["quantity_needed"])
        a["quantity_delivered"] += n(r["quantity_delivered"])
        if r in reached:
            c["beneficiaries_reached"] += n(r["beneficiaries"])
    for r in counted:
        categories[r["category"]]["pledges"] += 1
        aid_types[r["category"], r["aid_type"]]["quantity_pledged"] += n(r["quantity"])
    for r in deliveries:
        categories[r["category"]]["deliveries"] += 1
        if r["verified"] == "true":
            aid_types[r["category"], r["aid_type"]]["quantity_verified"] += n(r["quantity"])
    for slug, c in categories.items():
        c["collaborators"] = len(refs["cat", slug])
    totals = defaultdict(int)
    for (slug, name), a in aid_types.items():
        value = a["unit_value"] = values[slug, name]
        a["value_verified"] = None if value is None else a["quantity_verified"] * value
        for into in (categories[slug], totals):
            into["aid_types_without_estimate"] += value is None
            into["needs_without_estimate"] += a["needs"] if value is None else 0
        for key in ("needed", "pledged", "delivered"):
            a[f"value_{key}"] = None if value is None else a[f"quantity_{key}"] * value
            for into in (categories[slug], totals):
                # Estimated only from aid types with a value; none at all: no estimate (None).
                if value is not None:
                    into[f"value_{key}"] = (into.get(f"value_{key}") or 0) + a[f"value_{key}"]
                else:
                    into.setdefault(f"value_{key}", None)

    by_status = defaultdict(lambda: [0, 0, 0])
    for r in pledges:
        s = by_status[r["category"], r["aid_type"], r["status"]]
        s[0] += 1
        s[1] += n(r["quantity"])
        s[2] += n(r["quantity_delivered"])

    regions = {}
    for level in ("kota", "kecamatan"):
        rows = defaultdict(lambda: defaultdict(int))
        for r in needs:
            row = rows[r[f"{level}_code"]]
            row["needs"] += 1
            row["beneficiaries"] += n(r["beneficiaries"])
            row["beneficiaries_reached"] += n(r["beneficiaries"]) if r in reached else 0
        for r in counted:
            rows[r[f"{level}_code"]]["pledges"] += 1
        for r in deliveries:
            rows[r[f"{level}_code"]]["deliveries"] += 1
        for code, row in rows.items():
            row["collaborators"] = len(refs[level, code])
        regions[level] = rows

    return {
        "collaborators": len(refs["all"]),
        "pledges": len(counted),
        "deliveries": len(deliveries),
        "needs": len(needs),
        "beneficiaries": sum(n(r["beneficiaries"]) for r in needs),
        "needs_delivered": len(reached),
        "beneficiaries_reached": sum(n(r["beneficiaries"]) for r in reached),
        **totals,
        "categories": categories,
        "aid_types": aid_types,
        "by_status": by_status,
        "by_kind": {k[1]: len(v) for k, v in refs.items() if k[0] == "kind"},
        "regions": regions,
    }


def assert_page_figures_match(client):
    page, mine = figures.figures(), recompute(client)
    for key in (
        "collaborators",
        "pledges",
        "deliveries",
        "needs",
        "beneficiaries",
        "needs_delivered",
        "beneficiaries_reached",
        "value_needed",
        "value_pledged",
        "value_delivered",
        "aid_types_without_estimate",
        "needs_without_estimate",
    ):
        assert page[key] == mine[key], key
    for c in page["by_category"]:
        for key, value in c.items():
            if key not in ("slug", "name", "color"):
                assert mine["categories"][c["slug"]][key] == value, (c["slug"], key)
    for a in page["by_aid_type"]:
        for key, value in a.items():
            if key not in ("category", "aid_type", "unit"):
                assert mine["aid_types"][a["category"], a["aid_type"]][key] == value, (a, key)
    assert {
        (s["category"], s["aid_type"], s["status"]): [
            s["pledges"],
            s["quantity"],
            s["quantity_delivered"],
        ]
        for s in page["by_status"]
    } == dict(mine["by_status"])
    assert {k["kind"]: k["collaborators"] for k in page["by_kind"]} == mine["by_kind"]
    for level in ("kota", "kecamatan"):
        for row in page[f"by_{level}"]:
            for key in (
                "needs",
                "beneficiaries",
                "beneficiaries_reached",
                "collaborators",
                "pledges",
                "deliveries",
            ):
                assert mine["regions"][level][row["code"]][key] == row[key], (
                    level,
                    row["code"],
                    key,
                )
    # ...and the totals download says what the page says.
    totals = {
        (r["figure"], r["category"], r["aid_type"], r["status"], r["region_code"]): r["value"]
        for r in download(client, "totals")
    }
    for key in ("collaborators", "beneficiaries_reached", "value_delivered"):
        assert totals[key, "", "", "", ""] == str(mine[key] if mine[key] is not None else ""), key
    for (slug, name), a in mine["aid_types"].items():
        # No reference value: an empty cell ("no estimate"), never 0.
        expected = "" if a["unit_value"] is None else str(a["value_delivered"])
        assert totals["aid_type_value_delivered", slug, name, "", ""] == expected


def test_the_fixed_set_recomputes(client, jakarta, province_staff):
    fixed_set(province_staff)
    assert_page_figures_match(client)


def random_set(staff, seed: int) -> None:
    """Needs in random places and categories; collaborators of every kind, some anonymous; pledges
    that stay, confirm, get delivered in part or whole, or leave the flow (some after a delivery);
    deliveries that their recipients confirm or dispute, that a second staff member checks, or
    neither."""
    rng = random.Random(seed)
    checker = factories.UserFactory(username="pemeriksa", is_staff=True)
    kelurahan = list(Region.objects.kelurahan().order_by("code")[::11])
    aid_types = list(AidType.objects.order_by("pk"))
    for aid_type in aid_types[::2]:  # the others have no reference value: "no estimate"
        aid_type.unit_value = rng.choice([15_000, 250_000, 3_500_000])
        aid_type.unit_value_source, aid_type.unit_value_set_on = "Uji", datetime.date(2020, 5, 1)
        aid_type.save()
    needs = [
        factories.NeedFactory(
            site=factories.SiteFactory(kelurahan=rng.choice(kelurahan)),
            aid_type=rng.choice(aid_types),
            quantity_needed=rng.randint(5, 60),
            beneficiaries=rng.randint(1, 200),
        )
        for _ in range(12)
    ]
    kinds = [
        "individual",
        "company",
        "humanitarian",
        "fintech",
        "community",
        "state_owned",
        "other",
    ]
    people = [
        factories.CollaboratorFactory(kind=rng.choice(kinds), is_anonymous=rng.random() < 0.3)
        for _ in range(15)
    ]
    actor, opd = services.Actor.staff(staff), factories.OpdFactory()
    for _ in range(40):
        need = rng.choice(needs)
        need.refresh_from_db()
        if need.quantity_remaining < 1:
            continue
        pledge = services.pledge(
            need=need,
            collaborator=rng.choice(people),
            quantity=rng.randint(1, need.quantity_remaining),
        )
        fate = rng.choice(["stay", "confirm", "cancel", "part", "whole", "part_then_cancel"])
        if fate == "cancel":
            services.cancel(pledge)
        elif fate == "confirm":
            services.transition(pledge, "confirmed", actor=actor)
        elif fate in ("part", "whole", "part_then_cancel"):
            schedule(pledge, staff)
            qty = pledge.quantity if fate == "whole" else max(1, pledge.quantity // 2)
            if qty < pledge.quantity or fate == "whole":
                delivery = services.record_delivery(
                    pledge,
                    quantity=qty,
                    delivered_on=datetime.date(2020, rng.randint(9, 12), rng.randint(1, 28)),
                    opd=opd,
                    actor=actor,
                )
                verified_by = rng.choice(["nobody", "recipients", "checker"])
                if verified_by == "checker":
                    services.check_delivery(delivery, by=checker)
                elif verified_by == "recipients":
                    services.record_receipt(
                        delivery,
                        contact=None,
                        outcome=rng.choice(["received", "not_received"]),
                        quantity_received=None,
                        received_by="Bu Wati",
                        note="catatan",
                    )
            if fate == "part_then_cancel" and qty < pledge.quantity:
                services.cancel(pledge, actor=actor)


@pytest.mark.parametrize("seed", [2020, 26])
def test_a_random_set_recomputes(client, jakarta, province_staff, seed):
    random_set(province_staff, seed)
    assert_page_figures_match(client)
