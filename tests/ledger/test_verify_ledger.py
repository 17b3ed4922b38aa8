"""`manage.py verify_ledger` compares every row with its last ledger entry: an UPDATE typed in SQL,
as a database operator could, is named with both values."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from donations.models import Delivery, Pledge

pytestmark = pytest.mark.django_db


def _verify() -> str:
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    return out.getvalue()


def _silent(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _refused() -> str:
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("verify_ledger", stdout=out)
    return out.getvalue() + str(failed.value)


def test_an_untouched_history_agrees(history):
    assert "every row agrees with the ledger" in _verify()


def test_a_pledges_quantity_changed_in_sql_is_named_with_both_values(history):
    pledge = Pledge.objects.order_by("pk").first()
    _silent("UPDATE donations_pledge SET quantity = quantity + 300 WHERE id = %s", pledge.pk)
    report = _refused()
    assert (
        f"pledge #{pledge.pk} quantity: ledger {pledge.quantity}, table {pledge.quantity + 300}"
        in (report)
    )
    assert "1 disagreements" in report


def test_a_need_edited_in_sql_is_named_with_its_status(history):
    pledge = Pledge.objects.order_by("pk").first()
    need = pledge.need
    _silent("UPDATE needs_need SET is_closed = NOT is_closed WHERE id = %s", need.pk)
    report = _refused()
    assert f"need #{need.pk} closed: ledger {need.is_closed}, table {not need.is_closed}" in report


def test_a_needs_counter_edited_in_sql_disagrees_with_its_pledges(history):
    from django.db.models import F

    from needs.models import Need

    need = Need.objects.filter(quantity_pledged__lt=F("quantity_needed")).first()
    _silent("UPDATE needs_need SET quantity_pledged = quantity_needed WHERE id = %s", need.pk)
    report = _refused()
    assert (
        f"need #{need.pk} quantity_pledged: ledger {need.quantity_pledged}, "
        f"table {need.quantity_needed}" in report
    )


def test_a_delivery_deleted_or_added_in_sql_is_named(history):
    delivery = Delivery.objects.order_by("pk").first()
    _silent("DELETE FROM donations_receipt WHERE delivery_id = %s", delivery.pk)
    _silent("DELETE FROM donations_delivery WHERE id = %s", delivery.pk)
    report = _refused()
    assert f"delivery #{delivery.pk}: in the ledger, no longer in the table" in report


def test_a_row_the_ledger_never_saw_is_named(history, need):
    # The fixture's need was written by a factory, straight to the table: no service, no entry.
    assert f"need #{need.pk}: not in the ledger" in _refused()


def test_a_broken_chain_is_said_first(history):
    _silent("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only")
    _silent("UPDATE ledger_entry SET data = jsonb_set(data, '{id}', '0') WHERE seq = 3")
    with pytest.raises(CommandError, match="The ledger's chain is broken: entry 3: its content"):
        call_command("verify_ledger", stdout=StringIO())


def test_rows_from_before_the_ledger_are_opened_once(history, need):
    out = StringIO()
    call_command("open_ledger", stdout=out)
    assert "Recorded: 0 collaborator, 1 need, 0 pledge, 0 delivery, 0 receipt." in out.getvalue()
    assert "every row agrees with the ledger" in _verify()
    out = StringIO()
    call_command("open_ledger", stdout=out)
    assert "Recorded: 0 collaborator, 0 need" in out.getvalue()
