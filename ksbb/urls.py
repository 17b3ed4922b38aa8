from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from donations import views as donations_views
from ksbb import views

admin.site.site_header = _("KSBB: Large-Scale Social Collaboration")
admin.site.site_title = _("KSBB admin")
admin.site.index_title = _("Staff work")

handler500 = "ksbb.errors.server_error"
handler400 = "ksbb.errors.bad_request"
handler404 = "ksbb.not_found.page_not_found"

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("needs.urls")),
    path("", include("donations.urls")),
    path("", include("transparency.urls")),
    path("kebutuhan/<int:pk>/", donations_views.need_detail, name="need_detail"),
    path("api/v1/", include("ksbb.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
# MEDIA_ROOT is never served by its file names: evidence photos go through a view that checks the
# staff member's area (DeliveryAdmin.evidence_view, ksbb.lib.private_files).
