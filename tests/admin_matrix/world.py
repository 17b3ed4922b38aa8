"""The rows and the staff the admin access matrix runs against.

Two areas with the same rows: Gambir (inside the area-bound roles' area) and a kelurahan of Jakarta
Utara (outside it). Every outside row that has a name carries the marker OUTSIDE, so a page that names
one is caught whatever page it is. Personal data carry markers of their own (PERSONAL_MARKERS).
"""

import datetime
import io
from dataclasses import dataclass, field

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from alerts import services as alert_services
from alerts.models import Subscription
from donations import services
from donations.models import (
    Collaborator,
    Delivery,
    ErasureRequest,
    OutboundMail,
    Pledge,
    PledgeEvent,
    Receipt,
)
from ksbb.lib.phones import display
from locations.models import ContactPerson, PersonalDataView, Site, StaffArea
from locations.scoping import AREA_OFFICER_GROUP, AUDITOR_GROUP, PROVINCIAL_GROUP
from locations.services import verify_contact
from needs import services as need_services
from needs.models import AidType, Need, NeedSeries, Proposal
from recipients import services as recipient_services
from recipients.models import ContactLink, OutboundMessage
from tests import factories

INSIDE_CODE = "31.71.01.1001"  # Gambir, Jakarta Pusat
OUTSIDE_CODE = "31.72.01.1001"  # a kelurahan of Jakarta Utara
OUTSIDE = "OUTSIDE"


@dataclass(frozen=True)
class Role:
    """A kind of staff member: their group, their area (None: no assigned area)."""

    group: str
    area: str | None
    area_bound: bool  # sees only its area's rows (or none at all)
    writes_nothing: bool  # no POST of theirs may change a row
    sees_personal_data: bool


ROLES = {
    # Every other path a superuser opens (django-axes' and auth's own admins) must not fail either.
    "superuser": Role("", None, False, False, True),
    "provincial": Role(PROVINCIAL_GROUP, None, False, False, True),
    "officer": Role(AREA_OFFICER_GROUP, INSIDE_CODE, True, False, True),
    "auditor_in_area": Role(AUDITOR_GROUP, INSIDE_CODE, True, True, False),
    "auditor_province": Role(AUDITOR_GROUP, None, False, True, False),
    # An area officer nobody assigned an area yet: sees nothing, so changes nothing.
    "officer_without_area": Role(AREA_OFFICER_GROUP, None, True, True, False),
}


def staff_member(name: str, role: Role):
    user = factories.UserFactory(username=name, is_staff=True, is_superuser=not role.group)
    if role.group:
        user.groups.add(Group.objects.get(name=role.group))
    if role.area:
        StaffArea.objects.create(user=user, region=factories.kelurahan(role.area))
    return user


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG")
    return SimpleUploadedFile("foto.png", buffer.getvalue())


@dataclass
class Area:
    """One area's rows, one of each scoped kind."""

    site: Site
    contact: ContactPerson
    need: Need
    donor: Collaborator
    anonymous_donor: Collaborator
    pledge: Pledge
    open_pledge: Pledge
    delivery: Delivery
    link: ContactLink
    link_token: str
    personal: list[str] = field(default_factory=list)
    # The row the matrix opens for each scoped model.
    objects: dict[type, object] = field(default_factory=dict)

    def __post_init__(self):
        self.objects = {
            Site: self.site,
            ContactPerson: self.contact,
            Need: self.need,
            Collaborator: self.anonymous_donor,
            Pledge: self.pledge,
            Delivery: self.delivery,
            PledgeEvent: self.pledge.events.order_by("pk").first(),
            ContactLink: self.link,
            Receipt: self.delivery.receipt,
            Proposal: self.need.proposals.get(),
            NeedSeries: self.site.need_series.get(),
            OutboundMessage: self.link.messages.get(),
            ErasureRequest: self.anonymous_donor.erasure_requests.get(),
        }


def _area(code: str, marker: str, bureau, point: Point) -> Area:
    kelurahan = factories.kelurahan(code)
    site = factories.SiteFactory(name=f"{marker} RW 07", kelurahan=kelurahan, point=point)
    contact = factories.ContactFactory(
        site=site,
        name=f"{marker} Narahubung",
        phone=_phone(code, 1),
        email=f"narahubung.{marker.lower()}@warga.test",
    )
    verify_contact(contact, "verified", by=bureau)
    link, link_token = recipient_services.send_link(contact, by=bureau)
    need = factories.NeedFactory(site=site, title=f"{marker} Paket sembako", quantity_needed=100)
    donor = factories.CollaboratorFactory(
        public_name=f"{marker} PT Donatur",
        email=f"csr.{marker.lower()}@donor.test",
        phone=_phone(code, 2),
    )
    anonymous = factories.CollaboratorFactory(
        public_name=f"{marker} Rahasia Nama Asli",
        kind=Collaborator.Kind.INDIVIDUAL,
        email=f"rahasia.{marker.lower()}@donor.test",
        phone=_phone(code, 3),
        is_anonymous=True,
    )
    staff = services.Actor.staff(bureau)
    pledge = services.pledge(need=need, collaborator=donor, quantity=10)
    services.transition(pledge, "confirmed", actor=staff)
    pledge = services.transition(
        pledge, "scheduled", actor=staff, scheduled_for=datetime.date(2020, 10, 26)
    )
    delivery = services.record_delivery(
        pledge,
        quantity=5,
        delivered_on=datetime.date(2020, 10, 27),
        opd=factories.OpdFactory(),
        evidence=_photo(),
        actor=staff,
    )
    receipt = services.record_receipt(
        delivery,
        contact=contact,
        outcome="received",
        quantity_received=4,  # of 5: a dispute, for the resolving action
        received_by=f"{marker} Penerima Rahasia",
        note=f"{marker} kurang satu",
        photo=_photo(),
    )
    open_pledge = services.pledge(need=need, collaborator=anonymous, quantity=5)
    # Open while that pledge runs: for staff to see and complete.
    services.request_erasure(anonymous)
    need_services.start_series(
        by=bureau,
        site=site,
        aid_type=need.aid_type,
        title=f"{marker} Paket bulanan",
        quantity_needed=50,
        start=datetime.date(2020, 10, 1),
    )
    need_services.propose_change(
        need, contact=contact, kind="quantity", quantity=120, note=f"{marker} warga bertambah"
    )
    personal = [
        donor.email,
        donor.phone,
        anonymous.email,
        anonymous.phone,
        anonymous.public_name,
        contact.phone,
        display(contact.phone),  # as the contact's form shows it
        contact.email,
        receipt.received_by,
    ]
    return Area(
        site,
        contact,
        need,
        donor,
        anonymous,
        pledge,
        open_pledge,
        delivery,
        link,
        link_token,
        personal,
    )


def _phone(code: str, n: int) -> str:
    """A phone number found nowhere else on a page, in E.164: the kota's digits, then n."""
    return f"+6281{code[4]}77{code[3:5]}{n:04d}"


@dataclass
class World:
    inside: Area
    outside: Area
    bureau: object  # a superuser: acts for the fixtures, and shows what a permitted form holds
    users: dict[str, object]

    def targets(self, model) -> dict[str, object]:
        """The rows the matrix opens for `model`: one inside and one outside the area for scoped
        models, the first row for the others."""
        if model in self.inside.objects:
            return {"inside": self.inside.objects[model], "outside": self.outside.objects[model]}
        row = model._default_manager.order_by("pk").first()
        return {"any": row} if row is not None else {}

    def tokens(self) -> list[str]:
        """The private links' keys: the donors' and the contact persons'."""
        pledges = list(Pledge.objects.values_list("token", flat=True))
        subscriptions = list(Subscription.objects.values_list("token", flat=True))
        return [*pledges, self.inside.link_token, self.outside.link_token, *subscriptions]


def build_world(bureau) -> World:
    """Both areas, the staff of every role, and a row for each model no area owns."""
    inside = _area(INSIDE_CODE, "INSIDE", bureau, Point(106.8225, -6.1760, srid=4326))
    outside = _area(OUTSIDE_CODE, OUTSIDE, bureau, Point(106.7920, -6.1210, srid=4326))
    users = {name: staff_member(f"matrix.{name}", role) for name, role in ROLES.items()}
    AccessAttempt.objects.create(
        username="someone",
        ip_address="127.0.0.1",
        user_agent="test",
        http_accept="*/*",
        path_info="/admin/login/",
        failures_since_start=1,
    )
    AccessLog.objects.create(
        username="someone", ip_address="127.0.0.1", user_agent="test", http_accept="*/*"
    )
    AccessFailureLog.objects.create(
        username="someone", ip_address="127.0.0.1", user_agent="test", http_accept="*/*"
    )
    PersonalDataView.objects.create(
        user=bureau,
        content_type=ContentType.objects.get_for_model(Collaborator),
        object_id=str(outside.donor.pk),
        via=PersonalDataView.Via.PAGE,
    )
    LogEntry.objects.log_actions(bureau.pk, [outside.site], ADDITION, single_object=True)
    # The data migrations' aid types were written without history: give the first one a version
    # for the history pages to open (whichever process ran the module, on whatever database).
    first_aid_type = AidType.objects.order_by("pk").first()
    if first_aid_type is not None and not first_aid_type.history.exists():
        first_aid_type.save()
    assert OutboundMail.objects.exists()  # the schedule mails, each with a private link
    # An alert subscription (and its confirmation mail): its address is personal data.
    subscription = alert_services.subscribe(
        email="peringatan.inside@warga.test",
        language="id",
        frequency="immediate",
        regions=[inside.site.kelurahan],
        categories=[],
    )
    inside.personal.append(subscription.email)
    return World(inside, outside, bureau, users)
