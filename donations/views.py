from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from donations import holds, ratelimit, services, vetting
from donations.forms import PledgeForm, VettingRequestForm
from donations.models import (
    HOLDING_STATUSES,
    Delivery,
    Pledge,
    PledgeStatus,
    Receipt,
)
from ksbb.lib import languages
from ksbb.lib.http_cache import revalidated_page
from ksbb.lib.private_files import private_file_response
from needs import coverage, share
from needs.caching import need_version
from needs.models import Need

PUBLIC_PLEDGE_STATUSES = [*HOLDING_STATUSES, PledgeStatus.DELIVERED]
COLLABORATORS_PER_PAGE = 25
# "This pledge is new", from the form to the private page it sends the donor to: only the browser
# that made the pledge is told where its link went (the donor's e-mail address).
NEW_PLEDGE_COOKIE = "ksbb_new_pledge"
NEW_PLEDGE_SALT = "donations.new-pledge"
NEW_PLEDGE_SECONDS = 600


def _need_page_version(request, pk: int) -> str | None:
    """What the need's page shows, read before it is made (ksbb.lib.http_cache): the need's version
    (needs.caching.need_version), which this app's triggers (donations migration 0018) move with
    its pledges, their collaborators' public names, its deliveries, their OPDs and what the
    recipients said. A pledge changes it, so the page is never served from before."""
    return need_version(pk)


@revalidated_page(_need_page_version)
def need_detail(request, pk: int):
    """A need's public page. It lives here, not in `needs`, because it lists the need's pledges
    (by public name or "Anonim" only) and leads into the pledge flow."""
    pledges = Pledge.objects.filter(status__in=PUBLIC_PLEDGE_STATUSES).select_related(
        "collaborator"
    )
    need = get_object_or_404(
        Need.objects.published()
        .with_places()
        .prefetch_related(Prefetch("pledges", queryset=pledges, to_attr="public_pledges")),
        pk=pk,
    )
    deliveries = (
        Delivery.objects.filter(pledge__need=need)
        .select_related("pledge__collaborator", "opd", "receipt")
        .order_by("delivered_on", "pk")
    )
    ctx = {
        "need": need,
        "deliveries": deliveries,
        "hierarchy": need.site.kelurahan.ancestors(),
        "pledged_percent": round(100 * need.quantity_pledged / need.quantity_needed),
        "delivered_percent": round(100 * need.quantity_delivered / need.quantity_needed),
        "share": _share(need),
        # The same figures the map's "unmet need" shading sums (needs.coverage).
        "uncovered": coverage.of_need(need),
    }
    return render(request, "donations/need_detail.html", ctx)


def _share(need: Need) -> dict:
    """The need's link, card and WhatsApp message (needs.share), at the portal's public address
    (KSBB_BASE_URL, never the request's Host header), in the reader's language."""
    lang = languages.current()
    base = settings.KSBB_BASE_URL.rstrip("/")
    url = base + need.get_absolute_url()
    text = share.card_text(need)
    message = f"{text['title']} ({text['place']}): {text['remaining']}. {url}"
    return {
        "url": url,
        "image": base + reverse("need_card", args=[need.pk, lang]),
        "locale": "id_ID" if lang == "id" else "en_US",
        "text": text,
        "whatsapp": "https://wa.me/?" + urlencode({"text": message}),
    }


def receipt_photo(request, pk: int, receipt: int):
    """A photo the recipients chose to show with their receipt of a delivery to need `pk`; any
    other (private, another need's, an unpublished need's) is a 404."""
    found = get_object_or_404(
        Receipt.objects.filter(photo_public=True).exclude(photo=""),
        pk=receipt,
        delivery__pledge__need_id=pk,
        delivery__pledge__need__published=True,
    )
    return private_file_response(found.photo, public=True)


def _pledgeable_need(pk: int) -> Need:
    return get_object_or_404(Need.objects.published().with_site(), pk=pk)


def _rate_limited(request):
    response = render(request, "donations/rate_limited.html", status=429)
    response["Retry-After"] = "600"
    return response


@never_cache
def pledge_create(request, pk: int):
    """The pledge form. A donor who loses a race to the last units gets the form back with what remains."""
    need = _pledgeable_need(pk)
    overlaps = Need.objects.overlapping(need).select_related("aid_type")
    if request.method != "POST" and not need.is_pledgeable:
        messages.info(request, _("This need no longer accepts pledges."))
        return redirect(need)
    form = PledgeForm(request.POST or None, need=need)
    if request.method == "POST":
        # The same form sent again (a second tap, nginx passing the POST on after an app server
        # died): the pledge it made, whatever the need holds now and before any limit counts it.
        made = services.pledge_made_by(need.pk, request.POST.get("submission"))
        if made is not None:
            return _pledged(request, made)
        if not ratelimit.pledge_allowed(request, request.POST.get("email")):
            return _rate_limited(request)
        if form.is_spam:
            # Answer as if it worked, so the bot learns nothing; write nothing.
            return render(request, "donations/pledge_received.html", {"need": need})
        if form.is_valid():
            try:
                pledge = form.save(language=get_language())
            except services.PledgeError as e:
                # Another donor got there first: validate again against what remains now.
                need.refresh_from_db()
                form = PledgeForm(request.POST, need=need)
                field = e.field if e.field in form.fields else None
                if form.is_valid() or field not in form.errors:
                    form.add_error(field, e.message)
            else:
                return _pledged(request, pledge)
    ctx = {"need": need, "form": form, "overlaps": overlaps}
    return render(request, "donations/pledge_form.html", ctx)


def _pledged(request, pledge: Pledge):
    """To the private page, carrying "new" in a signed cookie sent to that page alone. Not in the
    session: that wrote a row per pledge and deleted it on the next page (7 queries), and its cookie
    went with the donor's public pages, past every shared cache."""
    messages.success(request, _("Thank you! Your pledge is recorded."))
    response = redirect(pledge.private_url())
    response.set_signed_cookie(
        NEW_PLEDGE_COOKIE,
        str(pledge.pk),
        salt=NEW_PLEDGE_SALT,
        max_age=NEW_PLEDGE_SECONDS,
        path=pledge.private_url(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _private_pledge(token: str) -> Pledge:
    return get_object_or_404(
        Pledge.objects.select_related(
            "need__site__kelurahan", "need__aid_type__category", "collaborator"
        ).defer("need__site__kelurahan__boundary"),
        token=token,
    )


def _pledge_page(request, pledge: Pledge, *, is_new=False, vetting_form=None, status=200):
    collaborator = pledge.collaborator
    asks_vetting = collaborator.is_organisation and collaborator.erased_at is None
    ctx = {
        "pledge": pledge,
        "need": pledge.need,
        "events": pledge.events.all(),
        "can_cancel": services.S.CANCELLED in services.TRANSITIONS[pledge.status],
        "is_new": is_new,
        "asks_vetting": asks_vetting,
        "awaits_vetting": asks_vetting
        and pledge.is_holding
        and vetting.awaits(collaborator, pledge.quantity, pledge.need.aid_type),
        "vetting_form": vetting_form or VettingRequestForm(),
        **_hold(pledge),
    }
    response = render(request, "donations/pledge_status.html", ctx, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
def pledge_status(request, token: str):
    """The donor's private page: status, history, cancel while nothing is delivered, and for an
    organisation its vetting (what to send, and where it stands)."""
    pledge = _private_pledge(token)
    made_here = request.get_signed_cookie(
        NEW_PLEDGE_COOKIE, default=None, salt=NEW_PLEDGE_SALT, max_age=NEW_PLEDGE_SECONDS
    )
    response = _pledge_page(request, pledge, is_new=made_here == str(pledge.pk))
    if NEW_PLEDGE_COOKIE in request.COOKIES:  # said once: seen again, the page is not new
        response.delete_cookie(NEW_PLEDGE_COOKIE, path=request.path, samesite="Lax")
    return response


@never_cache
@require_POST
def pledge_vetting(request, token: str):
    """An organisation sends its legal identity and statement letter (services.submit_vetting).
    What is refused comes back on the page, on its field, and nothing is kept."""
    pledge = _private_pledge(token)
    form = VettingRequestForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.submit_vetting(
                pledge.collaborator,
                legal_id=form.cleaned_data["legal_id"],
                letter=form.cleaned_data["statement_letter"],
            )
        except services.PledgeError as e:
            if e.field not in form.fields:
                # Not about what was typed (an individual, an organisation already verified):
                # the page says so at its top.
                messages.error(request, e.message)
                return redirect(pledge.private_url())
            form.add_error(e.field, e.message)
        else:
            messages.success(
                request, _("Thank you! Staff will vet your organisation and tell you by e-mail.")
            )
            return redirect(pledge.private_url())
    return _pledge_page(request, pledge, vetting_form=form, status=400)


def _hold(pledge: Pledge) -> dict:
    """What the donor's page says about the hold: its deadline, and whether (and to when) the one
    extension can move it. Reading the page never changes it (mail scanners open links)."""
    if not pledge.is_holding:
        return {}
    now = timezone.now()
    category = pledge.need.aid_type.category
    can_extend = pledge.extended_at is None and pledge.hold_until > now
    return {
        "hold_until": pledge.hold_until,
        "hold_passed": pledge.hold_until <= now,
        "can_extend": can_extend,
        "extended_until": pledge.hold_until + holds.rule_length(pledge.status, category)
        if can_extend
        else None,
    }


@require_POST
def pledge_extend(request, token: str):
    """The donor's "still on it": extends the hold once (services.extend_hold). POST only."""
    pledge = get_object_or_404(Pledge, token=token)
    try:
        pledge = services.extend_hold(pledge, actor=services.DONOR)
    except services.PledgeError as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request,
            _("Thank you! Your pledge is held for you until %(until)s.")
            % {"until": holds.when(pledge.hold_until)},
        )
    return redirect(pledge.private_url())


@require_POST
def pledge_cancel(request, token: str):
    pledge = get_object_or_404(Pledge, token=token)
    try:
        services.cancel(pledge, actor=services.DONOR, reason=request.POST.get("reason", "")[:500])
    except services.PledgeError as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request, _("Your pledge is cancelled; its quantity is free for others again.")
        )
    return redirect(pledge.private_url())
