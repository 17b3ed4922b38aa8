"""Planning the demo: every random choice, made before anything is written. `plan(seed)` reads the
regions, the settings and the RW points file, and writes nothing; it returns a `Plan` of dataclasses
that ksbb.demo.writer turns into rows. One `random.Random(seed)` makes every choice in a fixed order,
so the same database and settings give the same plan (adding a draw anywhere changes what follows).
"""

import csv
import os
import random
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection

from donations.models import Collaborator, Opd, PledgeStatus
from ksbb.demo import texts
from locations.models import ContactPerson, Region, Site
from needs.models import Need

DEFAULT_SEED = 2020
NEED_PREFIX = "DEMO-N-"
NEED_REF = NEED_PREFIX + "{:05d}"

S = PledgeStatus
Role = ContactPerson.Role
Verification = ContactPerson.Verification
Kind = Collaborator.Kind
Beneficiary = Need.BeneficiaryKind

LAST_DAY = date(2020, 12, 31)

# Approximate (lat, lng) for sites in a kelurahan without a boundary: demo positions, not
# official data. Kepulauan Seribu's is Pulau Pramuka, the regency's seat, not the sea between.
KOTA_CENTRES = {
    "31.01": (-5.7455, 106.6135),
    "31.71": (-6.1810, 106.8350),
    "31.72": (-6.1400, 106.8800),
    "31.73": (-6.1650, 106.7480),
    "31.74": (-6.2730, 106.8100),
    "31.75": (-6.2550, 106.9010),
}
LOKSEM_COUNT = 36
SCHOOL_COUNT = 70

# Collaborators per category (the article) and per kind; the Pangan and UMKM sets are disjoint.
PANGAN_KINDS = {Kind.COMPANY: 75, Kind.COMMUNITY: 30, Kind.INDIVIDUAL: 30, Kind.STATE_OWNED: 8}
UMKM_KINDS = {
    Kind.HUMANITARIAN: 9,
    Kind.FINTECH: 2,
    Kind.COMPANY: 45,
    Kind.STATE_OWNED: 10,
    Kind.COMMUNITY: 10,
    Kind.INDIVIDUAL: 5,
}
# Drawn from the same 224: the article's total stays the total.
PENDIDIKAN_DONORS = 27
PERMUKIMAN_DONORS = 14

# Final status weights of a pledge on a need that is only partly pledged, by whether the site has
# a verified contact (scheduling needs one).
PARTIAL_STATUSES = {
    True: {
        S.SUBMITTED: 14,
        S.CONFIRMED: 12,
        S.SCHEDULED: 16,
        S.DELIVERED: 34,
        S.CANCELLED: 12,
        S.REJECTED: 8,
        S.EXPIRED: 8,
    },
    False: {S.SUBMITTED: 30, S.CONFIRMED: 25, S.CANCELLED: 20, S.REJECTED: 12, S.EXPIRED: 13},
}
PUBLIC = frozenset({S.SUBMITTED, S.CONFIRMED, S.SCHEDULED, S.DELIVERED})


@dataclass
class ContactPlan:
    name: str
    role: str
    phone: str
    note: str = ""
    verification: str = Verification.UNVERIFIED


@dataclass
class SitePlan:
    kind: str
    name: str
    kelurahan: Region
    point: Point
    approximate: bool
    external_ref: str | None = None
    address: str = ""
    contacts: list[ContactPlan] = field(default_factory=list)
    cooperative: str = ""

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.kelurahan.pk, self.kind, self.name)

    @property
    def verified(self) -> bool:
        return any(c.verification == Verification.VERIFIED for c in self.contacts)


@dataclass
class PledgePlan:
    quantity: int
    status: str
    # The furthest step before the final status: submitted, confirmed or scheduled.
    reach: str
    deliveries: list[tuple[int, date]] = field(default_factory=list)
    scheduled_for: date | None = None
    opd: str = ""
    message: str = ""
    reason: str = ""
    collaborator: str = ""  # e-mail, assigned per category once all pledges are planned


@dataclass
class NeedPlan:
    ref: str
    site: SitePlan
    category: str
    aid_type: str
    title: str
    description: str
    quantity: int
    beneficiaries: int
    beneficiary_kind: str
    criteria: str
    period_start: date
    period_end: date | None
    published: bool = True
    closed: bool = False
    pledges: list[PledgePlan] = field(default_factory=list)


@dataclass
class CollaboratorPlan:
    public_name: str
    kind: str
    email: str
    phone: str = ""
    is_anonymous: bool = False


@dataclass
class Plan:
    sites: list[SitePlan]
    needs: list[NeedPlan]
    collaborators: list[CollaboratorPlan]
    opds: list[tuple[str, str, str | None]]  # name, kind, region code


# ---------------------------------------------------------------------------------------------
# Reading the inputs


def setting_paths(value: str) -> list[Path]:
    """The files a path-list setting (KSBB_BOUNDARIES, KSBB_RW_POINTS) names, `:`-separated."""
    return [Path(p) for p in (value or "").split(os.pathsep) if p.strip()]


def read_rw_points(path: Path) -> dict[str, list[dict]]:
    """The 2012 RW points by kelurahan code, in file order."""
    by_kelurahan: dict[str, list[dict]] = defaultdict(list)
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            by_kelurahan[row["kelurahan_kode"]].append(row)
    return by_kelurahan


def _points_within_tolerance(rows: list[tuple[str, int, float, float]]) -> set[str]:
    """Keys of the (key, kelurahan id, lng, lat) points Site.clean() accepts. One query, a read.

    The test is the model's own: ST_DistanceSphere to the boundary, in metres, at most
    KSBB_SITE_BOUNDARY_TOLERANCE_M; a kelurahan without a boundary accepts any point.
    """
    if not rows:
        return set()
    keys, ids, lngs, lats = (list(column) for column in zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.key
              FROM unnest(%s::text[], %s::int[], %s::float8[], %s::float8[]) AS p(key, region_id, lng, lat)
              JOIN locations_region r ON r.id = p.region_id
             WHERE r.boundary IS NULL
                OR ST_DistanceSphere(r.boundary, ST_SetSRID(ST_MakePoint(p.lng, p.lat), 4326)) <= %s
            """,
            [keys, ids, lngs, lats, float(settings.KSBB_SITE_BOUNDARY_TOLERANCE_M)],
        )
        return {key for (key,) in cursor.fetchall()}


class _Placer:
    """Approximate points: inside the kelurahan's boundary if it has one, else near the kota's centre."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._prepared = {}

    def point(self, kelurahan: Region) -> Point:
        rng = self.rng
        if kelurahan.boundary is None:
            lat, lng = KOTA_CENTRES[kelurahan.code[:5]]
            spread = 0.002 if kelurahan.code.startswith("31.01") else 0.02
            return _point(lng + rng.uniform(-spread, spread), lat + rng.uniform(-spread, spread))
        if kelurahan.pk not in self._prepared:
            self._prepared[kelurahan.pk] = (
                kelurahan.boundary.point_on_surface,
                kelurahan.boundary.prepared,
            )
        base, prepared = self._prepared[kelurahan.pk]
        # A small jitter around a point inside, shrinking until it stays inside (islands are small).
        radius = 0.003
        for _attempt in range(12):
            candidate = _point(
                base.x + rng.uniform(-radius, radius), base.y + rng.uniform(-radius, radius)
            )
            if prepared.contains(candidate):
                return candidate
            radius *= 0.7
        return _point(base.x, base.y)


def _point(lng: float, lat: float) -> Point:
    return Point(round(lng, 6), round(lat, 6), srid=4326)


# ---------------------------------------------------------------------------------------------
# Planning: every random choice, nothing written


def plan(seed: int = DEFAULT_SEED) -> Plan:
    """Everything load_demo() will write, chosen by random.Random(seed). Reads regions only."""
    rng = random.Random(seed)
    kelurahan = list(Region.objects.kelurahan().select_related("parent").order_by("code"))
    kota = {r.code: r for r in Region.objects.kota()}
    placer = _Placer(rng)
    sites = _plan_sites(rng, kelurahan, kota, placer)
    needs = _plan_needs(rng, sites, kota)
    collaborators = _plan_collaborators(rng, kelurahan)
    _assign_collaborators(rng, needs, collaborators)
    opds = _plan_opds(kota, needs)
    return Plan(sites=sites, needs=needs, collaborators=collaborators, opds=opds)


def _address(kelurahan: Region, kota: dict[str, Region], street: str = "") -> str:
    parts = [street] if street else []
    parts += [
        f"Kel. {kelurahan.name}",
        f"Kec. {kelurahan.parent.name}",
        kota[kelurahan.code[:5]].display_name,
    ]
    return ", ".join(parts)


def _plan_sites(rng, kelurahan, kota, placer) -> list[SitePlan]:
    sites = []
    rw_path = setting_paths(settings.KSBB_RW_POINTS)
    rw_points = read_rw_points(rw_path[0]) if rw_path else {}
    by_code = {k.code: k for k in kelurahan}
    accepted = _points_within_tolerance(
        [
            (row["rw_key"], by_code[code].pk, float(row["lng"]), float(row["lat"]))
            for code, rows in rw_points.items()
            if code in by_code
            for row in rows
        ]
    )

    # RWs: two or three in every kelurahan, from the 2012 points where there are some.
    for kel in kelurahan:
        rows = rw_points.get(kel.code, [])
        count = rng.randint(2, 3)
        if rows:
            chosen = sorted(rng.sample(rows, min(count, len(rows))), key=lambda r: int(r["rw_no"]))
            for row in chosen:
                real = row["rw_key"] in accepted
                point = _point(float(row["lng"]), float(row["lat"])) if real else placer.point(kel)
                sites.append(
                    SitePlan(
                        Site.Kind.RW,
                        f"RW {int(row['rw_no']):02d}",
                        kel,
                        point,
                        approximate=not real,
                        external_ref=row["rw_key"],
                    )
                )
        else:
            # Island kelurahan have a handful of RWs; mainland ones about ten.
            highest = 6 if kel.code.startswith("31.01") else 12
            for number in sorted(rng.sample(range(1, highest + 1), count)):
                sites.append(
                    SitePlan(Site.Kind.RW, f"RW {number:02d}", kel, placer.point(kel), True)
                )

    mainland = [k for k in kelurahan if not k.code.startswith("31.01")]
    for kel in sorted(rng.sample(mainland, LOKSEM_COUNT), key=lambda k: k.code):
        street = f"Jl. {rng.choice(texts.STREETS)}"
        site = SitePlan(Site.Kind.LOKSEM, f"Loksem {street}", kel, placer.point(kel), True)
        site.address = _address(kel, kota, street)
        sites.append(site)
    for kel in sorted(rng.sample(kelurahan, SCHOOL_COUNT), key=lambda k: k.code):
        name = f"SDN {kel.name} {rng.randint(1, 15):02d}"
        sites.append(SitePlan(Site.Kind.SCHOOL, name, kel, placer.point(kel), True))
    for name, code, cooperative in texts.KAMPUNG:
        kel = by_code[code]
        site = SitePlan(Site.Kind.KAMPUNG, f"Kampung {name}", kel, placer.point(kel), True)
        site.cooperative = cooperative
        sites.append(site)

    for site in sites:
        site.address = site.address or _address(site.kelurahan, kota)
        site.contacts = _plan_contacts(rng, site)
    return sites


ROLE_BY_KIND = {
    Site.Kind.RW: Role.RW_HEAD,
    Site.Kind.LOKSEM: Role.LOKSEM_COORDINATOR,
    Site.Kind.SCHOOL: Role.SCHOOL_HEAD,
    Site.Kind.KAMPUNG: Role.COOPERATIVE,
}


def _person(rng) -> str:
    return f"{rng.choice(texts.FIRST_NAMES)} {rng.choice(texts.LAST_NAMES)}"


def _mobile(rng) -> str:
    prefix = rng.choice(("812", "813", "821", "822", "852", "857", "878", "896"))
    return f"+62 {prefix} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"


def _plan_contacts(rng, site: SitePlan) -> list[ContactPlan]:
    """One contact person, sometimes two; about a third verified, a few unreachable, a few replaced."""
    first = ContactPlan(_person(rng), ROLE_BY_KIND[site.kind], _mobile(rng))
    if site.kind == Site.Kind.KAMPUNG:
        first.note = texts.COOPERATIVE_CONTACT_NOTE.format(cooperative=site.cooperative)
        first.verification = Verification.VERIFIED  # the cooperatives were formed with the province
        return [first]
    draw = rng.random()
    if draw < 0.32:
        first.verification = Verification.VERIFIED
    elif draw < 0.40:
        first.verification = Verification.UNREACHABLE
    contacts = [first]
    if rng.random() < 0.1:
        second = ContactPlan(_person(rng), Role.OTHER, _mobile(rng))
        rt = rng.randint(1, 12)  # drawn whatever the site's kind: the seed's sequence counts it
        second.note = texts.SECOND_CONTACT_NOTES[site.kind].format(rt=rt)
        if first.verification == Verification.UNREACHABLE or rng.random() < 0.3:
            # The first could not be reached, or has moved on: the second is who staff now call.
            second.verification = Verification.VERIFIED
            if first.verification != Verification.UNREACHABLE:
                first.verification = Verification.REPLACED
        contacts.append(second)
    return contacts


def _day(rng, start: date, end: date) -> date:
    end = max(start, min(end, LAST_DAY))
    return start + timedelta(days=rng.randint(0, (end - start).days))


def _round(value: int, step: int) -> int:
    return max(step, value // step * step)


def _site_label(site: SitePlan) -> str:
    if site.kind in (Site.Kind.RW, Site.Kind.LOKSEM):
        return f"{site.name} {site.kelurahan.name}"
    return site.name


def _title(rng, aid: str, **values) -> str:
    """A title for a need of this aid type (texts.NEED_TITLES), drawn only where there is a choice."""
    titles = texts.NEED_TITLES[aid]
    return (titles[0] if len(titles) == 1 else rng.choice(titles)).format(**values)


def _need_fields(rng, site: SitePlan, category: str, aid: str) -> dict:
    """Title, description, quantity, beneficiaries, criteria and period of one need."""
    label = _site_label(site)
    start = _day(rng, date(2020, 4, 10), date(2020, 10, 20))
    end = start + timedelta(days=rng.choice((30, 45, 60, 90)))
    kind = Beneficiary.HOUSEHOLD
    text_key = aid  # the aid type's texts; "Gawai belajar (guru)" for devices for teachers
    if category == "pangan":
        criteria = texts.PANGAN_CRITERIA
        if aid == "Paket sembako":
            qty = beneficiaries = _round(rng.randint(40, 400), 10)
            title = _title(rng, aid, qty=qty, label=label)
        elif aid == "Makanan siap saji":
            qty = _round(rng.randint(100, 1200), 50)
            beneficiaries, kind = qty // rng.choice((5, 10, 14)), Beneficiary.PERSON
            who = texts.MEALS_FOR_LOKSEM if site.kind == Site.Kind.LOKSEM else texts.MEALS_FOR_RW
            title = _title(rng, aid, who=who, label=label)
            end = start + timedelta(days=14)
        else:
            # Lebaran fell on 24 May 2020; the packages and the THR go out before it.
            qty = beneficiaries = _round(rng.randint(30, 250), 10)
            start, end = _day(rng, date(2020, 4, 24), date(2020, 5, 8)), date(2020, 5, 22)
            title = _title(rng, aid, label=label)
    elif category == "umkm":
        start = _day(rng, date(2020, 6, 1), date(2020, 10, 20))
        end = start + timedelta(days=rng.choice((60, 90)))
        kind = Beneficiary.BUSINESS
        criteria = (
            texts.UMKM_CRITERIA_KAMPUNG.format(cooperative=site.cooperative)
            if site.kind == Site.Kind.KAMPUNG
            else texts.UMKM_CRITERIA.format(kelurahan=site.kelurahan.name)
        )
        if aid == "Pelatihan daring":
            qty = _round(rng.randint(20, 60), 5)
        elif aid == "Pelatihan luring":
            qty = _round(rng.randint(15, 40), 5)
        elif aid == "Sarana dan prasarana usaha":
            qty = rng.randint(5, 30)
        else:
            qty = rng.randint(5, 25)
        title = _title(rng, aid, qty=qty, label=label)
        beneficiaries = qty
    elif category == "pendidikan":
        # From the new school year (13 July 2020) to the end of the semester.
        start, end = _day(rng, date(2020, 7, 13), date(2020, 10, 1)), LAST_DAY
        kind = Beneficiary.PUPIL
        criteria = texts.PENDIDIKAN_CRITERIA
        if aid == "Gawai belajar" and rng.random() < 0.25:
            qty, kind = rng.randint(5, 15), Beneficiary.TEACHER
            criteria = texts.TEACHER_CRITERIA
            text_key = "Gawai belajar (guru)"
        elif aid == "Gawai belajar":
            qty = rng.randint(10, 60)
        elif aid == "Paket data internet":
            qty = _round(rng.randint(60, 400), 10)
        else:
            qty = _round(rng.randint(50, 300), 10)
        title = _title(rng, text_key, label=label)
        beneficiaries = qty
    else:  # permukiman
        start, end = _day(rng, date(2020, 8, 1), date(2020, 10, 15)), LAST_DAY
        beneficiaries = _round(rng.randint(60, 400), 10)
        criteria = (
            texts.PERMUKIMAN_CRITERIA_KAMPUNG
            if site.kind == Site.Kind.KAMPUNG
            else texts.PERMUKIMAN_CRITERIA
        )
        if aid == "Sanitasi":
            qty = rng.randint(2, 8)
        elif aid == "Perbaikan drainase":
            qty = 1
        else:
            qty = beneficiaries = rng.randint(5, 30)
        title = _title(rng, aid, label=label)
    return {
        "title": title,
        "description": texts.NEED_DESCRIPTIONS[text_key],
        "quantity": qty,
        "beneficiaries": max(beneficiaries, 1),
        "beneficiary_kind": kind,
        "criteria": criteria,
        "period_start": start,
        "period_end": min(end, LAST_DAY),
    }


def _weighted(rng, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _distinct(rng, weights: dict, count: int) -> list:
    chosen: list = []
    while len(chosen) < min(count, len(weights)):
        pick = _weighted(rng, {k: w for k, w in weights.items() if k not in chosen})
        chosen.append(pick)
    return chosen


def _needs_of(rng, site: SitePlan) -> list[tuple[str, str]]:
    """(category slug, aid type) of the needs one site has."""
    needs = []
    if site.kind == Site.Kind.RW:
        draw = rng.random()
        pangan = 0 if draw < 0.28 else 2 if draw > 0.92 else 1
        aids = _distinct(
            rng,
            {"Paket sembako": 55, "Makanan siap saji": 15, "Paket Lebaran": 18, "Paket THR": 12},
            pangan,
        )
        needs += [("pangan", a) for a in aids]
        if rng.random() < 0.15:
            aid = _weighted(
                rng,
                {
                    "Pelatihan daring": 40,
                    "Pelatihan luring": 25,
                    "Permodalan dengan pendampingan": 35,
                },
            )
            needs.append(("umkm", aid))
        if rng.random() < 0.03:
            needs.append(("permukiman", rng.choice(("Sanitasi", "Perbaikan rumah"))))
    elif site.kind == Site.Kind.LOKSEM:
        if rng.random() < 0.6:
            needs.append(("pangan", rng.choice(("Makanan siap saji", "Paket sembako"))))
        aids = _distinct(
            rng,
            {
                "Sarana dan prasarana usaha": 40,
                "Permodalan dengan pendampingan": 30,
                "Pelatihan luring": 15,
                "Pelatihan daring": 15,
            },
            rng.randint(1, 2),
        )
        needs += [("umkm", a) for a in aids]
    elif site.kind == Site.Kind.SCHOOL:
        aids = _distinct(
            rng,
            {"Gawai belajar": 40, "Paket data internet": 35, "Perlengkapan belajar": 25},
            rng.randint(1, 2),
        )
        needs += [("pendidikan", a) for a in aids]
    else:
        needs.append(("pangan", "Paket sembako"))
        needs.append(("umkm", "Permodalan dengan pendampingan"))
        aids = _distinct(rng, {"Sanitasi": 1, "Perbaikan drainase": 1, "Perbaikan rumah": 1}, 2)
        needs += [("permukiman", a) for a in aids]
    return needs


def _plan_needs(rng, sites: list[SitePlan], kota: dict[str, Region]) -> list[NeedPlan]:
    needs = []
    for site in sites:
        for category, aid in _needs_of(rng, site):
            ref = NEED_REF.format(len(needs) + 1)
            need = NeedPlan(ref, site, category, aid, **_need_fields(rng, site, category, aid))
            draw = rng.random()
            if draw < 0.02:
                need.published = False  # a draft staff have not published yet
            elif draw < 0.045:
                need.closed = True
            _plan_pledges(rng, need, kota)
            needs.append(need)
    return needs


def _split(rng, total: int, parts: int) -> list[int]:
    """`total` in `parts` positive pieces, in round numbers where the total allows."""
    parts = max(1, min(parts, total))
    for step in (10, 5, 1):
        if total % step == 0 and total // step >= parts:
            cuts = sorted(rng.sample(range(1, total // step), parts - 1))
            edges = [0, *cuts, total // step]
            return [(b - a) * step for a, b in zip(edges, edges[1:], strict=False)]
    raise AssertionError("unreachable: step 1 always fits")


def _plan_pledges(rng, need: NeedPlan, kota: dict[str, Region]) -> None:
    """What happens to this need: untouched, partly pledged, fully pledged or delivered."""
    verified = need.site.verified
    q = need.quantity
    if not need.published:
        return
    if need.closed:
        # Closed after its period: some of it was delivered, the rest no longer sought.
        if verified and q >= 2 and rng.random() < 0.6:
            part = rng.randint(1, q - 1)
            for amount in _split(rng, part, rng.randint(1, 2)):
                need.pledges.append(_pledge(rng, need, amount, S.DELIVERED, kota))
        return
    if verified:
        fate = _weighted(rng, {"none": 25, "partial": 25, "full": 15, "delivered": 35})
    elif need.site.contacts[0].verification == Verification.UNREACHABLE:
        fate = _weighted(rng, {"none": 60, "partial": 40})
    else:
        fate = _weighted(rng, {"none": 55, "partial": 35, "full": 10})
    if fate == "partial" and q < 2:
        fate = "full"
    if fate == "none":
        return
    count = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
    if fate == "partial":
        step = 10 if q >= 100 else 1
        total = _round(rng.randint(max(1, q // 5), max(1, q * 9 // 10)), step)
        total = min(total, q - 1)
        statuses = PARTIAL_STATUSES[verified]
        for amount in _split(rng, total, count):
            need.pledges.append(_pledge(rng, need, amount, _weighted(rng, statuses), kota))
    else:
        holding = {S.SUBMITTED: 3, S.CONFIRMED: 3}
        if verified:
            holding |= {S.SCHEDULED: 3, S.DELIVERED: 4}
        for amount in _split(rng, q, count):
            status = S.DELIVERED if fate == "delivered" else _weighted(rng, holding)
            need.pledges.append(_pledge(rng, need, amount, status, kota))


def _opd_for(rng, need: NeedPlan, kota: dict[str, Region]) -> str:
    kel = need.site.kelurahan
    kota_name = kota[kel.code[:5]].display_name
    if need.site.kind == Site.Kind.LOKSEM:
        return f"Satpol PP {kota_name}"
    if need.category == "umkm":
        return texts.SUKU_DINAS.get(kel.code[:5], texts.DINAS_PPKUKM)
    if rng.random() < 0.15:
        return f"Satpol PP {kota_name}"
    return f"Kelurahan {kel.name}"


def _pledge(rng, need: NeedPlan, quantity: int, status: str, kota) -> PledgePlan:
    p = PledgePlan(quantity=quantity, status=status, reach=S.SUBMITTED)
    p.message = rng.choice(texts.PLEDGE_MESSAGES)
    start = need.period_start
    end = need.period_end or start + timedelta(days=60)
    scheduled = status in (S.SCHEDULED, S.DELIVERED)
    if status == S.CONFIRMED:
        p.reach = S.CONFIRMED
    elif status == S.CANCELLED:
        options = [S.SUBMITTED, S.CONFIRMED]
        if need.site.verified:
            options.append(S.SCHEDULED)
        p.reach = rng.choice(options)
        p.reason = rng.choice(texts.CANCEL_REASONS)
        scheduled = p.reach == S.SCHEDULED
    elif status in (S.REJECTED, S.EXPIRED):
        p.reach = rng.choice((S.SUBMITTED, S.CONFIRMED))
        p.reason = rng.choice(texts.REJECT_REASONS) if status == S.REJECTED else texts.EXPIRE_REASON
    if scheduled:
        p.reach = S.SCHEDULED
        p.scheduled_for = _day(rng, start + timedelta(days=3), end)
        p.opd = _opd_for(rng, need, kota)
        first = min(p.scheduled_for + timedelta(days=rng.randint(0, 2)), LAST_DAY)
        if status == S.DELIVERED:
            if quantity >= 2 and rng.random() < 0.25:
                part = rng.randint(1, quantity - 1)
                later = min(first + timedelta(days=rng.randint(7, 14)), LAST_DAY)
                p.deliveries = [(part, first), (quantity - part, later)]
            else:
                p.deliveries = [(quantity, first)]
        elif quantity >= 2 and rng.random() < (0.4 if status == S.SCHEDULED else 0.3):
            p.deliveries = [(rng.randint(1, quantity - 1), first)]  # a first hand-over, not all
    return p


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", ".", re.sub(r"\((.*?)\)|^pt |^cv ", "", ascii_text)).strip(".")


def _plan_collaborators(rng, kelurahan: list[Region]) -> list[CollaboratorPlan]:
    """224 collaborators: the Pangan set (143) first, then the UMKM set (81)."""
    kecamatan = sorted({k.parent.name for k in kelurahan if not k.code.startswith("31.01")})
    names: set[str] = set()
    emails: set[str] = set()
    state_owned = list(texts.STATE_OWNED)
    rng.shuffle(state_owned)
    humanitarian, fintech = list(texts.HUMANITARIAN), list(texts.FINTECH)

    def name_of(kind: str) -> str:
        while True:
            if kind == Kind.COMPANY:
                words = (texts.COMPANY_WORDS, texts.COMPANY_QUALITIES, texts.COMPANY_SECTORS)
                name = " ".join(
                    [rng.choice(("PT", "PT", "PT", "CV"))] + [rng.choice(w) for w in words]
                )
                name = name.strip()
            elif kind == Kind.COMMUNITY:
                place = rng.choice([*kecamatan, "Jakarta", "Warga", "Kampung"])
                prefix = rng.choice(texts.COMMUNITY_PREFIXES)
                name = f"{prefix} {rng.choice(texts.COMMUNITY_WORDS)} {place}"
            elif kind == Kind.INDIVIDUAL:
                name = _person(rng)
            elif kind == Kind.STATE_OWNED:
                return state_owned.pop()
            elif kind == Kind.HUMANITARIAN:
                return humanitarian.pop(0)
            else:
                return fintech.pop(0)
            if name not in names:
                names.add(name)
                return name

    collaborators = []
    for kinds in (PANGAN_KINDS, UMKM_KINDS):
        group = [kind for kind, count in kinds.items() for _ in range(count)]
        for kind in group:
            name = name_of(kind)
            base = _slug(name)
            email = f"{base}@example.test"
            number = 2
            while email in emails:
                email, number = f"{base}{number}@example.test", number + 1
            emails.add(email)
            c = CollaboratorPlan(name, kind, email)
            if kind == Kind.INDIVIDUAL:
                c.phone = _mobile(rng)
                c.is_anonymous = rng.random() < 0.4
            else:
                c.is_anonymous = kind == Kind.COMPANY and rng.random() < 0.03
                if rng.random() < 0.5:
                    c.phone = f"+62 21 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
            collaborators.append(c)
    return collaborators


def _assign_collaborators(rng, needs: list[NeedPlan], collaborators: list[CollaboratorPlan]):
    """Give every pledge its collaborator so each category has exactly its set of donors.

    Each collaborator of a category's set gets one pledge that stays public (submitted to
    delivered), so it counts however the transparency page counts; the remaining pledges go to
    the set's donors, a few of whom give often. No collaborator outside the set pledges there.
    """
    pangan_n = sum(PANGAN_KINDS.values())
    donors = {"pangan": collaborators[:pangan_n], "umkm": collaborators[pangan_n:]}
    pool = [c for c in collaborators if c.kind not in (Kind.INDIVIDUAL, Kind.FINTECH)]
    donors["pendidikan"] = rng.sample(pool, PENDIDIKAN_DONORS)
    donors["permukiman"] = rng.sample(
        [c for c in pool if c.kind != Kind.COMMUNITY], PERMUKIMAN_DONORS
    )
    for category, members in donors.items():
        slots = [(need, p) for need in needs if need.category == category for p in need.pledges]
        public = [(need, p) for need, p in slots if p.status in PUBLIC]
        if len(public) < len(members):  # a change to the weights above broke the article's shape
            raise RuntimeError(
                f"{category}: {len(public)} public pledges for {len(members)} donors"
            )
        rng.shuffle(public)
        members = list(members)
        rng.shuffle(members)
        on_need = defaultdict(set)
        for (need, p), c in zip(public, members, strict=False):
            p.collaborator = c.email
            on_need[need.ref].add(c.email)
        weights = [1 / (rank + 1) ** 0.8 for rank in range(len(members))]
        for need, p in slots:
            if p.collaborator:
                continue
            for _attempt in range(5):
                email = rng.choices(members, weights=weights)[0].email
                if email not in on_need[need.ref]:
                    break
            p.collaborator = email
            on_need[need.ref].add(email)


def _plan_opds(kota: dict[str, Region], needs: list[NeedPlan]) -> list[tuple[str, str, str | None]]:
    opds = [(f"Satpol PP {k.display_name}", Opd.Kind.SATPOL_PP, code) for code, k in kota.items()]
    opds += [(name, Opd.Kind.SUKU_DINAS, code) for code, name in texts.SUKU_DINAS.items()]
    opds.append((texts.DINAS_PPKUKM, Opd.Kind.DINAS, None))
    offices = {
        p.opd: need.site.kelurahan.code
        for need in needs
        for p in need.pledges
        if p.deliveries and p.opd.startswith("Kelurahan ")
    }
    opds += [(name, Opd.Kind.KELURAHAN_OFFICE, code) for name, code in sorted(offices.items())]
    return opds
