"""Reading back the PDFs the portal makes: their text (pypdf) and their QR codes (each page drawn by
pdfium, then decoded by zxing), as a reader and a phone camera would."""

import io

import pypdfium2
import zxingcpp
from pypdf import PdfReader


def text(data: bytes) -> str:
    """The document's text, its lines joined by single spaces (wrapping is not content)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def info(data: bytes) -> dict:
    return dict(PdfReader(io.BytesIO(data)).metadata or {})


def fonts(data: bytes) -> set[str]:
    """The base names of the fonts the pages use, and whether each is embedded."""
    found = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described.get("/FontDescriptor")
            embedded = bool(
                descriptor
                and any(
                    k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")
                )
            )
            found.add((str(font["/BaseFont"]), embedded))
    return found


def qr_codes(data: bytes) -> list[str]:
    """What every QR code on every page says."""
    found = []
    pdf = pypdfium2.PdfDocument(data)
    try:
        for page in pdf:
            image = page.render(scale=3).to_pil()
            found += [code.text for code in zxingcpp.read_barcodes(image)]
    finally:
        pdf.close()
    return found
