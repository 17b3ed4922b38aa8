"""A small city of real data for the hostile-input tests: what an attacker would find to poke at."""

import datetime
from dataclasses import dataclass, field

import pytest
from django.contrib.gis.geos import Point

from donations import services
from donations.models import Pledge
from locations.models import Region, Site
from needs.models import AidType, Need
from tests import factories
from tests.helpers import schedule


@dataclass
class City:
    needs: dict[str, Need] = field(default_factory=dict)
    pledges: dict[str, Pledge] = field(default_factory=dict)


@pytest.fixture
def city(gambir, province_staff, donor, anonymous_donor):
    """Sites in two kota (an RW, a school, a kampung), needs of all four categories in every status
    and an unpublished one, and pledges at every stage: submitted, scheduled with a partial
    delivery, delivered, cancelled."""
    rw = factories.SiteFactory(name="RW 01", address="Jl. Gambir 1")
    school = factories.SiteFactory(
        name="SDN Cideng 01",
        kind=Site.Kind.SCHOOL,
        kelurahan=Region.objects.get(code="31.71.01.1002"),
        point=Point(106.81, -6.175, srid=4326),
    )
    kampung = factories.SiteFactory(
        name="Kampung Akuarium",
        kind=Site.Kind.KAMPUNG,
        kelurahan=Region.objects.get(code="31.72.01.1001"),
        point=Point(106.8075, -6.1255, srid=4326),
    )
    aid = {name: AidType.objects.get(name=name) for name in AID_TYPES}
    world = City()
    make = factories.NeedFactory
    world.needs = {
        "open": make(site=rw, aid_type=aid["Paket sembako"], title="Sembako warga RW 01"),
        "gawai": make(site=school, aid_type=aid["Gawai belajar"], title="Gawai untuk murid"),
        "drainase": make(site=kampung, aid_type=aid["Perbaikan drainase"], quantity_needed=3),
        "umkm": make(site=kampung, aid_type=aid["Pelatihan daring"], quantity_needed=20),
        "full": make(site=rw, aid_type=aid["Paket sembako"], quantity_needed=10),
        "delivered": make(site=school, aid_type=aid["Gawai belajar"], quantity_needed=5),
        "closed": make(site=rw, aid_type=aid["Paket sembako"], is_closed=True),
        "hidden": make(site=rw, aid_type=aid["Paket sembako"], published=False),
    }
    needs = world.needs
    world.pledges["submitted"] = services.pledge(
        need=needs["open"], collaborator=donor, quantity=30, message="Semoga bermanfaat"
    )
    world.pledges["full"] = services.pledge(need=needs["full"], collaborator=donor, quantity=10)
    scheduled = schedule(
        services.pledge(need=needs["gawai"], collaborator=anonymous_donor, quantity=40),
        by=province_staff,
    )
    staff = services.Actor.staff(province_staff)
    services.record_delivery(
        scheduled,
        quantity=15,
        delivered_on=datetime.date(2020, 10, 28),
        opd=factories.OpdFactory(),
        actor=staff,
        note="Diterima Ketua RW",
    )
    world.pledges["scheduled"] = scheduled
    done = schedule(
        services.pledge(need=needs["delivered"], collaborator=donor, quantity=5), by=province_staff
    )
    services.record_delivery(
        done,
        quantity=5,
        delivered_on=datetime.date(2020, 10, 29),
        opd=factories.OpdFactory(),
        actor=staff,
    )
    world.pledges["delivered"] = done
    world.pledges["cancelled"] = services.cancel(
        services.pledge(need=needs["umkm"], collaborator=donor, quantity=5), reason="Salah pilih"
    )
    for key, pledge in world.pledges.items():
        world.pledges[key] = Pledge.objects.get(pk=pledge.pk)
    return world


AID_TYPES = ["Paket sembako", "Gawai belajar", "Perbaikan drainase", "Pelatihan daring"]


def pytest_collection_modifyitems(items):
    """schemathesis (4.x, under pytest 9) gives every operation's test the same node id. Run alone
    that only blurs the report; split over processes (xdist), which tells tests apart by node id,
    all but one operation went unfuzzed. Each gets its operation in its id."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and not item.nodeid.endswith(f"[{label}]"):
            # pytest 9 builds a node id from its structured form (a NodeId), not from the name.
            item._id = item._id.with_params(label)
