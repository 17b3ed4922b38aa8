"""The subscriber's pages: subscribe, check your mail, confirm (a button, not the GET), manage, the
data download, one-click unsubscribe (RFC 8058); bad input gets a clear answer, never a 500, and no
answer says whether an address is subscribed."""

import json

import pytest
from django.core import mail as sent_mail
from django.test import Client

from alerts.models import Subscription
from needs.models import Category
from tests import factories
from tests.alerts.conftest import CIDENG, GAMBIR, subscribe

pytestmark = pytest.mark.django_db
URL = "/peringatan/"


def _form(**changes):
    data = {"email": "warga@example.test", "regions": [GAMBIR], "frequency": "immediate"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_lists_kota_kecamatan_and_kelurahan_and_works_without_javascript(client, jakarta):
    page = client.get(URL)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="regions"' in html and "<optgroup" in html
    assert f'value="{GAMBIR}"' in html and 'value="31.71.01"' in html and 'value="31.71"' in html
    assert "<script" not in html.split("<main")[1]
    assert {"private", "no-store"} <= {d.strip() for d in page["Cache-Control"].split(",")}


def test_subscribing_redirects_to_check_your_mail_and_sends_the_link(client, jakarta, run_jobs):
    response = run_jobs(client.post, URL, _form(categories=[Category.objects.first().pk]))
    assert response.status_code == 302 and response["Location"] == "/peringatan/periksa-surel/"
    subscription = Subscription.objects.get()
    assert subscription.language == "id" and subscription.confirmed_at is None
    assert subscription.token in sent_mail.outbox[0].body
    page = client.get(response["Location"])
    assert page.status_code == 200 and subscription.email not in page.content.decode()


def test_the_answer_is_the_same_for_a_known_address(client, jakarta):
    subscribe()
    known = client.post(URL, _form(regions=[CIDENG]))
    unknown = client.post(URL, _form(email="lain@example.test"))
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


def test_english_visitors_get_english_mail(client, jakarta, run_jobs):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    run_jobs(client.post, URL, _form())
    assert Subscription.objects.get().language == "en"
    assert sent_mail.outbox[0].subject == "Confirm your alerts from the KSBB portal"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"email": ""}, "email"),
        ({"email": "bukan-alamat"}, "email"),
        ({"email": "a" * 250 + "@example.test"}, "email"),
        ({"regions": None}, "regions"),
        ({"regions": ["99.99"]}, "regions"),
        ({"regions": ["31.71.01.1001'; DROP TABLE x;--"]}, "regions"),
        ({"categories": ["999999"]}, "categories"),
        ({"categories": ["pangan"]}, "categories"),
        ({"frequency": "daily"}, "frequency"),
        ({"frequency": None}, "frequency"),
    ],
)
def test_bad_input_gets_the_form_back_with_a_message(client, jakarta, changes, field):
    response = client.post(URL, _form(**changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'role="alert"' in response.content.decode()
    assert not Subscription.objects.exists()


def test_an_empty_post_gets_every_required_fields_message(client, jakarta):
    response = client.post(URL, {})
    assert response.status_code == 200
    assert {"email", "regions", "frequency"} <= set(response.context["form"].errors)


def test_too_many_areas_is_refused(client, jakarta):
    from locations.models import Region

    codes = list(Region.objects.kelurahan().values_list("code", flat=True)[:21])
    response = client.post(URL, _form(regions=codes))
    assert response.status_code == 200 and "regions" in response.context["form"].errors


def test_a_nul_byte_or_a_huge_post_never_fails(client, jakarta):
    assert client.post(URL, _form(email="a\x00b@example.test")).status_code in (200, 400)
    assert client.post(URL, {"regions": "x" * 5000}).status_code == 200


def test_the_form_cannot_be_used_to_mail_bomb_an_address(client, jakarta, settings):
    for n in range(3):
        assert client.post(URL, _form(regions=[GAMBIR])).status_code == 302, n
    refused = client.post(URL, _form())
    assert refused.status_code == 429 and refused["Retry-After"]
    assert Subscription.objects.get().mails.count() == 3


def test_a_bot_filling_the_honeypot_is_answered_and_nothing_is_written(client, jakarta):
    response = client.post(URL, _form(website="http://spam.example"))
    assert response.status_code == 302 and not Subscription.objects.exists()


def test_confirming_takes_a_button_not_just_opening_the_link(client, jakarta):
    subscription = subscribe(confirm=False)
    url = f"/peringatan/{subscription.token}/konfirmasi/"
    page = client.get(url)
    assert page.status_code == 200 and "<form" in page.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None  # a mail scanner's GET confirms nothing
    response = client.post(url)
    assert (
        response.status_code == 302 and response["Location"] == f"/peringatan/{subscription.token}/"
    )
    subscription.refresh_from_db()
    assert subscription.confirmed_at is not None


def test_the_manage_page_changes_choices_and_offers_the_data(client, jakarta):
    subscription = subscribe()
    url = f"/peringatan/{subscription.token}/"
    page = client.get(url)
    assert page.status_code == 200
    assert {"private", "no-store"} <= {d.strip() for d in page["Cache-Control"].split(",")}
    response = client.post(url, {"regions": [CIDENG, "31.72"], "frequency": "weekly"})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.frequency == "weekly"
    assert sorted(subscription.regions.values_list("code", flat=True)) == ["31.71.01.1002", "31.72"]
    bad = client.post(url, {"regions": [], "frequency": "weekly"})
    assert bad.status_code == 200 and "regions" in bad.context["form"].errors


def test_the_data_download_holds_everything_kept(client, jakarta):
    subscription = subscribe()
    response = client.get(f"/peringatan/{subscription.token}/data.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["email"] == "warga@example.test"
    assert data["regions"][0]["code"] == GAMBIR
    assert data["mails"][0]["kind"] == "confirm"
    assert {"private", "no-store"} <= {d.strip() for d in response["Cache-Control"].split(",")}


def test_one_click_unsubscribe_by_the_mail_client_needs_no_csrf_token(jakarta):
    subscription = subscribe()
    client = Client(enforce_csrf_checks=True)
    url = f"/peringatan/{subscription.token}/berhenti/"
    page = client.get(url)
    assert page.status_code == 200 and Subscription.objects.exists()
    # RFC 8058: the client POSTs "List-Unsubscribe=One-Click" to the header's address.
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not Subscription.objects.exists()
    assert client.post(url).status_code == 200  # again: already done


def test_the_other_forms_still_want_their_csrf_token(jakarta):
    subscription = subscribe(confirm=False)
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"/peringatan/{subscription.token}/konfirmasi/").status_code == 403
    assert client.post(URL, _form()).status_code == 403


@pytest.mark.parametrize("token", ["x" * 43, "pendek", "a" * 64, "A" * 42 + "-", "0" * 43])
@pytest.mark.parametrize("page", ["", "konfirmasi/", "berhenti/", "data.json"])
def test_an_unknown_or_malformed_token_is_a_clear_404(client, db, token, page):
    response = client.get(f"/peringatan/{token}/{page}")
    assert response.status_code == 404
    assert {"private", "no-store"} <= {d.strip() for d in response["Cache-Control"].split(",")}


def test_a_link_after_unsubscribing_says_it_no_longer_works(client, jakarta):
    subscription = subscribe()
    client.post(f"/peringatan/{subscription.token}/berhenti/")
    page = client.get(f"/peringatan/{subscription.token}/")
    assert page.status_code == 404
    assert "alerts/gone.html" in [t.name for t in page.templates]


def test_every_page_links_to_the_subscription_form(client, jakarta):
    assert 'href="/peringatan/"' in client.get("/").content.decode()


def test_inactive_categories_are_not_offered(client, jakarta):
    hidden = factories.CategoryFactory(slug="lama", is_active=False)
    assert f'value="{hidden.pk}"' not in client.get(URL).content.decode()
