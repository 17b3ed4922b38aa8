"""Hostile payloads, and a reader of HTML that finds markup an attacker managed to inject.

An escaped payload reads back as text (or as an attribute's value); an unescaped one becomes an
element or an attribute of its own. The parser is the browser's view of the page, so the check does
not depend on how the escaping was spelled (&lt; or &#60;).
"""

from html.parser import HTMLParser

# What a donor, an import or staff might type where text is expected: a script, an attribute break
# out of a quoted value, an SVG handler, a URL scheme, a single-quote attribute break, and a
# template expression (Django never renders data as a template, so it must come out literally).
PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "svg": "<svg onload=alert(1)>",
    "url": "javascript:alert(1)",
    "quote": "' onmouseover='alert(1)",
    "template": "{{7*7}}",
}
# Every payload at once, for fields too short to try them one by one (at most 100 characters).
ALL_IN_ONE = "<script>alert(1)</script>\"><img src=x onerror=alert(1)><svg onload=alert(1)>'{{7*7}}"

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}
INERT_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.injected: list[str] = []
        self.text: list[str] = []
        self._script: str | None = None  # the type of the script element being read

    def handle_starttag(self, tag, attrs):
        self._element(tag, attrs)
        if tag == "script":
            self._script = dict(attrs).get("type") or "text/javascript"

    def handle_startendtag(self, tag, attrs):
        self._element(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        self.text.append(data)
        running = self._script is not None and self._script not in INERT_SCRIPT_TYPES
        if running and "alert(" in data:
            self.injected.append(f"script running {data.strip()[:80]!r}")

    def _element(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            self.text.append(value)
            if name.startswith("on") and "alert(" in value:
                self.injected.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"):
                self.injected.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.injected.append("<img src=x>")
        if tag == "svg" and any(name.startswith("on") for name, _v in attrs):
            self.injected.append("<svg on…>")


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def injected(html: str) -> list[str]:
    """Elements and attributes the payloads created: empty when everything was escaped."""
    return read(html).injected


def shows(html: str, text: str) -> bool:
    """Whether `text` reads back from the page (as text or an attribute's value), i.e. whether the
    page printed the data at all: an escaping test on a page that leaves it out proves nothing."""
    return text in "\n".join(read(html).text)
