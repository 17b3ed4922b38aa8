"""A need's link shared in WhatsApp shows a proper card: Open Graph and Twitter tags from the need's
public fields, and a preview image made on the server in the reader's language, kept until the
need changes. Nothing personal goes into either."""

import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image

from donations import services
from needs import share
from needs.models import Need
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def pledged(need, donor, settings):
    settings.KSBB_BASE_URL = "https://ksbb.jakarta.go.id/"
    services.pledge(need=need, collaborator=donor, quantity=30)
    factories.ContactFactory(site=need.site, name="Pak Rahmat Rahasia")
    return Need.objects.published().with_places().get(pk=need.pk)


def _tags(html: str) -> dict[str, str]:
    return dict(
        re.findall(r'<meta (?:property|name)="((?:og|twitter):[^"]+)" content="([^"]*)"', html)
    )


def test_the_page_carries_the_cards_tags_in_the_readers_language(client, pledged):
    tags = _tags(client.get(f"/kebutuhan/{pledged.pk}/").content.decode())
    base = f"https://ksbb.jakarta.go.id/kebutuhan/{pledged.pk}/"
    assert tags["og:url"] == base and tags["og:title"] == pledged.title
    assert tags["og:image"] == base + "kartu-id.png" == tags["twitter:image"]
    assert tags["twitter:card"] == "summary_large_image" and tags["og:locale"] == "id_ID"
    assert "70 dari 100 paket masih dibutuhkan" in tags["og:description"]
    assert "Gambir" in tags["og:description"] and "KSBB Pangan" in tags["og:description"]
    english = _tags(
        client.get(f"/kebutuhan/{pledged.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    assert english["og:image"].endswith("kartu-en.png") and english["og:locale"] == "en_US"
    assert "70 of 100 paket still needed" in english["og:description"]


def test_the_share_links_carry_the_public_address(client, pledged):
    html = client.get(f"/kebutuhan/{pledged.pk}/").content.decode()
    whatsapp = re.search(r'href="(https://wa.me/[^"]+)"', html).group(1).replace("&amp;", "&")
    text = parse_qs(urlparse(whatsapp).query)["text"][0]
    assert text.endswith(f"https://ksbb.jakarta.go.id/kebutuhan/{pledged.pk}/")
    assert pledged.title in text and "testserver" not in html, "never the request's host"
    assert f'data-copy="https://ksbb.jakarta.go.id/kebutuhan/{pledged.pk}/"' in html


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_card_is_a_png_of_the_expected_size_kept_until_the_need_changes(client, pledged, lang):
    url = f"/kebutuhan/{pledged.pk}/kartu-{lang}.png"
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (1200, 630)
    again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    services.pledge(need=pledged, collaborator=factories.CollaboratorFactory(), quantity=5)
    changed = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert changed.status_code == 200 and changed.content != response.content


def test_the_two_languages_make_two_cards(client, pledged):
    indonesian = client.get(f"/kebutuhan/{pledged.pk}/kartu-id.png")
    english = client.get(f"/kebutuhan/{pledged.pk}/kartu-en.png")
    assert indonesian.content != english.content and indonesian["ETag"] != english["ETag"]


@pytest.mark.parametrize("path", ["kartu-fr.png", "kartu-.png", "kartu-id.png.png", "kartu-ID.png"])
def test_an_unknown_language_is_a_404(client, pledged, path):
    assert client.get(f"/kebutuhan/{pledged.pk}/{path}").status_code == 404


def test_an_unpublished_or_missing_need_has_no_card(client, pledged):
    Need.objects.filter(pk=pledged.pk).update(published=False)
    assert client.get(f"/kebutuhan/{pledged.pk}/kartu-id.png").status_code == 404
    assert client.get("/kebutuhan/99999999999999999999/kartu-id.png").status_code == 404


def test_the_card_says_nothing_personal(pledged, english):
    said = " ".join(share.card_text(pledged).values())
    assert "Rahmat" not in said and "PT Maju Bersama" not in said
    assert "csr@majubersama.test" not in said
    assert said.count(pledged.title) == 1


def test_a_long_title_is_cut_with_an_ellipsis_and_a_closed_need_says_so(pledged, english):
    pledged.title = "Paket sembako " * 20
    lines = share._lines(
        share.ImageDraw.Draw(share.Image.new("RGB", (10, 10))),
        pledged.title,
        share._font(58),
        1080,
        2,
    )
    assert len(lines) == 2 and lines[-1].endswith("…")
    pledged.status = "closed"
    assert share.card_text(pledged)["remaining"] == "Closed"
    assert Image.open(io.BytesIO(share.card_png(pledged))).size == (1200, 630)
