"""The language a request is answered in, as one of the portal's codes."""

from django.conf import settings
from django.utils.translation import get_language


def current() -> str:
    """The active language's code among settings.LANGUAGES ("id", "en"), else the portal's own:
    what a mail, a document or a link made now should speak."""
    code = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
