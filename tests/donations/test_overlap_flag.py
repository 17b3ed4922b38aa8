"""One definition of overlap: the staff queue's flag (one EXISTS per pledge) says what
Need.objects.overlapping says for the pledge's need, for periods that do and do not overlap."""

import datetime

import pytest

from donations import services
from donations.admin import with_flags
from donations.models import Pledge
from needs.models import Need
from tests import factories

D = datetime.date


@pytest.mark.parametrize(
    ("start", "end", "overlaps"),
    [
        (D(2020, 10, 15), D(2020, 11, 15), True),  # inside the pledged need's period
        (D(2020, 12, 1), None, False),  # starts after it ends
        (D(2020, 1, 1), D(2020, 9, 30), False),  # ends before it starts
        (D(2020, 1, 1), None, True),  # runs on for ever from before
    ],
)
def test_the_queues_flag_agrees_with_the_needs_own_rule(site, donor, start, end, overlaps):
    pledged = factories.NeedFactory(
        site=site, quantity_needed=10, period_start=D(2020, 10, 1), period_end=D(2020, 11, 30)
    )
    services.pledge(need=pledged, collaborator=donor, quantity=5)
    other = factories.NeedFactory(site=site, quantity_needed=10, period_start=start, period_end=end)
    pledge = services.pledge(need=other, collaborator=factories.CollaboratorFactory(), quantity=1)
    assert Need.objects.overlapping(other).exists() is overlaps
    assert with_flags(Pledge.objects.filter(pk=pledge.pk)).get().has_overlap is overlaps
