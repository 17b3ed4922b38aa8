from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from donations import views as donations_views
from ksbb import health, metrics, views
from needs import views as needs_views

admin.site.site_header = _("KSBB: Large-Scale Social Collaboration")
admin.site.site_title = _("KSBB admin")
admin.site.index_title = _("Staff work")

handler500 = "ksbb.errors.server_error"
handler400 = "ksbb.errors.bad_request"
handler404 = "ksbb.not_found.page_not_found"

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("needs.urls")),
    path("", include("alerts.urls")),
    path("", include("donations.urls")),
    path("", include("recipients.urls")),
    path("", include("transparency.urls")),
    path("kebutuhan/<int:pk>/", donations_views.need_detail, name="need_detail"),
    path("kebutuhan/<int:pk>/kartu-<str:lang>.png", needs_views.need_card, name="need_card"),
    path("api/v1/", include("ksbb.api_urls")),
    # The language form on every page posts here without a CSRF token (ksbb.views.set_language).
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    # For load balancers and monitoring (docs/deploy.md): no language prefix, no personal data.
    path("health/live/", health.live, name="health_live"),
    path("health/serving/", health.serving, name="health_serving"),
    path("health/ready/", health.ready, name="health_ready"),
    # Prometheus; only to KSBB_METRICS_ALLOWED_ADDRESSES or KSBB_METRICS_TOKEN (ksbb.metrics).
    path("metrics", metrics.metrics, name="metrics"),
]
# MEDIA_ROOT is never served by its file names: evidence photos go through a view that checks the
# staff member's area (DeliveryAdmin.evidence_view, ksbb.lib.private_files).
