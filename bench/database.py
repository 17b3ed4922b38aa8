"""Where `make bench` measures: a database of its own, made for the run and dropped after it."""


def in_bench_database(run, *, any_host: bool = False, name: str = "ksbb_bench") -> int:
    """`run()` in the database `name` (created, migrated, dropped after), as in production: no
    query log growing with the work. `any_host`: for benchmarks that request pages."""
    from django.conf import settings
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    settings.DATABASES["default"]["TEST"]["NAME"] = name
    if any_host:
        settings.ALLOWED_HOSTS = ["*"]
    setup_test_environment(debug=False)
    old = setup_databases(verbosity=0, interactive=False)
    try:
        return run()
    finally:
        teardown_databases(old, verbosity=0)
