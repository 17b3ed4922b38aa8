"""The parts of the Content-Security-Policy that follow from other settings."""

from urllib.parse import urlsplit


def tile_sources(url: str) -> list[str]:
    """The img-src sources that let the map load tiles from `url`, a Leaflet tile URL template.

    Leaflet spreads tiles over subdomains with a `{s}` placeholder in the host: CSP expresses that
    as a wildcard, which it allows only as the leftmost label.
    """
    if not url:
        return []
    parts = urlsplit(url)
    if not parts.netloc:
        return []  # a path on the portal itself: 'self' covers it
    labels = parts.netloc.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    host = ".".join(labels)
    if "{" in host:
        # A placeholder CSP cannot express: allow the scheme rather than break the map.
        return [f"{parts.scheme or 'https'}:"]
    return [f"{parts.scheme}://{host}" if parts.scheme else host]
