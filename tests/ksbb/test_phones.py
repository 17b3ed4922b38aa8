"""Phone numbers in E.164 (ksbb.lib.phones): what staff and files write, what is stored, what is
refused and why."""

import pytest
from django import forms

from ksbb.lib.phones import PhoneNumberField, display, to_e164

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    "written",
    [
        "0812-3456-7890",
        "0812 3456 7890",
        "0812.3456.7890",
        "081234567890",
        "+62 812 3456 7890",
        "+62-812-3456-7890",
        "+62 (812) 3456-7890",
        "+6281234567890",
        "62 812 3456 7890",
        "6281234567890",
        "+62 0812 3456 7890",  # the 0 kept after the country code, as people often write it
        "  0812 3456 7890 ",
    ],
)
def test_an_indonesian_mobile_number_however_written(written):
    assert to_e164(written) == "+6281234567890"


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("(021) 1234-5678", "+622112345678"),  # a Jakarta landline
        ("+62 21 5555 1234", "+622155551234"),  # as the demo writes them
        ("+1 202 555 0123", "+12025550123"),  # another country, after its +
        ("+44 20 7946 0958", "+442079460958"),
        ("0812-3456-789", "+628123456789"),  # 11 digits: mobile numbers vary in length
    ],
)
def test_landlines_and_other_countries(written, e164):
    assert to_e164(written) == e164


def test_another_default_region():
    assert to_e164("(202) 555-0123", region="US") == "+12025550123"


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("", "Enter a phone number."),
        ("   ", "Enter a phone number."),
        (None, "Enter a phone number."),
        ("call me", "digits, spaces, dashes and dots only"),
        ("0812-CALL-NOW", "digits, spaces, dashes and dots only"),  # no keypad letters
        ("0812 3456 7890 ext. 12", "digits, spaces, dashes and dots only"),
        ("+62 812 3456 7890 / WA", "digits, spaces, dashes and dots only"),
        ("0" * 41, "digits, spaces, dashes and dots only"),
        ("123", "No phone number has these digits"),  # too short
        ("+62 812", "No phone number has these digits"),
        ("0812 3456 7890 1234 5678", "No phone number has these digits"),  # too long
        ("+62 812 3456 7890 1234", "No phone number has these digits"),
        ("+999 1234567", "No phone number has these digits"),  # no such country code
        ("+", "digits, spaces, dashes and dots only"),
        ("----", "No phone number has these digits"),
        ("0062 812 3456 7890", "No phone number has these digits"),  # 00 is no exit code here
    ],
)
def test_what_is_no_phone_number_is_refused_with_a_reason(written, reason):
    with pytest.raises(ValueError) as refused:
        to_e164(written)
    assert reason in str(refused.value)


def test_the_reason_is_translated_when_it_is_shown():
    from django.utils import translation

    with pytest.raises(ValueError) as refused:
        to_e164("123")
    with translation.override("id"):
        assert "Tidak ada nomor telepon" in str(refused.value)


def test_display_is_the_international_format():
    assert display("+6281234567890") == "+62 812-3456-7890"
    assert display("+622112345678") == "+62 21 12345678"
    assert display("0812 3456 7890") == "+62 812-3456-7890"
    assert display("call me") == "call me"  # what is no number comes back as it was
    assert display("") == ""


class _Form(forms.Form):
    phone = PhoneNumberField(max_length=32)
    other = PhoneNumberField(required=False)


def test_the_form_field_cleans_to_e164_and_shows_the_international_format():
    form = _Form({"phone": "0812-3456-7890", "other": ""})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"phone": "+6281234567890", "other": ""}
    shown = _Form(initial={"phone": "+6281234567890"})
    assert 'value="+62 812-3456-7890"' in str(shown["phone"])


def test_the_form_field_refuses_what_is_no_number_as_its_error():
    form = _Form({"phone": "call me"})
    assert not form.is_valid()
    assert "digits, spaces, dashes and dots only" in form.errors["phone"][0]
    assert 'value="call me"' in str(form["phone"])  # shown back as typed


def test_the_same_number_written_otherwise_is_no_change():
    form = _Form({"phone": "0812 3456 7890", "other": ""}, initial={"phone": "+6281234567890"})
    assert form.is_valid() and not form.has_changed()
    form = _Form({"phone": "0813 3456 7890", "other": ""}, initial={"phone": "+6281234567890"})
    assert form.has_changed()
