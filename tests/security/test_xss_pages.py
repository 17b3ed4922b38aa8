"""Every text a donor, an import or staff can set, set to script, HTML, SVG and attribute-breaking
payloads: every page that shows it, public and staff, prints it as text and creates no element.

Each page must also show the payload (tests.security.markup.shows): escaping proven on a page that
leaves the text out would prove nothing.
"""

import contextlib
import json

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape

from donations import services
from donations.models import Collaborator, Delivery, Opd, Pledge, PledgeEvent
from locations.models import ContactPerson, Site
from needs.models import AidType, Category, Need
from tests.security.markup import PAYLOADS, injected, shows

ALL_STATUSES = (
    "status=open&status=partly_pledged&status=fully_pledged&status=delivered&status=closed"
)


@pytest.fixture(params=list(PAYLOADS.values()), ids=list(PAYLOADS))
def payload(request):
    return request.param


@pytest.fixture
def hostile(city, payload, province_staff):
    """The city with every free text in it replaced by the payload: what donors type (name,
    message), what imports and staff write (titles, descriptions, criteria, sites, contacts,
    categories, aid types, OPDs, delivery notes) and the reasons given for a rejection or a cancel."""
    p = payload
    Need.objects.update(title=p, description=p, criteria=p)
    Site.objects.update(name=p, address=p)
    Collaborator.objects.update(public_name=p)
    Pledge.objects.update(message=p, status_reason=p)
    ContactPerson.objects.update(name=p, note=p)
    Delivery.objects.update(note=p)
    Opd.objects.update(name=p)
    Category.objects.update(description=p, recipients=p)
    Category.objects.filter(slug="pangan").update(name=p)  # names are unique
    AidType.objects.filter(name__in=["Paket sembako", "Gawai belajar"]).update(name=p, unit=p[:30])
    rejected = services.pledge(
        need=city.needs["umkm"], collaborator=city.pledges["full"].collaborator, quantity=2
    )
    services.transition(rejected, "rejected", actor=services.Actor.staff(province_staff), reason=p)
    PledgeEvent.objects.update(reason=p)
    city.pledges["rejected"] = rejected
    return city


def _html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("text/html"), url
    return response.content.decode()


def public_pages(city) -> list[str]:
    published = [n for key, n in city.needs.items() if key != "hidden"]
    return [
        "/",
        f"/peta/?{ALL_STATUSES}",
        *[f"/kebutuhan/{n.pk}/" for n in published],
        f"/kebutuhan/{city.needs['open'].pk}/dukung/",
        "/transparansi/",
        *[f"/komitmen/{p.token}/" for p in city.pledges.values()],
    ]


def test_public_pages_print_every_payload_as_text(client, hostile, payload):
    for url in public_pages(hostile):
        html = _html(client, url)
        assert injected(html) == [], url
        assert shows(html, payload), f"{url} does not show the hostile text at all"


def test_what_a_visitor_types_into_a_url_comes_back_as_text(client, hostile, payload):
    for url in [
        "/peta/",
        "/transparansi/",
        "/admin/login/",
    ]:
        for parameter in ("q", "page", "as_of", "kota", "category", "bbox", "next"):
            html = client.get(url, {parameter: payload}).content.decode()
            assert injected(html) == [], (url, parameter)


def admin_pages(city, user) -> list[str]:
    """Every registered model's list, and the change and history pages of its rows (a few each),
    then the staff's own pages: the dashboard, recording a delivery, the needs import."""
    request = RequestFactory().get("/admin/")
    request.user = user
    urls = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        rows = model_admin.get_queryset(request).order_by("-pk")[:4]
        for obj in rows:
            for view in ("change", "history"):
                with contextlib.suppress(NoReverseMatch):  # a model without that view
                    urls.append(
                        reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])
                    )
    urls += [
        reverse("admin:donations_pledge_dashboard"),
        reverse("admin:donations_pledge_deliver", args=[city.pledges["scheduled"].pk]),
        reverse("admin:needs_need_import"),
    ]
    return urls


def test_admin_pages_print_every_payload_as_text(staff_client, province_staff, hostile, payload):
    pledge = hostile.pledges["submitted"]
    # The pages that must print the hostile text; the others may show none of it.
    must_show = [
        reverse("admin:needs_need_change", args=[pledge.need_id]),
        reverse("admin:locations_site_change", args=[pledge.need.site_id]),
        reverse("admin:donations_collaborator_change", args=[pledge.collaborator_id]),
        reverse("admin:donations_pledge_change", args=[pledge.pk]),
        reverse("admin:donations_pledge_change", args=[hostile.pledges["rejected"].pk]),
        reverse("admin:donations_delivery_change", args=[Delivery.objects.first().pk]),
        reverse("admin:locations_contactperson_change", args=[ContactPerson.objects.first().pk]),
        reverse("admin:needs_category_change", args=[Category.objects.get(slug="pangan").pk]),
        reverse("admin:donations_opd_change", args=[Opd.objects.get().pk]),
        reverse("admin:needs_need_changelist"),
        reverse("admin:donations_pledge_changelist"),
        reverse("admin:donations_pledgeevent_changelist"),
    ]
    shown = set()
    for url in dict.fromkeys(admin_pages(hostile, province_staff) + must_show):
        html = _html(staff_client, url)
        assert injected(html) == [], url
        if shows(html, payload):
            shown.add(url)
    assert [url for url in must_show if url not in shown] == []


def test_the_api_carries_the_payload_as_json_data(client, hostile, payload):
    need = hostile.needs["open"]
    pledge = hostile.pledges["submitted"]
    for url, text in [
        (f"/api/v1/needs/{need.pk}/", lambda body: body["properties"]["title"]),
        ("/api/v1/needs/", lambda body: body["features"][0]["properties"]["site"]),
        (f"/api/v1/pledges/{pledge.token}/", lambda body: body["shown_as"]),
        ("/api/v1/categories/", lambda body: body[0]["name"]),
    ]:
        response = client.get(url, HTTP_ACCEPT="application/json")
        assert response["Content-Type"] == "application/json", url
        # A browser that opens the URL must not guess HTML from the body.
        assert response["X-Content-Type-Options"] == "nosniff"
        assert text(response.json()) == payload, url


def test_the_map_layer_carries_no_text_at_all(client, hostile, payload):
    response = client.get("/api/v1/needs/layer/")
    assert response["Content-Type"] == "application/geo+json"
    assert response["X-Content-Type-Options"] == "nosniff"
    body = json.loads(response.content)
    assert body["features"]
    # The popup fetches the need's JSON and writes it with textContent (test_map_scripts.py).
    assert {frozenset(f["properties"]) for f in body["features"]} == {
        frozenset({"status", "category"})
    }
    assert payload not in response.content.decode()


def test_a_colour_that_tries_to_break_out_of_its_style_is_refused(staff_client, jakarta):
    url = reverse("admin:needs_category_add")
    response = staff_client.post(
        url,
        {
            "name": "Sandang",
            "slug": "sandang",
            "color": '"><b>x',
            "order": 5,
            "hold_days": 7,
            "grace_days": 3,
        },
    )
    assert response.status_code == 200
    assert "color" in response.context["adminform"].form.errors
    assert not Category.objects.filter(slug="sandang").exists()


@pytest.mark.parametrize(
    ("name", "context"),
    [
        ("script", "<p>{}</p>"),
        ("attribute", '<input value="{}">'),
        ("svg", "<p>{}</p>"),
        ("url", '<a href="{}">need</a>'),
        ("quote", "<input value='{}'>"),
    ],
)
def test_the_reader_catches_each_payload_left_unescaped(name, context):
    """The checks above are only as good as this reader: it must see the raw payload as markup, and
    the escaped one as text (a URL is never safe in a link, escaped or not: as text it is)."""
    payload = PAYLOADS[name]
    assert injected(context.format(payload)) != []
    safe = f"<p>{escape(payload)}</p>" if name == "url" else context.format(escape(payload))
    assert injected(safe) == []
    assert shows(safe, payload)
