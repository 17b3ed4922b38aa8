"""The public read API for needs, categories and aid types (`/api/v1/`). No personal data."""

from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from drf_spectacular.contrib.rest_framework_gis import build_geo_schema
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import build_object_type
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from ksbb.lib import api_schema
from ksbb.lib.api_schema import BAD_PARAMETERS, NOT_FOUND
from ksbb.lib.http_cache import public_data, revalidated_api
from locations.models import Site
from needs import coverage
from needs import layer as needs_layer
from needs.areas import areas
from needs.caching import need_version, needs_conditional
from needs.filters import NeedFilter, canonical_filters, known_valid, remember_valid
from needs.models import AidType, Category, Freshness, Need, NeedStatus

NeedLayer = api_schema.geojson_layer(
    "NeedLayer",
    "Point",
    {"status": {"type": "string", "enum": NeedStatus.values}, "category": {"type": "string"}},
)


class NeedSerializer(GeoFeatureModelSerializer):
    point = GeometryField(source="site.point")
    site = serializers.CharField(source="site.name")
    site_kind = serializers.CharField(source="site.kind")
    location_is_approximate = serializers.BooleanField(source="site.location_is_approximate")
    kelurahan = serializers.CharField(source="site.kelurahan.name")
    kelurahan_code = serializers.CharField(source="site.kelurahan.code")
    kecamatan = serializers.CharField(source="site.kelurahan.parent.name")
    kota = serializers.CharField(source="site.kelurahan.parent.parent.display_name")
    category = serializers.CharField(source="aid_type.category.slug")
    category_name = serializers.CharField(source="aid_type.category.name")
    aid_type = serializers.CharField(source="aid_type.name")
    unit = serializers.CharField(source="aid_type.unit")
    quantity_remaining = serializers.IntegerField()
    status_display = serializers.CharField(source="status_label")
    freshness = serializers.ChoiceField(
        choices=Freshness.choices,
        read_only=True,
        help_text="Whether an open need is known to be still needed: `awaiting` reconfirmation "
        "after its category's days without one, `paused` (taking no new pledges) a grace later.",
    )
    freshness_display = serializers.CharField(source="get_freshness_display", read_only=True)
    last_confirmed = serializers.DateTimeField(
        read_only=True,
        help_text="When the site's contact person or staff last said the need is still needed "
        "(its publication, if never since).",
    )
    confirmed_by = serializers.SerializerMethodField(
        help_text="Who last confirmed it: `recipient`, `staff`, or null (never since published)."
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Need
        geo_field = "point"
        id_field = "id"
        fields = [
            "id",
            "point",
            "title",
            "site",
            "site_kind",
            "location_is_approximate",
            "kelurahan",
            "kelurahan_code",
            "kecamatan",
            "kota",
            "category",
            "category_name",
            "aid_type",
            "unit",
            "quantity_needed",
            "quantity_pledged",
            "quantity_delivered",
            "quantity_remaining",
            "beneficiaries",
            "beneficiary_kind",
            "period_start",
            "period_end",
            "status",
            "status_display",
            "freshness",
            "freshness_display",
            "last_confirmed",
            "confirmed_by",
            "url",
        ]

    def get_confirmed_by(self, need) -> str | None:
        if need.confirmed_at is None:
            return None
        return "recipient" if need.confirmed_by_contact else "staff"

    def get_url(self, need) -> str:
        return reverse("need_detail", args=[need.pk])


class NeedFeatureSchema(OpenApiSerializerExtension):
    """The schema of a need Feature. drf-spectacular's GIS extension looks the geometry up on the
    model, but a need's point is its site's."""

    target_class = NeedSerializer
    priority = 1

    def map_serializer(self, auto_schema, direction):
        properties = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        properties["properties"].pop("id", None)
        properties["properties"].pop("point", None)
        properties.pop("required", None)
        return build_object_type(
            properties={
                "type": {"type": "string", "enum": ["Feature"]},
                "id": {"type": "integer"},
                "geometry": build_geo_schema(Site._meta.get_field("point")),
                "properties": properties,
            }
        )


class CoverageAreaSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="The kelurahan's Kemendagri code; an RW's: its kelurahan's and its number "
        "(31.71.01.1001-RW01)."
    )
    name = serializers.CharField()
    kecamatan_code = serializers.CharField(required=False, help_text="Kelurahan only.")
    kecamatan = serializers.CharField(required=False, help_text="Kelurahan only.")
    kota_code = serializers.CharField(required=False, help_text="Kelurahan only.")
    kota = serializers.CharField(required=False, help_text="As people say it: Jakarta Pusat.")
    kota_name = serializers.CharField(
        required=False, help_text="In full: Kota Administrasi Jakarta Pusat."
    )
    kelurahan_code = serializers.CharField(required=False, help_text="RW only.")
    kelurahan = serializers.CharField(required=False, help_text="RW only.")
    geometry = serializers.JSONField(
        required=False,
        help_text="RW only: its outline (a GeoJSON Polygon or MultiPolygon), simplified.",
    )
    needs_open = serializers.IntegerField(min_value=0)
    beneficiaries_uncovered = serializers.IntegerField(min_value=0)
    value_uncovered = serializers.IntegerField(
        min_value=0, help_text="Rupiah, by the aid types' reference values."
    )
    needs_without_estimate = serializers.IntegerField(
        min_value=0, help_text="Open needs whose aid type has no reference value."
    )


class CoverageSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=["kelurahan", "rw"])
    areas = CoverageAreaSerializer(many=True)


class NeedPagination(GeoJsonPagination):
    page_size = 50
    max_page_size = 500

    def get_page_size(self, request):
        # DRF quietly falls back to the default for a bad page_size; here it is bad input like any
        # other parameter, answered with its reason.
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give a page size from 1 to %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def get_paginated_response_schema(self, schema):
        """What get_paginated_response returns. drf-gis's own schema keeps `results` required and
        nests under `features` the whole FeatureCollection drf-spectacular built for the list."""
        page_link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["type", "count", "next", "previous", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "count": {"type": "integer", "minimum": 0},
                "next": page_link,
                "previous": page_link,
                # The component NeedFeatureSchema describes.
                "features": {"type": "array", "items": {"$ref": "#/components/schemas/Need"}},
            },
        }

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (
            Exception
        ) as e:  # DRF raises NotFound for a bad page; a bad page is bad input, a 400.
            if getattr(e, "status_code", None) == 404:
                raise ValidationError({"page": [str(e.detail)]}) from e
            raise


@extend_schema_view(
    list=extend_schema(responses={200: NeedSerializer, 400: BAD_PARAMETERS}),
    retrieve=extend_schema(responses={200: NeedSerializer, 404: NOT_FOUND}),
)
@method_decorator(gzip_page, name="dispatch")
# Lists and a need's popup show quantities: a cache keeps them but asks each time (their ETags;
# the popup's, and its 304, come from the page cache's plan: ksbb_page_cache below);
# the layer is a snapshot that may lag anyway (docs/deploy.md, what a CDN may cache).
@method_decorator(public_data(0), name="list")
@method_decorator(public_data(0), name="retrieve")
@method_decorator(public_data(), name="layer")
@method_decorator(public_data(), name="coverage")
@method_decorator(needs_conditional, name="list")
class NeedViewSet(viewsets.ReadOnlyModelViewSet):
    """Published needs as GeoJSON, filtered like the map. `layer/` is the whole filtered set, light."""

    # A need's popup, kept by the page cache like the need's page: a copy per version of the need,
    # so a repeated popup costs one index probe, never a stale quantity (ksbb.lib.http_cache).
    ksbb_page_cache = {"retrieve": revalidated_api(lambda request, pk, **kwargs: need_version(pk))}

    serializer_class = NeedSerializer
    filterset_class = NeedFilter
    pagination_class = NeedPagination
    queryset = Need.objects.published().with_places()

    def filter_queryset(self, queryset):
        # A need's own URL shows it whatever its status; only lists default to open needs.
        if self.action == "retrieve":
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(
        filters=True,
        responses={(200, "application/geo+json"): NeedLayer, 400: BAD_PARAMETERS},
        description="Every need matching the filters as one GeoJSON FeatureCollection, built by "
        "PostgreSQL; properties: status, category (slug). For the map; use the list for details.",
    )
    @action(detail=False)
    def layer(self, request, format=None):  # noqa: A002 (the router passes layer.json's)
        return needs_layer.response(request, self._valid_filters(request))

    @extend_schema(
        filters=True,
        responses={200: CoverageSerializer, 400: BAD_PARAMETERS},
        parameters=[
            OpenApiParameter(
                "level",
                enum=list(coverage.LEVELS),
                default="kelurahan",
                description="kelurahan, or rw where RW boundaries are loaded (each RW with its "
                "simplified outline as `geometry`).",
            )
        ],
        description="Unmet need per kelurahan (or RW) for the needs matching the filters (the "
        "map's choropleth; docs/open-data.md, needs.coverage): open needs, beneficiaries and value "
        "in Rupiah not covered by any pledge yet. Areas without a matching need are left out.",
    )
    @action(detail=False, pagination_class=None)
    def coverage(self, request, format=None):  # noqa: A002
        level = request.query_params.get("level", "kelurahan")
        if level not in coverage.LEVELS:
            raise ValidationError({"level": [_("Use level=kelurahan or level=rw.")]})
        return Response({"level": level, "areas": areas(level, self._valid_filters(request))})

    def _valid_filters(self, request) -> tuple:
        """The request's filters as they key the map layers' snapshots, validated here: a bad filter
        is a 400 whatever a snapshot holds. The FilterSet (its form above all) was most of a layer
        request's cost, so a set of filters found valid is trusted for a minute
        (needs.filters.known_valid)."""
        filters = canonical_filters(request.query_params)
        if not known_valid(filters):
            self.filter_queryset(Need.objects.published())
            remember_valid(filters)
        return filters


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name", "description", "recipients", "color"]


@method_decorator(public_data(), name="dispatch")
@extend_schema_view(retrieve=extend_schema(responses={200: CategorySerializer, 404: NOT_FOUND}))
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CategorySerializer
    queryset = Category.objects.filter(is_active=True)
    lookup_field = "slug"
    # A slug's shape: anything else (a NUL byte above all) is a 404 before any query.
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    pagination_class = None


class AidTypeSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = AidType
        fields = ["id", "category", "name", "unit"]


@method_decorator(public_data(), name="dispatch")
@extend_schema_view(
    list=extend_schema(responses={200: AidTypeSerializer, 400: BAD_PARAMETERS}),
    retrieve=extend_schema(responses={200: AidTypeSerializer, 404: NOT_FOUND}),
)
class AidTypeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AidTypeSerializer
    queryset = AidType.objects.filter(is_active=True, category__is_active=True).select_related(
        "category"
    )
    filterset_fields = {"category__slug": ["exact"]}
    pagination_class = None
