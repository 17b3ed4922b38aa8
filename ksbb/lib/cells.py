"""Cells the portal writes into CSV and XLSX files, made safe to open in a spreadsheet program."""

from typing import Any

# A cell a spreadsheet would read as a formula (or that hides one behind a tab or a carriage return).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise spreadsheet formula injection: a text cell that begins with = + - @ (or a tab or
    CR) gets a leading single quote. Numbers stay numbers. Every CSV and XLSX the portal writes, open
    data and staff exports alike, goes through this."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return value
