from django.shortcuts import render

from ksbb.lib import snapshots
from transparency import figures


def home(request):
    """What KSBB is, with its headline figures (transparency.figures, as everywhere else)."""
    ctx = snapshots.snapshot("home", (), figures.home_figures)
    return render(request, "ksbb/home.html", ctx)
