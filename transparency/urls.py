from django.urls import path

from transparency import views

app_name = "transparency"
urlpatterns = [
    path("transparansi/", views.transparency, name="transparency"),
    path("transparansi/data/<slug:dataset>.<str:fmt>", views.open_data, name="open_data"),
]
