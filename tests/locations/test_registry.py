"""Jakarta's regions come from the registry package (idn-area-data), not from a hand-typed list."""

from locations.models import Region
from locations.registry import load_regions, read_registry


def test_registry_holds_jakartas_6_kota_44_kecamatan_267_kelurahan():
    rows = read_registry()
    levels = [row.level for row in rows]
    assert levels.count("kota") == 6
    assert levels.count("kecamatan") == 44
    assert levels.count("kelurahan") == 267


def test_load_regions_nests_them_by_code(db):
    assert load_regions() == {"created": 317, "updated": 0}
    assert Region.objects.kota().count() == 6
    assert Region.objects.kecamatan().count() == 44
    assert Region.objects.kelurahan().count() == 267
    gambir = Region.objects.get(code="31.71.01.1001")
    assert [r.code for r in gambir.ancestors()] == ["31.71", "31.71.01", "31.71.01.1001"]
    assert gambir.name == "Gambir"
    assert Region.objects.get(code="31.71").display_name == "Jakarta Pusat"
    for region in Region.objects.exclude(level="kota").select_related("parent"):
        assert region.code.startswith(region.parent.code + ".")


def test_load_regions_twice_changes_nothing(db):
    load_regions()
    assert load_regions() == {"created": 0, "updated": 0}
    assert Region.objects.count() == 317


def test_load_regions_restores_a_renamed_region(db):
    load_regions()
    Region.objects.filter(code="31.71.01.1001").update(name="Salah Ketik")
    assert load_regions() == {"created": 0, "updated": 1}
    assert Region.objects.get(code="31.71.01.1001").name == "Gambir"


def test_within_code_selects_a_region_and_all_below_it(jakarta):
    codes = set(Region.objects.within_code("31.71.01").values_list("code", flat=True))
    assert "31.71.01" in codes and "31.71.01.1006" in codes
    assert len(codes) == 7
    assert "31.71.010" not in codes
