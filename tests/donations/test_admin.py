"""The staff side of donations: every page opens, and pledges, deliveries and their history are
read here but written only by donations.services."""

import datetime

import pytest
from django.contrib import admin
from django.test import RequestFactory

from donations import services
from donations.models import Collaborator, Delivery, Opd, Pledge, PledgeEvent
from tests import factories
from tests.helpers import admin_url, schedule

MODELS = [Collaborator, Opd, Pledge, Delivery, PledgeEvent]
SERVICE_WRITTEN = [Pledge, Delivery, PledgeEvent]

# Session, user, the category filter's categories, the kota filter's kota, the filtered count, the
# unfiltered count, and one page of pledges joined to their collaborator, need, site, kelurahan, aid
# type and category, with the overlap and verified-contact flags as EXISTS subqueries.
PLEDGE_CHANGELIST_QUERIES = 7


@pytest.fixture
def delivered_in_part(need, donor, province_staff):
    """PT Maju Bersama's 40 packages: confirmed, scheduled, 10 handed over by Satpol PP."""
    staff = services.Actor.staff(province_staff)
    pledge = services.pledge(need=need, collaborator=donor, quantity=40)
    schedule(pledge, by=province_staff, on=datetime.date(2020, 10, 30))
    services.record_delivery(
        pledge,
        quantity=10,
        delivered_on=datetime.date(2020, 10, 30),
        opd=factories.OpdFactory(),
        actor=staff,
    )
    pledge.refresh_from_db()
    return pledge


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.model_name)
def test_changelist_change_and_add_pages_open_except_adding_what_services_write(
    staff_client, delivered_in_part, model
):
    obj = model.objects.first()
    assert staff_client.get(admin_url(model, "changelist")).status_code == 200
    assert staff_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    add = staff_client.get(admin_url(model, "add")).status_code
    assert add == (403 if model in SERVICE_WRITTEN else 200)


@pytest.mark.parametrize("model", SERVICE_WRITTEN, ids=lambda m: m._meta.model_name)
def test_service_written_rows_cannot_be_added_changed_or_deleted_in_the_admin(
    province_staff, delivered_in_part, model
):
    request = RequestFactory().get("/admin/")
    request.user = province_staff
    model_admin = admin.site.get_model_admin(model)
    obj = model.objects.first()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)
    assert model_admin.has_view_permission(request, obj)


def test_posting_to_a_pledge_changes_neither_its_status_nor_its_quantity(
    staff_client, delivered_in_part
):
    response = staff_client.post(
        admin_url(Pledge, "change", delivered_in_part.pk),
        {"status": "cancelled", "quantity": 1, "quantity_delivered": 40},
    )
    assert response.status_code == 403
    pledge = Pledge.objects.select_related("need").get(pk=delivered_in_part.pk)
    assert (pledge.status, pledge.quantity, pledge.quantity_delivered) == ("scheduled", 40, 10)
    assert (pledge.need.quantity_pledged, pledge.need.quantity_delivered) == (40, 10)


def test_the_pledge_page_shows_its_history_and_deliveries_but_not_the_donors_link(
    staff_client, delivered_in_part
):
    response = staff_client.get(admin_url(Pledge, "change", delivered_in_part.pk))
    events, deliveries = (f.formset for f in response.context["inline_admin_formsets"])
    assert [e.to_status for e in events.queryset] == [
        "submitted",
        "confirmed",
        "scheduled",
        "scheduled",  # the partial delivery
    ]
    assert [d.quantity for d in deliveries.queryset] == [10]
    assert delivered_in_part.token not in response.content.decode()


def test_pledge_changelist_queries_do_not_grow_with_the_rows(
    staff_client, delivered_in_part, django_assert_max_num_queries
):
    with django_assert_max_num_queries(PLEDGE_CHANGELIST_QUERIES):
        assert staff_client.get(admin_url(Pledge, "changelist")).status_code == 200
    for _ in range(20):
        need = factories.NeedFactory(site=delivered_in_part.need.site, quantity_needed=5)
        services.pledge(need=need, collaborator=factories.CollaboratorFactory(), quantity=5)
    with django_assert_max_num_queries(PLEDGE_CHANGELIST_QUERIES):
        response = staff_client.get(admin_url(Pledge, "changelist"))
    assert len(response.context["cl"].result_list) == 21


def test_pledges_are_found_by_number_and_a_word_does_not_break_that_search(
    staff_client, delivered_in_part, anonymous_donor
):
    laptops = factories.NeedFactory(site=delivered_in_part.need.site, title="Laptop untuk guru")
    other = services.pledge(need=laptops, collaborator=anonymous_donor, quantity=3)
    url = admin_url(Pledge, "changelist")
    by_number = staff_client.get(url, {"q": str(other.pk)}).context["cl"].result_list
    assert list(by_number) == [other]
    by_name = staff_client.get(url, {"q": "Maju"}).context["cl"].result_list
    assert list(by_name) == [delivered_in_part]
