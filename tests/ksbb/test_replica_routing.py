"""Public reads on a streaming replica, everything else on the primary (ksbb.db_routers).

The replica is a real second PostgreSQL (`scripts/devdb.sh replica start`, started here when it is
not running) following the project-local cluster; the test database pytest-django creates on the
primary reaches it by replication. The "replica" alias is added after the test databases are set up,
not in the settings: setup would otherwise try to create a test database on a read-only server, or
(with TEST MIRROR) point the alias at the primary. Added late, its TEST MIRROR only keeps the
transactional tests from flushing it; the connection stays the replica's (the first test shows it).
"""

import copy
import subprocess
import time
from types import SimpleNamespace
from unittest import mock
from urllib.parse import urlparse

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, OperationalError, connections, router, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from donations import services
from donations.models import Pledge
from ksbb import db_routers
from ksbb.db_routers import REPLICA, replica_reads, replica_reads_allowed
from ksbb.replica_middleware import WROTE_COOKIE, may_read_from_replica
from needs.models import Need
from tests import factories

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWx"
PLEDGE = {
    "public_name": "Budi",
    "kind": "individual",
    "email": "budi@example.test",
    "quantity": "7",
}
CATCH_UP_SECONDS = 15


def _devdb(*args: str) -> str:
    result = subprocess.run(
        ["scripts/devdb.sh", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def replica_port(django_db_setup) -> int:
    """The alias "replica": the test database on the local replica (started, and made the first
    time, by devdb.sh). Module-scoped, so it exists before a test's database fixtures check it."""
    primary = connections["default"].settings_dict
    local = urlparse(_devdb("url"))
    host = "127.0.0.1" if primary["HOST"] == "localhost" else primary["HOST"]
    if (host, str(primary["PORT"])) != (local.hostname, str(local.port)):
        pytest.skip(
            f"DATABASE_URL names {primary['HOST']}:{primary['PORT']}, not the project-local "
            f"cluster ({local.hostname}:{local.port}) that scripts/devdb.sh can replicate"
        )
    port = urlparse(_devdb("replica", "start")).port
    alias = copy.deepcopy(primary)
    alias["PORT"] = port
    alias["TEST"]["MIRROR"] = "default"
    connections.settings[REPLICA] = alias
    yield port
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]


on_both = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture
def replica(replica_port, settings):
    """The replica's connection, with the router on."""
    settings.DATABASE_ROUTERS = ["ksbb.db_routers.PrimaryReplicaRouter"]
    return connections[REPLICA]


def caught_up(replica) -> None:
    """Waits, bounded, until the replica has replayed everything the primary has written so far.

    Polled from the server's maintenance database: a replica just started may not yet have
    replayed the creation of the test database itself."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (written,) = cursor.fetchone()
    server = replica.settings_dict
    deadline = time.monotonic() + CATCH_UP_SECONDS
    with psycopg.connect(
        host=server["HOST"],
        port=server["PORT"],
        user=server["USER"],
        password=server["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        while not conn.execute(
            "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written]
        ).fetchone()[0]:
            if time.monotonic() > deadline:
                pytest.fail(f"The replica did not replay {written} within {CATCH_UP_SECONDS} s")
            time.sleep(0.02)


class Queries:
    """The queries one block sends to each alias."""

    def __enter__(self):
        self.primary = CaptureQueriesContext(connections["default"]).__enter__()
        self.replica = CaptureQueriesContext(connections[REPLICA]).__enter__()
        return self

    def __exit__(self, *exc):
        self.replica.__exit__(*exc)
        self.primary.__exit__(*exc)


@pytest.fixture
def published(replica, jakarta):
    """A need with one pledge, committed on the primary and replayed on the replica."""
    factories.seed_categories()
    need = factories.NeedFactory(title="Beras untuk RW 03", quantity_needed=100)
    donor = factories.CollaboratorFactory(public_name="PT Replika Jaya")
    services.pledge(need=need, collaborator=donor, quantity=20)
    caught_up(replica)
    # Replayed is not always visible at that very instant to a new session on the standby (seen
    # once in a few runs after heavy tests): wait, bounded, for the pledge itself.
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while not Need.objects.using(REPLICA).filter(pk=need.pk, quantity_pledged=20).exists():
        if time.monotonic() > deadline:
            pytest.fail(f"The replica did not show the pledge within {CATCH_UP_SECONDS} s")
        time.sleep(0.02)
    return need


@on_both
def test_the_replica_is_a_standby_holding_the_committed_data(published, replica, replica_port):
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database(), inet_server_port()")
        on_replica = cursor.fetchone()
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database(), inet_server_port()")
        on_primary = cursor.fetchone()
    assert on_replica == (True, on_primary[1], replica_port)
    assert on_primary[0] is False and on_primary[2] != replica_port
    assert on_primary[1].startswith("test_")  # pytest-django's database, replicated by itself
    assert Need.objects.using(REPLICA).get(pk=published.pk).quantity_pledged == 20

    with pytest.raises(DatabaseError, match="read-only"), replica.cursor() as cursor:
        cursor.execute("CREATE TABLE ksbb_replica_probe (id int)")

    # What the router does with the rest (no request here: the mark is set by hand).
    assert router.allow_migrate("default", "needs") and not router.allow_migrate(REPLICA, "needs")
    with Queries() as queries, replica_reads():
        assert Need.objects.filter(pk=published.pk).exists()  # a marked read: the replica
        with transaction.atomic():
            Need.objects.get(pk=published.pk)  # inside a transaction: with its writes and locks
        assert len(queries.replica) == 1
        Need.objects.get(pk=published.pk)  # still marked: the replica again
        assert len(queries.replica) == 2
        Need.objects.filter(pk=published.pk).update(title="Beras untuk RW 04")
        # After a write the rest of the request reads the primary, so it sees that write.
        assert Need.objects.get(pk=published.pk).title == "Beras untuk RW 04"
        factories.CollaboratorFactory(email="second@example.test")
    assert len(queries.replica) == 2
    assert not any(
        q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        for q in queries.replica
    )
    assert {"INSERT", "UPDATE"} <= {q["sql"].split()[0].upper() for q in queries.primary}
    assert not replica_reads_allowed()


@on_both
def test_anonymous_public_reads_come_from_the_replica(published, client):
    pages = [
        "/peta/",
        f"/kebutuhan/{published.pk}/",
        "/api/v1/needs/",
        "/api/v1/needs/layer/",
        f"/api/v1/needs/{published.pk}/",
        "/transparansi/",  # its cache key's data version too: never ahead of the figures it keys
    ]
    for url in pages:
        with Queries() as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        assert len(queries.replica) > 0 and len(queries.primary) == 0, (url, queries.primary)
        # Reads only (DECLARE: a server-side cursor over a SELECT, for .iterator()).
        assert {q["sql"].split()[0] for q in queries.replica} <= {"SELECT", "DECLARE"}, url
        assert b"Beras untuk RW 03" in response.content or url.endswith(("layer/", "transparansi/"))
    with Queries() as queries:  # a download streamed after the view returned
        body = b"".join(client.get("/transparansi/data/needs.csv").streaming_content)
    assert b"Beras untuk RW 03" in body
    assert len(queries.replica) > 0 and len(queries.primary) == 0, queries.primary
    page = client.get(f"/kebutuhan/{published.pk}/")  # the pledge, replayed, is listed
    assert b"PT Replika Jaya" in page.content
    assert not replica_reads_allowed()  # the mark ended with the request


@on_both
def test_pledges_and_staff_pages_use_only_the_primary(published, client):
    client.cookies["django_language"] = "en"
    form = f"/kebutuhan/{published.pk}/dukung/"
    with Queries() as queries:
        assert client.get(form).status_code == 200
        response = client.post(form, PLEDGE)
        assert response.status_code == 302, response.content
        private = client.get(response["Location"])
        token = response["Location"].strip("/").split("/")[-1]
        api_detail = client.get(f"/api/v1/pledges/{token}/")
    assert len(queries.replica) == 0 and len(queries.primary) > 0
    # The donor reads their own write at once, however far the replica lags.
    assert b"Thank you! Your pledge is recorded." in private.content
    assert api_detail.status_code == 200 and api_detail.json()["quantity"] == 7
    assert Pledge.objects.get(token=token).quantity == 7

    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    with Queries() as queries:
        assert client.get("/admin/donations/pledge/").status_code == 200
        assert client.get(f"/admin/needs/need/{published.pk}/change/").status_code == 200
        # Signed in, even the public pages read the primary: staff check what they just changed.
        assert client.get(f"/kebutuhan/{published.pk}/").status_code == 200
    assert len(queries.replica) == 0 and len(queries.primary) > 0


def _request(method: str, path: str, signed_in: bool = False):
    request = getattr(RequestFactory(), method.lower())(path)
    request.user = SimpleNamespace(is_authenticated=True) if signed_in else AnonymousUser()
    return request


@pytest.mark.parametrize(
    ("method", "path", "signed_in", "replica_ok"),
    [
        ("GET", "/", False, True),
        ("GET", "/peta/?kota=31.71", False, True),
        ("HEAD", "/peta/", False, True),
        ("GET", "/kebutuhan/5/", False, True),
        ("GET", "/transparansi/", False, True),
        ("GET", "/api/v1/needs/layer/", False, True),
        ("GET", "/api/v1/regions/", False, True),
        ("POST", "/peta/", False, False),
        ("GET", "/peta/", True, False),
        ("GET", "/admin/", False, False),
        ("GET", "/admin/login/", False, False),
        ("GET", "/kebutuhan/5/dukung/", False, False),
        ("GET", f"/komitmen/{TOKEN}/", False, False),
        ("GET", f"/komitmen/{TOKEN}/batal/", False, False),
        ("GET", f"/api/v1/pledges/{TOKEN}/", False, False),
        ("POST", "/api/v1/pledges/", False, False),
        ("GET", "/no-such-page/", False, False),
    ],
)
def test_only_anonymous_reads_of_public_pages_are_marked(method, path, signed_in, replica_ok):
    assert may_read_from_replica(_request(method, path, signed_in)) is replica_ok


@pytest.fixture(autouse=True)
def _replica_taken_as_fit(monkeypatch):
    """The router takes the replica as fit (no lag query among the counted ones) until a test
    makes it ask again (`_recheck`)."""
    fitness = db_routers._Fitness()
    fitness.fit, fitness.checked_at = True, float("inf")
    monkeypatch.setattr(db_routers, "_fitness", fitness)


def _recheck():
    db_routers._fitness.checked_at = float("-inf")


def _data_reads(queries) -> list:
    return [q for q in queries if "pg_is_in_recovery" not in q["sql"]]


@on_both
def test_a_replica_behind_or_down_sends_public_reads_to_the_primary(
    published, client, replica, settings
):
    page = f"/kebutuhan/{published.pk}/"
    with Queries() as queries:
        assert client.get(page).status_code == 200
    assert queries.replica and not queries.primary

    settings.KSBB_REPLICA_MAX_LAG_SECONDS = 0
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        Need.objects.filter(pk=published.pk).update(title="Beras untuk RW 05")
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while True:  # the change received, not replayed: the replica is behind
            with replica.cursor() as cursor:
                cursor.execute("SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()")
                if cursor.fetchone()[0]:
                    break
            if time.monotonic() > deadline:
                pytest.fail("the replica did not receive the change")
            time.sleep(0.1)
        _recheck()
        with Queries() as queries:
            response = client.get(page)
        assert not _data_reads(queries.replica) and queries.primary
        assert b"Beras untuk RW 05" in response.content
    finally:
        with replica.cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")

    settings.KSBB_REPLICA_MAX_LAG_SECONDS = 5

    def refused(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    _recheck()
    with mock.patch.object(replica, "cursor", refused), Queries() as queries:
        assert client.get(page).status_code == 200  # the replica stopped: the primary answers
    assert not _data_reads(queries.replica) and queries.primary


@on_both
def test_a_donor_who_pledged_reads_the_primary_on_the_next_pages(published, client, settings):
    response = client.post(f"/kebutuhan/{published.pk}/dukung/", PLEDGE)
    assert response.status_code == 302
    assert int(response.cookies[WROTE_COOKIE]["max-age"]) == settings.KSBB_READ_YOUR_WRITES_SECONDS
    with Queries() as queries:
        page = client.get(f"/kebutuhan/{published.pk}/")
    assert not queries.replica and queries.primary
    assert page.context["need"].quantity_pledged == 20 + 7  # their pledge, however far the lag
    client.cookies[WROTE_COOKIE] = str(int(time.time()) - 1)  # the while has passed
    with Queries() as queries:
        client.get(f"/kebutuhan/{published.pk}/")
    assert queries.replica
