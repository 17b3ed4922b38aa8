"""The donor's private page: status and history, cancel while nothing is delivered, 404 for strangers."""

import datetime

import pytest

from donations import services
from donations.models import Pledge
from donations.models import PledgeStatus as S
from needs.models import Need
from tests import factories
from tests.helpers import schedule

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def pledge(need, donor):
    return services.pledge(need=need, collaborator=donor, quantity=30)


@pytest.fixture(autouse=True)
def _english_client(client):
    client.cookies["django_language"] = "en"


def test_the_private_page_shows_status_and_history(client, pledge):
    response = client.get(f"/komitmen/{pledge.token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Submitted" in html and pledge.need.title in html
    assert "noindex" in html and response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_cancelling_frees_the_quantity_and_records_why(client, pledge):
    response = client.post(f"/komitmen/{pledge.token}/batal/", {"reason": "Dana dialihkan"})
    assert response.status_code == 302
    pledge.refresh_from_db()
    assert pledge.status == S.CANCELLED
    assert Need.objects.get(pk=pledge.need_id).quantity_pledged == 0
    page = client.get(f"/komitmen/{pledge.token}/").content.decode()
    assert "Cancelled" in page and "Dana dialihkan" in page
    assert "Cancel my pledge" not in page


def test_a_delivered_pledge_cannot_be_cancelled(client, pledge, province_staff):
    staff = services.Actor.staff(province_staff)
    schedule(pledge, by=province_staff)
    services.record_delivery(
        pledge,
        quantity=30,
        delivered_on=datetime.date(2020, 10, 26),
        opd=factories.OpdFactory(),
        actor=staff,
    )
    assert "Cancel my pledge" not in client.get(f"/komitmen/{pledge.token}/").content.decode()
    response = client.post(f"/komitmen/{pledge.token}/batal/", follow=True)
    assert b"cannot become Cancelled" in response.content
    assert Pledge.objects.get(pk=pledge.pk).status == S.DELIVERED


def test_cancel_needs_a_post(client, pledge):
    assert client.get(f"/komitmen/{pledge.token}/batal/").status_code == 405
    assert Pledge.objects.get(pk=pledge.pk).status == S.SUBMITTED


@pytest.mark.parametrize("token", ["x", "A" * 43, "../../admin", "%00", "' OR 1=1 --"])
def test_an_unknown_or_malformed_token_is_a_plain_404(client, pledge, token):
    response = client.get(f"/komitmen/{token}/")
    assert response.status_code == 404
    assert pledge.token.encode() not in response.content
    assert client.post(f"/komitmen/{token}/batal/").status_code == 404
    assert Pledge.objects.get(pk=pledge.pk).status == S.SUBMITTED
