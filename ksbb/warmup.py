"""What a fresh app-server process loads before its first request rather than during it.

Django imports the URLconf (and with it every view, the API, reportlab for the receipts…) and
compiles each template on first use. In a gunicorn worker that first request then takes about a
second, and under load every worker recycled by `max_requests` makes some visitor wait that long;
gunicorn calls this from its `post_worker_init` hook instead (ksbb/gunicorn.conf.py).
"""

import logging
import sys
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver

from ksbb.lib.http_cache import release

log = logging.getLogger(__name__)


def project_templates() -> list[str]:
    """The names of the portal's own templates (the project's folder and its apps' `templates/`),
    not those of third-party apps, most of which a public request never reads."""
    base = Path(settings.BASE_DIR).resolve()
    environment = Path(sys.prefix).resolve()  # the virtualenv may lie inside the project
    folders = [Path(folder) for folder in settings.TEMPLATES[0].get("DIRS", [])]
    folders += [
        Path(config.path) / "templates"
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(base)
        and not Path(config.path).resolve().is_relative_to(environment)
    ]
    names = set()
    for folder in folders:
        if folder.is_dir():
            names |= {p.relative_to(folder).as_posix() for p in folder.rglob("*.html")}
    return sorted(names)


def warm_up() -> dict:
    """Load the URLconf, the release digest and the portal's templates; what was loaded."""
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 (imports every view)
    resolver.reverse_dict  # noqa: B018 (the tables reverse() reads for a page's links)
    release()
    engine = engines["django"]
    loaded = 0
    for name in project_templates():
        try:
            engine.get_template(name)
            loaded += 1
        except TemplateSyntaxError:  # the request that uses it reports it, with its context
            log.exception("template %s does not compile", name)
    return {"templates": loaded}
