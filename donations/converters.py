class TokenConverter:
    """A pledge token's shape (secrets.token_urlsafe): anything else is a 404 before any query, so a
    stray byte (a NUL, say) never reaches the database. Registered as <token:…> in DonationsConfig."""

    regex = r"[A-Za-z0-9_-]{20,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
