"""The staff roles exist as groups with the permissions each needs (donations/migrations/0002)."""

import pytest
from django.contrib.auth.models import Group


def _codenames(name):
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


@pytest.mark.django_db
def test_provincial_staff_may_do_everything_in_the_portals_apps():
    assert {"change_pledge", "add_delivery", "delete_need", "change_opd"} <= _codenames(
        "Provincial staff"
    )


@pytest.mark.django_db
def test_an_area_officer_works_pledges_needs_sites_contacts_and_deliveries():
    officer = _codenames("Area officer")
    for model in ["pledge", "need", "site", "contactperson", "delivery"]:
        assert {f"view_{model}", f"change_{model}"} <= officer
    assert "add_delivery" in officer
    assert not {"delete_pledge", "add_need", "view_collaborator", "view_outboundmail"} & officer


@pytest.mark.django_db
def test_an_auditor_only_reads():
    auditor = _codenames("Auditor")
    assert "view_pledge" in auditor
    assert all(c.startswith("view_") for c in auditor)
    assert "view_outboundmail" not in auditor


@pytest.mark.django_db
def test_personal_data_is_for_the_bureau_and_the_area_officers_and_its_log_for_the_bureau():
    assert {"view_personal_data", "view_personaldataview"} <= _codenames("Provincial staff")
    officer = _codenames("Area officer")
    assert "view_personal_data" in officer and "view_personaldataview" not in officer
    auditor = _codenames("Auditor")
    assert not {"view_personal_data", "view_personaldataview", "view_staffarea"} & auditor
