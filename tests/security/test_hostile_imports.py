"""Hostile text arriving by import: the needs import's preview (which quotes what it refuses) and
the pages that then show what the needs and sites imports wrote print it as text."""

import csv
import io
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from locations import imports as site_imports
from locations.models import ContactPerson, Site
from needs.imports import COLUMNS
from needs.models import Need
from tests.needs.test_import_needs import ROW as NEED_ROW
from tests.security.markup import PAYLOADS, injected, shows

IMPORT_URL = "/admin/needs/need/import/"


@pytest.fixture(params=list(PAYLOADS.values()), ids=list(PAYLOADS))
def payload(request):
    return request.param


def _csv(columns, rows) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_the_needs_import_preview_and_what_it_imports_print_text(
    staff_client, gambir, payload, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    rows = [
        {
            **NEED_ROW,
            "external_ref": "DKI-X1",
            "title": payload,
            "site_name": payload,
            "criteria": payload,
        },
        {**NEED_ROW, "external_ref": "DKI-X2", "kelurahan": payload},
        {**NEED_ROW, "external_ref": "DKI-X3", "category": payload},
        {**NEED_ROW, "external_ref": payload[:64], "quantity": payload},
    ]
    upload = SimpleUploadedFile("needs.csv", _csv(COLUMNS, rows), content_type="text/csv")
    preview = staff_client.post(IMPORT_URL, {"file": upload})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert injected(html) == []
    assert shows(html, payload)  # quoted in the refusals
    staff_client.post(IMPORT_URL, {"confirm": "1"})
    need = Need.objects.get(external_ref="DKI-X1")
    assert need.title == payload
    for url in (
        f"/kebutuhan/{need.pk}/",
        "/peta/",
        reverse("admin:needs_need_change", args=[need.pk]),
        reverse("admin:needs_need_changelist"),
    ):
        page = staff_client.get(url).content.decode()
        assert injected(page) == [], url
        assert shows(page, payload), url


def test_what_the_sites_import_writes_is_printed_as_text(staff_client, gambir, payload, tmp_path):
    path = tmp_path / "sites.csv"
    path.write_bytes(
        _csv(
            site_imports.COLUMNS,
            [
                {
                    "external_ref": "RW-X",
                    "kelurahan": "31.71.01.1001",
                    "site_kind": "rw",
                    "site_name": payload,
                    "address": payload,
                    "latitude": "-6.1760",
                    "longitude": "106.8225",
                    "contact_name": payload,
                    "contact_role": "rw_head",
                    "contact_phone": "+62 812 1111 2222",
                }
            ],
        )
    )
    call_command("import_sites", str(path), stdout=StringIO())
    site = Site.objects.get(external_ref="RW-X")
    contact = ContactPerson.objects.get(site=site)
    assert (site.name, site.address, contact.name) == (payload, payload, payload)
    for url in (
        reverse("admin:locations_site_change", args=[site.pk]),
        reverse("admin:locations_site_changelist"),
        reverse("admin:locations_contactperson_change", args=[contact.pk]),
        reverse("admin:locations_contactperson_changelist"),
    ):
        page = staff_client.get(url).content.decode()
        assert injected(page) == [], url
        assert shows(page, payload), url
