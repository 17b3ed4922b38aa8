"""An append-only history of what staff and services changed: a need's quantities (before → after,
who, why), deliveries, and contact verification (tests/locations/test_contact_verification.py)."""

import datetime

from donations import services
from donations.models import Delivery
from tests import factories
from tests.helpers import admin_url, schedule


def test_a_needs_counters_leave_a_history_row_for_each_change_with_who_and_why(
    need, donor, province_staff
):
    pledge = services.pledge(need=need, collaborator=donor, quantity=40)
    pledge = schedule(pledge, by=province_staff)
    services.record_delivery(
        pledge,
        quantity=15,
        delivered_on=datetime.date(2020, 10, 30),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    rows = list(need.history.order_by("history_date", "history_id"))
    assert [(r.quantity_pledged, r.quantity_delivered) for r in rows] == [(0, 0), (40, 0), (40, 15)]
    delivered = rows[-1]
    assert delivered.history_user == province_staff
    assert f"#{pledge.pk}" in delivered.history_change_reason


def test_a_need_edited_in_the_admin_records_the_editor(staff_client, need, province_staff):
    from tests.needs.test_admin import _form

    staff_client.post(admin_url(type(need), "change", need.pk), _form(need, quantity_needed=120))
    latest = need.history.latest()
    assert (latest.quantity_needed, latest.history_user) == (120, province_staff)
    assert latest.prev_record.quantity_needed == 100
    assert staff_client.get(admin_url(type(need), "history", need.pk)).status_code == 200


def test_a_delivery_has_a_history_row(need, donor, province_staff):
    pledge = schedule(services.pledge(need=need, collaborator=donor, quantity=5), by=province_staff)
    services.record_delivery(
        pledge,
        quantity=5,
        delivered_on=datetime.date(2020, 10, 30),
        opd=factories.OpdFactory(),
        actor=services.Actor.staff(province_staff),
    )
    assert Delivery.history.count() == 1
