"""Official region codes and names (Kemendagri) from the idn-area-data CSVs.

The package is fetched by scripts/fetch-npm.sh idn-area-data into .data/idn-area-data/ (KSBB_REGION_DATA);
data/README.md gives its source and licence (ODbL 1.0).
"""

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from locations.models import Region

JAKARTA = "31"

# CSV file, and the column that names the parent, per level.
FILES = {
    Region.Level.KOTA: ("regencies.csv", "province_code"),
    Region.Level.KECAMATAN: ("districts.csv", "regency_code"),
    Region.Level.KELURAHAN: ("villages.csv", "district_code"),
}


class RegistryError(Exception):
    pass


@dataclass(frozen=True)
class RegistryRow:
    level: str
    code: str
    name: str
    parent_code: str


def read_registry(folder: Path | None = None, province: str = JAKARTA) -> list[RegistryRow]:
    """The province's kota, kecamatan and kelurahan, parents before children."""
    folder = Path(folder or settings.KSBB_REGION_DATA)
    rows = []
    for level, (filename, parent_column) in FILES.items():
        path = folder / filename
        if not path.is_file():
            raise RegistryError(
                f"{path} is missing: run scripts/fetch-npm.sh idn-area-data (make run does) or set KSBB_REGION_DATA."
            )
        stat = path.stat()
        rows += _province_rows(
            str(path), stat.st_mtime_ns, stat.st_size, level, parent_column, province
        )
    return rows


@functools.lru_cache(maxsize=16)
def _province_rows(
    path: str, mtime_ns: int, size: int, level: str, parent_column: str, province: str
) -> tuple[RegistryRow, ...]:
    """One file's rows of the province. The villages file holds all of Indonesia (some 90,000
    rows, a third of a second to read): kept per process, read again when the file changes."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        return tuple(
            RegistryRow(level, record["code"], _title(record["name"]), record[parent_column])
            for record in csv.DictReader(f)
            if record["code"].startswith(province + ".")
        )


def _title(name: str) -> str:
    # Older releases spell regencies in capitals ("KOTA ADMINISTRASI JAKARTA PUSAT").
    return name.title() if name.isupper() else name


@transaction.atomic
def load_regions(folder: Path | None = None, province: str = JAKARTA) -> dict[str, int]:
    """Create or rename the province's regions; boundaries are left as they are. Idempotent.

    Three inserts at most (one per level) and one update per renamed region.
    Returns counts of created and updated rows.
    """
    existing = {r.code: r for r in Region.objects.all()}
    rows = read_registry(folder, province)
    created = updated = 0
    for level in FILES:
        new = []
        for row in (r for r in rows if r.level == level):
            parent = existing.get(row.parent_code) if level != Region.Level.KOTA else None
            if level != Region.Level.KOTA and parent is None:
                raise RegistryError(
                    f"{row.code} names a parent {row.parent_code} the registry lacks."
                )
            region = existing.get(row.code)
            if region is None:
                new.append(Region(code=row.code, name=row.name, level=level, parent=parent))
            elif (region.name, region.level, region.parent_id) != (
                row.name,
                level,
                parent.pk if parent else None,
            ):
                region.name, region.level, region.parent = row.name, level, parent
                region.save(update_fields=["name", "level", "parent"])
                updated += 1
        for region in Region.objects.bulk_create(new):
            existing[region.code] = region
        created += len(new)
    return {"created": created, "updated": updated}
