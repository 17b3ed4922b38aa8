"""The one FilterSet behind the map page, the needs list and the needs API."""

import contextlib
import re
import time

import django_filters
from django import forms
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point, Polygon
from django.core.cache import cache
from django.db.models import Q
from django.http import QueryDict
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from ksbb.lib.http_cache import page_seconds
from ksbb.lib.widgets import QuickSelect
from locations.models import Region, Site
from needs import coverage
from needs.models import AidType, Category, Need, NeedStatus

DEFAULT_STATUSES = [NeedStatus.OPEN, NeedStatus.PARTLY_PLEDGED]
REGION_CODE = re.compile(r"[0-9]+(\.[0-9]+)*")
# Jakarta with a generous margin: a bbox wholly outside it is a mistake worth reporting.
MAX_BBOX_SPAN_DEGREES = 5
# The parameters that order the needs rather than choose them: the map's layers ignore them.
ORDER_PARAMS = ("sort", "near")
# How precisely the browser sends a donor's location for "closest to me" (static/js/need-map.js):
# two decimals, about a kilometre. Anything finer is rounded here too.
NEAR_DECIMALS = 2

SORT_CHOICES = [
    ("least_covered", _("Least covered first")),
    ("closest", _("Closest to me")),
]


@extend_schema_field(OpenApiTypes.STR)
class RegionChoiceFilter(django_filters.ModelChoiceFilter):
    """A region by its Kemendagri code; matches needs at sites anywhere inside it."""

    def __init__(self, level: str, **kwargs):
        super().__init__(
            # The boundary is never shown in a filter (up to 30 kB a region).
            queryset=Region.objects.filter(level=level).defer("boundary").order_by("code"),
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


class NearField(forms.CharField):
    """`longitude,latitude` in degrees, rounded to NEAR_DECIMALS: where the donor is, roughly."""

    widget = forms.HiddenInput

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            lon, lat = (float(v) for v in value.split(","))
        except ValueError:
            raise forms.ValidationError(
                _("Your location must be two numbers: longitude, latitude.")
            ) from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise forms.ValidationError(_("Your location is not a place on Earth."))
        return Point(round(lon, NEAR_DECIMALS), round(lat, NEAR_DECIMALS), srid=4326)


@extend_schema_field(OpenApiTypes.STR)
class NearFilter(django_filters.Filter):
    field_class = NearField


class NeedFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        if data.get("sort") == "closest" and not data.get("near") and "near" not in self.errors:
            raise forms.ValidationError(
                _(
                    "To see the closest needs first, tap “Closest to me” and let your browser "
                    "share your location, or choose another order."
                )
            )
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
    sort = django_filters.ChoiceFilter(
        label=_("Order"),
        choices=SORT_CHOICES,
        empty_label=_("Newest first"),
        method="filter_sort",
        help_text=_(
            "least_covered: the smallest share pledged first; closest: nearest to `near` first."
        ),
    )
    near = NearFilter(
        label=_("Your location"),
        method="filter_near",
        help_text=_(
            "longitude,latitude (EPSG:4326) for sort=closest; rounded to two decimals, never stored."
        ),
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
        if data is not None and data.get("near"):
            # Rounded before anything reads it: the page echoes (and the list sorts by) no finer
            # place than NEAR_DECIMALS.
            data = data.copy()
            data["near"] = _rounded_place(data["near"])
        super().__init__(data, queryset, **kwargs)
        self._offer_choices()

    def _offer_choices(self):
        """The lists' options, from offered_choices() and only when the form is drawn (the API
        never draws it). The kecamatan offered are the chosen kota's, the kelurahan the chosen
        kecamatan's.

        Only the offered choices narrow; validation keeps every region (and reads the database),
        so a mismatched pair gets NeedFilterForm's message naming both rather than a bare "invalid
        choice".
        """
        fields = self.form.fields
        for name in LIST_FILTERS:
            code = (self.data or {}).get(NARROWED_BY.get(name, ""))
            # Only a code's shape narrows: anything else (a NUL byte) narrows nothing, and the
            # field's own validation names the problem.
            prefix = code + "." if code and REGION_CODE.fullmatch(code) else ""
            field = fields[name]
            field.widget.choices = _Offered(name, field.empty_label, prefix)

    def filter_region(self, queryset, name, region):
        return queryset.in_region(region.code)

    def filter_sort(self, queryset, name, value):
        if value == "least_covered":
            return coverage.least_covered_first(queryset)
        near = self.form.cleaned_data.get("near")
        return queryset.annotate(distance=Distance("site__point", near)).order_by(
            "distance", "-created_at", "-pk"
        )

    def filter_near(self, queryset, name, value):
        return queryset  # read by filter_sort; alone it orders nothing

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(site__name__icontains=value))

    def filter_bbox(self, queryset, name, polygon):
        return queryset.filter(site__point__contained=polygon)


# The filters drawn as lists of database rows, and the region list each narrows to.
LIST_FILTERS = ("category", "aid_type", "kota", "kecamatan", "kelurahan")
NARROWED_BY = {"kecamatan": "kota", "kelurahan": "kecamatan"}
# How long a new category, aid type or region may take to appear in the map's lists (what a visitor
# picks is checked against the database whatever the lists offer).
CHOICES_SECONDS = 60
CHOICES_KEY = "needs:filter-choices:v1"
# And each process keeps what it read that much longer: the map page draws five lists, each of
# which read the cache (a round trip to Redis and 330 options unpickled) on every page made.
CHOICES_LOCAL_SECONDS = 10
_CHOICES: dict = {"until": float("-inf"), "choices": None}


def offered_choices() -> dict[str, list[tuple[str, str]]]:
    """Every list filter's options, (value, label) as the field's own iterator would give them:
    their querysets read once a minute through the cache, not on every map page (the 267
    kelurahan, 44 kecamatan, 6 kota and the aid types were 300 rows and model instances a page),
    and kept in the process CHOICES_LOCAL_SECONDS more. Not kept at all when the portal keeps no
    pages (KSBB_PUBLIC_PAGE_SECONDS = 0, the tests)."""
    keep = page_seconds() > 0
    if keep and _CHOICES["until"] > time.monotonic():
        return _CHOICES["choices"]
    if keep:
        try:
            found = cache.get(CHOICES_KEY)
        except Exception:  # a cache backend's own errors (Redis down): read the database
            found = None
        if found is not None:
            _keep_here(found)
            return found
    choices = {}
    for name in LIST_FILTERS:
        extra = NeedFilter.base_filters[name].extra
        to_field = extra.get("to_field_name")
        choices[name] = [
            (str(getattr(obj, to_field) if to_field else obj.pk), str(obj))
            for obj in extra["queryset"]
        ]
    if keep:
        with contextlib.suppress(Exception):
            cache.set(CHOICES_KEY, choices, CHOICES_SECONDS)
        _keep_here(choices)
    return choices


def _keep_here(choices: dict) -> None:
    _CHOICES.update(until=time.monotonic() + CHOICES_LOCAL_SECONDS, choices=choices)


def forget_choices() -> None:
    """Drop this process's copy of the lists' options (the tests start each test without it)."""
    _CHOICES.update(until=float("-inf"), choices=None)


# Sets of filters NeedFilter found valid, in this process, and until when they are trusted.
_VALID: dict[tuple, float] = {}
_VALID_MAX = 1024


def _hashable(filters: tuple) -> tuple:
    return tuple((name, tuple(values)) for name, values in filters)


def known_valid(filters: tuple) -> bool:
    """Whether these filters ((name, values) pairs) passed NeedFilter's validation less than
    CHOICES_SECONDS ago in this process: a region or category removed since is noticed by then."""
    if page_seconds() <= 0:
        return False
    until = _VALID.get(_hashable(filters))
    return until is not None and until > time.monotonic()


def remember_valid(filters: tuple) -> None:
    """Trust these filters for CHOICES_SECONDS (not at all when the portal keeps no pages)."""
    if page_seconds() <= 0:
        return
    if len(_VALID) >= _VALID_MAX:
        _VALID.clear()
    _VALID[_hashable(filters)] = time.monotonic() + CHOICES_SECONDS


class _Offered(BaseChoiceIterator):
    """A list filter's options, read when the form is drawn. A ChoiceIterator, so that Django
    takes them as they are: they are (value, label) strings already, not to be normalised on every
    draw (330 of them)."""

    def __init__(self, name: str, empty_label, prefix: str):
        self.name, self.empty_label, self.prefix = name, empty_label, prefix

    def __iter__(self):
        yield "", self.empty_label
        for value, label in offered_choices()[self.name]:
            if value.startswith(self.prefix):
                yield value, label


def _rounded_place(value: str) -> str:
    try:
        lon, lat = (float(v) for v in value.split(","))
    except ValueError:
        return value  # NearField names what is wrong with it
    return f"{lon:.{NEAR_DECIMALS}f},{lat:.{NEAR_DECIMALS}f}"


def canonical_filters(query: QueryDict) -> tuple:
    """The filters of `query` that choose needs, as (name, values) pairs in one order: they key the
    map layers' snapshots. A multiple-choice filter's values are sorted, once each
    (status=open&status=delivered is status=delivered&status=open: one snapshot, not two); any
    other filter's as given (the last counts). The order (ORDER_PARAMS) is left out."""
    pairs = []
    for name in sorted(NeedFilter.base_filters):
        if name in query and name not in ORDER_PARAMS:
            values = query.getlist(name)
            if isinstance(NeedFilter.base_filters[name], django_filters.MultipleChoiceFilter):
                values = sorted(set(values))
            pairs.append((name, values))
    return tuple(pairs)


def filters_query(filters) -> QueryDict:
    """canonical_filters() back as a query, for NeedFilter."""
    data = QueryDict(mutable=True)
    for name, values in filters:
        data.setlist(name, values)
    return data


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
