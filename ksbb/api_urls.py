"""`/api/v1/`: the public read API, its OpenAPI schema and its browsable docs (assets served locally)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework.routers import DefaultRouter

from donations import api as donations_api
from locations.api import RegionViewSet
from needs.api import AidTypeViewSet, CategoryViewSet, NeedViewSet

router = DefaultRouter()
router.register("needs", NeedViewSet, basename="need")
router.register("regions", RegionViewSet, basename="region")
router.register("categories", CategoryViewSet, basename="category")
router.register("aid-types", AidTypeViewSet, basename="aidtype")

urlpatterns = [
    path("", include(router.urls)),
    path("pledges/", donations_api.pledge_create, name="api-pledge-create"),
    path("pledges/<token:token>/", donations_api.pledge_detail, name="api-pledge-detail"),
    path("pledges/<token:token>/cancel/", donations_api.pledge_cancel, name="api-pledge-cancel"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
]
