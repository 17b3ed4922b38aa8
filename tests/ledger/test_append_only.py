"""PostgreSQL itself refuses to change or delete a ledger entry or a checkpoint: through the ORM,
and through raw SQL as a database operator would type it."""

import pytest
from django.db import DatabaseError, connection, transaction

from ledger import services as ledger_services
from ledger.models import Checkpoint, Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed(need, donor):
    from donations import services

    services.pledge(need=need, collaborator=donor, quantity=5)
    ledger_services.seal()
    return Entry.objects.get(kind="pledge")


def _refused(change) -> str:
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        change()
    return str(refused.value)


def test_the_orm_can_neither_change_nor_delete_an_entry(sealed):
    sealed.data = {**sealed.data, "quantity": 500}
    assert "append-only: UPDATE on ledger_entry" in _refused(sealed.save)
    assert "append-only: UPDATE" in _refused(lambda: Entry.objects.update(kind="x"))
    assert "append-only: DELETE on ledger_entry" in _refused(sealed.delete)
    assert "append-only: DELETE" in _refused(lambda: Entry.objects.all().delete())
    assert Entry.objects.get(pk=sealed.pk).data["quantity"] == 5


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_entry SET data = jsonb_set(data, '{quantity}', '500')",
        "UPDATE ledger_entry SET hash = repeat('0', 64)",
        "DELETE FROM ledger_entry",
        "DELETE FROM ledger_entry WHERE seq = (SELECT max(seq) FROM ledger_entry)",
    ],
)
def test_raw_sql_can_neither_change_nor_delete_an_entry(sealed, sql):
    before = Entry.objects.count()

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql)

    assert "the public ledger is append-only" in _refused(run)
    assert Entry.objects.count() == before


def test_a_checkpoint_is_append_only_too(sealed):
    checkpoint = Checkpoint.objects.create(day="2026-01-01", seq=sealed.seq, hash=sealed.hash)

    def rewrite():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE ledger_checkpoint SET hash = repeat('a', 64)")

    assert "append-only: UPDATE on ledger_checkpoint" in _refused(rewrite)
    assert "append-only: DELETE on ledger_checkpoint" in _refused(checkpoint.delete)


def test_the_database_refuses_an_entry_that_is_no_link_of_a_chain(sealed):
    def second_successor():
        Entry.objects.create(
            seq=sealed.seq + 1,
            at=sealed.at,
            kind="x",
            data={},
            prev_hash=sealed.prev_hash,
            hash="b" * 64,
        )

    assert "ledger_entry_one_successor" in _refused(second_successor)
    assert "ledger_entry_hashes_are_sha256_hex" in _refused(
        lambda: Entry.objects.create(
            seq=99, at=sealed.at, kind="x", data={}, prev_hash="not hex", hash="c" * 64
        )
    )


def test_numbers_are_positive_and_checkpoints_hold_a_hash(sealed):
    assert "ledger_entry_seq_positive" in _refused(
        lambda: Entry.objects.create(
            seq=0, at=sealed.at, kind="x", data={}, prev_hash="d" * 64, hash="e" * 64
        )
    )
    assert "ledger_checkpoint_hash_is_sha256_hex" in _refused(
        lambda: Checkpoint.objects.create(day="2026-01-02", seq=1, hash="not a hash")
    )
    assert "ledger_checkpoint_seq_not_negative" in _refused(
        lambda: Checkpoint.objects.create(day="2026-01-03", seq=-1, hash="f" * 64)
    )


def test_a_collaborators_public_id_is_its_own(donor):
    from donations.models import Collaborator

    other = Collaborator.objects.create(
        public_name="Lain", kind="company", email="lain@example.test"
    )
    assert other.public_id != donor.public_id and len(other.public_id) == 17
    assert "unique" in _refused(
        lambda: Collaborator.objects.filter(pk=other.pk).update(public_id=donor.public_id)
    )
