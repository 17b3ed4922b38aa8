"""Schema pieces the API's views share (drf-spectacular `responses=`): the error answers, and the
GeoJSON layers PostgreSQL builds (ksbb/geojson.py), which no serializer describes.

A client reads the schema to know what can come back; an answer the schema does not list is a bug
in one or the other (tests/security/test_api_fuzz.py holds them to each other).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}

# DRF's validation errors: the messages per parameter or field ("non_field_errors" for the whole
# request); a body that cannot be parsed at all gets a `detail` instead.
_ERRORS = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

BAD_PARAMETERS = OpenApiResponse(
    _ERRORS,
    description=_(
        "A parameter has a value the API cannot use (an unknown code, a bad bounding box, a page "
        "past the end, …): the reasons, per parameter."
    ),
)
NOT_FOUND = OpenApiResponse(_DETAIL, description=_("Nothing has this identifier."))
THROTTLED = OpenApiResponse(
    _DETAIL, description=_("Too many requests from this address; Retry-After says when to retry.")
)
UNSUPPORTED_MEDIA_TYPE = OpenApiResponse(
    _DETAIL, description=_("The body is not JSON, form-encoded or multipart.")
)
# A pledge refused: the messages per field, and what the need has left when quantity was the reason.
PLEDGE_REFUSED = OpenApiResponse(
    {
        **_ERRORS,
        "properties": {**_ERRORS["properties"], "remaining": {"type": "integer", "minimum": 0}},
    },
    description=_("The pledge is refused: the reasons, per field."),
)


def geojson_layer(component_name: str, geometry: str, properties: dict) -> type:
    """A stand-in serializer to name in `responses=` for a layer ksbb.lib.geojson.feature_collection
    builds: its schema is feature_collection()'s, and it is one object even on a list action
    (a raw schema there would be wrapped in an array)."""

    @extend_schema_serializer(many=False, component_name=component_name)
    class Layer(serializers.Serializer):
        pass

    schema = feature_collection(geometry, properties)

    class LayerSchema(OpenApiSerializerExtension):
        target_class = Layer

        def map_serializer(self, auto_schema, direction):
            return schema

    return Layer


def feature_collection(geometry: str, properties: dict) -> dict:
    """The schema of what ksbb.lib.geojson.feature_collection returns: Features with an integer id, a
    `geometry` of that GeoJSON type and the given `properties` (name: JSON schema)."""
    return {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "id", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"type": "integer"},
                        "geometry": {
                            "type": "object",
                            "required": ["type", "coordinates"],
                            "properties": {
                                "type": {"type": "string", "enum": [geometry]},
                                "coordinates": {"type": "array"},
                            },
                        },
                        "properties": {
                            "type": "object",
                            "required": list(properties),
                            "properties": properties,
                        },
                    },
                },
            },
        },
    }


def document_query_parameters(result, generator, request, public):
    """drf-spectacular postprocessing hook, for what holds for every operation's query string.

    An empty optional query parameter (`?category=`, what a GET form sends for "all") means the
    same as none, so the schema says it may be empty; not for lists (`status`), whose empty member
    is refused. And any query string may be refused with a 400: one that holds a NUL byte is
    (ksbb.nul_bytes), whatever the operation.
    """
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if (
                    parameter.get("in") == "query"
                    and not parameter.get("required")
                    and parameter.get("schema", {}).get("type") != "array"
                ):
                    parameter["allowEmptyValue"] = True
            operation.get("responses", {}).setdefault(
                "400",
                {
                    "description": str(_("The query string holds a NUL byte: the reason.")),
                    "content": {"application/json": {"schema": _ERRORS}},
                },
            )
    return result
