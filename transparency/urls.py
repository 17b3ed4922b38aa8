from django.urls import path

from transparency import ledger_views, pledge_record, views

app_name = "transparency"
urlpatterns = [
    path("transparansi/", views.transparency, name="transparency"),
    path("transparansi/komitmen/<int:pk>/", pledge_record.pledge_record, name="pledge_record"),
    path("transparansi/data/<slug:dataset>.<str:fmt>", views.open_data, name="open_data"),
    path("transparansi/buku-besar.jsonl", ledger_views.ledger, name="ledger"),
    path("transparansi/buku-besar/<str:day>.jsonl", ledger_views.ledger_day, name="ledger_day"),
    path(
        "transparansi/buku-besar/verify_ledger.py",
        ledger_views.ledger_verifier,
        name="ledger_verifier",
    ),
]
