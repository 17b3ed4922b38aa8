"""`manage.py import_sites FILE`: sites and contact persons from CSV or GeoJSON."""

import csv
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from locations.imports import COLUMNS
from locations.models import ContactPerson, Site

pytestmark = pytest.mark.usefixtures("english")

ROW = {
    "external_ref": "RW-GAMBIR-01",
    "kelurahan": "31.71.01.1001",
    "site_kind": "rw",
    "site_name": "RW 01",
    "address": "Jl. Kebon Sirih",
    "latitude": "-6.1760",
    "longitude": "106.8225",
    "contact_name": "Pak Darto",
    "contact_role": "rw_head",
    "contact_phone": "+62 812 1111 2222",
    "contact_email": "darto@example.org",
    "contact_channel": "whatsapp",
}


def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(path, *args) -> str:
    out = StringIO()
    call_command("import_sites", str(path), *args, stdout=out)
    return out.getvalue()


def test_a_row_creates_the_site_and_its_contact_person(gambir, tmp_path):
    output = run(write_csv(tmp_path / "s.csv", [ROW]))
    assert "1 sites created" in output and "contact persons: 1 created" in output
    site = Site.objects.get(external_ref="RW-GAMBIR-01")
    assert (site.name, site.kind, site.address, site.location_is_approximate) == (
        "RW 01",
        "rw",
        "Jl. Kebon Sirih",
        False,
    )
    contact = ContactPerson.objects.get()
    assert (contact.name, contact.role, contact.verification_status) == (
        "Pak Darto",
        "rw_head",
        "unverified",
    )


def test_the_same_file_twice_changes_nothing(gambir, tmp_path):
    path = write_csv(tmp_path / "s.csv", [ROW])
    run(path)
    output = run(path)
    assert (
        "1 unchanged" in output and "contact persons: 0 created, 0 updated, 1 unchanged" in output
    )
    assert Site.objects.count() == 1 and ContactPerson.objects.count() == 1


def test_a_new_phone_number_needs_verifying_again(gambir, tmp_path, province_staff):
    from locations.services import verify_contact

    run(write_csv(tmp_path / "a.csv", [ROW]))
    verify_contact(ContactPerson.objects.get(), "verified", by=province_staff)
    run(write_csv(tmp_path / "b.csv", [{**ROW, "contact_phone": "+62 813 9999 0000"}]))
    contact = ContactPerson.objects.get()
    assert contact.phone == "+6281399990000" and contact.verification_status == "unverified"


def test_the_phone_is_saved_in_e164_and_the_same_number_written_otherwise_is_no_change(
    gambir, tmp_path, province_staff
):
    from locations.services import verify_contact

    run(write_csv(tmp_path / "a.csv", [{**ROW, "contact_phone": "0812-1111-2222"}]))
    contact = ContactPerson.objects.get()
    assert contact.phone == "+6281211112222"
    verify_contact(contact, "verified", by=province_staff)
    output = run(write_csv(tmp_path / "b.csv", [{**ROW, "contact_phone": "62 812 1111 2222"}]))
    assert "contact persons: 0 created, 0 updated, 1 unchanged" in output
    contact.refresh_from_db()
    assert (contact.phone, contact.verification_status) == ("+6281211112222", "verified")


def test_the_email_and_channel_columns_set_how_the_link_reaches_the_contact(
    gambir, tmp_path, province_staff
):
    from locations.services import verify_contact

    row = {**ROW, "contact_channel": "E-mail"}
    run(write_csv(tmp_path / "a.csv", [row]))
    contact = ContactPerson.objects.get()
    assert (contact.email, contact.channel) == ("darto@example.org", "email")
    verify_contact(contact, "verified", by=province_staff)
    # A file without those columns (an older template) leaves what was set.
    older = [c for c in COLUMNS if c not in ("contact_email", "contact_channel")]
    with (tmp_path / "b.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=older, extrasaction="ignore")
        writer.writeheader()
        writer.writerow(ROW)
    assert "1 unchanged" in run(tmp_path / "b.csv").split("contact persons:")[1]
    contact.refresh_from_db()
    assert (contact.email, contact.channel, contact.verification_status) == (
        "darto@example.org",
        "email",
        "verified",
    )
    # A new address needs verifying again: a private link may go there.
    run(write_csv(tmp_path / "c.csv", [{**row, "contact_email": "lain@example.org"}]))
    contact.refresh_from_db()
    assert (contact.email, contact.verification_status) == ("lain@example.org", "unverified")


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("0812", "No phone number has these digits: check them"),
        ("0812 1111 2222 3333 4444", "No phone number has these digits: check them"),
        ("0812-CALL-NOW", "A phone number has digits, spaces, dashes and dots only"),
        ("", "Enter a phone number."),
    ],
)
def test_a_number_that_is_none_is_refused_with_the_value_and_the_reason(
    gambir, tmp_path, phone, reason
):
    output = run(write_csv(tmp_path / "s.csv", [{**ROW, "contact_phone": phone}]))
    assert f"line 2 (RW-GAMBIR-01): contact_phone “{phone}” is not a phone number. {reason}" in (
        output
    )
    assert not ContactPerson.objects.exists()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"kelurahan": "Atlantis"}, "Unknown kelurahan “Atlantis”."),
        ({"site_kind": "mall"}, "Unknown site kind “mall”."),
        (
            {"latitude": "-6.25", "longitude": "106.90"},
            "The coordinates lie outside Kelurahan Gambir.",
        ),
        ({"contact_role": "lurah"}, "Unknown contact role “lurah”."),
        ({"contact_phone": "call me"}, "“call me” is not a phone number."),
        ({"site_name": ""}, "site_name is required"),
        ({"address": "x" * 256}, "address is longer than 255 characters (it has 256)."),
        ({"contact_name": "Pak\nDarto"}, "contact_name contains a line break"),
        ({"latitude": "inf"}, "latitude must be a number of degrees, not “inf”."),
        ({"contact_email": "darto@"}, "contact_email “darto@” is not an e-mail address."),
        ({"contact_channel": "telegram"}, "Unknown contact channel “telegram”: one of whatsapp"),
        (
            {"contact_channel": "email", "contact_email": ""},
            "Messages can go by e-mail only to a contact with an e-mail",
        ),
    ],
)
def test_each_refusal_names_its_line_and_writes_nothing_for_that_row(
    gambir, tmp_path, change, reason
):
    output = run(write_csv(tmp_path / "s.csv", [{**ROW, **change}]))
    assert "line 2" in output and reason in output
    assert not Site.objects.exists() and not ContactPerson.objects.exists()


def test_a_reference_renaming_its_site_onto_another_is_refused(gambir, tmp_path):
    other = {**ROW, "external_ref": "RW-GAMBIR-02", "site_name": "RW 02"}
    run(write_csv(tmp_path / "a.csv", [ROW, other]))
    output = run(write_csv(tmp_path / "b.csv", [{**ROW, "site_name": "RW 02"}]))
    assert (
        "line 2 (RW-GAMBIR-01): A site of this kind with this name already exists in this "
        "kelurahan." in output
    )
    assert set(Site.objects.values_list("external_ref", "name")) == {
        ("RW-GAMBIR-01", "RW 01"),
        ("RW-GAMBIR-02", "RW 02"),
    }


def test_geojson_points(gambir, tmp_path):
    path = tmp_path / "sites.geojson"
    properties = {k: v for k, v in ROW.items() if k not in ("latitude", "longitude")}
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": properties,
                        "geometry": {"type": "Point", "coordinates": [106.8225, -6.176]},
                    },
                    {
                        "type": "Feature",
                        "properties": {**properties, "external_ref": "X", "site_name": "RW 02"},
                        "geometry": {"type": "Polygon", "coordinates": []},
                    },
                ],
            }
        )
    )
    output = run(path)
    assert "1 sites created" in output and "Only Point geometries can place a site." in output
    assert Site.objects.get().point.coords == pytest.approx((106.8225, -6.176))


def test_a_file_that_is_not_geojson_is_refused_whole(gambir, tmp_path):
    path = tmp_path / "sites.geojson"
    path.write_text("{oops")
    with pytest.raises(CommandError, match="not GeoJSON"):
        run(path)


def test_dry_run_writes_nothing(gambir, tmp_path):
    assert "Dry run" in run(write_csv(tmp_path / "s.csv", [ROW]), "--dry-run")
    assert not Site.objects.exists()
