"""The places and helpers the alerts tests share."""

import datetime

import pytest

from alerts import services
from locations.models import Region
from needs import services as need_services
from tests import factories

GAMBIR = "31.71.01.1001"  # kelurahan Gambir, in kecamatan Gambir (31.71.01), Jakarta Pusat (31.71)
CIDENG = "31.71.01.1002"  # its neighbour, in the same kecamatan
UTARA = "31.72.01.1001"  # a kelurahan of Jakarta Utara


def subscribe(
    email="warga@example.test",
    codes=(GAMBIR,),
    categories=(),
    frequency="immediate",
    language="id",
    confirm=True,
):
    subscription = services.subscribe(
        email=email,
        language=language,
        frequency=frequency,
        regions=list(Region.objects.filter(code__in=codes)),
        categories=list(categories),
    )
    return services.confirm(subscription) if confirm else subscription


def site_in(code: str):
    return factories.SiteFactory(kelurahan=factories.kelurahan(code))


def publish(site, *, category_slug="pangan", title="Paket sembako untuk lansia", **fields):
    """A need created published through needs.services, as staff and imports create them."""
    category = factories.CategoryFactory(slug=category_slug)
    aid_type = factories.AidTypeFactory(category=category, name=f"Bantuan {category_slug}")
    return need_services.create(
        site=site,
        aid_type=aid_type,
        title=title,
        quantity_needed=10,
        period_start=datetime.date(2020, 10, 1),
        **fields,
    )


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run what commits (the jobs, eager in the tests) as the worker would after a commit."""

    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run
