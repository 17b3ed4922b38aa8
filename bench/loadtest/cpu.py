"""Where the CPU went during a load: the server's gunicorn processes, the background worker, the
PostgreSQL backends serving its database, its Redis, the load generator, everything else on the
machine, and what the hypervisor took from this virtual machine for others (steal) (Linux /proc).
nginx in front of the server, when there is one, counts as the server's.

It tells a portal that is too slow from a generator or a neighbour that starves it."""

import os
import threading
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
KINDS = ("nginx", "gunicorn", "worker", "postgres", "redis", "locust")


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


def _command(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def machine_seconds() -> tuple[float, float, float]:
    """(busy, total, stolen) CPU seconds of the whole machine since boot, all cores; stolen is
    part of busy: time this virtual machine wanted a core and the hypervisor gave it to another."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK, values[7] / TICK


class Meter:
    """`with Meter({gunicorn.pid: "gunicorn"}, database) as meter:` for as long as a server runs;
    `commands` tells more processes by a part of their command line (`{"redis-server …": "redis"}`);
    `meter.watch(locust.pid, "locust")` adds a process group (each run of the generator);
    `meter.window(t0, t1)` tells where the CPU went between two moments (`time.time()`), so that a
    load's ramp and stop stay out of its figures.

    Samples every process twice a second: gunicorn recycles workers and Django reconnects after
    CONN_MAX_AGE, and a process that has exited can no longer be asked what it used. A process is
    told by its process group (the servers and the generator are each started in a session of
    their own) or by its command line (PostgreSQL's backends name the database)."""

    def __init__(
        self,
        groups: dict[int, str],
        database: str,
        commands: dict[str, str] | None = None,
        every: float = 0.5,
    ) -> None:
        self.groups, self.database, self.every = dict(groups), database, every
        self.commands = dict(commands or {})
        # (pid, start time) → (kind, CPU at the start); a pid may be reused, its start time not.
        self.first: dict[tuple[str, str], tuple[str, float]] = {}
        self.last: dict[tuple[str, str], float] = {}
        # (time, CPU seconds per kind so far, machine busy, machine total, stolen)
        self.timeline: list[tuple[float, dict[str, float], float, float, float]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def watch(self, group: int, kind: str) -> None:
        with self._lock:
            self.groups[group] = kind

    def _sample(self, starting: bool = False) -> None:
        with self._lock:
            for pid, fields in _processes():
                key = (pid, fields[19])
                if key in self.first:
                    kind = self.first[key][0]
                else:
                    kind = self.groups.get(int(fields[2])) or self._kind_of(_command(pid))
                    if kind is None:
                        continue
                seconds = _cpu(fields)
                # A process born while the meter runs counts from zero.
                self.first.setdefault(key, (kind, seconds if starting else 0.0))
                self.last[key] = seconds
            totals = dict.fromkeys(KINDS, 0.0)
            for key, (kind, start) in self.first.items():
                totals[kind] += self.last[key] - start
            self.timeline.append((time.time(), totals, *machine_seconds()))

    def _kind_of(self, command: str) -> str | None:
        if command.startswith("postgres: "):
            return "postgres" if f" {self.database} " in command else None
        return next((kind for part, kind in self.commands.items() if part in command), None)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def __enter__(self) -> "Meter":
        self._sample(starting=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def window(self, t0: float, t1: float) -> dict[str, float]:
        """CPU seconds per kind between the samples around t0 and t1, with `steal` (taken by the
        hypervisor), `other` (the rest of the machine's busy time), `idle` and `available`
        (core-seconds of the whole machine)."""
        with self._lock:
            line = list(self.timeline)
        before = max((s for s in line if s[0] <= t0), key=lambda s: s[0], default=line[0])
        after = min((s for s in line if s[0] >= t1), key=lambda s: s[0], default=line[-1])
        spent = {kind: max(after[1][kind] - before[1][kind], 0.0) for kind in KINDS}
        busy, available = after[2] - before[2], after[3] - before[3]
        steal = max(after[4] - before[4], 0.0)
        seconds = {
            **spent,
            "other": max(busy - steal - sum(spent.values()), 0.0),
            "steal": steal,
            "idle": max(available - busy, 0.0),
            "available": available,
            "seconds": after[0] - before[0],
        }
        return {**{k: round(v, 2) for k, v in seconds.items()}, "cores": os.cpu_count() or 1}
