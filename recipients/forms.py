"""What a contact person submits: treated as hostile text (length-limited, escaped wherever it is
shown), photos verified as images before the service re-encodes them."""

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from donations.forms import validate_evidence
from donations.models import Delivery, Receipt
from needs.models import AidType, Proposal


class ReceiptForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("What arrived?"),
        choices=[
            (Receipt.Outcome.RECEIVED, _("Received (write below how many)")),
            (Receipt.Outcome.NOT_RECEIVED, _("Nothing arrived")),
            (Receipt.Outcome.WRONG_ITEMS, _("Wrong items arrived")),
        ],
        widget=forms.RadioSelect,
        initial=Receipt.Outcome.RECEIVED,
    )
    quantity_received = forms.IntegerField(
        label=_("Quantity received"), min_value=0, required=False
    )
    received_by = forms.CharField(
        label=_("Received by"),
        max_length=150,
        required=False,
        help_text=_("A name, kept private: never shown to donors or the public."),
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("Its location and camera details are removed before it is kept."),
    )
    photo_public = forms.BooleanField(
        label=_("Show the photo on the need's public page"), required=False
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when something went wrong."),
    )

    def __init__(self, *args, delivery: Delivery, **kwargs):
        super().__init__(*args, prefix=f"d{delivery.pk}", **kwargs)
        self.delivery = delivery
        quantity = self.fields["quantity_received"]
        quantity.max_value = delivery.quantity
        quantity.validators.append(MaxValueValidator(delivery.quantity))
        quantity.widget.attrs.update(min=0, max=delivery.quantity, inputmode="numeric")
        if not self.is_bound:
            self.initial["quantity_received"] = delivery.quantity

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        if upload:
            validate_evidence(upload)
        return upload or None


class ChangeProposalForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What do you propose?"),
        choices=[
            (Proposal.Kind.QUANTITY, _("A different quantity")),
            (Proposal.Kind.NO_LONGER_NEEDED, _("It is no longer needed")),
        ],
        widget=forms.RadioSelect,
        initial=Proposal.Kind.QUANTITY,
    )
    quantity = forms.IntegerField(label=_("Quantity now needed"), min_value=1, required=False)
    note = forms.CharField(
        label=_("Why (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, need, **kwargs):
        super().__init__(*args, prefix=f"n{need.pk}", **kwargs)
        self.need = need
        self.fields["quantity"].widget.attrs.update(inputmode="numeric", min=1)


class NewNeedProposalForm(forms.Form):
    aid_type = forms.ModelChoiceField(
        label=_("Kind of aid"),
        queryset=AidType.objects.filter(is_active=True, category__is_active=True)
        .select_related("category")
        .order_by("category__order", "name"),
    )
    title = forms.CharField(label=_("Short title"), max_length=200)
    quantity = forms.IntegerField(label=_("Quantity needed"), min_value=1)
    beneficiaries = forms.IntegerField(
        label=_("Number of beneficiaries"), min_value=0, required=False
    )
    note = forms.CharField(
        label=_("Details (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="new", **kwargs)
        self.fields["aid_type"].label_from_instance = lambda a: (
            f"{a.category.name}: {a.name} ({a.unit})"
        )
        for name in ("quantity", "beneficiaries"):
            self.fields[name].widget.attrs.update(inputmode="numeric")
