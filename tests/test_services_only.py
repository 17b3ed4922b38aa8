"""No queryset write of a need or a contact person outside their services, read from the source:
saves are caught at run time by tests/services_guard.py, but `update()`, `bulk_create()` and the
like send no signal, so the code itself is read for them. Migrations are history and left out."""

import ast
from pathlib import Path

import pytest

from tests.services_guard import WRITERS

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["locations", "needs", "alerts", "donations", "transparency", "ksbb"]
QUERYSET_WRITES = {
    "create",
    "bulk_create",
    "bulk_update",
    "update",
    "get_or_create",
    "update_or_create",
    "raw",
}
MODELS = {model.__name__: set(paths) for model, paths in WRITERS.items()}


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _manager_of(node) -> str | None:
    """The model whose `objects` a call chain starts from (`Need.objects.filter(…).update` → Need)."""
    while isinstance(node, ast.Attribute | ast.Call):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("objects", "_default_manager", "_base_manager")
            and isinstance(node.value, ast.Name)
        ):
            return node.value.id
        node = node.func if isinstance(node, ast.Call) else node.value
    return None


def writes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in QUERYSET_WRITES
        ):
            model = _manager_of(node.func.value)
            if model in MODELS:
                found.append(f"{model}.objects….{node.func.attr}() on line {node.lineno}")
    return found


@pytest.mark.parametrize("path", list(_modules()), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_queryset_writes_of_needs_and_contacts_stay_in_their_services(path):
    name = path.relative_to(ROOT).as_posix()
    allowed = {model for model, writers in MODELS.items() if name in writers}
    assert [w for w in writes(path) if w.split(".")[0] not in allowed] == []


def test_the_reader_finds_such_writes():
    sample = ROOT / "tests" / "fixtures" / "writes_outside_services.py.txt"
    assert writes(sample) == [
        "Need.objects….update() on line 3",
        "ContactPerson.objects….bulk_create() on line 4",
        "Need.objects….create() on line 5",
    ]
