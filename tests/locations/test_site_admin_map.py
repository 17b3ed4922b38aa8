"""Sites are edited on a Leaflet map in the admin; a point outside the kelurahan is refused there."""

from locations.models import Site
from tests.helpers import admin_url


def _post(client, gambir, point):
    return client.post(
        admin_url(Site, "add"),
        {
            "kind": "rw",
            "name": "RW 09",
            "kelurahan": gambir.pk,
            "point": point,
            "address": "",
            "contacts-TOTAL_FORMS": 0,
            "contacts-INITIAL_FORMS": 0,
        },
    )


def test_the_site_form_is_a_leaflet_map(staff_client, gambir):
    page = staff_client.get(admin_url(Site, "add")).content.decode()
    assert "leaflet" in page.lower()


def test_a_point_outside_the_kelurahan_is_shown_as_an_error_on_the_form(staff_client, gambir):
    response = _post(staff_client, gambir, '{"type": "Point", "coordinates": [106.90, -6.25]}')
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["point"]
    assert "di luar batas Kelurahan Gambir" in str(errors)
    assert not Site.objects.exists()


def test_a_point_inside_is_saved(staff_client, gambir):
    response = _post(staff_client, gambir, '{"type": "Point", "coordinates": [106.826, -6.175]}')
    assert response.status_code == 302
    assert Site.objects.get().name == "RW 09"
