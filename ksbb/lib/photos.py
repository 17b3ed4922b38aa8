"""Photos people upload, made safe to keep: decoded and encoded again, so that only pixels remain.

A phone's photo carries more than the picture: EXIF with the GPS position where it was taken (a
recipient's home), the camera's make, model and serial number, the time, the owner's name; XMP and
IPTC blocks, comments, a PNG's text chunks, an embedded thumbnail that may show what was cropped.
None of it is needed to show that aid arrived, so none of it is kept: the photo is stored as a new
file made from its pixels alone, turned upright first (the EXIF orientation is the one tag that
changes what the picture shows) and no larger than `max_side` pixels on its longest side. The
uploaded file itself is never stored.

`check` says whether an upload is such a photo (donations.forms.validate_evidence turns its errors
into the form's messages); `reencode` checks again as it decodes, because a service may be called
without that form.
"""

import contextlib
import io
import warnings

from PIL import Image, ImageOps

# Format as Pillow names it: the extension the stored file gets.
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
JPEG_QUALITY = 85
WEBP_QUALITY = 85


class NotAPhoto(ValueError):
    """The bytes are not a JPEG, PNG or WebP picture that can be decoded whole."""


class TooManyPixels(NotAPhoto):
    """More pixels than Image.MAX_IMAGE_PIXELS: a decompression bomb, or a photo nobody needs."""


class WrongFormat(NotAPhoto):
    """A whole picture, in a format not kept here (GIF, BMP, TIFF…)."""

    def __init__(self, kind: str):
        super().__init__(f"{kind} is not a photo format kept here")
        self.format = kind


@contextlib.contextmanager
def _reading(upload):
    """Read `upload` from its start and leave it there; what Pillow raises becomes NotAPhoto."""
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except NotAPhoto:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise TooManyPixels(str(e)) from e
    except Exception as e:  # Pillow raises many kinds of error on a file that is not an image
        raise NotAPhoto(str(e)) from e
    finally:
        upload.seek(0)


def _kept(kind: str) -> str:
    if kind not in FORMATS:
        raise WrongFormat(kind)
    return kind


def check(upload) -> str:
    """The format of the photo in `upload` (a file object), as Pillow names it, whatever its file's
    name says; raises NotAPhoto (TooManyPixels, WrongFormat) for anything else."""
    with _reading(upload):
        with Image.open(upload) as opened:
            kind = opened.format
            opened.verify()
        # verify() checks a PNG's chunks but not a JPEG's data: decoding the pixels is what finds
        # a truncated or corrupt photo. Image.open has already refused a pixel bomb.
        upload.seek(0)
        with Image.open(upload) as opened:
            opened.load()
    return _kept(kind)


def reencode(upload, *, max_side: int) -> tuple[bytes, str]:
    """The photo in `upload` (a file object), encoded again from its pixels: same format, upright,
    at most `max_side` pixels wide and high, with no metadata. Returns the bytes and the extension."""
    with _reading(upload), Image.open(upload) as opened:
        kind = _kept(opened.format)
        if kind == "JPEG":
            # Decode at the smallest of JPEG's 1/2, 1/4, 1/8 scales still at least max_side a
            # side: a large photo costs a quarter of its memory or less.
            opened.draft(opened.mode, (max_side, max_side))
        opened.load()  # the first frame of an animation: a photo is one picture
        picture = ImageOps.exif_transpose(opened)
    picture = _plain(picture, kind)
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if kind == "JPEG":
        picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif kind == "WEBP":
        picture.save(out, "WEBP", quality=WEBP_QUALITY)
    else:
        picture.save(out, "PNG", optimize=True)
    return out.getvalue(), FORMATS[kind]


def _plain(picture: Image.Image, kind: str) -> Image.Image:
    """The pixels in a mode the format stores, in a new image whose `info` (where Pillow keeps the
    EXIF, XMP, ICC profile, comments and text chunks it read, and may write them back) is empty."""
    if picture.mode == "P" and "transparency" in picture.info:
        picture = picture.convert("RGBA")  # the transparency lives in `info`, emptied below
    if kind == "JPEG" and picture.mode not in ("L", "RGB"):
        picture = picture.convert("RGB")  # CMYK, or a JPEG turned from another mode
    elif kind == "WEBP" and picture.mode not in ("RGB", "RGBA"):
        picture = picture.convert("RGBA" if "A" in picture.getbands() else "RGB")
    plain = Image.new(picture.mode, picture.size)
    plain.paste(picture)
    if picture.mode == "P":
        plain.putpalette(picture.getpalette())
    plain.info = {}
    return plain
