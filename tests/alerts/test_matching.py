"""The matching rule on plain values (alerts.matching): regions nest by code (locations.scoping,
StaffArea's rule), categories filter."""

import pytest

from alerts import matching
from locations import scoping


@pytest.mark.parametrize(
    "region, kelurahan, expected",
    [
        ("31.71.01.1001", "31.71.01.1001", True),  # the kelurahan itself
        ("31.71.01", "31.71.01.1001", True),  # its kecamatan
        ("31.71", "31.71.01.1001", True),  # its kota
        ("31.71.01.1002", "31.71.01.1001", False),  # the neighbour
        ("31.72", "31.71.01.1001", False),  # another kota
        ("31.7", "31.71.01.1001", False),  # a prefix of digits is not a region above
        ("31.71.0", "31.71.01.1001", False),
        ("31.71.01.100", "31.71.01.1001", False),
    ],
)
def test_a_region_covers_its_own_kelurahan_and_those_below_it(region, kelurahan, expected):
    assert scoping.in_area(kelurahan, [region]) is expected


def test_no_category_means_every_category():
    assert matching.matches(["31.71"], [], "31.71.01.1001", category_id=7)


def test_a_category_must_be_one_of_the_subscriptions():
    assert matching.matches(["31.71"], [3, 7], "31.71.01.1001", category_id=7)
    assert not matching.matches(["31.71"], [3], "31.71.01.1001", category_id=7)


def test_any_of_several_regions_matches():
    codes = ["31.72.01.1001", "31.71.01"]
    assert matching.matches(codes, [], "31.71.01.1002", category_id=1)
    assert not matching.matches(codes, [], "31.73.01.1001", category_id=1)
    assert not matching.matches([], [], "31.71.01.1001", category_id=1)


def test_enclosing_codes_are_the_kota_kecamatan_and_kelurahan():
    assert scoping.enclosing_codes("31.71.01.1001") == ["31", "31.71", "31.71.01", "31.71.01.1001"]
