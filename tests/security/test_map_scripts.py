"""The portal's own scripts (static/js, not the vendored libraries) never turn data into markup:
text reaches the page through textContent and DOM nodes only.

Beside the browser's own HTML sinks this covers Leaflet's: bindPopup, setContent, bindTooltip and
setTooltipContent parse a string as HTML, and divIcon's `html` option does too, so they may only
be handed a node built with textContent.
"""

import re
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[2] / "static" / "js").glob("*.js"))

HTML_SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML\s*\(|document\.write(ln)?\s*\("
    r"|\beval\s*\(|new\s+Function\s*\(|createContextualFragment\s*\(|\.srcdoc\s*=|DOMParser"
)
# A timer given a string evaluates it as code.
STRING_TIMERS = re.compile(r"\bset(Timeout|Interval)\s*\(\s*[\"'`]")
LEAFLET_HTML_CALLS = re.compile(
    r"\.(bindPopup|setContent|bindTooltip|setTooltipContent|setPopupContent)\s*\(([^;]*)"
)
# What a Leaflet call may be handed: a node from the script's own el() or createElement, or a
# variable holding one; never a string literal, template or concatenation.
NODE_ARGUMENT = re.compile(
    r"^\s*(el\(|document\.createElement\(|popupContent\(|[A-Za-z_$][\w$]*\s*\))"
)


def _code(path: Path) -> str:
    """The script without its comments, so a comment that names a sink is no finding."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(?m)^\s*//.*$|(?<=[;{}),])\s*//.*$", "", text)


def test_there_are_scripts_to_check():
    assert {p.name for p in SCRIPTS} >= {"need-map.js", "need-detail.js", "choropleth.js"}
    # The popups and tooltips below are found, so their check is not vacuous.
    assert sum(len(LEAFLET_HTML_CALLS.findall(_code(p))) for p in SCRIPTS) >= 4


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_no_script_writes_data_as_html(path):
    code = _code(path)
    assert HTML_SINKS.findall(code) == []
    assert STRING_TIMERS.findall(code) == []


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_leaflet_is_only_ever_handed_nodes(path):
    code = _code(path)
    for call, argument in LEAFLET_HTML_CALLS.findall(code):
        assert NODE_ARGUMENT.match(argument), f"{path.name}: {call}({argument.strip()[:60]}"
    assert not re.search(r"\bhtml\s*:", code), f"{path.name}: a divIcon with an html option"


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_links_are_only_ever_the_portal_own(path):
    """A link's address comes from the portal's own API (`url`, a reversed path) or is the map
    page's own address (`here`: the page's reversed URL with a kelurahan code set through
    URLSearchParams), never from a free-text property a donor or an import can set."""
    for target in re.findall(r"\.href\s*=\s*([^;]+);", _code(path)):
        assert target.strip() in {"p.url", "here.href"}, f"{path.name}: href = {target.strip()}"


def test_the_checks_would_catch_a_sink():
    leaky = (
        "popup.setContent('<b>' + p.title + '</b>'); box.innerHTML = p.site; L.divIcon({html: t});"
    )
    assert HTML_SINKS.findall(leaky)
    ((call, argument),) = LEAFLET_HTML_CALLS.findall(leaky.split(";")[0] + ";")
    assert not NODE_ARGUMENT.match(argument)
