"""The staff side of needs: every page opens, the changelist costs the same for any number of
needs, and the counters stay with donations.services."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations import services
from needs.models import AidType, Category, Need
from tests import factories
from tests.helpers import admin_url

MODELS = [Category, AidType, Need]

# Session, user, the "kategori" filter's categories, the filtered count, the unfiltered count,
# and one page of needs joined to their site, kelurahan, aid type and category.
NEED_CHANGELIST_QUERIES = 6


def _form(need: Need, **changes) -> dict:
    data = {
        "site": need.site_id,
        "aid_type": need.aid_type_id,
        "title": need.title,
        "description": need.description,
        "quantity_needed": need.quantity_needed,
        "beneficiaries": need.beneficiaries,
        "beneficiary_kind": need.beneficiary_kind,
        "criteria": need.criteria,
        "period_start": need.period_start.isoformat(),
        "period_end": "",
        "published": "on" if need.published else "",
        "external_ref": need.external_ref or "",
    }
    return {**data, **changes}


@pytest.fixture
def pledged_need(need, donor):
    """The RW 01 need with 30 of its 100 packages pledged."""
    services.pledge(need=need, collaborator=donor, quantity=30)
    need.refresh_from_db()
    return need


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.model_name)
def test_changelist_change_and_add_pages_open(staff_client, pledged_need, model):
    obj = model.objects.first()
    assert staff_client.get(admin_url(model, "changelist")).status_code == 200
    assert staff_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    assert staff_client.get(admin_url(model, "add")).status_code == 200


def test_need_changelist_queries_do_not_grow_with_the_rows(
    staff_client, pledged_need, django_assert_max_num_queries
):
    with django_assert_max_num_queries(NEED_CHANGELIST_QUERIES):
        assert staff_client.get(admin_url(Need, "changelist")).status_code == 200
    umkm = factories.AidTypeFactory(
        category=factories.CategoryFactory(slug="umkm"), name="Modal kerja", unit="usaha"
    )
    for code in ("31.71.01.1002", "31.72.01.1001", "31.74.01.1001"):
        site = factories.SiteFactory(kelurahan=factories.kelurahan(code))
        factories.NeedFactory.create_batch(5, site=site)
        factories.NeedFactory.create_batch(5, site=site, aid_type=umkm)
    with django_assert_max_num_queries(NEED_CHANGELIST_QUERIES):
        response = staff_client.get(admin_url(Need, "changelist"))
    assert len(response.context["cl"].result_list) == 31


def test_need_changelist_shows_the_status_by_its_label_and_filters_by_it(
    staff_client, pledged_need
):
    factories.NeedFactory(site=pledged_need.site, title="Belum ada komitmen")
    response = staff_client.get(admin_url(Need, "changelist"), {"status": "partly_pledged"})
    assert [n.title for n in response.context["cl"].result_list] == [pledged_need.title]
    assert "Sebagian terpenuhi" in response.content.decode()


def test_posting_counters_to_a_need_changes_only_the_editable_fields(staff_client, pledged_need):
    response = staff_client.post(
        admin_url(Need, "change", pledged_need.pk),
        _form(
            pledged_need,
            title="Paket sembako RW 01",
            quantity_pledged=0,
            quantity_delivered=30,
            status="closed",
        ),
    )
    assert response.status_code == 302
    pledged_need.refresh_from_db()
    assert pledged_need.title == "Paket sembako RW 01"
    assert (pledged_need.quantity_pledged, pledged_need.quantity_delivered) == (30, 0)
    assert pledged_need.status == "partly_pledged"


def test_a_need_cannot_be_lowered_below_what_is_pledged(staff_client, pledged_need):
    response = staff_client.post(
        admin_url(Need, "change", pledged_need.pk), _form(pledged_need, quantity_needed=20)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["quantity_needed"] == [
        "Sudah 30 dikomitmenkan; jumlah dibutuhkan tidak boleh kurang dari itu."
    ]
    pledged_need.refresh_from_db()
    assert pledged_need.quantity_needed == 100


def test_saving_a_need_locks_its_row_as_the_pledge_service_does(staff_client, pledged_need):
    with CaptureQueriesContext(connection) as queries:
        staff_client.post(admin_url(Need, "change", pledged_need.pk), _form(pledged_need))
    assert any(
        "FOR UPDATE" in q["sql"] and '"needs_need"' in q["sql"].split("FROM")[1]
        for q in queries.captured_queries
        if "FROM" in q["sql"]
    )


def test_the_form_cannot_close_or_unpublish_a_need_and_records_its_reason(
    staff_client, pledged_need, province_staff
):
    response = staff_client.post(
        admin_url(Need, "change", pledged_need.pk),
        _form(pledged_need, published="", is_closed="on", title="Sembako", change_reason="Typo"),
    )
    assert response.status_code == 302
    pledged_need.refresh_from_db()
    assert (pledged_need.published, pledged_need.is_closed) == (True, False)
    row = pledged_need.history.latest()
    assert (row.title, row.history_user, row.history_change_reason) == (
        "Sembako",
        province_staff,
        "Typo",
    )


def test_a_need_added_in_the_admin_goes_through_the_service_with_its_first_history_row(
    staff_client, pledged_need, province_staff
):
    data = _form(pledged_need, title="Baru", external_ref="BARU-1", published="")
    response = staff_client.post(admin_url(Need, "add"), data)
    assert response.status_code == 302
    added = Need.objects.get(external_ref="BARU-1")
    assert not added.published  # a draft
    assert [(r.history_type, r.history_user) for r in added.history.all()] == [
        ("+", province_staff)
    ]


def _action(client, action, needs, **data):
    return client.post(
        admin_url(Need, "changelist"),
        {"action": action, "_selected_action": [n.pk for n in needs], **data},
    )


def test_closing_a_need_shows_the_pledges_it_affects_then_applies_the_choice(
    staff_client, pledged_need
):
    page = _action(staff_client, "close_needs", [pledged_need])
    html = page.content.decode()
    assert page.status_code == 200
    pledge = pledged_need.pledges.get()
    assert f"#{pledge.pk}" in html and "PT Maju Bersama" in html
    assert 'name="pledges"' in html and 'name="reason"' in html

    done = _action(
        staff_client,
        "close_needs",
        [pledged_need],
        apply="1",
        reason="Selesai",
        pledges="cancel_all",
    )
    assert done.status_code == 302
    pledged_need.refresh_from_db()
    pledge.refresh_from_db()
    assert (pledged_need.status, pledge.status) == ("closed", "cancelled")

    _action(staff_client, "reopen_needs", [pledged_need])
    pledged_need.refresh_from_db()
    assert pledged_need.status == "open"


def test_unpublishing_without_a_reason_changes_nothing(staff_client, pledged_need):
    page = _action(staff_client, "unpublish_needs", [pledged_need], apply="1", pledges="cancel_all")
    assert page.status_code == 200 and page.context["form"].errors["reason"]
    pledged_need.refresh_from_db()
    assert pledged_need.published and pledged_need.quantity_pledged == 30


def test_the_need_page_offers_the_actions_that_apply_and_comes_back_to_it(
    staff_client, pledged_need
):
    html = staff_client.get(admin_url(Need, "change", pledged_need.pk)).content.decode()
    assert 'value="close_needs"' in html and 'value="unpublish_needs"' in html
    assert 'value="reopen_needs"' not in html and 'value="publish_needs"' not in html
    done = _action(
        staff_client,
        "close_needs",
        [pledged_need],
        apply="1",
        reason="Selesai",
        pledges="keep_scheduled",
        _from_change=pledged_need.pk,
    )
    assert done.status_code == 302
    assert done["Location"] == admin_url(Need, "change", pledged_need.pk)
    html = staff_client.get(admin_url(Need, "change", pledged_need.pk)).content.decode()
    assert 'value="reopen_needs"' in html and 'value="close_needs"' not in html
