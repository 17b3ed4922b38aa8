"""The public read API for needs, categories and aid types (`/api/v1/`). No personal data."""

from django.db.models import F
from django.http import HttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.gzip import gzip_page
from drf_spectacular.contrib.rest_framework_gis import build_geo_schema
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import build_object_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from ksbb.geojson import feature_collection
from locations.models import Site
from needs.caching import needs_conditional
from needs.filters import NeedFilter
from needs.models import AidType, Category, Need


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
            "url",
        ]

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


class NeedPagination(GeoJsonPagination):
    page_size = 50
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (
            Exception
        ) as e:  # DRF raises NotFound for a bad page; a bad page is bad input, a 400.
            if getattr(e, "status_code", None) == 404:
                raise ValidationError({"page": [str(e.detail)]}) from e
            raise


@method_decorator(gzip_page, name="dispatch")
@method_decorator(needs_conditional, name="list")
@method_decorator(needs_conditional, name="retrieve")
@method_decorator(needs_conditional, name="layer")
class NeedViewSet(viewsets.ReadOnlyModelViewSet):
    """Published needs as GeoJSON, filtered like the map. `layer/` is the whole filtered set, light."""

    serializer_class = NeedSerializer
    filterset_class = NeedFilter
    pagination_class = NeedPagination
    queryset = Need.objects.published().select_related(
        "site__kelurahan__parent__parent", "aid_type__category"
    )

    def filter_queryset(self, queryset):
        # A need's own URL shows it whatever its status; only lists default to open needs.
        if self.action == "retrieve":
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(
        responses={(200, "application/geo+json"): OpenApiTypes.OBJECT},
        description="Every need matching the filters as one GeoJSON FeatureCollection, built by "
        "PostgreSQL; properties: status, category (slug). For the map; use the list for details.",
    )
    @action(detail=False)
    def layer(self, request):
        needs = self.filter_queryset(Need.objects.published()).values(
            "id", "status", category=F("aid_type__category__slug"), point=F("site__point")
        )
        body = feature_collection(needs, geometry="point", properties=["status", "category"])
        return HttpResponse(body, content_type="application/geo+json")


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name", "description", "recipients", "color"]


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CategorySerializer
    queryset = Category.objects.filter(is_active=True)
    lookup_field = "slug"
    pagination_class = None


class AidTypeSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = AidType
        fields = ["id", "category", "name", "unit"]


class AidTypeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AidTypeSerializer
    queryset = AidType.objects.filter(is_active=True, category__is_active=True).select_related(
        "category"
    )
    filterset_fields = {"category__slug": ["exact"]}
    pagination_class = None
