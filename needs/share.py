"""What a need looks like when its link is shared (WhatsApp, social media): the words of its card
and its preview image, from the need's own public fields only (title, place, category, aid type,
counters). Never a contact person, a donor or anything else personal: the card is public, cached,
and travels beyond the portal.

The words are defined once (`card_text`): the page's Open Graph and Twitter tags and the image both
use them, in the reader's language.
"""

import io
import textwrap

from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from needs.models import Need

WIDTH, HEIGHT = 1200, 630  # what Open Graph and WhatsApp previews expect (1.91:1)
MARGIN = 60
INK = "#1f2933"
MUTED = "#52606d"
TRACK = "#e4e7eb"


def card_text(need: Need) -> dict[str, str]:
    """`need` as its card says it, in the active language. `need` comes with_places()."""
    kelurahan = need.site.kelurahan
    kota = kelurahan.parent.parent if kelurahan.parent_id else None
    place = ", ".join(
        p for p in (need.site.name, kelurahan.display_name, kota and kota.display_name) if p
    )
    if need.is_pledgeable:
        remaining = _("%(remaining)s of %(needed)s %(unit)s still needed") % {
            "remaining": need.quantity_remaining,
            "needed": need.quantity_needed,
            "unit": need.aid_type.unit,
        }
    else:
        remaining = str(need.status_label)
    pledged, delivered = (
        _percent(need.quantity_pledged, need),
        _percent(need.quantity_delivered, need),
    )
    return {
        "kicker": f"KSBB {need.aid_type.category.name} · {need.aid_type.name}",
        "title": need.title,
        "place": place,
        "remaining": remaining,
        "progress": _("%(pledged)s%% pledged · %(delivered)s%% delivered")
        % {"pledged": pledged, "delivered": delivered},
        "footer": _("KSBB · Large-scale social collaboration, Jakarta"),
        "description": f"{place} · {remaining}",
    }


def _percent(quantity: int, need: Need) -> int:
    return min(100, round(100 * quantity / need.quantity_needed)) if need.quantity_needed else 0


def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's own scalable font: bundled with it, so the card needs no font installed.
    return ImageFont.load_default(size=size)


def _lines(draw: ImageDraw.ImageDraw, text: str, font, width: int, most: int) -> list[str]:
    """`text` wrapped to `width` pixels, at most `most` lines (the last cut with an ellipsis)."""
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    if len(lines) > most:
        lines = lines[:most]
        last = lines[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def card_png(need: Need) -> bytes:
    """The preview image, 1200×630 PNG, in the active language: the category's colour, the title,
    the place, what is still needed and a progress bar (pledged, and delivered within it)."""
    text = card_text(need)
    colour = need.aid_type.category.color
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    draw.rectangle([0, 0, WIDTH, 22], fill=colour)
    y = 60
    draw.text((MARGIN, y), textwrap.shorten(text["kicker"], 70), font=_font(32), fill=MUTED)
    y += 58
    title_font = _font(58)
    for line in _lines(draw, text["title"], title_font, inner, 2):
        draw.text((MARGIN, y), line, font=title_font, fill=INK)
        y += 70
    place_font = _font(32)
    for line in _lines(draw, text["place"], place_font, inner, 1):
        draw.text((MARGIN, y + 6), line, font=place_font, fill=MUTED)
    y = 360
    for line in _lines(draw, text["remaining"], _font(50), inner, 1):
        draw.text((MARGIN, y), line, font=_font(50), fill=INK)
    bar_top, bar_bottom = 450, 494
    draw.rounded_rectangle([MARGIN, bar_top, WIDTH - MARGIN, bar_bottom], 22, fill=TRACK)
    for quantity, fill in ((need.quantity_pledged, colour), (need.quantity_delivered, INK)):
        share = _percent(quantity, need)
        if share:
            right = MARGIN + max(44, inner * share // 100)
            draw.rounded_rectangle([MARGIN, bar_top, right, bar_bottom], 22, fill=fill)
    draw.text((MARGIN, 512), text["progress"], font=_font(30), fill=INK)
    draw.text((MARGIN, HEIGHT - 58), text["footer"], font=_font(26), fill=MUTED)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
