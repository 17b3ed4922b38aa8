"""ksbb.warmup: what a new app-server worker loads before its first request (ksbb/gunicorn.conf.py)."""

import logging
import runpy
from pathlib import Path

from django.conf import settings
from django.template import engines

from ksbb.warmup import project_templates, warm_up


def test_the_portals_own_templates_and_no_third_partys():
    names = project_templates()
    assert {"base.html", "donations/need_detail.html", "needs/need_map.html"} <= set(names)
    # The virtualenv may lie inside the project: its apps' templates are not the portal's.
    assert not [n for n in names if n.startswith(("django_filters/", "rest_framework/"))]


def test_every_template_of_the_portal_compiles(caplog):
    """A template that does not compile is logged by the warm-up (its request reports it); none may."""
    with caplog.at_level(logging.ERROR, logger="ksbb.warmup"):
        loaded = warm_up()
    assert loaded == {"templates": len(project_templates())}
    assert not caplog.records


def test_after_it_the_templates_are_compiled_in_the_process():
    warm_up()
    engine = engines["django"].engine
    # The cached loader keeps what was compiled: the first request compiles nothing of its own.
    (cached,) = [
        loader for loader in engine.template_loaders if hasattr(loader, "get_template_cache")
    ]
    assert "donations/need_detail.html" in cached.get_template_cache


def test_gunicorn_warms_each_worker_and_spreads_the_recycling(monkeypatch, tmp_path):
    # Read with its metrics folder given, so that reading it changes nothing in this process.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS", raising=False)
    conf = runpy.run_path(str(Path(settings.BASE_DIR) / "ksbb" / "gunicorn.conf.py"))
    assert callable(conf["post_worker_init"])
    # A recycled worker costs about a second of CPU: rare, and never all of them at once.
    assert conf["max_requests"] >= 10000
    assert conf["max_requests_jitter"] >= conf["max_requests"] // 4
