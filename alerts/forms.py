"""The subscription form and the subscriber's own choices form (alerts.views)."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alerts.models import Frequency
from alerts.services import MAX_REGIONS
from ksbb.lib.forms import HoneypotForm
from locations.models import Region
from needs.models import Category


def region_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every kota, kecamatan and kelurahan, grouped so that a <select> works without JavaScript:
    the kota first, then each kota's kecamatan, then each kecamatan's kelurahan."""
    regions = list(Region.objects.only("code", "name", "level", "parent_id").order_by("code"))
    by_pk = {r.pk: r for r in regions}
    kota = [r for r in regions if r.level == Region.Level.KOTA]
    groups = [
        (
            _("Whole kota"),
            [(r.code, _("%(name)s (the whole kota)") % {"name": r.display_name}) for r in kota],
        )
    ]
    for parent in kota:
        children = [r for r in regions if r.parent_id == parent.pk]
        groups.append(
            (
                _("Kecamatan in %(kota)s") % {"kota": parent.display_name},
                [
                    (r.code, _("Kec. %(name)s (the whole kecamatan)") % {"name": r.display_name})
                    for r in children
                ],
            )
        )
    for kecamatan in [r for r in regions if r.level == Region.Level.KECAMATAN]:
        kota_name = by_pk[kecamatan.parent_id].display_name
        children = [r for r in regions if r.parent_id == kecamatan.pk]
        if children:
            groups.append(
                (
                    _("Kelurahan in Kec. %(kecamatan)s, %(kota)s")
                    % {"kecamatan": kecamatan.display_name, "kota": kota_name},
                    [(r.code, r.display_name) for r in children],
                )
            )
    return groups


class ChoicesForm(forms.Form):
    regions = forms.MultipleChoiceField(
        label=gettext_lazy("Areas"),
        help_text=gettext_lazy(
            "Choose one or more kota, kecamatan or kelurahan (hold Ctrl or ⌘ to choose several "
            "on a computer). A kota or kecamatan includes every kelurahan in it."
        ),
        error_messages={"required": gettext_lazy("Choose at least one area.")},
    )
    categories = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Categories"),
        help_text=gettext_lazy("None chosen: every category."),
        queryset=Category.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    frequency = forms.ChoiceField(
        label=gettext_lazy("How often"),
        choices=Frequency.choices,
        initial=Frequency.IMMEDIATE,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["regions"].choices = region_choices()
        self.fields["regions"].widget.attrs.update(size="10")
        self.fields["categories"].queryset = Category.objects.filter(is_active=True).order_by(
            "order", "name"
        )

    def clean_regions(self):
        codes = self.cleaned_data["regions"]
        if len(codes) > MAX_REGIONS:
            raise forms.ValidationError(
                _("Choose at most %(max)s areas.") % {"max": MAX_REGIONS}, code="too_many"
            )
        return list(Region.objects.filter(code__in=codes).order_by("code"))


class SubscribeForm(HoneypotForm, ChoicesForm):
    email = forms.EmailField(
        label=gettext_lazy("Your e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    field_order = ["email", "regions", "categories", "frequency", "website"]
