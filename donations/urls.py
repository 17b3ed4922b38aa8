from django.urls import path

from donations import views

app_name = "donations"
TOKEN = "<token:token>"
urlpatterns = [
    path("kebutuhan/<int:pk>/dukung/", views.pledge_create, name="pledge_create"),
    path("kebutuhan/<int:pk>/foto/<int:receipt>/", views.receipt_photo, name="receipt_photo"),
    path(f"komitmen/{TOKEN}/", views.pledge_status, name="pledge_status"),
    path(f"komitmen/{TOKEN}/batal/", views.pledge_cancel, name="pledge_cancel"),
    path(f"komitmen/{TOKEN}/perpanjang/", views.pledge_extend, name="pledge_extend"),
    path(f"komitmen/{TOKEN}/organisasi/", views.pledge_vetting, name="pledge_vetting"),
]
