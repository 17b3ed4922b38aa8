"""A donor's own pages (docs/pledges.md, "Receipts" and "A donor's own page"): the receipt of a
pledge, and, through a short-lived link mailed on request, the page listing all their pledges with
a yearly summary, everything the portal holds about them, and their erasure request. Every answer
is private: never kept by a cache, never indexed."""

import functools
import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from donations import donor_export, donor_links, ratelimit, receipts, services
from donations.forms import DonorErasureForm, DonorLinkForm
from donations.models import Collaborator
from ksbb.lib import languages

NOINDEX = "noindex, nofollow"


def _language(request) -> str:
    """The document's language: `?lang=` when it names one of the portal's, else the page's."""
    asked = request.GET.get("lang", "")
    return asked if asked in dict(settings.LANGUAGES) else languages.current()


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = NOINDEX
    return response


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _private(response)


@never_cache
def pledge_receipt(request, token: str):
    """The receipt of a pledge, from the donor's private page, once something of it was delivered."""
    pledge = receipts.receipt_pledges().filter(token=token).first()
    if pledge is None or not receipts.has_receipt(pledge):
        raise Http404
    language = _language(request)
    data = receipts.pledge_receipt(pledge, language=language)
    return _pdf(data, f"ksbb-receipt-{pledge.pk}-{language}.pdf")


@never_cache
def donor_access(request):
    """Where a returning donor asks for the link to their own page. The answer is the same whether
    the address is known or not."""
    form = DonorLinkForm(request.POST or None)
    if request.method == "POST":
        if not ratelimit.donor_link_allowed(request, request.POST.get("email")):
            response = render(request, "donations/donor_rate_limited.html", status=429)
            response["Retry-After"] = "600"
            return response
        if form.is_spam:
            return _private(render(request, "donations/donor_link_sent.html"))
        if form.is_valid():
            services.send_donor_link(form.cleaned_data["email"], language=_language(request))
            return _private(render(request, "donations/donor_link_sent.html"))
    status = 400 if form.errors else 200
    return _private(render(request, "donations/donor_access.html", {"form": form}, status=status))


def _expired(request) -> HttpResponse:
    ctx = {"form": DonorLinkForm(), "expired": True}
    return _private(render(request, "donations/donor_access.html", ctx, status=410))


def _donor_view(view):
    """A page behind a donor's link: the collaborator the link opens is passed on after the
    key; a forged, expired or outdated link gets the form to ask for a new one (410)."""

    @functools.wraps(view)
    def wrapped(request, key: str, **kwargs):
        collaborator = donor_links.read_key(key)
        if collaborator is None:
            return _expired(request)
        return view(request, key, collaborator, **kwargs)

    return never_cache(wrapped)


@_donor_view
def donor_page(request, key: str, collaborator: Collaborator):
    return _donor_page(request, key, collaborator)


def _donor_page(request, key, collaborator, *, erasure_form=None, status=200):
    pledges = list(collaborator.pledges.with_places())
    ctx = {
        "collaborator": collaborator,
        "key": key,
        "pledges": pledges,
        "years": receipts.delivery_years(collaborator),
        "erasure": collaborator.erasure_requests.filter(completed_at=None).first(),
        # services.running_pledges, read from the pledges at hand
        "running": sum(pledge.is_holding for pledge in pledges),
        "erasure_form": erasure_form or DonorErasureForm(),
        "minutes": settings.KSBB_DONOR_LINK_MINUTES,
    }
    return _private(render(request, "donations/donor_page.html", ctx, status=status))


@_donor_view
def donor_summary(request, key: str, collaborator: Collaborator, year: int):
    if year not in receipts.delivery_years(collaborator):
        raise Http404
    language = _language(request)
    data = receipts.yearly_summary(collaborator, year, language=language)
    return _pdf(data, f"ksbb-summary-{year}-{language}.pdf")


@_donor_view
def donor_data(request, key: str, collaborator: Collaborator):
    """Everything the portal holds about the donor, as JSON (donations.donor_export)."""
    body = json.dumps(donor_export.export(collaborator), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ksbb-my-data.json"'
    return _private(response)


@never_cache
@require_POST
@_donor_view
def donor_erasure(request, key: str, collaborator: Collaborator):
    form = DonorErasureForm(request.POST)
    if not form.is_valid():
        return _donor_page(request, key, collaborator, erasure_form=form, status=400)
    try:
        erasure = services.request_erasure(collaborator)
    except services.PledgeError as e:
        messages.error(request, e.message)
        return redirect("donations:donor_page", key)
    if erasure.is_open:
        messages.success(
            request,
            _(
                "Your request is recorded. Staff will erase your data as soon as your pledges "
                "in progress no longer need them to reach you."
            ),
        )
        return redirect("donations:donor_page", key)
    return _private(render(request, "donations/donor_erased.html"))
