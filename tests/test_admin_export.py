"""Staff export admin lists as CSV or XLSX: their own area only, personal data only with the right."""

import csv
import io

from django.contrib.auth.models import Group
from openpyxl import load_workbook

from donations import services
from donations.models import Pledge
from locations.models import ContactPerson
from needs.models import Need
from tests import factories
from tests.helpers import admin_url


def _export(client, model, action: str, queryset) -> list[list[str]]:
    response = client.post(
        admin_url(model, "changelist"),
        {
            "action": action,
            "_selected_action": [str(pk) for pk in queryset.values_list("pk", flat=True)],
        },
    )
    assert response.status_code == 200, response.content[:500]
    if action == "export_xlsx":
        sheet = load_workbook(io.BytesIO(response.content)).active
        return [
            ["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)
        ]
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_bureau_exports_pledges_with_the_donors_contact(staff_client, need, donor):
    services.pledge(need=need, collaborator=donor, quantity=10)
    rows = _export(staff_client, Pledge, "export_csv", Pledge.objects.all())
    header, row = rows
    assert header[:3] == ["pledge_id", "status", "quantity"]
    assert row[header.index("collaborator_email")] == "csr@majubersama.test"


def test_an_officer_without_the_right_gets_no_personal_data(client, kelurahan_officer, need, donor):
    services.pledge(need=need, collaborator=donor, quantity=10)
    factories.ContactFactory(site=need.site, name="Pak Darto", phone="+62 812 5555 0101")
    client.force_login(kelurahan_officer)
    header = _export(client, Pledge, "export_csv", Pledge.objects.all())[0]
    assert "collaborator_email" not in header and "collaborator_phone" not in header
    contacts = _export(client, ContactPerson, "export_xlsx", ContactPerson.objects.all())
    assert "Pak Darto" not in str(contacts) and "+62 812 5555 0101" not in str(contacts)
    assert len(contacts) == 2  # header and the one contact, without name or phone


def test_the_provincial_group_holds_the_right(db):
    assert (
        Group.objects.get(name="Provincial staff")
        .permissions.filter(codename="export_personal_data")
        .exists()
    )
    assert (
        not Group.objects.get(name="Area officer")
        .permissions.filter(codename="export_personal_data")
        .exists()
    )


def test_an_officer_exports_only_their_area_even_with_a_crafted_selection(
    client, kelurahan_officer, need, jakarta
):
    from django.contrib.gis.geos import Point

    from locations.models import Region

    elsewhere = factories.NeedFactory(
        site=factories.SiteFactory(
            kelurahan=Region.objects.get(code="31.72.01.1001"),
            point=Point(106.8075, -6.1255, srid=4326),
        ),
        title="Kebutuhan di Penjaringan",
    )
    client.force_login(kelurahan_officer)
    rows = _export(client, Need, "export_csv", Need.objects.filter(pk__in=[need.pk, elsewhere.pk]))
    titles = [r[2] for r in rows[1:]]
    assert titles == [need.title]


def test_formulas_are_neutralised_in_exports(staff_client, site):
    factories.NeedFactory(site=site, title='=HYPERLINK("http://evil")')
    rows = _export(staff_client, Need, "export_xlsx", Need.objects.all())
    assert rows[1][2].startswith("'=")
