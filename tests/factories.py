"""factory_boy factories for plain rows. Pledges and deliveries go through donations.services instead."""

import datetime
import importlib

import factory
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from donations.models import Collaborator, Opd
from ksbb.lib.phones import to_e164
from locations.models import ContactPerson, Region, Site
from needs.models import AidType, Category, Need


def seed_categories() -> None:
    """The categories and aid types the data migration seeds. Transactional tests (the browser's)
    flush the database after each test, taking the migration's rows with them: they call this."""
    from django.apps import apps

    importlib.import_module("needs.migrations.0002_seed_categories").seed(apps, None)
    importlib.import_module("needs.migrations.0004_category_holds").set_holds(apps, None)
    importlib.import_module("needs.migrations.0007_need_freshness").set_reconfirm(apps, None)


def seed_staff_groups() -> None:
    """The staff groups and their permissions, as the data migrations make them (transactional
    tests flush them too)."""
    from django.apps import apps

    importlib.import_module("donations.migrations.0002_staff_groups").create_groups(apps, None)
    importlib.import_module("donations.migrations.0006_personal_data_roles").apply(apps, None)
    importlib.import_module("donations.migrations.0008_receipts").grant(apps, None)
    importlib.import_module("donations.migrations.0009_proposal_permissions").grant(apps, None)
    importlib.import_module("donations.migrations.0010_series_permissions").grant(apps, None)
    importlib.import_module("donations.migrations.0014_erasure_permission").grant(apps, None)
    importlib.import_module("donations.migrations.0016_vetting").grant(apps, None)
    importlib.import_module("donations.migrations.0017_erasure_requests").grant(apps, None)
    importlib.import_module("recipients.migrations.0002_staff_permissions").apply(apps, None)
    importlib.import_module("alerts.migrations.0002_staff_permissions").grant(apps, None)


def kelurahan(code: str = "31.71.01.1001") -> Region:
    """A kelurahan from the registry (the `jakarta` fixture loads them)."""
    return Region.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password("correct horse battery staple")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = "pangan"
    name = factory.LazyAttribute(lambda c: c.slug.title())


class AidTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AidType
        django_get_or_create = ("category", "name")

    category = factory.SubFactory(CategoryFactory)
    name = "Paket sembako"
    unit = "paket"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    kind = Site.Kind.RW
    name = factory.Sequence(lambda n: f"RW {n + 1:02d}")
    kelurahan = factory.LazyFunction(kelurahan)
    # Inside Gambir (31.71.01.1001), in the real boundaries and in tests/fixtures/boundaries.geojson.
    point = factory.LazyFunction(lambda: Point(106.8225, -6.1760, srid=4326))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPerson

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Narahubung {n}")
    role = ContactPerson.Role.RW_HEAD
    phone = factory.Sequence(lambda n: f"+62812{n:08d}")

    @classmethod
    def _adjust_kwargs(cls, **kwargs):
        # Stored in E.164, as the services save it, however a test writes the number.
        kwargs["phone"] = to_e164(kwargs["phone"])
        return kwargs


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Need

    site = factory.SubFactory(SiteFactory)
    aid_type = factory.SubFactory(AidTypeFactory)
    title = factory.Sequence(lambda n: f"Paket sembako untuk warga #{n}")
    quantity_needed = 100
    beneficiaries = 100
    period_start = datetime.date(2020, 10, 1)


class CollaboratorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Collaborator

    public_name = factory.Sequence(lambda n: f"Kolaborator {n}")
    kind = Collaborator.Kind.COMPANY
    email = factory.Sequence(lambda n: f"donor{n}@example.test")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Through the service, as the pledge form and the admin add them: with their ledger entry.
        from donations import services

        collaborator = model_class(*args, **kwargs)
        services.save_collaborator(collaborator)
        return collaborator


class OpdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opd
        django_get_or_create = ("name",)

    name = "Satpol PP Jakarta Pusat"
    kind = Opd.Kind.SATPOL_PP


def ensure_migration_rows() -> None:
    """The data migrations' rows, written again if a transactional test flushed them (also for a
    class-scoped fixture, which runs before tests/conftest.py's `_migration_rows`)."""
    from django.contrib.auth.models import Group

    from needs.models import Category

    if not Category.objects.exists():
        seed_categories()
    if not Group.objects.exists():
        seed_staff_groups()


def delete_jobs() -> None:
    """Every procrastinate job, worker and periodic record (their tables are not Django's: no
    flush empties them)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM procrastinate_periodic_defers; DELETE FROM procrastinate_jobs; "
            "DELETE FROM procrastinate_workers"
        )
