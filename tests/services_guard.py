"""Needs and contact persons change only through their services (issue 15), checked two ways:

- at run time, for the whole suite (tests/conftest.py): every save of a Need or a ContactPerson must
  come from a module allowed to write it; whatever test reaches a new path (a view, an admin page,
  an import, a command) that saves one itself fails with the path named;
- in the source (tests/test_services_only.py), for queryset writes that send no signal
  (`Need.objects.filter(…).update(…)`, `bulk_create`, …).

Tests themselves may set up rows directly (factories, fixtures)."""

import sys
from pathlib import Path

from django.db.models.signals import pre_save

from locations.models import ContactPerson
from needs.models import Need

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
# Who may write each model: its own services; donations.services moves a need's counters.
WRITERS = {
    Need: {"needs/services.py", "donations/services.py"},
    ContactPerson: {"locations/services.py"},
}


class WrittenOutsideServices(AssertionError):
    pass


def _nearest_project_module() -> str:
    """The path (from the checkout) of the nearest caller that is project code, not a library."""
    frame = sys._getframe(2)
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if (
            path.is_relative_to(ROOT)
            and not path.is_relative_to(VENV)
            and path.name != "services_guard.py"
        ):
            return path.relative_to(ROOT).as_posix()
        frame = frame.f_back
    return ""


def _check(sender, instance, **kwargs):
    caller = _nearest_project_module()
    if caller.startswith("tests/") or caller in WRITERS[sender]:
        return
    raise WrittenOutsideServices(
        f"{caller or 'unknown code'} saved a {sender.__name__} itself: call "
        f"{' or '.join(sorted(WRITERS[sender]))} instead."
    )


def install() -> None:
    for model in WRITERS:
        pre_save.connect(_check, sender=model, dispatch_uid=f"services_guard_{model.__name__}")
