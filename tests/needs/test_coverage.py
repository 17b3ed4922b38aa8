"""Where need is least covered (needs.coverage): one definition, read by the map's layer and table,
the list's order and the open data."""

import csv
import io
import itertools

import pytest

from donations import services
from needs import coverage
from needs.filters import NeedFilter, canonical_filters
from needs.models import AidType, Need
from tests import factories

GAMBIR, CIDENG, PENJARINGAN = "31.71.01.1001", "31.71.01.1002", "31.72.01.1001"


@pytest.fixture
def valued():
    """A reference value for staple-food packages; the others stay without one."""
    AidType.objects.filter(name="Paket sembako").update(
        unit_value=250_000, unit_value_source="Harga pasar", unit_value_set_on="2020-05-01"
    )


def test_python_and_sql_agree_on_every_kind_of_need(jakarta, donor, valued):
    """of_need() (one need's page) and the SQL (the areas, the open data) over a matrix: quantities
    that divide and do not, no beneficiaries, partly, fully pledged, delivered, closed, an aid type
    with and without a reference value."""
    site = factories.SiteFactory(name="RW 09")
    aid_types = [
        AidType.objects.get(name="Paket sembako"),
        AidType.objects.get(name="Gawai belajar"),
    ]
    made = []
    cases = itertools.product((1, 3, 7, 100), (0, 1, 5, 333), (0, 1, "all"), aid_types)
    for n, (needed, beneficiaries, pledged, aid_type) in enumerate(cases):
        need = factories.NeedFactory(
            site=site,
            aid_type=aid_type,
            title=f"Kebutuhan {n}",
            quantity_needed=needed,
            beneficiaries=beneficiaries,
        )
        quantity = needed if pledged == "all" else min(pledged, needed)
        if quantity:
            services.pledge(need=need, collaborator=donor, quantity=quantity)
        made.append(need.pk)
    closed = factories.NeedFactory(site=site, title="Ditutup", beneficiaries=40)
    from needs import services as need_services

    need_services.close(closed, reason="Sudah dipenuhi pemerintah")
    made.append(closed.pk)

    rows = (
        Need.objects.filter(pk__in=made)
        .select_related("aid_type")
        .annotate(
            beneficiaries_uncovered=coverage.beneficiaries_uncovered(),
            value_uncovered=coverage.value_uncovered(),
        )
    )
    checked = 0
    for need in rows:
        assert coverage.of_need(need) == {
            "beneficiaries_uncovered": need.beneficiaries_uncovered,
            "value_uncovered": need.value_uncovered,
        }, need.title
        checked += 1
    assert checked == len(made) == 97
    # The ceiling: 5 beneficiaries, 2 of 3 units open: ⌈10/3⌉ = 4 people not covered.
    need = Need.objects.get(
        quantity_needed=3, beneficiaries=5, quantity_pledged=1, aid_type=aid_types[0]
    )
    assert coverage.of_need(need) == {"beneficiaries_uncovered": 4, "value_uncovered": 500_000}
    assert coverage.of_need(Need.objects.get(pk=closed.pk))["beneficiaries_uncovered"] == 0


def test_areas_sum_their_needs_most_uncovered_first(spread, valued):
    areas = {a["code"]: a for a in coverage.by_kelurahan(Need.objects.published())}
    # Gambir: 100 people with nothing pledged, 60 of 100 with 4 of 10 pledged, the full need none;
    # the unpublished draft is not counted.
    assert areas[GAMBIR] == {
        "code": GAMBIR,
        "name": "Gambir",
        "kecamatan_code": "31.71.01",
        "kecamatan": "Gambir",
        "kota_code": "31.71",
        "kota_name": "Kota Administrasi Jakarta Pusat",
        "kota": "Jakarta Pusat",
        "needs_open": 2,
        "beneficiaries_uncovered": 160,
        "value_uncovered": 100 * 250_000 + 6 * 250_000,
        "needs_without_estimate": 0,
    }
    # No reference value for devices or drainage: no estimate, and said so.
    assert areas[CIDENG]["value_uncovered"] == 0
    assert areas[CIDENG]["needs_without_estimate"] == 1
    ordered = [a["code"] for a in coverage.by_kelurahan(Need.objects.published())]
    assert ordered[0] == GAMBIR


def test_the_api_gives_the_areas_for_the_maps_filters(client, spread):
    body = client.get("/api/v1/needs/coverage/").json()
    assert body["level"] == "kelurahan"
    assert [(a["code"], a["beneficiaries_uncovered"]) for a in body["areas"]] == [
        (GAMBIR, 160),
        (CIDENG, 100),
        (PENJARINGAN, 100),
    ]
    only_food = client.get("/api/v1/needs/coverage/", {"category": "pangan"}).json()
    assert [a["code"] for a in only_food["areas"]] == [GAMBIR]
    # The statuses chosen on the map: fully pledged needs alone leave nothing uncovered.
    full = client.get("/api/v1/needs/coverage/", {"status": "fully_pledged"}).json()
    assert full["areas"][0]["beneficiaries_uncovered"] == 0
    assert full["areas"][0]["needs_open"] == 0


def test_a_bad_filter_is_a_400_with_its_reason(client, spread):
    response = client.get("/api/v1/needs/coverage/", {"kota": "99"})
    assert response.status_code == 400
    assert "kota" in response.json()


def test_the_order_does_not_key_the_layers():
    """`sort` and `near` order the list; the markers and the areas are the same whatever they say,
    so the worker keeps one snapshot for them, not one per donor's place."""
    from django.http import QueryDict

    query = QueryDict("status=open&sort=closest&near=106.8,-6.1&kota=31.71&status=open")
    assert canonical_filters(query) == (("kota", ["31.71"]), ("status", ["open"]))
    assert set(NeedFilter.base_filters) >= {"sort", "near"}


def test_the_open_data_gives_the_same_numbers(client, spread, valued):
    """One definition: the areas the map shades are the open data's `unmet_need` rows, and each is
    the sum of the needs file's columns of the same name, kelurahan by kelurahan."""
    api = client.get("/api/v1/needs/coverage/", {"status": ["open", "partly_pledged"]}).json()
    download = client.get("/transparansi/data/unmet_need.csv")
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(_text(download))))
    rows = [r for r in rows if r["area_level"] == "kelurahan"]  # not the HXL row, nor RWs
    published = {r["kelurahan_code"]: r for r in rows}
    for area in api["areas"]:
        row = published[area["code"]]
        for name in ("needs_open", "beneficiaries_uncovered", "value_uncovered"):
            assert int(row[name]) == area[name], (area["code"], name)

    needs = _text(client.get("/transparansi/data/needs.csv"))
    sums: dict = {}
    for need in csv.DictReader(io.StringIO(needs)):
        if need["need_id"].startswith("#"):
            continue
        total = sums.setdefault(need["kelurahan_code"], [0, 0])
        total[0] += int(need["beneficiaries_uncovered"])
        total[1] += int(need["value_uncovered"] or 0)
    for code, row in published.items():
        assert sums[code] == [int(row["beneficiaries_uncovered"]), int(row["value_uncovered"])]


def _text(response) -> str:
    return b"".join(response.streaming_content).decode()


# The list's order -----------------------------------------------------------------------------


def _titles(client, **params) -> list[str]:
    body = client.get("/api/v1/needs/", params).json()
    return [f["properties"]["title"] for f in body["features"]]


def test_least_covered_first(client, spread):
    factories.NeedFactory(
        site=spread["sembako_gambir"].site, title="Banyak penerima", beneficiaries=900
    )
    titles = _titles(client, sort="least_covered")
    # Nothing pledged first, the most people first among them; then the 40 % pledged.
    assert titles[0] == "Banyak penerima"
    assert titles[-1] == "Makan siang"
    assert set(titles[1:4]) == {"Sembako warga RW 01", "Gawai untuk murid", "Drainase kampung"}


def test_closest_to_me_orders_by_distance_from_the_place_given(client, spread):
    near_akuarium = "106.81,-6.13"
    assert _titles(client, sort="closest", near=near_akuarium)[0] == "Drainase kampung"
    near_cideng = "106.81,-6.18"
    assert _titles(client, sort="closest", near=near_cideng)[0] == "Gawai untuk murid"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "closest"}, "Closest to me"),
        ({"sort": "closest", "near": "here"}, "two numbers"),
        ({"sort": "closest", "near": "500,-6.1"}, "not a place on Earth"),
        ({"sort": "nearest"}, "Select a valid choice"),
    ],
)
def test_a_bad_order_is_explained(client, spread, params, message):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    api = client.get("/api/v1/needs/", params)
    assert api.status_code == 400
    assert message in api.content.decode()
    page = client.get("/peta/", params)
    assert page.status_code == 200
    assert message in page.content.decode()
    assert "Correct the filters above" in page.content.decode()


def test_a_donors_place_is_kept_by_no_cache(client, spread, settings):
    settings.KSBB_PUBLIC_PAGE_SECONDS = 60
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get("/peta/", {"sort": "closest", "near": "106.8123,-6.1298"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    # Whatever answers it: the API's list too, which is otherwise public.
    api = client.get("/api/v1/needs/", {"sort": "closest", "near": "106.8123,-6.1298"})
    assert api.status_code == 200 and api["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    # Rounded to about a kilometre, and shown as a distance.
    assert 'value="106.81,-6.13"' in html
    assert "about 0.6 km away" in html  # Kampung Akuarium, first
    # The ordinary map page stays public.
    assert "public" in client.get("/peta/")["Cache-Control"]


def test_the_map_page_shows_the_least_covered_kelurahan(client, spread):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get("/peta/", {"category": "pangan"}).content.decode()
    assert "Where need is least covered" in html
    table = html[html.index('class="table coverage-table"') :]
    assert table.index("Gambir") < table.index("</table>")
    assert "Kampung Akuarium" not in table
    # Each area links to its needs in the list, with the same filters.
    assert f"/peta/?category=pangan&amp;kelurahan={GAMBIR}" in html
    assert "/api/v1/needs/coverage/?category=pangan" in html


def test_the_coverage_page_lists_every_kelurahan(client, spread):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get("/peta/cakupan/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(f'data-code="{GAMBIR}"') < html.index(f'data-code="{CIDENG}"')
    assert f'data-code="{PENJARINGAN}"' in html
    assert "/transparansi/data/unmet_need.csv" in html
    bad = client.get("/peta/cakupan/", {"kota": "99"})
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()


def test_a_pledge_moves_the_areas(client, spread, donor):
    """The areas' snapshot is versioned by the needs' figures: a pledge shows at the next read
    (KSBB_PUBLIC_SNAPSHOT_SECONDS = 0 in the tests), unlike the markers, whose status is the same."""
    before = client.get("/api/v1/needs/coverage/").json()["areas"]
    services.pledge(need=spread["sembako_gambir"], collaborator=donor, quantity=50)
    after = client.get("/api/v1/needs/coverage/").json()["areas"]
    gambir = {a["code"]: a for a in before}[GAMBIR]["beneficiaries_uncovered"]
    assert {a["code"]: a for a in after}[GAMBIR]["beneficiaries_uncovered"] == gambir - 50


def test_the_need_page_says_what_is_not_covered_as_the_map_counts_it(client, spread, valued):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    partly = spread["partly_gambir"]  # 100 people, 4 of 10 packages pledged
    html = client.get(partly.get_absolute_url()).content.decode()
    assert "Not covered by a pledge yet" in html
    assert "about 60 beneficiaries, Rp 1,500,000 estimated" in html
    full = client.get(spread["full_gambir"].get_absolute_url()).content.decode()
    assert "Not covered by a pledge yet" not in full  # fully pledged: nothing left to cover
