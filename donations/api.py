"""The pledge API: create through the same form rules and service as the page; read and cancel by token."""

from collections.abc import Mapping

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, throttle_classes
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle

from donations import ratelimit, services
from donations.forms import PledgeForm
from donations.models import Collaborator, Pledge, PledgeEvent
from ksbb.lib.api_schema import NOT_FOUND, PLEDGE_REFUSED, THROTTLED, UNSUPPORTED_MEDIA_TYPE
from needs.models import Need


class PledgeThrottle(AnonRateThrottle):
    scope = "pledges"

    def get_rate(self):
        # DRF copies the rates into the class when it is imported; reading them per request lets a
        # changed REST_FRAMEWORK setting (override_settings in tests) take effect.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class PledgeCreateSerializer(serializers.Serializer):
    """Fields for the schema; the rules are PledgeForm's, so the page and the API never disagree."""

    need = serializers.IntegerField()
    public_name = serializers.CharField(max_length=150)
    kind = serializers.ChoiceField(choices=Collaborator.Kind.choices)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    quantity = serializers.IntegerField(min_value=1)
    message = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    show_name = serializers.BooleanField(required=False, default=True)
    submission = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="A key of the client's making (a UUID) for this pledge. Sent again with the same "
        "key (a retry after a lost answer), the request answers the pledge it made, with 200, and "
        "makes no second one.",
    )

    def validate(self, attrs):
        need = Need.objects.published().select_related("aid_type").filter(pk=attrs["need"]).first()
        if need is None:
            raise serializers.ValidationError({"need": [_("No published need has this id.")]})
        if not need.is_pledgeable:
            raise serializers.ValidationError({"need": [_("This need no longer accepts pledges.")]})
        form = PledgeForm(
            {**attrs, "show_name": "on" if attrs.get("show_name", True) else ""}, need=need
        )
        if not form.is_valid():
            errors = form.errors.get_json_data()
            raise serializers.ValidationError(
                {field: [e["message"] for e in errs] for field, errs in errors.items()}
            )
        return {"form": form}


class PledgeEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = PledgeEvent
        fields = ["at", "from_status", "to_status", "quantity", "reason"]


class PledgeSerializer(serializers.ModelSerializer):
    need = serializers.PrimaryKeyRelatedField(read_only=True)
    shown_as = serializers.CharField(source="collaborator.display_name")
    history = PledgeEventSerializer(source="events", many=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Pledge
        fields = [
            "token",
            "url",
            "need",
            "quantity",
            "quantity_delivered",
            "status",
            "scheduled_for",
            "hold_until",
            "shown_as",
            "created_at",
            "history",
        ]

    def get_url(self, pledge) -> str:
        return reverse("donations:pledge_status", args=[pledge.token])


@extend_schema(
    request=PledgeCreateSerializer,
    responses={
        201: PledgeSerializer,
        200: PledgeSerializer,
        400: PLEDGE_REFUSED,
        415: UNSUPPORTED_MEDIA_TYPE,
        429: THROTTLED,
    },
)
@api_view(["POST"])
@throttle_classes([PledgeThrottle])
def pledge_create(request):
    """Pledge towards a need. Errors come back per field, as on the page."""
    # A JSON body may be any value, not only an object; the serializer refuses what is not one.
    data = request.data if isinstance(request.data, Mapping) else {}
    # Sent again with its key: the pledge it made, whatever the need holds now (the form's rule).
    made = services.pledge_made_by(data.get("need"), data.get("submission"))
    if made is not None:
        return Response(PledgeSerializer(made).data, status=status.HTTP_200_OK)
    email = data.get("email", "")
    if not ratelimit.pledge_allowed(request, str(email) or None):
        raise Throttled(wait=600)
    serializer = PledgeCreateSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        pledge = serializer.validated_data["form"].save(language=get_language())
    except services.PledgeError as e:  # lost a race for the last units since validation
        body = {e.field or "non_field_errors": [e.message]}
        if e.remaining is not None:
            body["remaining"] = e.remaining
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return Response(PledgeSerializer(pledge).data, status=status.HTTP_201_CREATED)


def _by_token(token: str) -> Pledge:
    return get_object_or_404(Pledge.objects.select_related("collaborator"), token=token)


@extend_schema(responses={200: PledgeSerializer, 404: NOT_FOUND})
@api_view(["GET"])
def pledge_detail(request, token: str):
    """A pledge's status and history, for whoever holds its private token."""
    response = Response(PledgeSerializer(_by_token(token)).data)
    add_never_cache_headers(response)  # the donor's own, as their page is: no cache keeps it
    return response


@extend_schema(
    request=None,
    responses={200: PledgeSerializer, 400: PLEDGE_REFUSED, 404: NOT_FOUND, 429: THROTTLED},
)
@api_view(["POST"])
@throttle_classes([PledgeThrottle])
def pledge_cancel(request, token: str):
    """Cancel a pledge that is not yet delivered; its quantity is freed at once."""
    try:
        pledge = services.cancel(_by_token(token), actor=services.DONOR)
    except services.PledgeError as e:
        return Response({"non_field_errors": [e.message]}, status=400)
    return Response(PledgeSerializer(pledge).data)
