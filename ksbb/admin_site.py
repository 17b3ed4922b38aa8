"""The admin site, with "view on site" held to the same rule as every other admin path.

Django's shortcut (/admin/r/<content type>/<id>/) redirects any staff member to any object's
get_absolute_url, without asking the object's admin. Here it answers only for an object that the
object's own admin lets this staff member view (area scoping included), and redirects to what that
admin names as its page on the site (PledgeAdmin names the public need page, never the donor's
private link).
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.http import Http404, HttpResponseRedirect
from django.urls import path


class KsbbAdminSite(admin.AdminSite):
    def get_urls(self):
        urls = super().get_urls()
        ours = path(
            "r/<path:content_type_id>/<path:object_id>/",
            self.admin_view(self.view_on_site),
            name="view_on_site",
        )
        return [ours, *(u for u in urls if getattr(u, "name", None) != "view_on_site")]

    def view_on_site(self, request, content_type_id, object_id):
        if not content_type_id.isdigit():
            raise Http404
        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except ContentType.DoesNotExist:
            raise Http404 from None
        model_admin = self._registry.get(model)
        if model_admin is None or not model_admin.view_on_site:
            raise Http404
        obj = model_admin.get_object(request, unquote(object_id))
        if obj is None or not model_admin.has_view_or_change_permission(request, obj):
            raise Http404
        if callable(model_admin.view_on_site):
            url = model_admin.view_on_site(obj)
        elif hasattr(obj, "get_absolute_url"):
            url = obj.get_absolute_url()
        else:
            raise Http404
        return HttpResponseRedirect(url)
