"""Admin helpers any app's admin may use."""

import functools
import re

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html


def admin_link(obj) -> str:
    """A link to `obj`'s admin page, labelled with the object."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj)


def action_form_page(
    model_admin, request, queryset, form, title: str, action: str, extra: dict | None = None
):
    """The intermediate page of an admin action that asks for more than a click (a date, a reason,
    a note, a replacement); it posts back to the changelist with the same selection. `extra` adds
    to the template's context (`holding_pledges`: the pledges the decision is about)."""
    opts = model_admin.model._meta
    ctx = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": opts,
        "objects": queryset,
        "form": form,
        "action": action,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "from_change": request.POST.get("_from_change", ""),
        "post_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        **(extra or {}),
    }
    return TemplateResponse(request, "admin/ksbb_action_form.html", ctx)


def apply_to_each(
    model_admin, request, queryset, change, *, refused, success, name=str, done_name=None
) -> None:
    """An admin action's work: `change(obj)` (a service, one transaction) for each selected object
    in turn. A refusal (an exception of the `refused` classes) is an error message naming its
    object and leaves the others to proceed; then one message `success(", ".join(names))` for the
    objects that went through, each named by `done_name(obj, result)` (default: `name(obj)`)."""
    done = []
    for obj in queryset.order_by("pk"):
        try:
            result = change(obj)
        except refused as e:
            reason = getattr(e, "message", None) or str(e)
            model_admin.message_user(request, f"{name(obj)}: {reason}", messages.ERROR)
        else:
            done.append(done_name(obj, result) if done_name else name(obj))
    if done:
        model_admin.message_user(request, success(", ".join(done)), messages.SUCCESS)


@functools.cache
def _token_pattern(url_name: str, token_regex: str) -> re.Pattern:
    # The page's address up to its token, whatever the URLconf calls it.
    sample = "x" * 43
    prefix = reverse(url_name, args=[sample]).rsplit(sample, 1)[0]
    return re.compile(f"({re.escape(prefix)}){token_regex}")


def without_tokens(text: str, url_name: str, token_regex: str, blank: str) -> str:
    """`text` (a mail's or a message's body) with the token of every link to the private page
    `url_name` replaced by `blank`, so that no staff page leads to someone's private page."""
    return _token_pattern(url_name, token_regex).sub(lambda m: m.group(1) + blank, text)
