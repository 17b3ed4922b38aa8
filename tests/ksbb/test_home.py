"""The home page: Indonesian by default, English on request, figures from the data."""

from donations import services
from tests import factories


def test_home_is_indonesian_by_default(client, need):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="id">' in html
    assert "Kebutuhan terbuka" in html


def test_home_follows_the_browser_language(client, need):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="en">' in response.content.decode()


def test_home_switches_language_with_the_language_form(client, need):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Open needs" in html
    assert "Kebutuhan terbuka" not in html


def test_home_counts_open_needs_per_category_and_kota(client, need, donor):
    factories.NeedFactory(site=need.site, title="Sudah penuh", quantity_needed=5)
    full = factories.NeedFactory(site=need.site, title="Penuh", quantity_needed=5)
    services.pledge(need=full, collaborator=donor, quantity=5)
    factories.NeedFactory(site=need.site, title="Belum terbit", published=False)
    response = client.get("/")
    kota = {k.code: k.open_needs for k in response.context["kota_list"]}
    assert kota["31.71"] == 2 and kota["31.72"] == 0
    categories = {c.slug: c.open_needs for c in response.context["categories"]}
    assert categories["pangan"] == 2 and categories["umkm"] == 0
    assert response.context["needs_open"] == 2
    assert response.context["collaborators"] == 1


def test_home_makes_a_fixed_number_of_queries(
    client, need, settings, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for _ in range(5):
        factories.NeedFactory(site=need.site)
    # Built every time (the suite's setting): the public figures (transparency.figures: about a
    # dozen aggregates, whatever the rows), the categories' and the kota's open needs.
    with django_assert_max_num_queries(24):  # 21 today
        client.get("/")
    # As served: the worker built them (eager here); a read is the stored value, no query.
    settings.KSBB_PUBLIC_SNAPSHOT_SECONDS = 10
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/")
    with django_assert_max_num_queries(1):  # session slack
        assert client.get("/").context["needs_open"] == 6
