"""ksbb.lib.photos: an uploaded photo is kept as its pixels only. Each format is given the metadata
it can carry (EXIF with GPS, make, model and serial; XMP; comments; PNG text chunks; an ICC
profile), marked with strings that must not survive; the stored bytes are searched for them, and
read back by Pillow, which must find no metadata at all. tests/donations/test_delivery_record.py
checks the same through the admin's delivery form and the storage."""

import io

import pytest
from PIL import Image, PngImagePlugin

from ksbb.lib import photos

SECRETS = [b"SN-0042-SECRET", b"SecretCam", b"Rumah Bu Siti", b"Jl. Rahasia"]
EXIF_GPS, EXIF_IFD, ORIENTATION = 0x8825, 0x8769, 0x0112


def exif(orientation: int = 1) -> Image.Exif:
    """What a phone writes: make and model, the orientation, where (Jakarta) and the body serial."""
    tags = Image.Exif()
    tags[0x010F] = "MakerCorp"
    tags[0x0110] = "SecretCam X100"
    tags[ORIENTATION] = orientation
    tags.get_ifd(EXIF_GPS).update({1: "S", 2: (6.0, 10.0, 30.5), 3: "E", 4: (106.0, 49.0, 12.0)})
    tags.get_ifd(EXIF_IFD)[0xA431] = "SN-0042-SECRET"
    return tags


def phone_jpeg(size=(40, 20), orientation: int = 1, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red").save(
        out,
        "JPEG",
        exif=exif(orientation),
        comment=b"Rumah Bu Siti",
        xmp=b"<x:xmpmeta>Jl. Rahasia 5</x:xmpmeta>",
        icc_profile=b"SecretCam profile " * 4,
    )
    return out.getvalue()


def png_with_text(mode: str = "RGBA") -> bytes:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Rumah Bu Siti")
    text.add_itxt("Comment", "Jl. Rahasia 5")
    out = io.BytesIO()
    Image.new(mode, (30, 30), 1 if mode == "P" else "blue").save(
        out, "PNG", pnginfo=text, exif=exif()
    )
    return out.getvalue()


def webp_with_exif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 30), "green").save(
        out, "WEBP", exif=exif(), xmp=b"<x:xmpmeta>Jl. Rahasia 5</x:xmpmeta>"
    )
    return out.getvalue()


def assert_only_pixels(data: bytes, fmt: str) -> Image.Image:
    for secret in SECRETS:
        assert secret not in data, secret
    assert b"Exif" not in data and b"xmpmeta" not in data
    picture = Image.open(io.BytesIO(data))
    assert picture.format == fmt
    assert dict(picture.getexif()) == {}
    assert not set(picture.info) & {"exif", "xmp", "comment", "icc_profile", "Author", "Comment"}
    picture.load()
    return picture


def test_the_metadata_really_is_in_the_files_given():
    """Otherwise the tests below would prove nothing."""
    for data in [phone_jpeg(), png_with_text(), webp_with_exif()]:
        assert b"SN-0042-SECRET" in data or b"SecretCam" in data
    assert dict(Image.open(io.BytesIO(phone_jpeg())).getexif().get_ifd(EXIF_GPS))


@pytest.mark.parametrize(
    "data, fmt, ext",
    [
        (phone_jpeg(), "JPEG", "jpg"),
        (phone_jpeg(mode="CMYK"), "JPEG", "jpg"),
        (png_with_text(), "PNG", "png"),
        (png_with_text("P"), "PNG", "png"),
        (webp_with_exif(), "WEBP", "webp"),
    ],
    ids=["jpeg", "cmyk-jpeg", "png", "palette-png", "webp"],
)
def test_no_gps_serial_or_other_metadata_survives(data, fmt, ext):
    kept, kept_ext = photos.reencode(io.BytesIO(data), max_side=1600)
    assert kept_ext == ext
    assert_only_pixels(kept, fmt)


def test_the_photo_is_turned_upright_before_its_orientation_tag_goes():
    """A phone held upright stores the pixels sideways and says so in one EXIF tag (6: turn 90°)."""
    kept, _ = photos.reencode(io.BytesIO(phone_jpeg(size=(40, 20), orientation=6)), max_side=1600)
    assert assert_only_pixels(kept, "JPEG").size == (20, 40)


def test_a_large_photo_is_made_smaller_keeping_its_shape():
    kept, _ = photos.reencode(io.BytesIO(phone_jpeg(size=(4000, 3000))), max_side=1600)
    assert assert_only_pixels(kept, "JPEG").size == (1600, 1200)
    small, _ = photos.reencode(io.BytesIO(phone_jpeg(size=(40, 20))), max_side=1600)
    assert Image.open(io.BytesIO(small)).size == (40, 20)


def test_transparency_and_colours_are_kept():
    kept, _ = photos.reencode(io.BytesIO(png_with_text("RGBA")), max_side=1600)
    picture = assert_only_pixels(kept, "PNG")
    assert picture.mode == "RGBA" and picture.getpixel((0, 0)) == (0, 0, 255, 255)
    out = io.BytesIO()
    Image.new("RGB", (10, 10), (200, 30, 40)).save(out, "JPEG", quality=100)
    kept, _ = photos.reencode(out, max_side=1600)
    red, green, blue = Image.open(io.BytesIO(kept)).getpixel((5, 5))
    assert abs(red - 200) < 8 and green < 40 and blue < 50


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", phone_jpeg()[:200], gif()],
    ids=["empty", "text", "truncated", "gif"],
)
def test_what_is_not_a_whole_photo_is_refused(data):
    with pytest.raises(photos.NotAPhoto):
        photos.reencode(io.BytesIO(data), max_side=1600)


def test_a_pixel_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(photos.NotAPhoto):
        photos.reencode(io.BytesIO(phone_jpeg(size=(40, 20))), max_side=1600)
