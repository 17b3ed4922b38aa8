"""No e-mail, phone, contact-person name, pledge token, alert subscription or anonymous donor's name
in any public page or download. The scan over the demo data set (which has all of them) runs in
tests/ksbb/test_load_demo.py, on the demo that module loads once; here, over the fixed set (and
tests/alerts/test_personal_data.py, with a subscription)."""

import re

from django.urls import reverse

from alerts.models import Subscription
from donations.models import Collaborator, Pledge
from ksbb.lib.phones import display
from locations.models import ContactPerson
from tests.transparency.test_transparency_figures import fixed_set
from transparency import opendata


def public_outputs(client) -> dict[str, str]:
    client.cookies["django_language"] = "en"
    urls = [reverse("home"), reverse("needs:need_map")]
    page = reverse("transparency:transparency")
    urls += [page, page + "?page=2", page + "?as_of=2020-10-26", page + "?q=a"]
    for name, dataset in opendata.DATASETS.items():
        for fmt in opendata.FORMATS:
            if fmt != "geojson" or dataset.geo:
                urls.append(reverse("transparency:open_data", args=[name, fmt]))
    outputs = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        outputs[url] = body.decode("utf-8")
    return outputs


def secrets() -> set[str]:
    named = set(
        Collaborator.objects.filter(is_anonymous=False).values_list("public_name", flat=True)
    )
    found = set(Collaborator.objects.values_list("email", flat=True))
    for phone in [
        *Collaborator.objects.exclude(phone="").values_list("phone", flat=True),
        *ContactPerson.objects.values_list("phone", flat=True),
    ]:
        found.add(phone)
        found.add(re.sub(r"\D", "", phone))
        found.add(display(phone))
    found |= set(ContactPerson.objects.exclude(email="").values_list("email", flat=True))
    found |= set(ContactPerson.objects.values_list("name", flat=True)) - named
    found |= set(Pledge.objects.values_list("token", flat=True))
    for email, token in Subscription.objects.values_list("email", "token"):  # alert subscriptions
        found |= {email, token}
    found |= (
        set(Collaborator.objects.filter(is_anonymous=True).values_list("public_name", flat=True))
        - named
    )
    return {s for s in found if len(s) >= 6}


def test_no_personal_data_in_the_fixed_set_either(client, jakarta, province_staff):
    fixed_set(province_staff)
    outputs = public_outputs(client)
    for secret in [
        "budi.rahasia@example.test",
        "+62 811 1111 1111",
        "6281299990000",
        "Budi Rahasia",
    ]:
        assert not any(secret in text for text in outputs.values()), secret
    assert any("Anonim" in text for text in outputs.values())
