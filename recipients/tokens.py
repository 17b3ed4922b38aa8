"""A contact link's token: a public selector that finds the link's row, then a secret checked
against a keyed digest in constant time. Only the digest is stored, keyed with SECRET_KEY (or one
of SECRET_KEY_FALLBACKS, so a key rotation does not end every link at once): a copy of the database
cannot rebuild a link, and a guess costs a request that the rate limit counts."""

import hmac
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

SELECTOR_LENGTH = 16  # token_urlsafe(12)
SECRET_BYTES = 32  # 43 characters
SALT = "recipients.ContactLink"


def new() -> tuple[str, str, str]:
    """A fresh token, its selector and the digest to store: (token, selector, digest)."""
    selector = secrets.token_urlsafe(12)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return selector + secret, selector, digest(secret)


def digest(secret: str, key: str | None = None) -> str:
    return salted_hmac(SALT, secret, secret=key, algorithm="sha256").hexdigest()


def split(token: str) -> tuple[str, str]:
    return token[:SELECTOR_LENGTH], token[SELECTOR_LENGTH:]


def matches(secret: str, stored: str) -> bool:
    """Whether `secret` is the one whose digest is `stored`, under the current or a former key."""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    # Every key tried, whatever matched first: the time taken says nothing about which did.
    results = [hmac.compare_digest(digest(secret, key), stored) for key in keys]
    return any(results)
