"""What `make loadtest` concludes from its loads: each load's figures over its measured window,
whether it holds, the portal's capacity, the ceiling and the ratio (docs/benchmarks.md).

Pure functions of the samples locust recorded and of the CPU meter's figures, so that the suite
checks them on canned samples (tests/test_benchmarks.py).

A load is one server (`portal` or `bare`) under one crowd: `visitors` (think time of 1–3 s
between actions, as people) or `closed loop` (no think time: each user asks again as soon as it
has its answer, so the server is saturated).

Definitions, printed with the result:

- A load *holds* when the p95 of its pages is under 300 ms, nothing failed (the ramp and the stop
  included) and, on the portal, the database checks after it found nothing wrong. The portal's
  pages are its HTML pages (its API requests are reported beside); the bare view's only request is
  its page.
- The portal's *capacity* is the largest visitor step that holds with every smaller step.
- A server's *sustainable throughput* is the most requests per second (every request, pages and
  API) of any of its loads that holds, visitor steps and closed-loop levels alike. With think
  time the visitors, not the server, set the pace, so the closed-loop levels find the most a
  server serves within the target.
- The *ceiling* is the bare Django view's sustainable throughput, on the same gunicorn settings;
  the *ratio* is the portal's sustainable throughput over the ceiling. The bare view's closed-loop
  levels are measured twice, before the portal's loads and after them, and the ceiling is the
  higher: a machine whose speed drifts during the run (a virtual machine's neighbours) cannot
  flatter the ratio, and the change between the two says how far it drifted.
"""

PAGE_TARGET_MS = 300
# HTML pages a visitor waits for; the target is on these. The API requests are reported beside.
PAGES = (
    "home",
    "map page",
    "need page",
    "transparency",
    "pledge form",
    "pledge submit",
    "pledge page",
    "bare view",
)
APIS = ("map layer", "map boundaries", "need popup")
VISITORS, CLOSED_LOOP = "visitors", "closed loop"
# The `phase` of the bare view's closed-loop levels measured before the portal's loads.
BEFORE = "before"
# Above this share of the CPU taken by other processes, the run says the machine was not quiet.
NEIGHBOURS = 0.10
SERVER_NAMES = {"portal": "Portal", "bare": "Bare Django view (the ceiling)"}


def percentile(sorted_values: list[float], p: float) -> float | None:
    """The nearest-rank percentile (no interpolation: a value some request really took)."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def figures(rows: list, seconds: float) -> dict:
    """count, requests/s, p50/p95/p99/max ms and errors of samples (name, ms, status, ok, t)."""
    times = sorted(row[1] for row in rows)
    return {
        "count": len(rows),
        "rps": len(rows) / seconds if seconds > 0 else 0.0,
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
        "max": times[-1] if times else None,
        "errors": sum(1 for row in rows if not row[3]),
    }


def window_of(times: dict, settle: float, measure: float) -> tuple[float, float]:
    """The measured window: from `settle` s after every user started, for `measure` s, cut short
    if locust stopped earlier."""
    spawned = times.get("spawned") or times.get("started") or 0.0
    start = spawned + settle
    return start, max(start, min(start + measure, times.get("stopped", start + measure)))


def summarize(
    raw: dict,
    *,
    server: str,
    mode: str,
    users: int,
    window: tuple[float, float],
    cpu: dict | None = None,
    database: dict | None = None,
) -> dict:
    """A load's figures over its window. `raw` is what the locustfile wrote (samples, outcomes);
    `cpu` what cpu.Meter.window measured over the same window; `database` check_database's."""
    start, end = window
    seconds = end - start
    inside = [s for s in raw["samples"] if start <= s[4] <= end]
    by_name: dict[str, list] = {}
    for sample in inside:
        by_name.setdefault(sample[0], []).append(sample)
    order = [n for n in (*PAGES, *APIS) if n in by_name] + sorted(
        set(by_name) - set(PAGES) - set(APIS)
    )
    failures: dict[str, int] = {}
    for name, _, status, ok, _ in raw["samples"]:
        if not ok:
            what = f"{name} → HTTP {status or 'no answer'}"
            failures[what] = failures.get(what, 0) + 1
    every = figures(inside, seconds)
    load = {
        "server": server,
        "mode": mode,
        "users": users,
        "window": [start, end],
        "seconds": seconds,
        "requests": {name: figures(by_name[name], seconds) for name in order},
        "pages": figures([s for n in PAGES for s in by_name.get(n, [])], seconds),
        "all": every,
        # Every failure the visitors met, the ramp and the stop included.
        "errors": sum(failures.values()),
        "failures": failures,
        "outcomes": raw.get("outcomes", {}),
        "cpu": cpu,
        "database": database,
    }
    if cpu and every["count"]:
        served = sum(cpu.get(kind, 0.0) for kind in SERVER_KINDS)
        load["server_cpu_ms_per_request"] = 1000 * served / every["count"]
    load["holds"] = holds(load)
    return load


# What serving costs: everything but the load generator and the rest of the machine.
SERVER_KINDS = ("nginx", "gunicorn", "worker", "postgres", "redis")


def holds(load: dict) -> bool:
    p95 = load["pages"]["p95"]
    return (
        p95 is not None
        and p95 < PAGE_TARGET_MS
        and load["errors"] == 0
        and not (load.get("database") or {}).get("problems")
    )


def why_not(load: dict) -> str:
    """Why a load does not hold, in words ("" when it holds)."""
    reasons = []
    p95 = load["pages"]["p95"]
    if p95 is None:
        reasons.append("no page measured")
    elif not p95 < PAGE_TARGET_MS:
        reasons.append(f"pages p95 {p95:.0f} ms")
    if n := load["errors"]:
        reasons.append(f"{n} error{'s' if n > 1 else ''}")
    if problems := (load.get("database") or {}).get("problems"):
        reasons.extend(problems)
    return "; ".join(reasons)


def capacity(loads: list[dict]) -> int | None:
    """The largest visitor step that holds, every smaller step holding too (None: not even the
    smallest)."""
    best = None
    for load in sorted((x for x in loads if x["mode"] == VISITORS), key=lambda x: x["users"]):
        if not load["holds"]:
            break
        best = load["users"]
    return best


def sustainable(loads: list[dict], mode: str | None = None) -> dict | None:
    """The load with the most requests per second among those that hold (of one mode, if given)."""
    holding = [x for x in loads if x["holds"] and (mode is None or x["mode"] == mode)]
    return max(holding, key=lambda x: x["all"]["rps"], default=None)


def largest_holding_step(loads: list[dict]) -> dict | None:
    steps = [x for x in loads if x["mode"] == VISITORS and x["holds"]]
    return max(steps, key=lambda x: x["users"], default=None)


def conclude(portal: list[dict], bare: list[dict], *, must_hold: int, min_ratio: float) -> dict:
    """The run's verdict: capacity, sustainable throughputs, ratios and the targets missed."""
    portal_best, ceiling = sustainable(portal), sustainable(bare)
    ratio = (
        portal_best["all"]["rps"] / ceiling["all"]["rps"]
        if portal_best and ceiling and ceiling["all"]["rps"]
        else None
    )
    # The first reading, for reference: each at its largest holding visitor step. With
    # think time both are paced by the visitors, so this compares crowds more than servers.
    portal_step, bare_step = largest_holding_step(portal), largest_holding_step(bare)
    step_ratio = (
        portal_step["all"]["rps"] / bare_step["all"]["rps"]
        if portal_step and bare_step and bare_step["all"]["rps"]
        else None
    )
    saturated = {
        server: max(
            (x for x in loads if x["mode"] == CLOSED_LOOP and x["errors"] == 0),
            key=lambda x: x["all"]["rps"],
            default=None,
        )
        for server, loads in (("portal", portal), ("bare", bare))
    }
    held = capacity(portal)
    missed = []
    steps = {x["users"] for x in portal if x["mode"] == VISITORS}
    if must_hold:
        if must_hold not in steps:
            missed.append(f"the {must_hold}-visitor step was not measured (not among the steps)")
        elif held is None or held < must_hold:
            failing = [x for x in portal if x["mode"] == VISITORS and x["users"] <= must_hold]
            first = next(x for x in sorted(failing, key=lambda x: x["users"]) if not x["holds"])
            missed.append(
                f"not every step up to {must_hold} visitors holds: at {first['users']} "
                f"visitors {why_not(first)}"
            )
    if ratio is None:
        missed.append("no ratio: a server has no load that holds")
    elif ratio < min_ratio:
        missed.append(f"ratio {ratio:.3f} (target: at least {min_ratio:g})")
    for load in portal:
        for problem in (load.get("database") or {}).get("problems", []):
            missed.append(f"database after {label(load)}: {problem}")
    notes = []
    drifted = drift(bare)
    largest = max(drifted, key=lambda d: abs(d["change"]), default=None)
    if largest and abs(largest["change"]) > NEIGHBOURS:
        notes.append(
            f"the bare view served {largest['before']:.0f} req/s before the portal and "
            f"{largest['after']:.0f} after ({largest['users']} closed-loop users, "
            f"{100 * largest['change']:+.0f} %): the machine's speed drifted during the run"
        )
    for kind, who in (("other", "other processes"), ("steal", "the hypervisor (steal)")):
        shares = [x["cpu"].get(kind, 0.0) / x["cpu"]["available"] for x in portal + bare if busy(x)]
        if shares and max(shares) > NEIGHBOURS:
            notes.append(
                f"{who} took up to {100 * max(shares):.0f} % of the CPU during a load: "
                "these are not the figures of a quiet machine"
            )
    return {
        "capacity_visitors": held,
        "portal_sustainable": brief(portal_best),
        "ceiling": brief(ceiling),
        "ratio": ratio,
        "at_largest_holding_steps": {
            "portal": brief(portal_step),
            "bare": brief(bare_step),
            "ratio": step_ratio,
        },
        "saturated_any_latency": {server: brief(x) for server, x in saturated.items()},
        "ceiling_drift": drifted,
        "targets": {"must_hold": must_hold, "min_ratio": min_ratio},
        "missed": missed,
        "notes": notes,
    }


def busy(load: dict) -> bool:
    return bool(load.get("cpu") and load["cpu"]["available"])


def brief(load: dict | None) -> dict | None:
    if load is None:
        return None
    return {
        "mode": load["mode"],
        "users": load["users"],
        "rps": load["all"]["rps"],
        "pages_p95": load["pages"]["p95"],
        **({"phase": load["phase"]} if load.get("phase") else {}),
    }


def drift(bare: list[dict]) -> list[dict]:
    """For each closed-loop level of the bare view measured both before and after the portal:
    its requests per second then and now, and the relative change."""
    found: dict[int, dict] = {}
    for x in bare:
        if x["mode"] == CLOSED_LOOP:
            when = "before" if x.get("phase") == BEFORE else "after"
            found.setdefault(x["users"], {})[when] = x["all"]["rps"]
    return [
        {**pair, "users": users, "change": pair["after"] / pair["before"] - 1}
        for users, pair in sorted(found.items())
        if len(pair) == 2 and pair["before"]
    ]


def label(load: dict) -> str:
    if load["mode"] == VISITORS:
        return f"{load['users']} visitors"
    before = " before the portal" if load.get("phase") == BEFORE else ""
    return f"{load['users']} users in a closed loop{before}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _row(name: str, f: dict) -> str:
    return (
        f"  {name:<22}{f['count']:>7}{f['rps']:>8.1f}{_ms(f['p50']):>9}{_ms(f['p95']):>9}"
        f"{_ms(f['p99']):>9}{_ms(f['max']):>9}{f['errors']:>7}"
    )


def cpu_line(cpu: dict) -> str:
    def share(kind: str) -> str:
        return f"{100 * cpu.get(kind, 0.0) / cpu['available']:.0f} %" if cpu["available"] else "–"

    return (
        f"  CPU over the window ({cpu['cores']} cores, {cpu['available']:.0f} core-seconds): "
        f"nginx {share('nginx')}, gunicorn {share('gunicorn')}, worker {share('worker')}, PostgreSQL {share('postgres')}, "
        f"Redis {share('redis')}, locust {share('locust')}, other {share('other')}, "
        f"steal {share('steal')}, idle {share('idle')}"
    )


def load_report(load: dict) -> str:
    """The table of one load, as printed when it ends."""
    lines = [
        f"  {'request':<22}{'count':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'errors':>7}"
    ]
    lines += [_row(name, f) for name, f in load["requests"].items()]
    if load["server"] == "portal":
        lines.append(_row("all pages", load["pages"]))
    lines.append(_row("all requests", load["all"]))
    for what, n in sorted(load["failures"].items()):
        lines.append(f"    error: {what} ×{n}")
    if outcomes := {k: v for k, v in load["outcomes"].items() if v or load["server"] == "portal"}:
        lines.append("  " + ", ".join(f"{k}: {v}" for k, v in outcomes.items()))
    if load["cpu"]:
        lines.append(cpu_line(load["cpu"]))
    if db := load["database"]:
        lines.append(f"  database: {db['summary']}")
    lines.append(
        f"  → {'holds' if load['holds'] else 'does not hold: ' + why_not(load)}"
        f" ({load['seconds']:.0f} s measured)"
    )
    return "\n".join(lines)


CPU_COLUMNS = (
    ("nginx", "nginx"),
    ("gunicorn", "gunicorn"),
    ("worker", "worker"),
    ("pg", "postgres"),
    ("redis", "redis"),
    ("locust", "locust"),
    ("other", "other"),
    ("steal", "steal"),
    ("idle", "idle"),
)


def share(cpu: dict, kind: str) -> str:
    return f"{100 * cpu.get(kind, 0.0) / cpu['available']:.0f}%"


def curve_table(loads: list[dict]) -> str:
    """One line per load: the curve, with the CPU in % of the machine."""
    lines = [
        f"  {'server':<7}{'load':<20}{'users':>6}{'req/s':>8}{'pages p50':>10}{'p95':>6}"
        f"{'p99':>6}{'errors':>7} "
        + "".join(f"{title:>{len(title) + 1}}" for title, _ in CPU_COLUMNS)
        + f"{'CPU ms/req':>11}  {'DB':<4}holds"
    ]
    for x in loads:
        cpu, db = x["cpu"], x["database"]
        shares = "".join(
            f"{share(cpu, kind) if busy(x) else '–':>{len(title) + 1}}"
            for title, kind in CPU_COLUMNS
        )
        mode = x["mode"] + (" (before)" if x.get("phase") == BEFORE else "")
        lines.append(
            f"  {x['server']:<7}{mode:<20}{x['users']:>6}{x['all']['rps']:>8.1f}"
            f"{_ms(x['pages']['p50']):>10}{_ms(x['pages']['p95']):>6}{_ms(x['pages']['p99']):>6}"
            f"{x['errors']:>7} {shares}{_ms(x.get('server_cpu_ms_per_request')):>11}  "
            f"{'–' if db is None else ('ok' if not db['problems'] else 'BAD'):<4}"
            f"{'yes' if x['holds'] else 'no'}"
        )
    return "\n".join(lines)


def _at(b: dict | None) -> str:
    if b is None:
        return "none holds"
    where = f"{b['users']} visitors" if b["mode"] == VISITORS else f"{b['users']} closed-loop users"
    if b.get("phase") == BEFORE:
        where += " before the portal"
    return f"{b['rps']:.1f} req/s ({where}, pages p95 {_ms(b['pages_p95'])} ms)"


def verdict_report(verdict: dict) -> str:
    t = verdict["targets"]
    steps = verdict["at_largest_holding_steps"]
    sat = verdict["saturated_any_latency"]
    ratio = verdict["ratio"]
    lines = [
        "Capacity (a load holds: pages p95 < 300 ms, no error, database checks clean):",
        f"  portal: the largest visitor step that holds, every smaller one holding too: "
        f"{verdict['capacity_visitors'] or 'none'}"
        + (f" (target: {t['must_hold']})" if t["must_hold"] else ""),
        "Ratio: sustainable throughput = the most requests/s of any load that holds (visitor",
        "  steps and closed-loop levels alike); the ceiling = the bare Django view's, on the same",
        "  gunicorn settings.",
        f"  portal sustainable:  {_at(verdict['portal_sustainable'])}",
        f"  ceiling (bare view): {_at(verdict['ceiling'])}",
        *(
            f"    the bare view, {d['users']} closed-loop users: {d['before']:.1f} req/s before the"
            f" portal, {d['after']:.1f} after ({100 * d['change']:+.0f} %)"
            for d in verdict.get("ceiling_drift", [])
        ),
        f"  RATIO portal / ceiling = {'–' if ratio is None else f'{ratio:.3f}'}"
        f" (target: at least {t['min_ratio']:g})",
        "  For reference (not targets):",
        f"    saturated, whatever the latency: portal {_at(sat['portal'])};"
        f" bare {_at(sat['bare'])}",
        f"    each at its largest holding visitor step (paced by the think time, so it compares"
        f" crowds more than servers): portal {_at(steps['portal'])} / bare {_at(steps['bare'])}"
        f" = {'–' if steps['ratio'] is None else format(steps['ratio'], '.3f')}",
    ]
    for note in verdict["notes"]:
        lines.append(f"Note: {note}")
    for problem in verdict["missed"]:
        lines.append(f"TARGET MISSED: {problem}")
    if not verdict["missed"]:
        held = f"{t['must_hold']} visitors hold, " if t["must_hold"] else ""
        lines.append(
            f"All targets met: {held}ratio {ratio:.2f} ≥ {t['min_ratio']:g}, no over-commit, "
            "no lost pledge, counters exact."
        )
    return "\n".join(lines)
