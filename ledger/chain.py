"""How an entry looks in public and how it is hashed: ledger.verifier (standard library only, the
file the public runs) is the one definition; this module gives it the database's rows."""

import datetime

from ledger.verifier import GENESIS, canonical, entry_hash  # noqa: F401  (re-exported)


def format_at(moment: datetime.datetime) -> str:
    """A moment as the ledger writes it: UTC, to the microsecond PostgreSQL keeps."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def public_entry(entry) -> dict:
    return {
        "seq": entry.seq,
        "at": format_at(entry.at),
        "kind": entry.kind,
        "data": entry.data,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }
