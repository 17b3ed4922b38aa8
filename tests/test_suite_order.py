"""The suite's own order (tests/conftest.py): once Playwright runs in a process, its event loop
keeps running there, and Django's async_to_sync (the health checks, the request-id logs) refuses
to run beside it; so the modules with a browser test run last, whole, in every process."""

from tests.conftest import PLAYWRIGHT_FIXTURES, _module, _starts_playwright


def test_xdist_hands_out_modules_in_collection_order(pytestconfig):
    # Its default puts the largest modules first, browser ones among them.
    assert getattr(pytestconfig.option, "loadscopereorder", False) is False


def test_no_module_runs_after_a_browser_module(request):
    items = request.session.items
    browser_modules = {_module(item) for item in items if _starts_playwright(item)}
    in_browser_module = [_module(item) in browser_modules for item in items]
    if browser_modules:  # the whole suite, or a selection holding browser tests
        first = in_browser_module.index(True)
        assert all(in_browser_module[first:]), "a module without a browser test runs after one"
    assert "page" in PLAYWRIGHT_FIXTURES
