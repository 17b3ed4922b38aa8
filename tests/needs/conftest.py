"""Needs spread across Jakarta, shared by the filter, API and page tests."""

import pytest
from django.contrib.gis.geos import Point

from donations import services
from locations.models import Region, Site
from needs.models import AidType
from tests import factories


@pytest.fixture
def spread(jakarta, donor):
    """Needs across kota, categories, site kinds and statuses."""
    gambir = factories.SiteFactory(name="RW 01")  # Jakarta Pusat › Gambir › Gambir
    penjaringan = factories.SiteFactory(
        name="Kampung Akuarium",
        kind=Site.Kind.KAMPUNG,
        kelurahan=Region.objects.get(code="31.72.01.1001"),
        point=Point(106.8075, -6.1255, srid=4326),
    )
    school = factories.SiteFactory(
        name="SDN Cideng 01",
        kind=Site.Kind.SCHOOL,
        kelurahan=Region.objects.get(code="31.71.01.1002"),
        point=Point(106.81, -6.175, srid=4326),
    )
    sembako = AidType.objects.get(name="Paket sembako")
    gawai = AidType.objects.get(name="Gawai belajar")
    drainase = AidType.objects.get(name="Perbaikan drainase")
    needs = {
        "sembako_gambir": factories.NeedFactory(
            site=gambir, aid_type=sembako, title="Sembako warga RW 01"
        ),
        "gawai_cideng": factories.NeedFactory(
            site=school, aid_type=gawai, title="Gawai untuk murid"
        ),
        "drainase_akuarium": factories.NeedFactory(
            site=penjaringan, aid_type=drainase, title="Drainase kampung"
        ),
        "full_gambir": factories.NeedFactory(
            site=gambir, aid_type=sembako, title="Sembako lansia", quantity_needed=10
        ),
        "partly_gambir": factories.NeedFactory(
            site=gambir, aid_type=sembako, title="Makan siang", quantity_needed=10
        ),
        "hidden": factories.NeedFactory(
            site=gambir, aid_type=sembako, title="Draf", published=False
        ),
    }
    services.pledge(need=needs["full_gambir"], collaborator=donor, quantity=10)
    services.pledge(need=needs["partly_gambir"], collaborator=donor, quantity=4)
    return needs
