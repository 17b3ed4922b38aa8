"""Shared by the pledge-hold tests: a clock the tests set and move, so the deadline rules are checked
to the second and never against the wall clock."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
# A Monday morning in Jakarta.
START = datetime.datetime(2025, 6, 2, 9, 0, tzinfo=JAKARTA)


class Clock:
    def __init__(self, now: datetime.datetime):
        self.now = now

    def advance(self, **delta) -> datetime.datetime:
        self.now += datetime.timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() answers what the test says, for the services and the ORM's timestamps."""
    c = Clock(START)
    monkeypatch.setattr(timezone, "now", lambda: c.now)
    return c
