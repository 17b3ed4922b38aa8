"""The contact person's private page: their site's needs and deliveries, through their link alone
(no account). Everything here is read and changed through the link's site, never by an id alone,
so one site's link can never reach another site's needs or deliveries."""

from django.conf import settings
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from donations import ratelimit
from donations import services as donation_services
from donations.models import Delivery, Pledge, PledgeStatus
from needs import services as need_services
from needs.models import Need, NeedSeries, NeedStatus, Proposal
from recipients import services
from recipients.forms import ChangeProposalForm, NewNeedProposalForm, ReceiptForm

SHOWN_NEED_STATUSES = [NeedStatus.OPEN, NeedStatus.PARTLY_PLEDGED, NeedStatus.FULLY_PLEDGED]
RECENT_DELIVERIES = 30
RECENT_PROPOSALS = 20
GONE = {"unknown": 404, "expired": 410, "revoked": 410, "unverified": 410}


def _private(response):
    # The token is in the address: no search engine keeps it, no link to another site carries it.
    # ("no-referrer" would also make the browser send `Origin: null` with the page's own forms,
    # which Django's CSRF check refuses.)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


def _open(request, token: str):
    """(link, None) for a good link, or (None, the page to answer instead): rate limited, or a
    link that is no more."""
    address = ratelimit.client_address(request)
    if ratelimit.exceeded(
        "contact-link-miss", address, settings.KSBB_CONTACT_LINK_MISSES_PER_ADDRESS
    ) or not ratelimit.allow("contact-link", address, settings.KSBB_CONTACT_LINK_RATE_PER_ADDRESS):
        response = render(request, "recipients/rate_limited.html", status=429)
        response["Retry-After"] = "3600"
        return None, _private(response)
    opening = services.open_link(token, record=request.method == "GET")
    if opening.state == "unknown":
        ratelimit.allow("contact-link-miss", address, settings.KSBB_CONTACT_LINK_MISSES_PER_ADDRESS)
    if not opening.ok:
        ctx = {"state": opening.state, "link": opening.link}
        response = render(request, "recipients/unavailable.html", ctx, status=GONE[opening.state])
        return None, _private(response)
    return opening.link, None


@never_cache
@require_http_methods(["GET", "HEAD"])
def home(request, token: str):
    link, refused = _open(request, token)
    if refused:
        return refused
    return _page(request, link)


def _page(request, link, bound=None, status: int = 200):
    """The site's page; `bound` is a form sent back with its errors (status 400), in its place."""
    site = link.contact.site
    needs = (
        Need.objects.published()
        .with_places()
        .filter(site=site, status__in=SHOWN_NEED_STATUSES)
        .order_by("period_start", "pk")
    )
    pledges = Pledge.objects.filter(need__site=site).select_related(
        "need__aid_type", "collaborator"
    )

    def form(cls, **kwargs):
        # The bound form where it was sent from, an empty one everywhere else.
        if isinstance(bound, cls) and all(getattr(bound, k) == v for k, v in kwargs.items()):
            return bound
        return cls(**kwargs)

    ctx = {
        "link": link,
        "contact": link.contact,
        "site": site,
        "needs": [(need, form(ChangeProposalForm, need=need)) for need in needs],
        "new_need_form": form(NewNeedProposalForm),
        "series": _series(site),
        "proposals": Proposal.objects.filter(site=site)
        .select_related("need", "aid_type")
        .order_by("-created_at")[:RECENT_PROPOSALS],
        "announced": pledges.filter(status=PledgeStatus.SCHEDULED)
        .select_related("scheduled_opd")
        .order_by("scheduled_for", "pk"),
        "deliveries": [
            (d, None if hasattr(d, "receipt") else form(ReceiptForm, delivery=d))
            for d in _deliveries(site)[:RECENT_DELIVERIES]
        ],
        "confirmed": request.GET.get("dikonfirmasi", ""),
        "answered": request.GET.get("diterima", ""),
        "proposed": request.GET.get("diusulkan", ""),
        "continued": request.GET.get("berulang", ""),
    }
    return _private(render(request, "recipients/site.html", ctx, status=status))


def _series(site) -> list[tuple]:
    """Each active recurring need of the site, its latest period, and whether the next one may be
    confirmed now."""
    newest_first = Prefetch("periods", queryset=Need.objects.order_by("-period_start"))
    rows = []
    for series in (
        NeedSeries.objects.filter(site=site, is_active=True)
        .select_related("aid_type")
        .prefetch_related(newest_first)
    ):
        latest = next(iter(series.periods.all()), None)
        rows.append((series, latest, need_services.next_period_due(series, latest)))
    return rows


def _deliveries(site):
    return (
        Delivery.objects.filter(pledge__need__site=site)
        .select_related("pledge__need__aid_type", "pledge__collaborator", "opd", "receipt")
        .order_by("-delivered_on", "-pk")
    )


def _submitted(request, link, form, act, done):
    """`form` validated, then `act(cleaned_data)` (a service call); its refusal is shown on the form
    (the page again, status 400, nothing written), its success answered with `done`."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except (need_services.NeedError, donation_services.PledgeError) as e:
            form.add_error(e.field if e.field in form.fields else None, e.message)
        else:
            return done
    return _page(request, link, bound=form, status=400)


@never_cache
@require_POST
def answer_delivery(request, token: str, pk: int):
    """The recipients' word on one delivery at their site: received, or what went wrong."""
    link, refused = _open(request, token)
    if refused:
        return refused
    delivery = get_object_or_404(_deliveries(link.contact.site), pk=pk)
    done = _back(token, "diterima", delivery.pk, f"delivery-{delivery.pk}")
    if hasattr(delivery, "receipt"):  # answered meanwhile (another phone, a second tap)
        return done
    return _submitted(
        request,
        link,
        ReceiptForm(request.POST, request.FILES, delivery=delivery),
        lambda data: donation_services.record_receipt(delivery, contact=link.contact, **data),
        done,
    )


@never_cache
@require_POST
def propose_change(request, token: str, pk: int):
    """A different quantity for one of the site's needs, or "no longer needed": for staff to decide."""
    link, refused = _open(request, token)
    if refused:
        return refused
    need = _site_need(link, pk)
    return _submitted(
        request,
        link,
        ChangeProposalForm(request.POST, need=need),
        lambda data: need_services.propose_change(need, contact=link.contact, **data),
        _back(token, "diusulkan", need.pk, "proposals"),
    )


@never_cache
@require_POST
def propose_need(request, token: str):
    """A new need at the site: for staff to decide."""
    link, refused = _open(request, token)
    if refused:
        return refused
    return _submitted(
        request,
        link,
        NewNeedProposalForm(request.POST),
        lambda data: need_services.propose_need(link.contact.site, contact=link.contact, **data),
        _back(token, "diusulkan", "baru", "proposals"),
    )


@never_cache
@require_POST
def continue_series(request, token: str, pk: int):
    """Still needed next period: the next period's need is made, confirmed by the recipient."""
    link, refused = _open(request, token)
    if refused:
        return refused
    series = get_object_or_404(NeedSeries, pk=pk, site=link.contact.site, is_active=True)
    try:
        need_services.continue_series(series, by_contact=True)
        done = str(series.pk)
    except need_services.NeedError:  # too early, or confirmed meanwhile
        done = "gagal"
    return _back(token, "berulang", done, f"series-{series.pk}")


def _site_need(link, pk: int) -> Need:
    """One of the link's site's needs as its page shows them; any other is a 404."""
    return get_object_or_404(
        Need.objects.published().filter(status__in=SHOWN_NEED_STATUSES),
        pk=pk,
        site=link.contact.site,
    )


def _back(token: str, key: str, value, anchor: str):
    url = reverse("recipients:home", args=[token])
    response = redirect(f"{url}?{key}={value}#{anchor}")
    response.status_code = 303  # see the page again, by GET
    return _private(response)


@never_cache
@require_POST
def confirm_need(request, token: str, pk: int):
    """One tap: the need is still needed."""
    link, refused = _open(request, token)
    if refused:
        return refused
    need = _site_need(link, pk)
    try:
        need_services.confirm(need, by_contact=True)
        done = str(need.pk)
    except need_services.NeedError:  # closed or fully pledged meanwhile
        done = "gagal"
    return _back(token, "dikonfirmasi", done, f"need-{need.pk}")
