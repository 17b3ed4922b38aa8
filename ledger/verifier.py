#!/usr/bin/env python3
"""Check the KSBB portal's public ledger, without trusting the portal.

    python3 verify_ledger.py ksbb-ledger.jsonl [--checkpoint SEQ:HASH] [--totals totals.csv]
    python3 verify_ledger.py ksbb-ledger.jsonl --as-of 2026-12-01   (the figures as of a day)
    python3 verify_ledger.py ksbb-ledger-2026-12-01.jsonl --from SEQ:HASH   (one day)

One file, Python 3.9 or later, standard library only: download it with the ledger from the portal's
transparency page (or read it first: it is short). It checks that

1. the entries are numbered 1, 2, 3, … with no gap, and each entry's `hash` is
   SHA-256(previous entry's hash ‖ the entry's canonical JSON), the first one's previous hash being
   64 zeros: change one byte of any entry and the chain breaks there;
2. the chain passes through a checkpoint you saved earlier (the portal publishes the head of the
   chain at the end of each day): if it does not, history was rewritten since;
3. the figures recomputed from the ledger alone equal the portal's published totals (the
   `totals` open-data download), when given; or, with `--as-of`, it prints the figures from the
   entries recorded by the end of that day (Jakarta time), as the transparency page's
   `?as_of=` shows them "from the public ledger".

It prints where the first mismatch is and exits with status 1, or prints the figures and exits 0.
The portal itself uses this file's `canonical` and `entry_hash`: there is one definition.

The canonical JSON of an entry is its `seq`, `at`, `kind` and `data` as a JSON object with keys
sorted, no spaces, UTF-8 (not \\u escapes): `json.dumps(entry, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`. The hash is of the previous hash's 64 hex characters
followed by those bytes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone

GENESIS = "0" * 64
ENTRY_FIELDS = ("seq", "at", "kind", "data")
# A pledge counts for the figures (collaborators, pledges, quantities) in these statuses, and holds
# its whole quantity of its need; a pledge that left the flow keeps only what it delivered.
COUNTING = {"submitted", "confirmed", "scheduled", "delivered"}


# Jakarta keeps UTC+7 all year: a day's end needs no time-zone database.
JAKARTA = timezone(timedelta(hours=7))


def day_end(day: date) -> str:
    """The first moment after `day` (Jakarta time), written as the ledger writes moments (UTC, to
    the microsecond), so entries compare with it as text."""
    end = datetime(day.year, day.month, day.day, tzinfo=JAKARTA) + timedelta(days=1)
    return end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def recorded_by(entries: Iterable[dict], day: date) -> Iterator[dict]:
    """The entries recorded by the end of `day`: what the ledger said that evening."""
    end = day_end(day)
    return (entry for entry in entries if entry["at"] < end)


def canonical(entry: dict) -> bytes:
    return json.dumps(
        {k: entry[k] for k in ENTRY_FIELDS},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def entry_hash(prev_hash: str, entry: dict) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(entry)).hexdigest()


class Mismatch(Exception):
    """Where the ledger and what it should be part ways."""


def read_entries(lines: Iterable[str]) -> Iterator[dict]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as e:
            raise Mismatch(f"line {number}: not JSON ({e})") from e
        if not isinstance(entry, dict) or not all(
            k in entry for k in (*ENTRY_FIELDS, "prev_hash", "hash")
        ):
            raise Mismatch(f"line {number}: not a ledger entry")
        yield entry


def check_chain(
    entries: Iterable[dict], checkpoint: tuple[int, str] | None = None, start: dict | None = None
) -> Iterator[dict]:
    """The entries, each checked against the one before (`start`: the entry before the first,
    when checking one day's download on its own). Raises Mismatch at the first broken link."""
    prev_seq, prev_hash = (start["seq"], start["hash"]) if start else (0, GENESIS)
    passed = checkpoint is None
    for entry in entries:
        seq = entry["seq"]
        if seq != prev_seq + 1:
            raise Mismatch(f"entry {seq}: expected entry {prev_seq + 1} (a gap or a reordering)")
        if entry["prev_hash"] != prev_hash:
            raise Mismatch(f"entry {seq}: its prev_hash is not entry {prev_seq}'s hash")
        if entry_hash(prev_hash, entry) != entry["hash"]:
            raise Mismatch(f"entry {seq}: its content does not match its hash (it was changed)")
        if checkpoint and seq == checkpoint[0]:
            if entry["hash"] != checkpoint[1]:
                raise Mismatch(f"entry {seq}: not the checkpoint's hash: history was rewritten")
            passed = True
        prev_seq, prev_hash = seq, entry["hash"]
        yield entry
    if not passed:
        raise Mismatch(f"the ledger ends before the checkpoint's entry {checkpoint[0]}")


def replay(entries: Iterable[dict]) -> dict[str, dict]:
    """The latest public state of every collaborator, need, pledge, delivery and receipt, by kind
    and id."""
    state: dict[str, dict] = defaultdict(dict)
    for entry in entries:
        data = entry["data"]
        state[entry["kind"]][data["id"]] = data
    return state


def need_counters(state: dict[str, dict]) -> dict[int, tuple[int, int]]:
    """Each need's (quantity pledged, quantity delivered), from its pledges' entries: a pledge in
    the flow holds its quantity, one that left it keeps what it delivered."""
    counters: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for p in state["pledge"].values():
        held = counters[p["need"]]
        held[0] += p["quantity"] if p["status"] in COUNTING else p["delivered"]
        held[1] += p["delivered"]
    return {need: (pledged, delivered) for need, (pledged, delivered) in counters.items()}


def need_status(need: dict, pledged: int, delivered: int) -> str:
    """A need's status from its counters, as the portal's database derives it."""
    if need["closed"]:
        return "closed"
    if delivered >= need["quantity_needed"]:
        return "delivered"
    if pledged >= need["quantity_needed"]:
        return "fully_pledged"
    return "partly_pledged" if pledged > 0 else "open"


def figures(state: dict[str, dict]) -> dict[str, int]:
    """The transparency page's headline figures, from the ledger alone, by the portal's definitions
    (docs/open-data.md): only published needs count; a pledge counts while in the flow, or once
    some of it was delivered; a need is delivered when its delivered quantity reached its need."""
    needs = {i: n for i, n in state["need"].items() if n["published"]}
    counters = need_counters(state)
    status = {i: need_status(n, *counters.get(i, (0, 0))) for i, n in needs.items()}
    counting = [
        p
        for p in state["pledge"].values()
        if p["need"] in needs and (p["status"] in COUNTING or p["delivered"] > 0)
    ]
    deliveries = [
        d
        for d in state["delivery"].values()
        if state["pledge"].get(d["pledge"], {}).get("need") in needs
    ]
    reached = [n for i, n in needs.items() if counters.get(i, (0, 0))[1] >= n["quantity_needed"]]
    confirmed = [
        d for d in deliveries if state["receipt"].get(d["id"], {}).get("outcome") == "received"
    ]
    # Verified: confirmed by its recipients, or checked by a second staff member.
    confirmed_ids = {d["id"] for d in confirmed}
    verified = [d for d in deliveries if d.get("checked") or d["id"] in confirmed_ids]
    collaborators = {p["collaborator"] for p in counting}
    vetted = {
        c
        for c in collaborators
        if state.get("collaborator", {}).get(c, {}).get("vetting") == "vetted"
    }
    return {
        "collaborators": len(collaborators),
        "collaborators_vetted": len(vetted),
        "pledges": len(counting),
        "deliveries": len(deliveries),
        "needs": len(needs),
        "needs_open": sum(1 for s in status.values() if s in ("open", "partly_pledged")),
        "beneficiaries": sum(n["beneficiaries"] for n in needs.values()),
        "needs_delivered": len(reached),
        "beneficiaries_reached": sum(n["beneficiaries"] for n in reached),
        "quantity_delivered": sum(d["quantity"] for d in deliveries),
        "quantity_confirmed_by_recipients": sum(d["quantity"] for d in confirmed),
        "quantity_verified": sum(d["quantity"] for d in verified),
    }


# The totals download's columns that narrow a figure (by category, status, …): blank on headlines.
NARROWING = ("category", "aid_type", "status", "recipients", "collaborator_kind", "region_level")


def published_figures(totals_csv: Iterable[str]) -> dict[str, str]:
    """The headline figures of the portal's `totals` download (CSV), by name."""
    return {
        row["figure"]: row["value"]
        for row in csv.DictReader(totals_csv)
        if not any(row.get(column) for column in NARROWING)
    }


def compare_totals(computed: dict[str, int], totals_csv: Iterable[str]) -> None:
    """Each headline figure of the portal's `totals` download that the ledger recomputes."""
    published = published_figures(totals_csv)
    for name, value in computed.items():
        if name in published and str(value) != published[name]:
            raise Mismatch(
                f"figure {name}: the portal publishes {published[name]}, the ledger gives {value}"
            )


def _seq_hash(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    return int(seq), digest.strip().lower()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ledger", help="the ledger download (JSON Lines): the whole, or one day")
    parser.add_argument("--checkpoint", help="a checkpoint you saved, SEQ:HASH, to pass through")
    parser.add_argument(
        "--from",
        dest="start",
        help="for one day's download: the previous day's checkpoint, SEQ:HASH, it continues from",
    )
    parser.add_argument("--totals", help="the portal's totals download (CSV) to compare")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="YYYY-MM-DD: the figures from the entries recorded by the end of that day",
    )
    args = parser.parse_args(argv)
    checkpoint = _seq_hash(args.checkpoint) if args.checkpoint else None
    start = None
    if args.start:
        seq, digest = _seq_hash(args.start)
        start = {"seq": seq, "hash": digest}
    try:
        with open(args.ledger, encoding="utf-8") as f:
            entries = list(check_chain(read_entries(f), checkpoint, start))
        counted = entries if args.as_of is None else list(recorded_by(entries, args.as_of))
        computed = figures(replay(counted)) if start is None else {}
        if args.totals and computed and args.as_of is None:
            with open(args.totals, encoding="utf-8-sig", newline="") as f:
                compare_totals(computed, f)
    except Mismatch as e:
        print(f"MISMATCH: {e}")
        return 1
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"MISMATCH: the file cannot be read as a ledger ({e!r})")
        return 1
    head = entries[-1] if entries else start or {"seq": 0, "hash": GENESIS}
    print(f"OK: {len(entries)} entries, chain intact; head {head['seq']}:{head['hash']}")
    if args.as_of is not None:
        print(f"As of {args.as_of} (Jakarta time): {len(counted)} entries recorded by then")
    for name, value in computed.items():
        print(f"  {name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
