"""The apps stack in one direction, read from the code's own imports (docs/architecture.md):

    ledger  ←  locations  ←  needs  ←  alerts  ←  donations  ←  recipients  ←  transparency  ←  ksbb

An app imports only apps to its left; the helpers in ksbb/lib/ import no app; no app imports anything
of ksbb but ksbb/lib/. Migrations are history and are left out.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = [
    "ledger",
    "locations",
    "needs",
    "alerts",
    "donations",
    "recipients",
    "transparency",
    "ksbb",
]
LIB = "ksbb.lib"


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _project(name: str) -> str | None:
    """The app (or ksbb/lib) an imported name belongs to, or None outside the project."""
    if name == LIB or name.startswith(LIB + "."):
        return LIB
    top = name.split(".")[0]
    return top if top in ORDER else None


def _violations(package: str) -> list[str]:
    found = []
    for path in _modules(package):
        where = path.relative_to(ROOT)
        in_lib = LIB.replace(".", "/") in str(where)
        for name in sorted(_imports(path)):
            owner = _project(name)
            if owner is None:
                continue
            if in_lib:
                if owner != LIB:
                    found.append(f"{where}: ksbb/lib imports {name}")
            elif owner == LIB:
                continue
            elif owner == "ksbb" and package != "ksbb":
                found.append(f"{where}: imports {name}; only ksbb.lib is open to the apps")
            elif ORDER.index(owner) > ORDER.index(package):
                found.append(f"{where}: imports {name}, which stands above {package}")
    return found


@pytest.mark.parametrize("package", ORDER)
def test_each_app_imports_only_apps_below_it_and_ksbb_lib(package):
    if not (ROOT / package).is_dir():
        pytest.skip(f"{package}/ does not exist yet")
    assert _violations(package) == []


def test_the_rule_reads_imports_inside_functions_too(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from donations.models import Pledge\n")
    assert "donations.models" in _imports(module)
