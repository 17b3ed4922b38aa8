"""The pledge form's and API's rate limits; the fixed-window counting itself is ksbb.lib.ratelimit."""

from django.conf import settings

from ksbb.lib.ratelimit import (  # noqa: F401 (the names callers and settings use here)
    allow,
    client_address,
    exceeded,
    parse_rate,
)


def pledge_allowed(request, email: str | None) -> bool:
    """The pledge form's and API's limits: per client address, and per e-mail address."""
    ok = allow("pledge-ip", client_address(request), settings.KSBB_PLEDGE_RATE_PER_ADDRESS)
    if email:
        ok = allow("pledge-email", email.lower(), settings.KSBB_PLEDGE_RATE_PER_EMAIL) and ok
    return ok


def donor_link_allowed(request, email: str | None) -> bool:
    """Asking for one's own page: per client address, and per e-mail address asked for."""
    ok = allow("donor-link-ip", client_address(request), settings.KSBB_DONOR_LINK_RATE_PER_ADDRESS)
    if email:
        ok = (
            allow(
                "donor-link-email", email.strip().lower(), settings.KSBB_DONOR_LINK_RATE_PER_EMAIL
            )
            and ok
        )
    return ok
