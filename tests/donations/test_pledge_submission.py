"""The pledge form's one-time key (Pledge.submission): the same form sent twice, by a second tap or
by nginx passing a POST to another app server after the first died with it, makes one pledge and
answers both with it."""

import re
import threading
import uuid

import pytest
from django.db import connections
from django.test import Client

from donations import services
from donations.models import OutboundMail, Pledge
from needs.models import Need
from tests import factories
from tests.donations.test_pledge_create import form_data, url

KEY = re.compile(r'name="submission" value="([0-9a-f-]{36})"')


def _key(client, need) -> str:
    return KEY.search(client.get(url(need)).content.decode())[1]


def test_each_form_shown_carries_a_new_key(client, need):
    first, second = _key(client, need), _key(client, need)
    assert first != second and uuid.UUID(first)


def test_the_same_form_sent_twice_makes_one_pledge(client, need):
    key = _key(client, need)
    first = client.post(url(need), form_data(submission=key))
    again = client.post(url(need), form_data(submission=key))
    pledge = Pledge.objects.get()
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == pledge.private_url()
    assert str(pledge.submission) == key
    assert Need.objects.get(pk=need.pk).quantity_pledged == 30
    # One mail to the donor, not two.
    assert OutboundMail.objects.filter(to="csr@majubersama.test").count() == 1


def test_sent_again_once_the_need_is_full_it_still_finds_its_pledge(client, need):
    """The pledge filled the need: checked again, the form would be refused for its quantity."""
    key = _key(client, need)
    client.post(url(need), form_data(submission=key, quantity="100"))
    again = client.post(url(need), form_data(submission=key, quantity="100"))
    assert again.status_code == 302 and again["Location"] == Pledge.objects.get().private_url()


def test_a_new_form_makes_a_new_pledge(client, need):
    client.post(url(need), form_data(submission=_key(client, need), quantity="10"))
    client.post(url(need), form_data(submission=_key(client, need), quantity="10"))
    assert Pledge.objects.count() == 2


@pytest.mark.parametrize("key", ["", "not-a-key", "0" * 200, "'; DROP TABLE x; --"])
def test_a_missing_or_bad_key_is_no_key(client, need, key):
    response = client.post(url(need), form_data(submission=key))
    assert response.status_code in (200, 302)
    if response.status_code == 302:  # the form accepts an empty key: a pledge without one
        assert Pledge.objects.get().submission is None


def test_a_key_finds_only_its_own_needs_pledge(client, need, site):
    other = factories.NeedFactory(site=site, title="Lain")
    key = _key(client, need)
    client.post(url(need), form_data(submission=key, quantity="5"))
    assert services.pledge_made_by(other.pk, key) is None
    assert services.pledge_made_by(need.pk, key) == Pledge.objects.get()
    assert services.pledge_made_by("x", key) is None and services.pledge_made_by(2**64, key) is None


@pytest.mark.django_db(transaction=True)
def test_two_copies_at_once_make_one_pledge(jakarta):
    """nginx passing on a POST while the first copy is still being made: they queue on the need's
    row lock, and the second finds the first."""
    need = factories.NeedFactory(quantity_needed=100)
    key = str(uuid.uuid4())
    start = threading.Barrier(4)
    answers = []

    def send() -> None:
        client = Client()
        try:
            start.wait()
            answers.append(client.post(url(need), form_data(submission=key)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pledge = Pledge.objects.get()
    assert [a.status_code for a in answers] == [302] * 4
    assert {a["Location"] for a in answers} == {pledge.private_url()}
    assert Need.objects.get(pk=need.pk).quantity_pledged == 30


def test_the_api_answers_a_request_sent_again_with_the_pledge_it_made(client, need):
    body = {
        "need": need.pk,
        "public_name": "PT Maju Bersama",
        "kind": "company",
        "email": "csr@majubersama.test",
        "quantity": 100,  # the need is full after it: checked again, it would be refused
        "submission": str(uuid.uuid4()),
    }
    first = client.post("/api/v1/pledges/", body, content_type="application/json")
    again = client.post("/api/v1/pledges/", body, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["token"] == again.json()["token"] == Pledge.objects.get().token
    body["submission"] = "not-a-key"
    assert client.post("/api/v1/pledges/", body, content_type="application/json").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    "need_id, key",
    [
        (None, None),
        ([1], {"a": 1}),
        ({"pk": 1}, ["k"]),
        (2**63, "6f1c5f0a-8a39-4d5e-9d1e-3f1f9a0c1b2d"),
        (-1, "6f1c5f0a-8a39-4d5e-9d1e-3f1f9a0c1b2d"),
        ("1; DROP", "6f1c5f0a-8a39-4d5e-9d1e-3f1f9a0c1b2d"),
    ],
)
def test_what_is_no_need_or_no_key_finds_nothing_and_never_raises(need_id, key):
    """Whatever a stranger's JSON puts in "need" and "submission" reaches pledge_made_by before
    the serializer checks it: it must find nothing, never a server error."""
    assert services.pledge_made_by(need_id, key) is None
