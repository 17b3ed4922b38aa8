"""The one FilterSet behind the map page, the needs list and the needs API."""

import re

import django_filters
from django import forms
from django.contrib.gis.geos import Polygon
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from ksbb.lib.widgets import QuickSelect
from locations.models import Region, Site
from needs.models import AidType, Category, Need, NeedStatus

DEFAULT_STATUSES = [NeedStatus.OPEN, NeedStatus.PARTLY_PLEDGED]
REGION_CODE = re.compile(r"[0-9]+(\.[0-9]+)*")
# Jakarta with a generous margin: a bbox wholly outside it is a mistake worth reporting.
MAX_BBOX_SPAN_DEGREES = 5


@extend_schema_field(OpenApiTypes.STR)
class RegionChoiceFilter(django_filters.ModelChoiceFilter):
    """A region by its Kemendagri code; matches needs at sites anywhere inside it."""

    def __init__(self, level: str, **kwargs):
        super().__init__(
            queryset=Region.objects.filter(level=level).order_by("code"),
            to_field_name="code",
            method="filter_region",
            widget=QuickSelect,
            **kwargs,
        )


class BBoxField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        return parse_bbox(value) if value else None


@extend_schema_field(OpenApiTypes.STR)
class BBoxFilter(django_filters.Filter):
    field_class = BBoxField


class NeedFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        kota, kecamatan, kelurahan = (data.get(k) for k in ("kota", "kecamatan", "kelurahan"))
        if kota and kecamatan and not kecamatan.code.startswith(kota.code + "."):
            raise forms.ValidationError(
                _("Kecamatan %(kecamatan)s is not in %(kota)s.")
                % {"kecamatan": kecamatan.name, "kota": kota.display_name}
            )
        if kecamatan and kelurahan and not kelurahan.code.startswith(kecamatan.code + "."):
            raise forms.ValidationError(
                _("Kelurahan %(kelurahan)s is not in Kecamatan %(kecamatan)s.")
                % {"kelurahan": kelurahan.name, "kecamatan": kecamatan.name}
            )
        return data


class NeedFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_text",
        max_length=100,
        help_text=_("Words in the need's title or the site's name."),
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True),
        to_field_name="slug",
        field_name="aid_type__category",
        empty_label=_("All categories"),
        widget=QuickSelect,
    )
    aid_type = django_filters.ModelChoiceFilter(
        label=_("Aid type"),
        queryset=AidType.objects.select_related("category").filter(is_active=True),
        empty_label=_("All aid types"),
        widget=QuickSelect,
    )
    # distinct=False: status is the need's own column, so no duplicate rows to remove, and
    # django-filter's default SELECT DISTINCT cost the map page ~40% and the layer ~20% at 50,000
    # needs (make loadtest).
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"),
        choices=NeedStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    kota = RegionChoiceFilter(Region.Level.KOTA, label=_("Kota"), empty_label=_("All of Jakarta"))
    kecamatan = RegionChoiceFilter(
        Region.Level.KECAMATAN, label=_("Kecamatan"), empty_label=_("All kecamatan")
    )
    kelurahan = RegionChoiceFilter(
        Region.Level.KELURAHAN, label=_("Kelurahan"), empty_label=_("All kelurahan")
    )
    site_kind = django_filters.ChoiceFilter(
        label=_("Site kind"),
        field_name="site__kind",
        choices=Site.Kind.choices,
        empty_label=_("All kinds"),
        widget=QuickSelect,
    )
    bbox = BBoxFilter(
        label=_("Bounding box"),
        method="filter_bbox",
        help_text=_("min longitude, min latitude, max longitude, max latitude (EPSG:4326)"),
    )

    class Meta:
        model = Need
        form = NeedFilterForm
        fields = [
            "q",
            "category",
            "aid_type",
            "status",
            "kota",
            "kecamatan",
            "kelurahan",
            "site_kind",
        ]

    def __init__(self, data=None, queryset=None, **kwargs):
        if queryset is None:
            queryset = Need.objects.published()
        if data is not None and not data.getlist("status"):
            # Donors look for what they can still support unless they ask for more.
            data = data.copy()
            data.setlist("status", DEFAULT_STATUSES)
        super().__init__(data, queryset, **kwargs)
        self._narrow_region_choices()

    def _narrow_region_choices(self):
        """Offer only the kecamatan of the chosen kota, and the kelurahan of the chosen kecamatan.

        Only the offered choices narrow; validation keeps every region, so a mismatched pair gets
        NeedFilterForm's message naming both rather than a bare "invalid choice".
        """
        fields = self.form.fields
        for parent, child in (("kota", "kecamatan"), ("kecamatan", "kelurahan")):
            code = (self.data or {}).get(parent)
            # Only a code's shape reaches the query: anything else (a NUL byte, which PostgreSQL
            # refuses outright) narrows nothing, and the field's own validation names the problem.
            if code and REGION_CODE.fullmatch(code):
                field = fields[child]
                narrowed = field.queryset.filter(code__startswith=code + ".")
                field.widget.choices = [("", field.empty_label)] + [
                    (r.code, r.name) for r in narrowed
                ]

    def filter_region(self, queryset, name, region):
        return queryset.in_region(region.code)

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(site__name__icontains=value))

    def filter_bbox(self, queryset, name, polygon):
        return queryset.filter(site__point__contained=polygon)


def parse_bbox(value: str) -> Polygon:
    """`minLon,minLat,maxLon,maxLat` as a polygon, or a ValidationError that says what is wrong."""
    try:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in value.split(","))
    except ValueError:
        raise forms.ValidationError(
            _(
                "The bounding box must be four numbers: min longitude, min latitude, max longitude, max latitude."
            )
        ) from None
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise forms.ValidationError(
            _(
                "The bounding box must run from south-west to north-east, in degrees of longitude and latitude."
            )
        )
    if max_lon - min_lon > MAX_BBOX_SPAN_DEGREES or max_lat - min_lat > MAX_BBOX_SPAN_DEGREES:
        raise forms.ValidationError(_("The bounding box is larger than the portal's area."))
    return Polygon.from_bbox((min_lon, min_lat, max_lon, max_lat))
