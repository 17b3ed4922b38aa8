"""The hold rule: how long a pledge keeps its quantity on a need, when its donor is reminded, by how
much the one extension moves the deadline, and how the rule is put in words (docs/pledges.md).

Pure functions of a pledge's status and its category's `hold_days` and `grace_days`: the services
apply them under the row locks; nothing here reads or writes the database.
"""

import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from donations.models import PledgeStatus
from needs.models import Category

S = PledgeStatus

# The reminder goes this long before the deadline, or half-way through a hold shorter than twice it,
# so the donor of a one-day hold is not reminded the moment they pledge.
REMINDER_LEAD = datetime.timedelta(hours=24)
# What staff see as "due soon" in the queue.
DUE_SOON = datetime.timedelta(hours=24)


def last_minute_of(day: datetime.date) -> datetime.datetime:
    """The last minute of `day` in the portal's time zone: a date-based hold runs through the day."""
    return datetime.datetime.combine(
        day, datetime.time(23, 59), tzinfo=timezone.get_default_timezone()
    )


def deadline(
    status: str,
    category: Category,
    *,
    now: datetime.datetime,
    scheduled_for: datetime.date | None = None,
) -> datetime.datetime:
    """Until when a pledge that has just become `status` holds its quantity.

    submitted: the category's hold from now, for staff to confirm it. confirmed: the same hold again
    from the confirmation, for staff, site and donor to agree a delivery date. scheduled: through
    the delivery date plus the category's grace days; a date already past counts from the day it
    is scheduled, so staff who schedule a hand-over that happened have the grace to record it.
    """
    if status == S.SCHEDULED:
        day = max(scheduled_for, timezone.localdate(now))
        return last_minute_of(day + datetime.timedelta(days=category.grace_days))
    return now + datetime.timedelta(days=category.hold_days)


def rule_length(status: str, category: Category) -> datetime.timedelta:
    """The length of the rule that sets the deadline in this status; the extension adds it once."""
    days = category.grace_days if status == S.SCHEDULED else category.hold_days
    return datetime.timedelta(days=days)


def reminder_lead(status: str, category: Category) -> datetime.timedelta:
    return min(REMINDER_LEAD, rule_length(status, category) / 2)


def reminder_due(pledge, category: Category, now: datetime.datetime) -> bool:
    """Whether the donor should be reminded now: the hold runs, ends within the lead, and they were
    not yet reminded of this deadline."""
    return (
        pledge.is_holding
        and pledge.reminded_at is None
        and now < pledge.hold_until <= now + reminder_lead(pledge.status, category)
    )


def days(n: int) -> str:
    return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}


# "5 June 2025, 09:00", month in the active language; templates use the same format. (The
# locales' DATETIME_FORMAT ends English times in "a.m.", which a sentence's full stop doubles.)
DEADLINE_FORMAT = "j F Y, H:i"


def when(moment: datetime.datetime) -> str:
    """A deadline in words, in the portal's time zone and the active language."""
    return date_format(timezone.localtime(moment), DEADLINE_FORMAT)


def rule_text(pledge, category: Category) -> str:
    """The rule that ended (or ends) the pledge's hold, in the active language, for its history.

    E.g. "The hold of 3 days for Pangan passed on 12 June 2025, 14:00."
    """
    params = {"category": category.name, "deadline": when(pledge.hold_until)}
    if pledge.status == S.SCHEDULED:
        params |= {
            "date": date_format(pledge.scheduled_for, "j F Y"),
            "grace": days(category.grace_days),
        }
        text = _(
            "The grace of %(grace)s after the delivery date %(date)s for %(category)s passed on "
            "%(deadline)s."
        )
    elif pledge.status == S.CONFIRMED:
        params["hold"] = days(category.hold_days)
        text = _(
            "The hold of %(hold)s after confirmation for %(category)s passed on %(deadline)s "
            "without a delivery date."
        )
    else:
        params["hold"] = days(category.hold_days)
        text = _("The hold of %(hold)s for %(category)s passed on %(deadline)s.")
    text %= params
    if pledge.extended_at:
        text += " " + _("It had been extended once.")
    return text
