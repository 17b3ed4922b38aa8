"""The ledger's background jobs, run by the worker (docs/ledger.md)."""

from procrastinate.contrib.django import app

from ledger import services


@app.task(name="ledger.seal", queueing_lock="ledger_seal", lock="ledger_seal")
def seal() -> None:
    """Seal what was committed (ledger.services.record defers it with each change)."""
    services.seal()


@app.periodic(cron="* * * * *")
@app.task(name="ledger.seal_periodic", queueing_lock="ledger_seal_periodic", lock="ledger_seal")
def seal_periodic(timestamp: int) -> None:
    """Every minute: whatever a lost job left unsealed."""
    services.seal()


@app.periodic(cron="7 * * * *")
@app.task(name="ledger.checkpoints", queueing_lock="ledger_checkpoints", lock="ledger_seal")
def checkpoints(timestamp: int) -> None:
    """Every hour: the checkpoint of each day that ended since the last one."""
    services.record_checkpoints()
