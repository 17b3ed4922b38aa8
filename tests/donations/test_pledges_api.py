"""The pledge API: the same rules and messages as the form, JSON errors per field, cancel by token."""

import pytest

from donations import services
from donations.models import Collaborator, Pledge
from donations.models import PledgeStatus as S
from needs.models import Need


def payload(for_need, **overrides) -> dict:
    return {
        "need": for_need.pk,
        "public_name": "Yayasan Peduli",
        "kind": "humanitarian",
        "email": "halo@peduli.test",
        "quantity": 25,
        **overrides,
    }


def post(client, data):
    return client.post(
        "/api/v1/pledges/", data, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )


def test_a_pledge_through_the_api(client, need):
    response = post(client, payload(need))
    assert response.status_code == 201
    body = response.json()
    pledge = Pledge.objects.get()
    assert body["token"] == pledge.token and body["status"] == "submitted"
    assert body["url"] == f"/komitmen/{pledge.token}/"
    assert body["shown_as"] == "Yayasan Peduli"
    assert Need.objects.get(pk=need.pk).quantity_pledged == 25


def test_an_anonymous_pledge_is_shown_as_anonymous(client, need):
    body = post(client, payload(need, show_name=False)).json()
    assert body["shown_as"] == "Anonymous"
    assert "halo@peduli.test" not in str(body)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 101}, "quantity"),
        ({"quantity": "lots"}, "quantity"),
        ({"email": "nope"}, "email"),
        ({"public_name": "x" * 151}, "public_name"),
        ({"kind": "alien"}, "kind"),
        ({"need": 999999}, "need"),
        ({"phone": "call me"}, "phone"),
    ],
)
def test_bad_input_gets_json_errors_per_field_and_writes_nothing(client, need, overrides, field):
    response = post(client, payload(need, **overrides))
    assert response.status_code == 400
    assert field in response.json()
    assert not Pledge.objects.exists() and not Collaborator.objects.exists()


def test_the_api_and_the_form_give_the_same_message(client, need):
    body = post(client, payload(need, quantity=101)).json()
    assert body["quantity"] == ["Only 100 paket are still needed; pledge at most that."]


def test_a_full_need_is_refused(client, need, donor):
    services.pledge(need=need, collaborator=donor, quantity=100)
    response = post(client, payload(need, quantity=1))
    assert response.status_code == 400
    assert response.json()["need"] == ["This need no longer accepts pledges."]


def test_read_and_cancel_by_token(client, need):
    token = post(client, payload(need)).json()["token"]
    assert client.get(f"/api/v1/pledges/{token}/").json()["status"] == "submitted"
    response = client.post(f"/api/v1/pledges/{token}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert [e["to_status"] for e in response.json()["history"]] == ["submitted", "cancelled"]
    assert Need.objects.get(pk=need.pk).quantity_pledged == 0
    again = client.post(f"/api/v1/pledges/{token}/cancel/", HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 400 and "cannot become" in again.json()["non_field_errors"][0]


def test_unknown_tokens_are_404(client, db):
    assert client.get("/api/v1/pledges/nope/").status_code == 404
    assert client.post("/api/v1/pledges/nope/cancel/").status_code == 404


def test_the_api_is_throttled(client, need, settings):
    settings.KSBB_PLEDGE_RATE_PER_ADDRESS = "2/h"
    for i in range(2):
        assert post(client, payload(need, quantity=1, email=f"a{i}@x.test")).status_code == 201
    response = post(client, payload(need, quantity=1, email="a9@x.test"))
    assert response.status_code == 429
    assert Pledge.objects.filter(status=S.SUBMITTED).count() == 2
