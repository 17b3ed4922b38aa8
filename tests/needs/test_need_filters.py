"""One FilterSet narrows needs for the map page, the list and the API alike."""

import pytest
from django.http import QueryDict
from django.utils.translation import override

from needs.filters import NeedFilter
from needs.models import AidType


def titles(query: str) -> set[str]:
    needs = NeedFilter(QueryDict(query))
    assert needs.is_valid(), needs.errors
    return set(needs.qs.values_list("title", flat=True))


def test_by_default_only_published_needs_open_to_pledges(spread):
    assert titles("") == {
        "Sembako warga RW 01",
        "Gawai untuk murid",
        "Drainase kampung",
        "Makan siang",
    }


def test_status_can_ask_for_fully_pledged_needs(spread):
    assert titles("status=fully_pledged") == {"Sembako lansia"}
    assert titles("status=partly_pledged&status=fully_pledged") == {"Sembako lansia", "Makan siang"}


def test_category_by_slug(spread):
    assert titles("category=pendidikan") == {"Gawai untuk murid"}


def test_aid_type(spread):
    drainase = AidType.objects.get(name="Perbaikan drainase")
    assert titles(f"aid_type={drainase.pk}") == {"Drainase kampung"}


def test_kota_kecamatan_kelurahan_each_narrow(spread):
    assert titles("kota=31.72") == {"Drainase kampung"}
    assert titles("kota=31.71") == {"Sembako warga RW 01", "Gawai untuk murid", "Makan siang"}
    assert titles("kota=31.71&kecamatan=31.71.01") == {
        "Sembako warga RW 01",
        "Gawai untuk murid",
        "Makan siang",
    }
    assert titles("kota=31.71&kecamatan=31.71.01&kelurahan=31.71.01.1002") == {"Gawai untuk murid"}


def test_site_kind(spread):
    assert titles("site_kind=kampung") == {"Drainase kampung"}


def test_text_search_over_need_title_and_site_name(spread):
    assert titles("q=akuarium") == {"Drainase kampung"}
    assert titles("q=GAWAI") == {"Gawai untuk murid"}


def test_filters_combine(spread):
    assert titles("category=pangan&kota=31.71&q=makan") == {"Makan siang"}
    assert titles("category=pangan&kota=31.72") == set()


def test_bbox(spread):
    assert titles("bbox=106.80,-6.13,106.81,-6.12") == {"Drainase kampung"}


def test_kecamatan_choices_narrow_to_the_chosen_kota(spread):
    form = NeedFilter(QueryDict("kota=31.72")).form
    codes = {code for code, _ in form.fields["kecamatan"].widget.choices if code}
    assert len(codes) == 6 and all(code.startswith("31.72.") for code in codes)


@pytest.mark.parametrize(
    ("query", "field", "fragment"),
    [
        ("category=sandang", "category", "Select a valid choice"),
        ("kota=31.99", "kota", "Select a valid choice"),
        ("kelurahan=abc", "kelurahan", "Select a valid choice"),
        ("status=lost", "status", "Select a valid choice"),
        ("aid_type=x", "aid_type", "Select a valid choice"),
        ("bbox=1,2,3", "bbox", "four numbers"),
        ("bbox=106.9,-6.1,106.8,-6.2", "bbox", "south-west to north-east"),
        ("q=" + "x" * 101, "q", "at most 100 characters"),
    ],
)
def test_bad_values_are_reported_per_field(spread, query, field, fragment):
    with override("en"):
        needs = NeedFilter(QueryDict(query))
        assert not needs.is_valid()
        assert fragment in str(needs.errors[field])


def test_a_kecamatan_outside_the_chosen_kota_is_refused_naming_both(spread):
    with override("en"):
        needs = NeedFilter(QueryDict("kota=31.72&kecamatan=31.71.01"))
        assert not needs.is_valid()
        assert needs.errors["__all__"] == ["Kecamatan Gambir is not in Jakarta Utara."]


def test_a_kelurahan_outside_the_chosen_kecamatan_is_refused(spread):
    with override("en"):
        needs = NeedFilter(QueryDict("kecamatan=31.71.01&kelurahan=31.72.01.1001"))
        assert not needs.is_valid()
        assert needs.errors["__all__"] == ["Kelurahan Penjaringan is not in Kecamatan Gambir."]
