from django.urls import path

from alerts import views

app_name = "alerts"
TOKEN = "<slug:token>"
urlpatterns = [
    path("peringatan/", views.subscribe, name="subscribe"),
    path("peringatan/periksa-surel/", views.check_mail, name="check_mail"),
    path(f"peringatan/{TOKEN}/", views.manage, name="manage"),
    path(f"peringatan/{TOKEN}/konfirmasi/", views.confirm, name="confirm"),
    path(f"peringatan/{TOKEN}/berhenti/", views.unsubscribe, name="unsubscribe"),
    path(f"peringatan/{TOKEN}/data.json", views.export, name="export"),
]
