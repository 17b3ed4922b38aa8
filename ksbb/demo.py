"""Demo data: every region, sites with contact persons, needs in all categories, and pledges.

`load_demo()` is deterministic and idempotent. One `random.Random(seed)` makes every choice, all of
them in `plan()` before anything is written, from the regions and the files the settings name; so
the same database and settings give the same rows. Writing finds rows again by their natural keys
(a site's external_ref or (kelurahan, kind, name), a collaborator's e-mail, an OPD's name, a need's
external_ref) and makes pledges only for needs that have none, so a second run creates nothing.

Pledges, deliveries and verifications go through the services, as a staff member's would. The
shape follows the article (docs/domain.md): 143 collaborators in KSBB Pangan and 81 in KSBB UMKM,
224 in all, 9 humanitarian institutions and 2 fintech firms. Every person, phone number, e-mail,
company and need is invented; only regions, boundaries and the 2012 RW points are real data.
"""

import csv
import os
import random
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from donations import holds, services
from donations.models import Collaborator, Delivery, Opd, Pledge, PledgeStatus
from locations.boundaries import import_boundaries
from locations.models import ContactPerson, Region, Site
from locations.registry import load_regions
from locations.services import create_contacts, verify_contact
from needs import services as needs_services
from needs.models import AidType, Need

DEFAULT_SEED = 2020
NEED_PREFIX = "DEMO-N-"
NEED_REF = NEED_PREFIX + "{:05d}"
STAFF_USERNAME = "demo-petugas"

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

# The priority kampung the article names, with the cooperative formed there. A kampung whose
# kelurahan is not known is put in a Jakarta Utara kelurahan; every kampung point is approximate.
KAMPUNG = [
    ("Akuarium", "31.72.01.1001", "Koperasi Konsumen Akuarium Bangkit Mandiri"),
    ("Kumir", "31.73.03.1008", "Koperasi Konsumen Kumir Pinangsia Sejahtera"),
    ("Lodan", "31.72.05.1003", "Koperasi Konsumen Komunitas Anak Kali Ciliwung"),
    ("Tongkol", "31.72.05.1003", "Koperasi Konsumen Komunitas Anak Kali Ciliwung"),
    ("Kerapu", "31.72.05.1003", "Koperasi Konsumen Komunitas Anak Kali Ciliwung"),
    ("Marlina", "31.72.01.1001", "Koperasi Konsumen Marlina Maju Bersama"),
    ("Elektro", "31.72.01.1001", "Koperasi Konsumen Elektrojaya Makmur"),
    ("Pompa", "31.72.01.1001", "Koperasi Konsumen Gedung Pompa Mandiri Sejahtera"),
    ("Rawa Barat", "31.72.01.1004", "Koperasi Konsumen Kampung Rawamakmur"),  # kelurahan unknown
    ("Rawa Timur", "31.72.01.1004", "Koperasi Konsumen Kampung Rawamakmur"),  # kelurahan unknown
    ("Muka", "31.72.05.1003", "Koperasi Konsumen Kampung Muka Mandiri"),
    ("Lengkong", "31.72.04.1004", "Koperasi Konsumen Langkong Bersinar"),  # kelurahan unknown
]
# Who facilitates an UMKM hand-over: the kota's Suku Dinas PPKUKM where the demo has one, else the Dinas.
SUKU_DINAS = {
    "31.72": "Suku Dinas PPKUKM Jakarta Utara",
    "31.75": "Suku Dinas PPKUKM Jakarta Timur",
}
DINAS_PPKUKM = "Dinas PPKUKM Provinsi DKI Jakarta"
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

FIRST_NAMES = (  # noqa: SIM905 (word lists read better as text)
    "Budi Siti Agus Dewi Rina Andi Wahyu Sri Hendra Yuni Eko Fitri Rudi Lestari Bambang "
    "Nurul Dian Joko Ratna Arif Maya Taufik Indah Fajar Putri Hadi Ayu Irfan Wulan Yusuf "
    "Ningsih Reza Intan Dedi Lina Ahmad Slamet Kartini Bayu Mega Rizky Sari Teguh Nanda "
    "Hasan Umi"
).split()
LAST_NAMES = (  # noqa: SIM905 (word lists read better as text)
    "Santoso Wijaya Saputra Hidayat Kurniawan Pratama Setiawan Nugroho Rahmawati Siregar "
    "Simanjuntak Nasution Hasibuan Gunawan Purnomo Susanto Wibowo Handayani Permana "
    "Sembiring Ginting Tanjung Lubis Harahap Utami Kusuma Halim Salim Suryadi Maulana "
    "Firmansyah Ramadhan Sitompul Manurung Wahyudi Hakim Rosyid Fauzi"
).split()
COMPANY_WORDS = (  # noqa: SIM905 (word lists read better as text)
    "Sinar Cahaya Mitra Karya Bumi Citra Prima Graha Nusa Mega Surya Tirta Arta Bina Duta "
    "Harapan Lintas Puri Samudra Pelita"
).split()
COMPANY_QUALITIES = (  # noqa: SIM905 (word lists read better as text)
    "Abadi Makmur Sejahtera Mandiri Lestari Utama Perkasa Sentosa Gemilang Persada Semesta "
    "Berkah Sukses"
).split()
COMPANY_SECTORS = (
    "Logistik",
    "Pangan",
    "Properti",
    "Digital",
    "Ritel",
    "Farma",
    "Konstruksi",
    "Energi",
    "Niaga",
    "Tekstil",
    "Kemasindo",
    "",
    "",
    "",
)
COMMUNITY_PREFIXES = ("Komunitas", "Relawan", "Gerakan", "Paguyuban", "Forum", "Sahabat")
COMMUNITY_WORDS = ("Berbagi", "Peduli", "Bersatu", "Kebaikan", "Gotong Royong", "Tetangga")
STATE_OWNED = [
    "PT Energi Raya Nusantara (Persero)",
    "PT Angkutan Kota Jaya (Persero)",
    "PT Bank Tabungan Warga (Persero)",
    "PT Pelabuhan Teluk Jakarta (Persero)",
    "PT Pupuk Tani Makmur (Persero)",
    "PT Semen Bumi Persada (Persero)",
    "PT Asuransi Sejahtera Bersama (Persero)",
    "PT Pos Logistik Nusa (Persero)",
    "PT Air Minum Jaya Tirta (Perseroda)",
    "PT Pasar Rakyat Jaya (Perseroda)",
    "PT Properti Kota Sentosa (Perseroda)",
    "PT Transportasi Terpadu Jakarta (Perseroda)",
    "PT Pangan Sentosa Jaya (Perseroda)",
    "PT Gas Kota Utama (Perseroda)",
    "PT Kawasan Industri Timur (Perseroda)",
    "PT Pembangunan Sarana Jaya (Perseroda)",
    "PT Listrik Daerah Jaya (Perseroda)",
    "PT Bank Daerah Sejahtera (Perseroda)",
]
# Human Initiative is the one the article names; the other eight are invented.
HUMANITARIAN = [
    "Human Initiative",
    "Yayasan Peduli Sesama Nusantara",
    "Lembaga Amal Cahaya Umat",
    "Yayasan Tangan Terbuka",
    "Rumah Kebaikan Bersama",
    "Lembaga Kemanusiaan Jembatan Harapan",
    "Yayasan Lentera Kasih",
    "Dompet Solidaritas Warga",
    "Yayasan Pangan untuk Semua",
]
FINTECH = ["PT Dana Kita Digital", "PT Modal Rakyat Teknologi"]
STREETS = (  # noqa: SIM905 (word lists read better as text)
    "Melati Kenanga Flamboyan Mawar Cempaka Anggrek Dahlia Kamboja Teratai Seroja Sawo "
    "Mangga Rambutan Duku Belimbing Jambu Masjid Pasar Swadaya Taman Delima Kemuning Nangka "
    "Salak"
).split()

PLEDGE_MESSAGES = (
    "Semoga bermanfaat bagi warga.",
    "Kami siap mengantar langsung ke lokasi.",
    "Donasi dari karyawan kami untuk warga Jakarta.",
    "Mohon kabari jadwal serah terima.",
    "",
    "",
    "",
)
CANCEL_REASONS = (
    "Anggaran CSR dialihkan ke program lain.",
    "Donatur berhalangan mengirim bantuan.",
    "Stok barang tidak tersedia.",
)
REJECT_REASONS = (
    "Jenis bantuan tidak sesuai kebutuhan warga.",
    "Kebutuhan sudah terpenuhi dari program bansos pemerintah.",
    "Bantuan tidak memenuhi standar kemasan pangan.",
)
EXPIRE_REASON = "Tidak ada konfirmasi dari donatur hingga batas waktu."

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


def _paths(value: str) -> list[Path]:
    return [Path(p) for p in (value or "").split(os.pathsep) if p.strip()]


def read_rw_points(path: Path) -> dict[str, list[dict]]:
    """The 2012 RW points by kelurahan code, in file order."""
    by_kelurahan: dict[str, list[dict]] = defaultdict(list)
    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            by_kelurahan[row["kelurahan_kode"]].append(row)
    return by_kelurahan


def _points_within_tolerance(rows: list[tuple[str, int, float, float]]) -> set[str]:
    """Keys of the (key, kelurahan id, lng, lat) points Site.clean() accepts. One query.

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
    rw_path = _paths(settings.KSBB_RW_POINTS)
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
        street = f"Jl. {rng.choice(STREETS)}"
        site = SitePlan(Site.Kind.LOKSEM, f"Loksem {street}", kel, placer.point(kel), True)
        site.address = _address(kel, kota, street)
        sites.append(site)
    for kel in sorted(rng.sample(kelurahan, SCHOOL_COUNT), key=lambda k: k.code):
        name = f"SDN {kel.name} {rng.randint(1, 15):02d}"
        sites.append(SitePlan(Site.Kind.SCHOOL, name, kel, placer.point(kel), True))
    for name, code, cooperative in KAMPUNG:
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
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _mobile(rng) -> str:
    prefix = rng.choice(("812", "813", "821", "822", "852", "857", "878", "896"))
    return f"+62 {prefix} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"


def _plan_contacts(rng, site: SitePlan) -> list[ContactPlan]:
    """One contact person, sometimes two; about a third verified, a few unreachable, a few replaced."""
    first = ContactPlan(_person(rng), ROLE_BY_KIND[site.kind], _mobile(rng))
    if site.kind == Site.Kind.KAMPUNG:
        first.note = f"Pengurus {site.cooperative}"
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
        second.note = {
            Site.Kind.RW: f"Ketua RT {rng.randint(1, 12):02d}",
            Site.Kind.LOKSEM: "Bendahara paguyuban pedagang",
            Site.Kind.SCHOOL: "Wakil kepala sekolah",
        }[site.kind]
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


PANGAN_CRITERIA = (
    "Rumah tangga rentan terdampak COVID-19 dengan kriteria penerima bansos masa PSBB; "
    "data diverifikasi Ketua RW dan kelurahan."
)


def _need_fields(rng, site: SitePlan, category: str, aid: str) -> dict:
    """Title, description, quantity, beneficiaries, criteria and period of one need."""
    label = _site_label(site)
    start = _day(rng, date(2020, 4, 10), date(2020, 10, 20))
    end = start + timedelta(days=rng.choice((30, 45, 60, 90)))
    kind = Beneficiary.HOUSEHOLD
    if category == "pangan":
        criteria = PANGAN_CRITERIA
        if aid == "Paket sembako":
            qty = beneficiaries = _round(rng.randint(40, 400), 10)
            title = rng.choice(
                (
                    f"Paket sembako untuk {qty} KK terdampak di {label}",
                    f"Bantuan sembako warga {label}",
                )
            )
            description = "Beras 5 kg, minyak goreng 1 L, gula 1 kg, mi instan dan sarden."
        elif aid == "Makanan siap saji":
            qty = _round(rng.randint(100, 1200), 50)
            beneficiaries, kind = qty // rng.choice((5, 10, 14)), Beneficiary.PERSON
            who = "pedagang dan warga sekitar" if site.kind == Site.Kind.LOKSEM else "warga isoman"
            title = f"Makanan siap saji untuk {who} di {label}"
            description = "Nasi kotak bergizi, dibagikan siang hari selama masa PSBB."
            end = start + timedelta(days=14)
        else:
            # Lebaran fell on 24 May 2020; the packages and the THR go out before it.
            qty = beneficiaries = _round(rng.randint(30, 250), 10)
            start, end = _day(rng, date(2020, 4, 24), date(2020, 5, 8)), date(2020, 5, 22)
            if aid == "Paket Lebaran":
                title = f"Paket Lebaran 1441 H untuk warga {label}"
            else:
                title = f"Paket THR untuk pekerja harian {label}"
            description = "Disalurkan sebelum Idulfitri 1441 H."
    elif category == "umkm":
        start = _day(rng, date(2020, 6, 1), date(2020, 10, 20))
        end = start + timedelta(days=rng.choice((60, 90)))
        kind = Beneficiary.BUSINESS
        criteria = (
            f"Anggota {site.cooperative} yang terdaftar di Jakpreneur."
            if site.kind == Site.Kind.KAMPUNG
            else f"Pelaku usaha mikro terdaftar di Jakpreneur, berdomisili di Kelurahan {site.kelurahan.name}."
        )
        if aid == "Pelatihan daring":
            qty = _round(rng.randint(20, 60), 5)
            title = f"Pelatihan pemasaran daring bagi UMKM {label}"
            description = "Empat sesi: foto produk, katalog daring, lokapasar dan pembukuan."
        elif aid == "Pelatihan luring":
            qty = _round(rng.randint(15, 40), 5)
            title = f"Pelatihan pengemasan dan label produk untuk UMKM {label}"
            description = "Pelatihan tatap muka dengan protokol kesehatan, kelompok kecil."
        elif aid == "Sarana dan prasarana usaha":
            qty = rng.randint(5, 30)
            title = rng.choice(
                (
                    f"Gerobak dan peralatan dagang untuk pedagang {label}",
                    f"Etalase dan perlengkapan usaha bagi pelaku UMKM {label}",
                )
            )
            description = "Sarana usaha agar pedagang dapat berjualan kembali dengan aman."
        else:
            qty = rng.randint(5, 25)
            title = f"Modal usaha dengan pendampingan untuk {qty} pelaku usaha {label}"
            description = "Modal kerja bergulir disertai pendampingan enam bulan."
        beneficiaries = qty
    elif category == "pendidikan":
        # From the new school year (13 July 2020) to the end of the semester.
        start, end = _day(rng, date(2020, 7, 13), date(2020, 10, 1)), LAST_DAY
        kind = Beneficiary.PUPIL
        criteria = (
            "Peserta didik dari keluarga kurang mampu yang terkendala pembelajaran jarak jauh; "
            "data dari sekolah."
        )
        if aid == "Gawai belajar" and rng.random() < 0.25:
            qty, kind = rng.randint(5, 15), Beneficiary.TEACHER
            criteria = "Guru honorer yang belum memiliki gawai untuk mengajar daring."
            title = f"Gawai untuk mengajar daring bagi guru {label}"
            description = "Laptop atau tablet untuk pembelajaran jarak jauh."
        elif aid == "Gawai belajar":
            qty = rng.randint(10, 60)
            title = f"Gawai untuk belajar daring siswa {label}"
            description = "Ponsel pintar atau tablet layar minimal 6 inci."
        elif aid == "Paket data internet":
            qty = _round(rng.randint(60, 400), 10)
            title = f"Paket data internet PJJ untuk siswa {label}"
            description = "Kuota 30 GB per bulan selama satu semester."
        else:
            qty = _round(rng.randint(50, 300), 10)
            title = f"Perlengkapan belajar untuk siswa {label}"
            description = "Buku tulis, alat tulis dan tas sekolah."
        beneficiaries = qty
    else:  # permukiman
        start, end = _day(rng, date(2020, 8, 1), date(2020, 10, 15)), LAST_DAY
        beneficiaries = _round(rng.randint(60, 400), 10)
        criteria = (
            "Kampung prioritas penataan kampung (Community Action Plan); pekerjaan bersama koperasi warga."
            if site.kind == Site.Kind.KAMPUNG
            else "RW kumuh dalam daftar penataan kampung Pemprov DKI Jakarta."
        )
        if aid == "Sanitasi":
            qty = rng.randint(2, 8)
            title = f"Pembangunan MCK komunal di {label}"
            description = "MCK komunal dengan septic tank biofilter."
        elif aid == "Perbaikan drainase":
            qty = 1
            title = f"Perbaikan saluran drainase {label}"
            description = "Normalisasi dan penutupan saluran sepanjang kurang lebih 300 m."
        else:
            qty = beneficiaries = rng.randint(5, 30)
            title = f"Perbaikan rumah tidak layak huni di {label}"
            description = "Perbaikan atap, lantai dan dinding rumah warga."
    return {
        "title": title,
        "description": description,
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
        return SUKU_DINAS.get(kel.code[:5], DINAS_PPKUKM)
    if rng.random() < 0.15:
        return f"Satpol PP {kota_name}"
    return f"Kelurahan {kel.name}"


def _pledge(rng, need: NeedPlan, quantity: int, status: str, kota) -> PledgePlan:
    p = PledgePlan(quantity=quantity, status=status, reach=S.SUBMITTED)
    p.message = rng.choice(PLEDGE_MESSAGES)
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
        p.reason = rng.choice(CANCEL_REASONS)
        scheduled = p.reach == S.SCHEDULED
    elif status in (S.REJECTED, S.EXPIRED):
        p.reach = rng.choice((S.SUBMITTED, S.CONFIRMED))
        p.reason = rng.choice(REJECT_REASONS) if status == S.REJECTED else EXPIRE_REASON
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
    state_owned = list(STATE_OWNED)
    rng.shuffle(state_owned)
    humanitarian, fintech = list(HUMANITARIAN), list(FINTECH)

    def name_of(kind: str) -> str:
        while True:
            if kind == Kind.COMPANY:
                words = (COMPANY_WORDS, COMPANY_QUALITIES, COMPANY_SECTORS)
                name = " ".join(
                    [rng.choice(("PT", "PT", "PT", "CV"))] + [rng.choice(w) for w in words]
                )
                name = name.strip()
            elif kind == Kind.COMMUNITY:
                place = rng.choice([*kecamatan, "Jakarta", "Warga", "Kampung"])
                name = f"{rng.choice(COMMUNITY_PREFIXES)} {rng.choice(COMMUNITY_WORDS)} {place}"
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
    opds += [(name, Opd.Kind.SUKU_DINAS, code) for code, name in SUKU_DINAS.items()]
    opds.append((DINAS_PPKUKM, Opd.Kind.DINAS, None))
    offices = {
        p.opd: need.site.kelurahan.code
        for need in needs
        for p in need.pledges
        if p.deliveries and p.opd.startswith("Kelurahan ")
    }
    opds += [(name, Opd.Kind.KELURAHAN_OFFICE, code) for name, code in sorted(offices.items())]
    return opds


# ---------------------------------------------------------------------------------------------
# Writing


def demo_exists() -> bool:
    """Whether demo needs are already loaded (what `load_demo --if-empty` checks)."""
    return Need.objects.filter(external_ref__startswith=NEED_PREFIX).exists()


def demo_staff():
    """The staff member the demo's verifications and pledge steps are recorded against. No login."""
    user, created = get_user_model().objects.get_or_create(
        username=STAFF_USERNAME,
        defaults={"first_name": "Petugas", "last_name": "Demo", "is_staff": True},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def load_demo(seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Load the demo data set (see the module docstring). Returns what this run created."""
    created: Counter[str] = Counter()
    created["regions"] = load_regions()["created"]
    for path in _paths(settings.KSBB_BOUNDARIES):
        import_boundaries(path)
    staff = demo_staff()
    demo = plan(seed)
    site_ids = _write_sites(demo.sites, created)
    _write_contacts(demo.sites, site_ids, staff, created)
    with connection.cursor() as cursor:
        # Statistics for the rows just written: without them (a fresh database, or rows not yet
        # committed) the planner may join sites, contacts and regions row by row, for minutes.
        cursor.execute("ANALYZE locations_region, locations_site, locations_contactperson")
    opds = _write_opds(demo.opds, created)
    collaborators = _write_collaborators(demo.collaborators, created)
    before = Pledge.objects.aggregate(last=Max("pk"))["last"] or 0
    _write_needs_and_pledges(demo.needs, site_ids, opds, collaborators, staff, created)
    _backdate_history(after_pk=before)
    _date_holds(after_pk=before)
    return dict(created)


# The article's figures stand "per 26 Oktober 2020": the demo's pledges happen between the start of
# KSBB Pangan (Ramadan, late April 2020) and a few days before that date, so /transparansi/?as_of=
# 2020-10-26 shows 224 collaborators (143 Pangan, 81 UMKM).
HISTORY_START = "2020-04-24 09:00:00+07"
HISTORY_DAYS = 175


def _backdate_history(after_pk: int) -> None:
    """Move the history of the pledges this run made into 2020. The services stamp "now"; a demo of a
    2020 programme wants its events in 2020. Each pledge starts on a day spread over HISTORY_DAYS and
    each of its later events follows a day after the one before. Demo data only: real history is
    never rewritten."""
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


# Every EXTENDED_EVERY-th open pledge (by id) was extended once by its donor.
EXTENDED_EVERY = 6


def _date_holds(after_pk: int) -> None:
    """Give the open pledges this run made holds that run on the day the demo is loaded.

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
        Pledge.objects.filter(pk__gt=after_pk, status__in=[S.SUBMITTED, S.CONFIRMED])
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


def _write_sites(plans: list[SitePlan], created: Counter) -> dict[tuple, int]:
    """Site id by plan key; new sites in one insert. A site is found by its external_ref, or else
    by (kelurahan, kind, name)."""
    by_ref, by_key = {}, {}
    for pk, ref, kel, kind, name in Site.objects.values_list(
        "pk", "external_ref", "kelurahan_id", "kind", "name"
    ):
        by_key[(kel, kind, name)] = pk
        if ref:
            by_ref[ref] = pk
    new = []
    for p in plans:
        if (p.external_ref and p.external_ref in by_ref) or p.key in by_key:
            continue
        new.append(
            Site(
                kind=p.kind,
                name=p.name,
                kelurahan=p.kelurahan,
                point=p.point,
                location_is_approximate=p.approximate,
                address=p.address,
                external_ref=p.external_ref,
            )
        )
    for site in Site.objects.bulk_create(new):
        by_key[(site.kelurahan_id, site.kind, site.name)] = site.pk
    created["sites"] = len(new)
    return {p.key: by_ref.get(p.external_ref) or by_key[p.key] for p in plans}


def _write_contacts(plans, site_ids, staff, created: Counter) -> None:
    """Contacts for the sites that have none yet, then what staff found when they called them."""
    with_contacts = set(ContactPerson.objects.values_list("site_id", flat=True).distinct())
    todo = []
    for p in plans:
        if site_ids[p.key] not in with_contacts:
            todo.append((p, site_ids[p.key]))
            with_contacts.add(site_ids[p.key])
    rows = [
        (c, ContactPerson(site_id=site_id, name=c.name, role=c.role, phone=c.phone, note=c.note))
        for p, site_id in todo
        for c in p.contacts
    ]
    create_contacts([row for _c, row in rows], by=staff, reason=_("Demo data"))
    created["contacts"] = len(rows)
    saved = {id(c): row for c, row in rows}
    for p, _site_id in todo:
        # The replacement first: a replaced contact names who replaced it.
        for c in sorted(p.contacts, key=lambda c: c.verification == Verification.REPLACED):
            if c.verification == Verification.UNVERIFIED:
                continue
            replacement = None
            if c.verification == Verification.REPLACED:
                replacement = next(saved[id(o)] for o in p.contacts if o is not c)
            verify_contact(saved[id(c)], c.verification, by=staff, replaced_by=replacement)


def _write_opds(plans, created: Counter) -> dict[str, Opd]:
    existing = {o.name: o for o in Opd.objects.all()}
    regions = {r.code: r for r in Region.objects.filter(code__in=[c for _, _, c in plans if c])}
    new = [
        Opd(name=name, kind=kind, region=regions.get(code))
        for name, kind, code in plans
        if name not in existing
    ]
    for opd in Opd.objects.bulk_create(new):
        existing[opd.name] = opd
    created["opds"] = len(new)
    return existing


def _write_collaborators(plans, created: Counter) -> dict[str, Collaborator]:
    existing = {c.email.lower(): c for c in Collaborator.objects.all()}
    new = [
        Collaborator(
            public_name=c.public_name,
            kind=c.kind,
            email=c.email,
            phone=c.phone,
            is_anonymous=c.is_anonymous,
        )
        for c in plans
        if c.email.lower() not in existing
    ]
    for c in Collaborator.objects.bulk_create(new):
        existing[c.email.lower()] = c
    created["collaborators"] = len(new)
    return existing


def _write_needs_and_pledges(plans, site_ids, opds, collaborators, staff, created: Counter):
    aid_types = {(a.category.slug, a.name): a for a in AidType.objects.select_related("category")}
    existing = set(
        Need.objects.filter(external_ref__in=[p.ref for p in plans]).values_list(
            "external_ref", flat=True
        )
    )
    new = [
        Need(
            site_id=site_ids[p.site.key],
            aid_type=aid_types[(p.category, p.aid_type)],
            title=p.title,
            description=p.description,
            quantity_needed=p.quantity,
            beneficiaries=p.beneficiaries,
            beneficiary_kind=p.beneficiary_kind,
            criteria=p.criteria,
            period_start=p.period_start,
            period_end=p.period_end,
            published=p.published,
            external_ref=p.ref,
        )
        for p in plans
        if p.ref not in existing
    ]
    needs_services.create_many(new, by=staff, reason=_("Demo data"))
    created["needs"] = len(new)
    plans_by_ref = {p.ref: p for p in plans}

    # Pledges only for needs that have none: a second run makes none.
    wanted = [p for p in plans if p.pledges]
    needs = {
        n.external_ref: n
        for n in Need.objects.filter(
            external_ref__in=[p.ref for p in wanted],
            pledges__isnull=True,
            published=True,
            is_closed=False,
        )
    }
    verified_sites = set(
        ContactPerson.objects.filter(verification_status=Verification.VERIFIED).values_list(
            "site_id", flat=True
        )
    )
    actor = services.Actor.staff(staff)
    # A closed need is closed once its pledges are made (pledging refuses it before).
    to_close = [n.pk for n in new if plans_by_ref[n.external_ref].closed]
    for p in wanted:
        need = needs.get(p.ref)
        if need is None:
            continue
        for pledge_plan in p.pledges:
            _make_pledge(
                need,
                pledge_plan,
                collaborators[pledge_plan.collaborator],
                opds,
                actor,
                need.site_id in verified_sites,
            )
            created["pledges"] += 1
    for need in Need.objects.filter(pk__in=to_close):
        # Only delivered pledges (_plan_pledges): nothing holds quantity, no donor is affected.
        needs_services.close(need, by=staff, reason=_("Closed after its period"))


def _make_pledge(need, plan: PledgePlan, collaborator, opds, actor, site_verified: bool) -> None:
    """One pledge along its planned path, through the same services staff and donors use."""
    reach, status, deliveries = plan.reach, plan.status, plan.deliveries
    if reach == S.SCHEDULED and not site_verified:
        # Only if the database differs from the plan (contacts made by hand, say): stop short.
        reach, deliveries = S.CONFIRMED, []
        status = S.CONFIRMED if status in (S.SCHEDULED, S.DELIVERED) else status
    pledge = services.pledge(
        need=need, collaborator=collaborator, quantity=plan.quantity, message=plan.message
    )
    if reach in (S.CONFIRMED, S.SCHEDULED):
        pledge = services.transition(pledge, S.CONFIRMED, actor=actor)
    if reach == S.SCHEDULED:
        pledge = services.transition(
            pledge,
            S.SCHEDULED,
            actor=actor,
            scheduled_for=plan.scheduled_for,
            reason="Jadwal serah terima disepakati dengan narahubung.",
        )
    for quantity, day in deliveries:
        services.record_delivery(
            pledge,
            quantity=quantity,
            delivered_on=day,
            opd=opds[plan.opd],
            actor=actor,
            note=f"Serah terima di lokasi, difasilitasi {plan.opd}.",
        )
    if status == S.CANCELLED:
        services.cancel(pledge, reason=plan.reason)
    elif status == S.REJECTED:
        services.transition(pledge, S.REJECTED, actor=actor, reason=plan.reason)
    elif status == S.EXPIRED:
        services.transition(pledge, S.EXPIRED, actor=services.SYSTEM, reason=plan.reason)


# ---------------------------------------------------------------------------------------------
# Reporting


def row_counts() -> dict[str, int]:
    """Rows per installed model, e.g. {"locations.Site": 812}."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def summary() -> list[str]:
    """A few lines of totals for the command's output."""
    regions = Counter(Region.objects.values_list("level", flat=True))
    with_boundary = Region.objects.kelurahan().filter(boundary__isnull=False).count()
    sites = Counter(Site.objects.values_list("kind", flat=True))
    approximate = Site.objects.filter(location_is_approximate=True).count()
    contacts = Counter(ContactPerson.objects.values_list("verification_status", flat=True))
    needs = Counter(Need.objects.values_list("aid_type__category__slug", flat=True))
    pledges = Counter(Pledge.objects.values_list("status", flat=True))
    per_category = Pledge.objects.values("need__aid_type__category__slug").annotate(
        n=Count("collaborator", distinct=True)
    )
    donors = {row["need__aid_type__category__slug"]: row["n"] for row in per_category}

    def join(counter) -> str:
        return ", ".join(f"{n} {key}" for key, n in sorted(counter.items()))

    return [
        f"Regions: {regions['kota']} kota, {regions['kecamatan']} kecamatan, "
        f"{regions['kelurahan']} kelurahan ({with_boundary} with a boundary).",
        f"Sites: {sum(sites.values())} ({join(sites)}; {approximate} approximate).",
        f"Contacts: {sum(contacts.values())} ({join(contacts)}).",
        f"OPDs: {Opd.objects.count()}. Collaborators: {Collaborator.objects.count()} "
        f"(by category with pledges: {join(donors)}).",
        f"Needs: {sum(needs.values())} ({join(needs)}).",
        f"Pledges: {sum(pledges.values())} ({join(pledges)}); deliveries: {Delivery.objects.count()}.",
    ]
