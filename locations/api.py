"""Regions for the public API: codes and names, and boundaries (GeoJSON) on request."""

from django.db import connections, router
from django.db.models import F
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import condition
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from ksbb.lib import api_schema
from ksbb.lib.api_schema import BAD_PARAMETERS, NOT_FOUND
from ksbb.lib.geojson import feature_collection
from locations.filters import RegionFilter
from locations.models import Region


class RegionSerializer(serializers.ModelSerializer):
    # A kota has no parent: null.
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]


def _regions_etag(request, *args, **kwargs) -> str:
    # Boundaries change only when an operator imports a file; the count and the URL say enough
    # together with the boundary checksum PostgreSQL computes cheaply for 317 rows.
    # Read where the list itself is read (a replica for public requests), so the tag matches what it tags.
    with connections[router.db_for_read(Region)].cursor() as cursor:
        cursor.execute(
            "SELECT count(*), md5(string_agg(md5(ST_AsBinary(boundary)), '' ORDER BY id)) FROM locations_region"
        )
        count, digest = cursor.fetchone()
    return f"{count}-{digest}-{request.get_full_path()}"


# `boundary` as a boolean query parameter may be spelled (empty: not asked for).
BOUNDARY_VALUES = {"": False, "0": False, "false": False, "1": True, "true": True}

RegionBoundaries = api_schema.geojson_layer(
    "RegionBoundaries",
    "MultiPolygon",
    {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "level": {"type": "string", "enum": Region.Level.values},
    },
)


@extend_schema_view(retrieve=extend_schema(responses={200: RegionSerializer, 404: NOT_FOUND}))
@method_decorator(gzip_page, name="dispatch")
@method_decorator(cache_control(public=True, max_age=3600), name="list")
@method_decorator(cache_control(public=True, max_age=3600), name="retrieve")
@method_decorator(condition(etag_func=_regions_etag), name="list")
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Kota, kecamatan and kelurahan of Jakarta. `?boundary=1` answers GeoJSON with their boundaries."""

    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    queryset = Region.objects.select_related("parent")
    lookup_field = "code"
    lookup_value_regex = r"[0-9.]+"
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "boundary", OpenApiTypes.BOOL, description="Answer GeoJSON with boundaries."
            )
        ],
        responses={
            200: RegionSerializer(many=True),
            (200, "application/geo+json"): RegionBoundaries,
            400: BAD_PARAMETERS,
        },
    )
    def list(self, request, *args, **kwargs):
        boundary = request.query_params.get("boundary", "")
        if boundary not in BOUNDARY_VALUES:
            raise ValidationError({"boundary": [_("Use boundary=1 for boundaries, 0 for none.")]})
        if not BOUNDARY_VALUES[boundary]:
            return super().list(request, *args, **kwargs)
        regions = (
            self.filter_queryset(self.get_queryset())
            .filter(boundary__isnull=False)
            .values("id", "code", "name", "level", shape=F("boundary"))
        )
        body = feature_collection(
            regions, geometry="shape", properties=["code", "name", "level"], precision=5
        )
        return HttpResponse(body, content_type="application/geo+json")
