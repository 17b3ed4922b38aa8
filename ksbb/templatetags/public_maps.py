"""`{% public_map %}`: django-leaflet's map, drawn by the portal's own script (static/js/maps.js)
instead of an inline one.

django-leaflet's `leaflet_map` writes an inline script, which the Content-Security-Policy runs only
with the request's nonce: a page holding it is one request's own and no cache may share it. This
tag writes the same options as inert JSON (json_script) beside the map's <div>, so the public pages
carry no inline script and are the same for every visitor (ksbb.lib.http_cache).
"""

import json

from django import template
from django.utils.html import format_html, json_script
from leaflet.templatetags.leaflet_tags import leaflet_map

register = template.Library()


@register.simple_tag
def public_map(name: str, callback: str) -> str:
    """The map <div> `name` and its options; maps.js calls `window[callback](map)` once drawn."""
    options = json.loads(leaflet_map(name)["djoptions"])
    return format_html(
        '<div id="{}" class="leaflet-container-default" data-map-options="{}" '
        'data-map-callback="{}"></div>{}',
        name,
        f"{name}-options",
        callback,
        json_script(options, f"{name}-options"),
    )
