"""axe-core in the browser tests: every page checked at WCAG 2.1 AA, at desktop and phone width,
in both languages, with zero violations as the target (docs/accessibility.md).

axe-core is fetched from the npm registry by scripts/bootstrap.sh --test (scripts/fetch-npm.sh,
pinned and digest-checked in data/axe-core.lock) into .data/axe-core/; it is never served by the
portal. The pages' Content-Security-Policy would refuse the injected script, so the checking
browser contexts bypass it (the CSP has browser tests of its own, tests/browser/test_csp.py).
"""

import json
from collections.abc import Callable
from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / ".data" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("id", "en")


def violations(page) -> list[str]:
    """What axe-core finds on the page as it is now, one line per rule broken."""
    assert AXE.exists(), f"{AXE} is missing: run scripts/bootstrap.sh --test (make test does)"
    page.add_script_tag(path=str(AXE))
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}}
    result = page.evaluate(f"axe.run(document, {json.dumps(options)})")
    assert result["passes"], "axe-core checked nothing on this page"
    return [
        f"{v['id']} ({v['impact']}, {v['help']}): {[n['target'] for n in v['nodes'][:5]]}"
        for v in result["violations"]
    ]


def check_everywhere(
    browser,
    base_url: str,
    path: str,
    *,
    cookies: tuple[dict, ...] = (),
    ready: Callable | None = None,
) -> dict[str, list[str]]:
    """axe-core's findings on `path` at each width and in each language (`ready(page)` first: a map
    drawn, a form submitted), keyed "language width"; empty lists everywhere is the target."""
    found = {}
    for language in LANGUAGES:
        for size_name, size in SIZES.items():
            context = browser.new_context(
                viewport=size, locale=f"{language}-ID", bypass_csp=True, base_url=base_url
            )
            context.add_cookies(
                [{"name": "django_language", "value": language, "url": base_url}, *cookies]
            )
            page = context.new_page()
            page.goto(path)
            if ready is not None:
                ready(page)
            html_lang = page.locator("html").get_attribute("lang")
            assert html_lang == language, f"{path}: lang={html_lang!r} for {language}"
            found[f"{language} {size_name}"] = violations(page)
            context.close()
    return found


def assert_clean(found: dict[str, list[str]]) -> None:
    broken = {where: lines for where, lines in found.items() if lines}
    assert not broken, "axe-core, WCAG 2.1 AA:\n" + "\n".join(
        f"  {where}: {line}" for where, lines in broken.items() for line in lines
    )
