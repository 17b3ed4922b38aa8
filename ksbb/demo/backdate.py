"""Demo only: move the pledge history a demo load just made into 2020, date its open holds, and age
some of its needs so that they await reconfirmation.

This is the one place the demo writes donations' tables directly rather than through
donations.services, and it touches only the pledges of the load that calls it (ids above `after_pk`).
The services record every event at the moment it happens, which is right for real work and is why
no service rewrites history: a real pledge's history is never changed. A demo of a 2020 programme
needs its events in 2020 (so `/transparansi/?as_of=2020-10-26` shows the article's figures for
that day) while its open pledges must still hold on the day it is loaded (or the first
`expire_pledges` would empty it). No service can say either, so the demo says it here, after the
services have made every row and kept every constraint.
"""

from django.db import connection
from django.utils import timezone

from donations import holds
from donations.models import Pledge, PledgeStatus
from needs.models import Need

# The article's figures stand "per 26 Oktober 2020": the demo's pledges happen between the start of
# KSBB Pangan (Ramadan, late April 2020) and a few days before that date, so /transparansi/?as_of=
# 2020-10-26 shows 224 collaborators (143 Pangan, 81 UMKM).
HISTORY_START = "2020-04-24 09:00:00+07"
HISTORY_DAYS = 175
# Every EXTENDED_EVERY-th open pledge (by id) was extended once by its donor.
EXTENDED_EVERY = 6


def backdate_demo_history(after_pk: int) -> None:
    """Date the history of the pledges with an id above `after_pk` (the ones a demo load has just
    made) in 2020, and give those still open holds that run on the day of the load. Demo data only."""
    _move_history_into_2020(after_pk)
    _date_holds(after_pk)


def _move_history_into_2020(after_pk: int) -> None:
    """Each pledge starts on a day spread over HISTORY_DAYS from HISTORY_START, and each of its later
    events follows a day after the one before; the pledges' timestamps follow their events, and a
    collaborator is no younger than their first pledge."""
    with connection.cursor() as cursor:
        # Fresh tables have no statistics yet: without them the planner may rescan the window per row.
        cursor.execute("ANALYZE donations_pledge, donations_pledgeevent")
        cursor.execute(
            """
            WITH start AS MATERIALIZED (
                SELECT id, %s::timestamptz + ((id * 7919) %% %s) * interval '1 day' AS t
                  FROM donations_pledge WHERE id > %s
            ), steps AS MATERIALIZED (
                SELECT e.id, start.t + (row_number() OVER (PARTITION BY e.pledge_id ORDER BY e.at, e.id) - 1)
                       * interval '1 day' AS t
                  FROM donations_pledgeevent e JOIN start ON start.id = e.pledge_id
            )
            UPDATE donations_pledgeevent e SET at = steps.t FROM steps WHERE steps.id = e.id
            """,
            [HISTORY_START, HISTORY_DAYS, after_pk],
        )
        cursor.execute(
            """
            UPDATE donations_pledge p SET
                   created_at = ev.first,
                   confirmed_at = CASE WHEN p.confirmed_at IS NOT NULL THEN ev.confirmed END,
                   scheduled_at = CASE WHEN p.scheduled_at IS NOT NULL THEN ev.scheduled END,
                   delivered_at = CASE WHEN p.delivered_at IS NOT NULL THEN ev.last END,
                   closed_at = CASE WHEN p.closed_at IS NOT NULL THEN ev.last END
              FROM (SELECT pledge_id, min(at) AS first, max(at) AS last,
                           min(at) FILTER (WHERE to_status = 'confirmed') AS confirmed,
                           max(at) FILTER (WHERE to_status = 'scheduled') AS scheduled
                      FROM donations_pledgeevent GROUP BY pledge_id) AS ev
             WHERE ev.pledge_id = p.id AND p.id > %s
            """,
            [after_pk],
        )
        cursor.execute(
            """
            UPDATE donations_collaborator c SET created_at = first.t
              FROM (SELECT collaborator_id, min(created_at) AS t FROM donations_pledge
                     GROUP BY collaborator_id) AS first
             WHERE first.collaborator_id = c.id AND c.created_at > first.t
            """
        )


def _date_holds(after_pk: int) -> None:
    """Give the open pledges with an id above `after_pk` holds that run on the day of the load.

    Their history is dated 2020, but a demo whose holds had all lapsed would be emptied by the first
    `expire_pledges`. So each submitted or confirmed pledge is taken to have reached its status part
    of a hold ago (a share spread by its id), and its deadline follows the rule from there: some end
    within the day, most later; every EXTENDED_EVERY-th was extended once, by the rule's length. The
    extension is written here rather than through services.extend_hold, whose history row would be
    dated today: the demo's history stays in 2020, where /transparansi/?as_of reads it. Scheduled
    pledges keep what the service set: their past delivery date counts from the load.
    """
    now = timezone.now()
    pledges = list(
        Pledge.objects.filter(
            pk__gt=after_pk, status__in=[PledgeStatus.SUBMITTED, PledgeStatus.CONFIRMED]
        )
        .select_related("need__aid_type__category")
        .order_by("pk")
    )
    for p in pledges:
        length = holds.rule_length(p.status, p.need.aid_type.category)
        elapsed = (p.pk * 7919) % 97 / 97  # deterministic, spread over [0, 1)
        p.hold_until = now + length * (1 - elapsed)
        if p.pk % EXTENDED_EVERY == 0:
            p.extended_at = now
            p.hold_until += length
    Pledge.objects.bulk_update(pledges, ["hold_until", "extended_at"])


def age_needs(days_by_need: dict[int, int]) -> None:
    """Date the publication of each need in `days_by_need` that many days before the load, so the
    demo shows needs awaiting reconfirmation and needs paused for want of one (Need.freshness). A
    real need's publication date is never changed; no service moves it."""
    if not days_by_need:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Need._meta.db_table} n SET created_at = now() - d.days * interval '1 day'
                  FROM unnest(%s::bigint[], %s::int[]) AS d(id, days) WHERE n.id = d.id""",
            [list(days_by_need), list(days_by_need.values())],
        )
