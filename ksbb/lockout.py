"""The page a locked-out staff login gets (django-axes calls `locked_out` through AXES_LOCKOUT_CALLABLE)."""

from axes.helpers import get_cool_off
from django.shortcuts import render
from django.utils.translation import ngettext


def _duration(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def locked_out(request, original_response=None, credentials=None):
    """429 with a friendly page showing neither the username tried nor the address: no personal data."""
    seconds = int(get_cool_off(request).total_seconds())
    response = render(request, "ksbb/locked_out.html", {"cool_off": _duration(seconds)}, status=429)
    response["Retry-After"] = str(seconds)
    return response
