"""The pledge form: its rules serve the public page and the API alike."""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from donations import services
from donations.models import Collaborator, Pledge
from needs.models import Need

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 .-]{5,30}$", _("Enter a phone number of digits, e.g. +62 812 3456 7890.")
)


class PledgeForm(forms.Form):
    public_name = forms.CharField(
        label=_("Your name or your organisation's"),
        max_length=150,
        help_text=_("Shown publicly unless you choose otherwise below."),
    )
    kind = forms.ChoiceField(label=_("You are"), choices=Collaborator.Kind.choices)
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        help_text=_("We send your private pledge link here. Never shown publicly."),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=32,
        required=False,
        validators=[phone_validator],
        help_text=_("For staff arranging the hand-over. Never shown publicly."),
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    message = forms.CharField(
        label=_("Message (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    show_name = forms.BooleanField(
        label=_("Show my name publicly"),
        required=False,
        initial=True,
        help_text=_("Otherwise the public pages show “Anonymous”."),
    )
    # A honeypot: people never see it; bots that fill every field do.
    website = forms.CharField(label=_("Leave this empty"), required=False, max_length=200)

    def __init__(self, *args, need: Need, **kwargs):
        super().__init__(*args, **kwargs)
        self.need = need
        quantity = self.fields["quantity"]
        quantity.max_value = max(need.quantity_remaining, 1)
        quantity.widget.attrs.update(min=1, max=quantity.max_value, inputmode="numeric")
        quantity.help_text = _("In %(unit)s; %(remaining)s still needed.") % {
            "unit": need.aid_type.unit,
            "remaining": need.quantity_remaining,
        }
        if not self.is_bound:
            self.initial.setdefault("quantity", need.quantity_remaining)
        self.fields["email"].widget.attrs.update(autocomplete="email")
        self.fields["phone"].widget.attrs.update(autocomplete="tel", inputmode="tel")
        self.fields["public_name"].widget.attrs.update(autocomplete="name")
        self.fields["website"].widget.attrs.update(tabindex="-1", autocomplete="off")

    def clean_public_name(self):
        name = self.cleaned_data["public_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter your name."))
        return name

    def clean_email(self):
        return self.cleaned_data["email"].strip()

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        remaining = self.need.quantity_remaining
        if quantity > remaining:
            raise forms.ValidationError(
                _("Only %(remaining)s %(unit)s are still needed; pledge at most that.")
                % {"remaining": remaining, "unit": self.need.aid_type.unit}
            )
        return quantity

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))

    def save(self, *, language: str) -> Pledge:
        """Pledge through the service; raises services.PledgeError when the need moved on meanwhile."""
        data = self.cleaned_data
        return services.pledge_from_donor(
            self.need,
            details=services.DonorDetails(
                public_name=data["public_name"],
                kind=data["kind"],
                email=data["email"],
                phone=data["phone"],
                show_name=data["show_name"],
            ),
            quantity=data["quantity"],
            message=data["message"],
            language=language,
        )
