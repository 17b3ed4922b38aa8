"""The needs app's background jobs, run by the worker (docs/deploy.md)."""

import logging

from procrastinate.contrib.django import app

from needs.caching import prune_page_touches

log = logging.getLogger(__name__)


@app.periodic(cron="23 * * * *")
@app.task(name="needs.prune_page_touches", queueing_lock="needs.prune_page_touches")
def prune(timestamp: int) -> None:
    """Every hour: the page versions' older numbers (needs.caching.prune_page_touches), so that the
    table keeps about one row per need however many pledges come."""
    pruned = prune_page_touches()
    if pruned:
        log.info("page versions: %s older numbers pruned", pruned)
