"""A request's path is resolved once for the replica mark and the page cache together."""

from unittest import mock

import pytest
from django.test import RequestFactory

from ksbb.lib import resolving


def test_the_match_is_kept_on_the_request_and_a_path_no_url_matches_is_none():
    request = RequestFactory().get("/peta/")
    with mock.patch.object(resolving, "resolve", wraps=resolving.resolve) as resolve:
        first = resolving.match(request)
        assert resolving.match(request) is first and first.view_name == "needs:need_map"
        assert resolve.call_count == 1
    assert resolving.match(RequestFactory().get("/no-such-page/")) is None


@pytest.mark.django_db
def test_the_replica_mark_and_the_page_cache_resolve_a_page_once(client, need):
    client.get(f"/kebutuhan/{need.pk}/")  # made (and kept, if the page cache is on)
    with mock.patch.object(resolving, "resolve", wraps=resolving.resolve) as resolve:
        response = client.get(f"/kebutuhan/{need.pk}/")
    assert response.status_code == 200
    assert resolve.call_count == 1
