"""The subscriber's pages (docs/alerts.md): subscribe, "check your mail", confirm, manage (and the
data download), unsubscribe. No account: the links in the mails carry the subscription's token. Every
answer is the visitor's own (never_cache); none says whether an address is subscribed."""

import json

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from alerts import services
from alerts.forms import ChoicesForm, SubscribeForm
from alerts.models import Subscription
from ksbb.lib import languages, ratelimit

TOKEN_LENGTH = 43  # services.new_token()


def _find(token: str) -> Subscription | None:
    if len(token) != TOKEN_LENGTH:
        return None
    return Subscription.objects.filter(token=token).first()


def _gone(request):
    """A link whose subscription no longer exists (unsubscribed, erased, never confirmed)."""
    return render(request, "alerts/gone.html", status=404)


def _allowed(request, email: str) -> bool:
    """The form's limits, as the pledge form's: per client address, and per e-mail address (so
    nobody can have an address sent confirmation after confirmation)."""
    ok = ratelimit.allow(
        "alerts-ip", ratelimit.client_address(request), settings.KSBB_ALERTS_RATE_PER_ADDRESS
    )
    if email:
        ok = ratelimit.allow("alerts-email", email, settings.KSBB_ALERTS_RATE_PER_EMAIL) and ok
    return ok


@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request):
    form = SubscribeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        email = request.POST.get("email", "").strip().lower()[:254]
        if not _allowed(request, email):
            response = render(request, "alerts/rate_limited.html", status=429)
            response["Retry-After"] = "3600"
            return response
        if form.is_valid():
            if not form.is_spam:  # a bot is told what a person is, and nothing is written
                data = form.cleaned_data
                services.subscribe(
                    email=data["email"],
                    language=languages.current(),
                    frequency=data["frequency"],
                    regions=data["regions"],
                    categories=list(data["categories"]),
                )
            return redirect("alerts:check_mail")
    return render(request, "alerts/subscribe.html", {"form": form})


@never_cache
def check_mail(request):
    return render(request, "alerts/check_mail.html")


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    """GET shows a button, POST confirms: mail scanners open links, and must not confirm."""
    subscription = _find(token)
    if subscription is None:
        return _gone(request)
    if request.method == "POST":
        services.confirm(subscription)
        messages.success(request, _("Your alerts are on."))
        return redirect("alerts:manage", token=token)
    return render(
        request,
        "alerts/confirm.html",
        {"subscription": subscription, "choices": services.describe(subscription)},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request, token: str):
    subscription = _find(token)
    if subscription is None:
        return _gone(request)
    initial = {
        "regions": list(subscription.regions.values_list("code", flat=True)),
        "categories": list(subscription.categories.all()),
        "frequency": subscription.frequency,
    }
    form = ChoicesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.change(
            subscription,
            frequency=data["frequency"],
            regions=data["regions"],
            categories=list(data["categories"]),
        )
        messages.success(request, _("Your choices are saved."))
        return redirect("alerts:manage", token=token)
    return render(
        request,
        "alerts/manage.html",
        {"subscription": subscription, "form": form, "choices": services.describe(subscription)},
    )


@never_cache
def export(request, token: str):
    """Everything kept about the subscription, as JSON (services.export)."""
    subscription = _find(token)
    if subscription is None:
        return _gone(request)
    response = HttpResponse(
        json.dumps(services.export(subscription), ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="ksbb-peringatan.json"'
    return response


# The mail client's one-click POST (RFC 8058) carries no CSRF token, and needs none: it can only
# delete the subscription whose token it holds, which the token's holder may do anyway.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows one button; POST (the button, or the mail client's List-Unsubscribe-Post)
    deletes the subscription at once."""
    subscription = _find(token)
    if subscription is None:
        if request.method == "POST":  # already gone: the wish is fulfilled
            return render(request, "alerts/unsubscribed.html")
        return _gone(request)
    if request.method == "POST":
        services.unsubscribe(subscription)
        return render(request, "alerts/unsubscribed.html")
    return render(request, "alerts/unsubscribe.html", {"subscription": subscription})
