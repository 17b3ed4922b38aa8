import django_filters
from django.utils.translation import gettext_lazy as _

from locations.models import Region


class RegionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Region.Level.choices, label=_("Level"))
    parent = django_filters.CharFilter(field_name="parent__code", label=_("Parent code"))
    within = django_filters.CharFilter(method="filter_within", label=_("Within code"))

    class Meta:
        model = Region
        fields = ["level", "parent", "within"]

    def filter_within(self, queryset, name, value):
        return queryset.within_code(value)
