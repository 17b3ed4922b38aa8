"""The four KSBB categories and the article's aid types. Staff add more in the admin."""

from django.db import migrations

CATEGORIES = [
    # slug, name, colour, recipients, aid types (name, unit)
    (
        "pangan",
        "Pangan",
        "#c2410c",
        "Rumah tangga rentan dengan kriteria penerima bansos masa PSBB",
        [
            ("Paket sembako", "paket"),
            ("Makanan siap saji", "porsi"),
            ("Paket Lebaran", "paket"),
            ("Paket THR", "paket"),
        ],
    ),
    (
        "umkm",
        "UMKM",
        "#0f766e",
        "Usaha mikro, kecil dan menengah binaan Jakpreneur",
        [
            ("Pelatihan daring", "orang"),
            ("Pelatihan luring", "orang"),
            ("Sarana dan prasarana usaha", "unit"),
            ("Permodalan dengan pendampingan", "usaha"),
        ],
    ),
    (
        "pendidikan",
        "Pendidikan",
        "#6d28d9",
        "Peserta didik dan tenaga pendidik dengan keterbatasan pembelajaran jarak jauh",
        [
            ("Gawai belajar", "unit"),
            ("Paket data internet", "peserta didik"),
            ("Perlengkapan belajar", "paket"),
        ],
    ),
    (
        "permukiman",
        "Permukiman",
        "#1d4ed8",
        "Kampung kumuh yang membutuhkan peningkatan kualitas lingkungan",
        [
            ("Sanitasi", "unit"),
            ("Perbaikan drainase", "kampung"),
            ("Perbaikan rumah", "unit"),
        ],
    ),
]


def seed(apps, schema_editor):
    Category = apps.get_model("needs", "Category")
    AidType = apps.get_model("needs", "AidType")
    for order, (slug, name, color, recipients, aid_types) in enumerate(CATEGORIES, start=1):
        category, _ = Category.objects.update_or_create(
            slug=slug,
            defaults={"name": name, "color": color, "recipients": recipients, "order": order},
        )
        for aid_name, unit in aid_types:
            AidType.objects.get_or_create(category=category, name=aid_name, defaults={"unit": unit})


class Migration(migrations.Migration):
    dependencies = [("needs", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
