from django.urls import path

from donations import donor_views, views

app_name = "donations"
TOKEN = "<token:token>"
DONOR = "donatur/<str:key>"
urlpatterns = [
    path("kebutuhan/<int:pk>/dukung/", views.pledge_create, name="pledge_create"),
    path("kebutuhan/<int:pk>/foto/<int:receipt>/", views.receipt_photo, name="receipt_photo"),
    path(f"komitmen/{TOKEN}/", views.pledge_status, name="pledge_status"),
    path(f"komitmen/{TOKEN}/batal/", views.pledge_cancel, name="pledge_cancel"),
    path(f"komitmen/{TOKEN}/perpanjang/", views.pledge_extend, name="pledge_extend"),
    path(f"komitmen/{TOKEN}/organisasi/", views.pledge_vetting, name="pledge_vetting"),
    path(f"komitmen/{TOKEN}/kuitansi.pdf", donor_views.pledge_receipt, name="pledge_receipt"),
    path("donatur/", donor_views.donor_access, name="donor_access"),
    path(f"{DONOR}/", donor_views.donor_page, name="donor_page"),
    path(f"{DONOR}/ringkasan-<int:year>.pdf", donor_views.donor_summary, name="donor_summary"),
    path(f"{DONOR}/data.json", donor_views.donor_data, name="donor_data"),
    path(f"{DONOR}/hapus/", donor_views.donor_erasure, name="donor_erasure"),
]
