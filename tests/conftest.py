"""The cast and the places the tests share. Each fixture says its role in one line."""

from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.utils import translation

from locations.models import Region
from locations.registry import load_regions
from tests import factories

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True, scope="session")
def _needs_and_contacts_change_only_through_services():
    """See tests/services_guard.py."""
    from tests import services_guard

    services_guard.install()


@pytest.fixture(autouse=True)
def _migration_rows(request, django_db_setup, django_db_blocker):
    """The rows the data migrations write (categories, aid types, staff groups), present for every
    test that uses the database. A transactional test (a browser's, a race's) flushes them when it
    ends; alone, pytest-django runs those last, but with the suite split over processes (xdist) a
    process may run one before others. Written outside the test's transaction, so they stay."""
    if not {"db", "transactional_db", "live_server"} & set(request.fixturenames) and not (
        request.node.get_closest_marker("django_db")
    ):
        return
    with django_db_blocker.unblock():
        factories.ensure_migration_rows()


@pytest.fixture(autouse=True)
def _no_jobs_left_behind(request, django_db_blocker):
    """The jobs a transactional test committed (a real queue, a live server) are deleted after it.
    Django's flush empties only the tables of Django-managed models, and procrastinate's are not:
    a job left queued would be counted by a later test of the same process (xdist's order)."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if not transactional:
        return
    with django_db_blocker.unblock():
        factories.delete_jobs()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits, cached pages, the map layer's parts (needs.layer), the filter lists' options
    (needs.filters) and the messages sent to contact persons start empty in every test."""
    from needs import filters, layer
    from recipients.messaging import LocmemBackend

    cache.clear()
    layer.forget()
    filters.forget_choices()
    LocmemBackend.outbox.clear()
    yield
    cache.clear()
    layer.forget()
    filters.forget_choices()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (Indonesian). The test client's LocaleMiddleware
    activates a request's language in the thread and leaves it there, so a test after an English
    request would otherwise read English messages, depending on xdist's order."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def english():
    """Messages in English, for assertions on their text (the UI defaults to Indonesian)."""
    with translation.override("en"):
        yield


@pytest.fixture
def jakarta(db):
    """Jakarta's 6 kota, 44 kecamatan and 267 kelurahan from the registry, without boundaries."""
    load_regions()


def import_test_boundaries() -> None:
    """Gambir's and Cideng's kelurahan boundaries, from tests/fixtures/boundaries.geojson."""
    call_command(
        "import_regions",
        str(FIXTURES / "boundaries.geojson"),
        "--level",
        "kelurahan",
        stdout=StringIO(),
    )


@pytest.fixture
def gambir(jakarta):
    """Kelurahan Gambir, with Cideng beside it, bounded by tests/fixtures/boundaries.geojson."""
    import_test_boundaries()
    return Region.objects.get(code="31.71.01.1001")


@pytest.fixture
def site(jakarta):
    """An RW in Gambir, Jakarta Pusat."""
    return factories.SiteFactory(name="RW 01")


@pytest.fixture
def need(site):
    """An open need for 100 staple-food packages at that RW."""
    return factories.NeedFactory(site=site, title="Paket sembako RW 01 Gambir", quantity_needed=100)


@pytest.fixture
def donor(db):
    """A company that gives under its own name."""
    return factories.CollaboratorFactory(
        public_name="PT Maju Bersama", email="csr@majubersama.test"
    )


@pytest.fixture
def anonymous_donor(db):
    """An individual who asked to appear as “Anonim”."""
    return factories.CollaboratorFactory(
        public_name="Budi Santoso", kind="individual", email="budi@example.test", is_anonymous=True
    )


@pytest.fixture
def province_staff(db):
    """Staff of the provincial bureau: sees and changes everything."""
    return factories.UserFactory(username="provinsi", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, province_staff):
    """The provincial bureau, logged in to the admin."""
    client.force_login(province_staff)
    return client


def _area_officer(username: str, code: str):
    from django.contrib.auth.models import Group

    from locations.models import Region, StaffArea
    from locations.scoping import AREA_OFFICER_GROUP

    user = factories.UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=AREA_OFFICER_GROUP))
    StaffArea.objects.create(user=user, region=Region.objects.get(code=code))
    return user


@pytest.fixture
def kelurahan_officer(jakarta):
    """The Area officer of Kelurahan Gambir (31.71.01.1001): works only on what lies there."""
    return _area_officer("petugas.gambir", "31.71.01.1001")


@pytest.fixture
def other_area_officer(jakarta):
    """An Area officer of a kelurahan in Jakarta Utara (31.72.01.1001): none of Gambir is theirs."""
    return _area_officer("petugas.utara", "31.72.01.1001")


def pytest_collection_finish(session):
    """Split over processes (xdist), tests are told apart by node id: two tests with one id would
    run as one, silently (schemathesis once did that to 11 of 12 API operations)."""
    seen = Counter(item.nodeid for item in session.items)
    twice = sorted(nodeid for nodeid, n in seen.items() if n > 1)
    if twice:
        raise pytest.UsageError(f"Tests share a node id, so some would not run: {twice[:5]}")


# What starts Playwright's session: once it runs, its event loop stays running in the process's
# main thread, and any later test there that reaches asgiref's async_to_sync (the health checks,
# the request-id logs, the worker) fails with "cannot use AsyncToSync in the same thread as an
# async event loop".
PLAYWRIGHT_FIXTURES = frozenset({"playwright", "browser", "browser_type", "context", "page"})


def _starts_playwright(item) -> bool:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return bool(PLAYWRIGHT_FIXTURES & (set(getattr(item, "fixturenames", ())) - set(params)))


def _module(item) -> str:
    return item.nodeid.split("::")[0]


def pytest_configure(config):
    """xdist's loadscope hands out modules in collection order only when told not to reorder them
    (by default the largest first), and the order below depends on it: with the reordering, a
    process that had run the accessibility tests then ran the health checks, and all failed."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(trylast=True)  # after pytest-django's own ordering of the database tests
def pytest_collection_modifyitems(items):
    """The modules with a browser test last, whole: xdist (--dist loadscope, not reordered: see
    pytest_configure) hands out modules in collection order, so no process runs another module
    after Playwright started in it."""
    browser_modules = {_module(item) for item in items if _starts_playwright(item)}
    items.sort(key=lambda item: _module(item) in browser_modules)  # stable within each part
