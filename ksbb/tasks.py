"""The worker's own housekeeping (procrastinate): jobs of a worker that died are run again, and
old finished jobs are purged."""

import logging

from procrastinate import builtin_tasks
from procrastinate.contrib.django import app

log = logging.getLogger(__name__)
# A worker that sent no heartbeat for this long is dead (its heartbeat comes every 10 s).
STALLED_SECONDS = 60
KEEP_FAILED_HOURS = 24 * 14


@app.periodic(cron="* * * * *")
@app.task(name="ksbb.retry_stalled_jobs", queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context, timestamp: int) -> None:
    """A job whose worker was killed stays 'doing' forever, and a lock it held would block the
    jobs after it: put it back in the queue. Every job is safe to run again (each re-reads what
    is left to do: an unsent mail, stale figures, a hold that passed)."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS):
        log.warning("job %s (%s) lost its worker; queued again", job.id, job.task_name)
        await manager.retry_job(job)


@app.periodic(cron="17 3 * * *")
@app.task(name="ksbb.remove_old_jobs", queueing_lock="remove_old_jobs", pass_context=True)
async def remove_old_jobs(context, timestamp: int) -> None:
    await builtin_tasks.remove_old_jobs(
        context, max_hours=KEEP_FAILED_HOURS, remove_failed=True, remove_cancelled=True
    )
