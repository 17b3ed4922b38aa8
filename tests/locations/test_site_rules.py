"""A site lies in its kelurahan: its point is checked against the boundary when there is one."""

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError

from locations.models import Region, Site


def _site(kelurahan, point):
    return Site(kind=Site.Kind.RW, name="RW 09", kelurahan=kelurahan, point=point)


def test_a_point_inside_the_kelurahan_is_accepted(gambir):
    _site(gambir, Point(106.826, -6.175, srid=4326)).full_clean()


def test_a_point_just_outside_the_simplified_boundary_is_tolerated(gambir):
    # About 100 m east of the edge at 106.8369: within the 300 m tolerance for simplified polygons.
    _site(gambir, Point(106.8378, -6.175, srid=4326)).full_clean()


def test_a_point_in_another_part_of_the_city_is_refused_with_the_kelurahans_name(
    gambir,
):
    with pytest.raises(ValidationError) as refused:
        _site(gambir, Point(106.90, -6.25, srid=4326)).full_clean()
    assert "di luar batas Kelurahan Gambir" in str(refused.value.message_dict["point"])


def test_without_a_boundary_the_point_is_not_checked(jakarta):
    petojo = Region.objects.get(code="31.71.01.1003")
    _site(petojo, Point(106.90, -6.25, srid=4326)).full_clean()


def test_a_site_must_lie_in_a_kelurahan_not_a_kecamatan(jakarta):
    with pytest.raises(ValidationError) as refused:
        _site(Region.objects.get(code="31.71.01"), Point(106.826, -6.175, srid=4326)).full_clean()
    assert "kelurahan" in refused.value.message_dict
