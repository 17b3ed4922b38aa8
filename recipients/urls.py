from django.urls import path

from recipients import views

app_name = "recipients"
TOKEN = "<token:token>"
urlpatterns = [
    path(f"narahubung/{TOKEN}/", views.home, name="home"),
    path(
        f"narahubung/{TOKEN}/kebutuhan/<int:pk>/masih-dibutuhkan/",
        views.confirm_need,
        name="confirm_need",
    ),
    path(
        f"narahubung/{TOKEN}/kebutuhan/<int:pk>/usul/", views.propose_change, name="propose_change"
    ),
    path(f"narahubung/{TOKEN}/usul-kebutuhan/", views.propose_need, name="propose_need"),
    path(f"narahubung/{TOKEN}/berulang/<int:pk>/", views.continue_series, name="continue_series"),
    path(
        f"narahubung/{TOKEN}/penyaluran/<int:pk>/",
        views.answer_delivery,
        name="answer_delivery",
    ),
]
