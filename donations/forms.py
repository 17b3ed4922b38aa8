"""The pledge form (its rules serve the public page and the API alike), and the staff forms of the admin."""

import uuid

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from donations import services
from donations.models import Collaborator, Opd, Pledge
from ksbb.lib import photos
from ksbb.lib.forms import HoneypotForm
from ksbb.lib.widgets import QuickSelect
from needs.models import Need

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 .-]{5,30}$", _("Enter a phone number of digits, e.g. +62 812 3456 7890.")
)


class PledgeForm(HoneypotForm):
    public_name = forms.CharField(
        label=_("Your name or your organisation's"),
        max_length=150,
        help_text=_("Shown publicly unless you choose otherwise below."),
    )
    kind = forms.ChoiceField(
        label=_("You are"), choices=Collaborator.Kind.choices, widget=QuickSelect
    )
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
    # A new key with each form shown; sent twice, the form makes one pledge (Pledge.submission).
    # Hidden, so a key that is not one is no key rather than an error nobody can see.
    submission = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, need: Need, **kwargs):
        super().__init__(*args, **kwargs)
        self.need = need
        if not self.is_bound:
            self.initial["submission"] = uuid.uuid4()
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

    def clean_public_name(self):
        name = self.cleaned_data["public_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter your name."))
        return name

    def clean_email(self):
        return self.cleaned_data["email"].strip()

    def clean_submission(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(self.cleaned_data["submission"])
        except ValueError:
            return None

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        remaining = self.need.quantity_remaining
        if quantity > remaining:
            raise forms.ValidationError(
                _("Only %(remaining)s %(unit)s are still needed; pledge at most that.")
                % {"remaining": remaining, "unit": self.need.aid_type.unit}
            )
        return quantity

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
            submission=data["submission"],
        )


# Staff forms, used by the admin (donations/admin.py). The services decide; these only collect.


def validate_evidence(upload) -> None:
    """Check that `upload` really is a JPEG, PNG or WebP photo of a sane size, whatever its name
    says (ksbb.lib.photos.check: Pillow verifies and decodes the file; more than
    Image.MAX_IMAGE_PIXELS pixels, a decompression bomb, is refused). The stored file is named by
    the service, after the format it encodes again (donations.services._store_evidence)."""
    if upload.size > settings.KSBB_EVIDENCE_MAX_BYTES:
        raise forms.ValidationError(
            _("The photo is too large (%(size)s); the limit is %(max)s.")
            % {
                "size": filesizeformat(upload.size),
                "max": filesizeformat(settings.KSBB_EVIDENCE_MAX_BYTES),
            }
        )
    try:
        photos.check(upload)
    except photos.TooManyPixels as e:
        raise forms.ValidationError(_("The photo has too many pixels.")) from e
    except photos.WrongFormat as e:
        raise forms.ValidationError(
            _("Upload a JPEG, PNG or WebP photo (this file is %(format)s).") % {"format": e.format}
        ) from e
    except photos.NotAPhoto as e:
        raise forms.ValidationError(_("The file is not an image.")) from e


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the pledge's history."),
    )


class VettingRefusalForm(ReasonForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _(
            "Sent to the organisation, for it to put right, and kept with the decision."
        )


class VettingRequestForm(forms.Form):
    """What an organisation sends to be vetted, from its private pledge page. The service checks
    both fields (donations.vetting); this form only collects them."""

    legal_id = forms.CharField(
        label=_("Legal identity"),
        max_length=100,
        help_text=_(
            "The NIB (13 digits) of a business, or the registration number of a foundation or "
            "association (e.g. AHU-0012345.AH.01.04.Tahun 2020)."
        ),
    )
    statement_letter = forms.FileField(
        label=_("Statement letter"),
        widget=forms.ClearableFileInput(
            attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["statement_letter"].help_text = _(
            "A letter on the organisation's letterhead, signed by its leadership, stating its "
            "pledge: a PDF or a photo, at most %(mb)s MB. Only staff read it; it is never published."
        ) % {"mb": settings.KSBB_STATEMENT_MAX_BYTES // (1024 * 1024)}


class ScheduleForm(forms.Form):
    scheduled_for = forms.DateField(
        label=_("Delivery date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    opd = forms.ModelChoiceField(
        label=_("Facilitating OPD"),
        queryset=Opd.objects.filter(is_active=True),
        required=False,
        help_text=_("If known: the site's contact person is told who comes."),
    )
    reason = forms.CharField(label=_("Note (optional)"), max_length=1000, required=False)


class DeliveryForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity delivered"), min_value=1)
    delivered_on = forms.DateField(
        label=_("Delivery date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    opd = forms.ModelChoiceField(
        label=_("Facilitating OPD"), queryset=Opd.objects.filter(is_active=True)
    )
    evidence = forms.FileField(
        label=_("Evidence photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("A JPEG, PNG or WebP photo of the hand-over."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, pledge: Pledge, **kwargs):
        super().__init__(*args, **kwargs)
        self.pledge = pledge
        outstanding = pledge.quantity_outstanding
        quantity = self.fields["quantity"]
        quantity.max_value = max(outstanding, 1)
        quantity.validators.append(MaxValueValidator(quantity.max_value))
        quantity.widget.attrs.update(min=1, max=quantity.max_value)
        quantity.help_text = _("At most %(outstanding)s %(unit)s are outstanding.") % {
            "outstanding": outstanding,
            "unit": pledge.need.aid_type.unit,
        }
        if not self.is_bound:
            self.initial.setdefault("quantity", outstanding)
            self.initial.setdefault("delivered_on", timezone.localdate())
            if pledge.scheduled_opd_id:
                self.initial.setdefault("opd", pledge.scheduled_opd_id)

    def clean_evidence(self):
        upload = self.cleaned_data.get("evidence")
        if not upload:
            return None
        validate_evidence(upload)
        return upload


class CloseNeedForm(forms.Form):
    """What staff decide when a need is closed or unpublished (docs/pledges.md, "Closing a need")."""

    CANCEL_ALL, KEEP_SCHEDULED = "cancel_all", "keep_scheduled"
    reason = forms.CharField(
        label=_("Reason"),
        max_length=100,
        help_text=_("Recorded in the need's history and told to the donors whose pledges end."),
    )
    pledges = forms.ChoiceField(
        label=_("Pledges that still hold quantity"),
        choices=[
            (CANCEL_ALL, _("Cancel them all and tell their donors")),
            (
                KEEP_SCHEDULED,
                _("Keep the scheduled ones to delivery; cancel the others and tell their donors"),
            ),
        ],
        initial=KEEP_SCHEDULED,
        widget=forms.RadioSelect,
    )


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label=_("On whose request, and when"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Kept with the collaborator. Their name becomes “Anonim” everywhere; their e-mail, "
            "phone, messages and the mails about them are erased; pledges and figures stay."
        ),
    )


class SecondCheckForm(forms.Form):
    override_reason = forms.CharField(
        label=_("Only to check your own recording (superusers): why"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Leave empty: no one checks their own work. A superuser who must may give the reason "
            "here; the public ledger records that the rule was set aside."
        ),
    )


class DonorLinkForm(HoneypotForm):
    """A returning donor asks for the link to their own page (donations.donor_links)."""

    email = forms.EmailField(
        label=_("The e-mail address you pledged with"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class DonorErasureForm(forms.Form):
    """A donor asks, from their own page, for their personal data to be erased."""

    confirm = forms.BooleanField(
        label=_(
            "I understand: my name becomes “Anonim” everywhere, my e-mail and phone are removed, "
            "and I can no longer open this page. My pledges and the public figures stay."
        ),
        error_messages={"required": _("Tick the box to confirm that you want your data erased.")},
    )
