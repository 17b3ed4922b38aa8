"""Reading a Content-Security-Policy header and the scripts of a page, for the header tests."""

from html.parser import HTMLParser

# Script types a browser runs; any other (application/json from json_script) is inert data.
EXECUTABLE_TYPES = {"", "text/javascript", "application/javascript", "module"}


def directives(header: str) -> dict[str, list[str]]:
    """'script-src 'self' 'nonce-x'; object-src 'none'' → {'script-src': ["'self'", "'nonce-x'"], …}."""
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def header_nonce(header: str) -> str | None:
    nonces = [s for s in directives(header).get("script-src", []) if s.startswith("'nonce-")]
    assert len(nonces) <= 1, header
    return nonces[0][len("'nonce-") : -1] if nonces else None


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))


def inline_scripts(html: str) -> list[dict]:
    """The attributes of every inline script the browser would run (no src, a JavaScript type)."""
    parser = _Scripts()
    parser.feed(html)
    return [
        attrs
        for attrs in parser.scripts
        if "src" not in attrs and (attrs.get("type") or "").lower() in EXECUTABLE_TYPES
    ]


def assert_strict_policy(header: str) -> dict[str, list[str]]:
    """The policy the portal promises: no inline script without the nonce, nothing from elsewhere."""
    policy = directives(header)
    assert "'self'" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["img-src"][:2] == ["'self'", "data:"]
    return policy


def assert_scripts_carry_the_nonce(header: str, html: str) -> int:
    """Every inline script carries the header's nonce; returns how many there are."""
    scripts = inline_scripts(html)
    nonce = header_nonce(header)
    for attrs in scripts:
        assert nonce and attrs.get("nonce") == nonce, (attrs, header)
    return len(scripts)
