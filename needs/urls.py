from django.urls import path

from needs import views

app_name = "needs"
urlpatterns = [
    path("peta/", views.need_map, name="need_map"),
    path("peta/cakupan/", views.need_coverage, name="need_coverage"),
]
