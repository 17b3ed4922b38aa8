"""Where the CPU went during the load: the portal's gunicorn processes, the PostgreSQL backends
serving its database, the load generator, and everything else on the machine (Linux /proc).

It tells a portal that is too slow from a generator or a neighbour that starves it."""

import os
import resource
import threading
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: str) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # the fields after the command name


def _cpu(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def _processes():
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (fields := _stat(entry.name)):
            yield entry.name, fields


def _backend_of(pid: str, database: str) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return command.startswith("postgres: ") and f" {database} " in command


def machine_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


def children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Meter:
    """`with Meter(gunicorn_pid, database) as meter:` around the load; then `meter.report()`.

    Samples every process twice a second: gunicorn recycles workers and Django reconnects after
    CONN_MAX_AGE, and a process that has exited can no longer be asked what it used."""

    def __init__(self, group: int, database: str, every: float = 0.5) -> None:
        self.group, self.database, self.every = group, database, every
        self.first: dict[str, tuple[str, float]] = {}  # pid → (kind, CPU at the start)
        self.last: dict[str, float] = {}
        self._stop = threading.Event()

    def _sample(self, starting: bool = False) -> None:
        for pid, fields in _processes():
            if pid in self.first:
                kind = self.first[pid][0]
            elif int(fields[2]) == self.group:
                kind = "portal"
            elif _backend_of(pid, self.database):
                kind = "postgres"
            else:
                continue
            seconds = _cpu(fields)
            # A process born during the load counts from zero.
            self.first.setdefault(pid, (kind, seconds if starting else 0.0))
            self.last[pid] = seconds

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def __enter__(self) -> "Meter":
        self.machine, self.children = machine_seconds(), children_seconds()
        self._sample(starting=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        busy, total = machine_seconds()
        self.busy, self.available = busy - self.machine[0], total - self.machine[1]
        self.generator = children_seconds() - self.children  # the finished locust process

    def seconds(self, kind: str) -> float:
        return sum(self.last[pid] - start for pid, (k, start) in self.first.items() if k == kind)

    def report(self) -> str:
        cores = os.cpu_count() or 1
        portal, postgres = self.seconds("portal"), self.seconds("postgres")
        others = self.busy - portal - postgres - self.generator

        def share(seconds: float) -> str:
            seconds = max(seconds, 0.0)
            return f"{seconds:6.1f} s ({100 * seconds / self.available:4.1f} %)"

        return (
            f"  CPU during the load ({cores} cores, {self.available:.0f} core-seconds):\n"
            f"    gunicorn (portal)         {share(portal)}\n"
            f"    PostgreSQL (its queries)  {share(postgres)}\n"
            f"    locust (the generator)    {share(self.generator)}\n"
            f"    everything else           {share(others)}\n"
            f"    idle                      {share(self.available - self.busy)}"
        )
