"""QuickSelect writes the same <select> as Django's template-rendered one, only faster."""

import re

import pytest
from django import forms
from django.http import QueryDict

from ksbb.lib.widgets import QuickSelect
from needs.filters import NeedFilter


def same_markup(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


CHOICES = [
    ("", "All"),
    ("a", 'Tom & "Jerry" <b>'),
    ("Group <1>", [("g1", "First"), ("g2", "Second")]),
    (3, "Three"),
]


@pytest.mark.parametrize("value", [None, "", "a", "g2", 3, "not offered"])
def test_the_markup_is_djangos_own(value):
    attrs = {"id": "id_x", "aria-describedby": "x-help", "required": True, "disabled": False}
    quick = QuickSelect(choices=CHOICES).render("x", value, attrs)
    django = forms.Select(choices=CHOICES).render("x", value, attrs)
    assert same_markup(quick) == same_markup(django)


def test_labels_and_values_are_escaped():
    html = QuickSelect(choices=[('"><script>', "<img src=x onerror=alert(1)>")]).render("x", None)
    assert "<script>" not in html and "<img" not in html
    assert "&quot;&gt;&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize(
    "query", ["", "kota=31.71&category=pangan", "kota=31.71&kecamatan=31.71.01&site_kind=rw"]
)
def test_the_map_filters_render_as_before(jakarta, query):
    needs = NeedFilter(QueryDict(query))
    selects = [n for n, f in needs.form.fields.items() if isinstance(f.widget, QuickSelect)]
    assert set(selects) == {"category", "aid_type", "kota", "kecamatan", "kelurahan", "site_kind"}
    for name in selects:
        quick = str(needs.form[name])
        widget = needs.form.fields[name].widget
        plain = forms.Select(attrs=widget.attrs, choices=widget.choices)
        django = plain.render(name, needs.form[name].value(), {"id": f"id_{name}"})
        assert same_markup(quick) == same_markup(django), name
