"""Demo data: every region, sites with contact persons, needs in all categories, and pledges.

`load_demo()` is deterministic and idempotent. One `random.Random(seed)` makes every choice, all of
them in `plan()` before anything is written, from the regions and the files the settings name; so
the same database and settings give the same rows. Writing finds rows again by their natural keys
(a site's external_ref or (kelurahan, kind, name), a collaborator's e-mail, an OPD's name, a need's
external_ref) and makes pledges only for needs that have none, so a second run creates nothing.

Pledges, deliveries and verifications go through the services, as a staff member's would; the mails
they queue stay unsent in the outbox. The shape follows the article (docs/domain.md): 143
collaborators in KSBB Pangan and 81 in KSBB UMKM, 224 in all, 9 humanitarian institutions and 2
fintech firms. Every person, phone number, e-mail, company and need is invented; only regions,
boundaries and the 2012 RW points are real data.

The package, in the order a load runs:

- `texts`: the words (names, need titles and descriptions, reasons), data only;
- `planning`: the dataclasses and `plan(seed)`, every random choice; reads, never writes;
- `writer`: `load_demo()`, which writes the plan through the services;
- `backdate`: `backdate_demo_history()`, the demo-only SQL that dates the new pledges in 2020;
- `report`: row counts and the totals `load_demo -v 2` prints.
"""

from ksbb.demo.backdate import EXTENDED_EVERY, HISTORY_DAYS, HISTORY_START, backdate_demo_history
from ksbb.demo.planning import (
    DEFAULT_SEED,
    NEED_PREFIX,
    NEED_REF,
    CollaboratorPlan,
    ContactPlan,
    NeedPlan,
    Plan,
    PledgePlan,
    SitePlan,
    plan,
    read_rw_points,
)
from ksbb.demo.report import row_counts, summary
from ksbb.demo.writer import STAFF_USERNAME, demo_exists, demo_staff, load_demo

__all__ = [
    "DEFAULT_SEED",
    "EXTENDED_EVERY",
    "HISTORY_DAYS",
    "HISTORY_START",
    "NEED_PREFIX",
    "NEED_REF",
    "STAFF_USERNAME",
    "CollaboratorPlan",
    "ContactPlan",
    "NeedPlan",
    "Plan",
    "PledgePlan",
    "SitePlan",
    "backdate_demo_history",
    "demo_exists",
    "demo_staff",
    "load_demo",
    "plan",
    "read_rw_points",
    "row_counts",
    "summary",
]
