"""What the public forms share."""

from django import forms
from django.utils.translation import gettext_lazy as _


class HoneypotForm(forms.Form):
    """A form with a honeypot: a `website` field that people never see (the templates hide it,
    `class="hp"`, out of the tab order) and bots that fill every field do. A view answers a filled
    one as if it worked, so the bot learns nothing, and writes nothing (`is_spam`)."""

    website = forms.CharField(label=_("Leave this empty"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["website"].widget.attrs.update(tabindex="-1", autocomplete="off")

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))
