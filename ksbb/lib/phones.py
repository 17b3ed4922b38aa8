"""Phone numbers kept one way: E.164 (`+6281234567890`), which SMS and WhatsApp gateways expect.

Staff type numbers as people write them (0812-3456-7890, +62 812 3456 7890, (021) 1234-5678): the
`phonenumbers` library reads them, Indonesian unless a + names another country, and keeps only
numbers its plan of the country's numbering knows (a mobile prefix, an area code, their lengths).
"""

import re

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# What the database holds (locations.ContactPerson's check constraint): + and 7 to 15 digits.
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
# How people write a number: digits, spaces, dashes, dots, slashes, brackets, a leading +. Letters
# are refused here, where phonenumbers would read them as a keypad's digits (0812-CALL-NOW).
WRITTEN = re.compile(r"\+?[0-9 ()./-]+")
# Longer than any number written with its separators: refused before parsing.
MAX_WRITTEN = 40

EMPTY = _("Enter a phone number.")
NOT_WRITTEN = _(
    "A phone number has digits, spaces, dashes and dots only, with + before a country code, "
    "e.g. 0812-3456-7890 or +62 812 3456 7890."
)
NO_SUCH_NUMBER = _(
    "No phone number has these digits: check them, and the country code (+62 for Indonesia)."
)


def to_e164(raw: str, region: str = "ID") -> str:
    """`raw` as E.164, read as a number of `region` unless it starts with a country code.

    Raises ValueError, with a message for staff, for anything that is not a valid number."""
    text = (raw or "").strip()
    if not text:
        raise ValueError(EMPTY)
    if len(text) > MAX_WRITTEN or not WRITTEN.fullmatch(text):
        raise ValueError(NOT_WRITTEN)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as e:
        raise ValueError(NO_SUCH_NUMBER) from e
    if not phonenumbers.is_valid_number(number):
        raise ValueError(NO_SUCH_NUMBER)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(number: str, region: str = "ID") -> str:
    """A number as people read it, in the international format (`+62 812-3456-7890`); what cannot be
    read as a number comes back as it is."""
    try:
        parsed = phonenumbers.parse(number, region)
    except (phonenumbers.NumberParseException, TypeError):
        return number
    if not phonenumbers.is_valid_number(parsed):
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class PhoneNumberField(forms.CharField):
    """A form field that cleans to E.164 and shows a stored number in the international format.
    An unchanged number counts as unchanged however it is written."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        try:
            return to_e164(value)
        except ValueError as e:
            raise ValidationError(e.args[0], code="invalid_phone") from e

    def prepare_value(self, value):
        return display(value) if isinstance(value, str) and value else value
