"""Staff's side of the contact persons' links: send, resend and revoke them from a contact person's
page or list (recipients.services), see each link's state and the messages that carried it. All of
it scoped to the staff member's area, like the contact persons themselves."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from donations.admin import ReadOnlyMixin
from donations.converters import TokenConverter
from donations.models import Delivery, Receipt
from ksbb.lib.admin import without_tokens
from locations.admin import ContactPersonAdmin, SiteAdmin
from locations.models import ContactPerson, Site
from locations.personal_data import PersonalDataAdminMixin
from locations.scoping import AreaScopedAdminMixin
from needs.models import Freshness, Need, Proposal
from recipients import services
from recipients.models import ContactLink, OutboundMessage

CONTACT_AREA = "contact__site__kelurahan__code"


def link_state(contact: ContactPerson) -> str:
    """Where `contact`'s latest link stands (from prefetched links and their messages)."""
    link = max(contact.links.all(), key=lambda link: link.created_at, default=None)
    return ContactLink.Status(link.status()).label if link else gettext("none sent")


def without_contact_links(text: str) -> str:
    """`text` with the token of every contact person's private link blanked."""
    blank = gettext("[the contact person's private key]")
    return without_tokens(text, "recipients:home", TokenConverter.regex, blank)


class ContactWithLinksAdmin(ContactPersonAdmin):
    """locations' contact persons admin, with their private links (this app depends on locations,
    never the other way)."""

    actions = [*ContactPersonAdmin.actions, "send_link", "revoke_link"]
    readonly_fields = [*ContactPersonAdmin.readonly_fields, "private_link"]
    list_display = [*ContactPersonAdmin.list_display, "private_link"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("links__messages")

    @admin.display(description=_("private link"))
    def private_link(self, contact):
        return link_state(contact)

    @admin.action(
        description=_("Send a private link (revokes the previous one)"), permissions=["change"]
    )
    def send_link(self, request, queryset):
        sent = []
        for contact in queryset.order_by("pk"):
            try:
                services.send_link(contact, by=request.user)
            except services.LinkError as e:
                self.message_user(request, f"{contact}: {e}", messages.ERROR)
            else:
                sent.append(str(contact))
        if sent:
            self.message_user(
                request,
                gettext("Private link queued for: %(contacts)s.") % {"contacts": ", ".join(sent)},
                messages.SUCCESS,
            )

    @admin.action(description=_("Revoke the private link"), permissions=["change"])
    def revoke_link(self, request, queryset):
        ended = sum(services.revoke_link(c, by=request.user) for c in queryset.order_by("pk"))
        self.message_user(
            request,
            gettext("%(count)s private link(s) revoked.") % {"count": ended},
            messages.SUCCESS,
        )


admin.site.unregister(ContactPerson)
admin.site.register(ContactPerson, ContactWithLinksAdmin)


class SiteWithRecipientsAdmin(SiteAdmin):
    """locations' sites admin, with what the site's recipients say, in one place on its page."""

    readonly_fields = [*SiteAdmin.readonly_fields, "what_the_recipients_say"]

    @admin.display(description=_("what the recipients say"))
    def what_the_recipients_say(self, site):
        if not site.pk:
            return "–"
        needs = Need.objects.filter(site=site)
        receipts = Receipt.objects.filter(delivery__pledge__need__site=site)
        waiting = Delivery.objects.filter(pledge__need__site=site, receipt__isnull=True)
        links = [
            (c.name, c.get_verification_status_display(), link_state(c))
            for c in site.contacts.prefetch_related("links__messages").order_by("name")
        ]
        needs_url = reverse("admin:needs_need_changelist")
        rows = [
            (
                f"{needs_url}?site__id__exact={site.pk}&freshness=awaiting",
                gettext("needs awaiting reconfirmation"),
                needs.by_freshness(Freshness.AWAITING).count(),
            ),
            (
                f"{needs_url}?site__id__exact={site.pk}&freshness=paused",
                gettext("needs paused until reconfirmed"),
                needs.by_freshness(Freshness.PAUSED).count(),
            ),
            (
                reverse("admin:needs_proposal_changelist")
                + f"?status__exact=pending&site__id__exact={site.pk}",
                gettext("proposals waiting"),
                Proposal.objects.pending().filter(site=site).count(),
            ),
            (
                reverse("admin:donations_receipt_changelist") + "?dispute=open",
                gettext("disputes not yet resolved"),
                receipts.open_disputes().count(),
            ),
            (
                reverse("admin:donations_delivery_changelist"),
                gettext("deliveries without the recipients' word"),
                waiting.count(),
            ),
        ]
        return format_html(
            "<ul>{}</ul><ul>{}</ul>",
            format_html_join("", '<li><a href="{}">{}</a>: {}</li>', rows),
            format_html_join("", "<li>{} ({}): {}</li>", links)
            or format_html("<li>{}</li>", gettext("no contact person")),
        )


admin.site.unregister(Site)
admin.site.register(Site, SiteWithRecipientsAdmin)


@admin.register(ContactLink)
class ContactLinkAdmin(AreaScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Every link given to a contact person, and where it stands. Written by recipients.services
    only; its token is nowhere (only a digest), so no staff page can lead to it."""

    area_lookup = CONTACT_AREA
    list_display = [
        "contact",
        "site",
        "channel",
        "created_at",
        "expires_at",
        "state",
        "first_opened_at",
        "last_opened_at",
        "revoked_at",
    ]
    list_filter = ["channel", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["contact__site__kelurahan"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("messages")

    search_fields = ["contact__name", "contact__site__name"]
    fields = [
        "contact",
        "channel",
        "created_at",
        "created_by",
        "expires_at",
        "state",
        "first_opened_at",
        "last_opened_at",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
    ]
    readonly_fields = fields

    @admin.display(description=_("site"))
    def site(self, link):
        return link.contact.site

    @admin.display(description=_("status"))
    def state(self, link):
        return ContactLink.Status(link.status()).label


@admin.register(OutboundMessage)
class OutboundMessageAdmin(
    PersonalDataAdminMixin, AreaScopedAdminMixin, ReadOnlyMixin, admin.ModelAdmin
):
    """The messages to contact persons: sent, or waiting for their retry (`manage.py
    send_queued_messages`). The number or address is personal data; a private link in a body is
    blanked, so no staff page leads to it."""

    area_lookup = CONTACT_AREA
    personal_fields = ("to",)
    personal_search_fields = ("to",)
    list_display = ["created_at", "channel", "contact", "sent_at", "attempts", "last_error"]
    list_filter = ["channel", ("sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["contact"]
    search_fields = ["contact__name"]
    fields = [
        "channel",
        "to",
        "contact",
        "subject",
        "body_without_links",
        "created_at",
        "sent_at",
        "attempts",
        "last_error",
        "provider_ref",
    ]
    readonly_fields = fields

    def personal_records(self, request, message):
        shown = super().personal_records(request, message)
        return [message.contact] if shown and message.contact else []

    @admin.display(description=_("body"))
    def body_without_links(self, message):
        return without_contact_links(message.body)
