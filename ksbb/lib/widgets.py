"""Form widgets the public pages render on every visit."""

import functools

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


class QuickSelect(forms.Select):
    """A <select> written in Python, with the same markup as Django's template-rendered one.

    Django renders each <option> through a template of its own: the map's filter form, with its
    267 kelurahan, 44 kecamatan and the aid types, spent ~35 ms of every map page on that alone.
    A list without groups goes further: its options' markup is written once and reused while the
    options stay the same (the map's lists come from a cache, needs.filters.offered_choices).
    """

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.choices)
        if not self.allow_multiple_selected and not any(
            isinstance(label, (list, tuple)) for _, label in choices
        ):
            flat = tuple((str(v), str(label)) for v, label in choices)
            return self._render_flat(name, value, attrs, flat)
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], _attrs(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('<optgroup label="{}">', group_name))
            parts.append(
                format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    ((o["value"], _attrs(o["attrs"]), o["label"]) for o in options),
                )
            )
            if group_name:
                parts.append(mark_safe("</optgroup>"))
        parts.append(mark_safe("</select>"))
        return mark_safe("".join(parts))

    def _render_flat(self, name, value, attrs, choices: tuple) -> str:
        """A list without groups: its options written once (_options) for as long as they are the
        same, then only the selected one marked. The map's filter form writes 330 options a page."""
        selected = self.format_value(value)
        parts = [
            format_html('<select name="{}"{}>', name, _attrs(self.build_attrs(self.attrs, attrs)))
        ]
        marked = False
        for option_value, html in _options(choices):
            if not marked and option_value in selected:
                parts.append(html.replace(">", " selected>", 1))
                marked = True
            else:
                parts.append(html)
        parts.append("</select>")
        return mark_safe("".join(parts))


@functools.lru_cache(maxsize=128)
def _options(choices: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Each option's markup, escaped, unselected: (value, '<option value="…">label</option>')."""
    return tuple(
        (value, format_html('<option value="{}">{}</option>', value, label))
        for value, label in choices
    )


def _attrs(attrs: dict) -> str:
    """Attributes in their given order, as django/forms/widgets/attrs.html writes them (flatatt
    would sort them): True bare, False left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )
