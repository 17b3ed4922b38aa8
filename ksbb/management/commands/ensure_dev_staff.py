"""Development only: one staff login per role, so `make run` ends with accounts to try.

- `admin`: a superuser, who sees and changes everything;
- `petugas.gambir`: an area officer of Kecamatan Gambir (Jakarta Pusat, where the demo always has
  needs and pledges), who sees and works on only what lies there (locations/scoping.py);
- `auditor`: an auditor with no area, who reads the whole province and changes nothing.

All three have the password `ksbb-dev`. Each run puts them back as described (active, role, area,
password) and changes nothing when they already are, so a second run writes nothing and prints the
same. Refused unless DEBUG is on: a known password must never reach a production database.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from locations.models import Region, StaffArea
from locations.scoping import AREA_OFFICER_GROUP, AUDITOR_GROUP

PASSWORD = "ksbb-dev"
USERNAME = "admin"
OFFICER_USERNAME = "petugas.gambir"
OFFICER_AREA = "31.71.01"  # Kecamatan Gambir, Jakarta Pusat
AUDITOR_USERNAME = "auditor"


class Command(BaseCommand):
    help = (
        f"Create the development staff logins (password {PASSWORD!r}): the superuser {USERNAME!r}, "
        f"the area officer {OFFICER_USERNAME!r} (Kecamatan Gambir) and the auditor "
        f"{AUDITOR_USERNAME!r}; put them back as described if they were changed. "
        "Refused unless DEBUG is on."
    )

    def handle(self, *args, **options):
        # A known password must never reach a production database.
        if not settings.DEBUG:
            raise CommandError(
                "ensure_dev_staff sets a well-known password and runs only with DEBUG on; "
                "in production create staff with `manage.py createsuperuser`."
            )
        with transaction.atomic():
            _ensure_user(USERNAME, superuser=True)
            officer = _ensure_user(OFFICER_USERNAME, group=AREA_OFFICER_GROUP)
            area = Region.objects.filter(code=OFFICER_AREA).select_related("parent").first()
            if area is not None:
                StaffArea.objects.filter(user=officer).exclude(region=area).delete()
                StaffArea.objects.get_or_create(user=officer, region=area)
            _ensure_user(AUDITOR_USERNAME, group=AUDITOR_GROUP)

        where = f"Kecamatan {area.name}, {area.parent.display_name}" if area else OFFICER_AREA
        admin_url = settings.KSBB_BASE_URL.rstrip("/") + reverse("admin:index")
        width = max(len(name) for name in (USERNAME, OFFICER_USERNAME, AUDITOR_USERNAME))
        self.stdout.write(f"Staff logins for {admin_url} (development only):")
        for username, role in [
            (USERNAME, "superuser: sees and changes everything"),
            (OFFICER_USERNAME, f"area officer of {where}: sees and works only there"),
            (AUDITOR_USERNAME, "auditor: reads the whole province, changes nothing"),
        ]:
            self.stdout.write(f"  {username:<{width}} / {PASSWORD}   {role}")
        if area is None:
            self.stderr.write(
                f"Region {OFFICER_AREA} is not loaded yet (manage.py load_demo loads the regions): "
                f"{OFFICER_USERNAME} sees nothing until a run after that."
            )


def _ensure_user(username: str, *, superuser: bool = False, group: str = ""):
    """The active staff member `username` with the development password and exactly this role
    (superuser, or member of `group` only). Saves only what differs."""
    user, created = get_user_model().objects.get_or_create(username=username)
    changed = created
    for attr, value in [("is_active", True), ("is_staff", True), ("is_superuser", superuser)]:
        if getattr(user, attr) != value:
            setattr(user, attr, value)
            changed = True
    if not user.check_password(PASSWORD):
        user.set_password(PASSWORD)
        changed = True
    if changed:
        user.save()
    groups = []
    if group:
        try:
            groups = [Group.objects.get(name=group)]
        except Group.DoesNotExist:
            raise CommandError(
                f"The group {group!r} is missing; `manage.py migrate` creates it."
            ) from None
    user.groups.set(groups)
    return user
