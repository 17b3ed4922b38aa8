"""PDF documents the portal hands out (a donor's receipt, their yearly summary), written with
reportlab. The fonts are the Bitstream Vera faces that reportlab ships, embedded in every file: a
receipt reads the same on any machine and in any archive, and the server needs no system font.

Everything shown is escaped and reduced to what the font can draw, so a name typed by a stranger
("<b>", "&", an emoji) can neither break the layout nor the build of the file."""

import io
import itertools
import unicodedata
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT_DIR = Path(reportlab.__file__).parent / "fonts"
REGULAR, BOLD = "KsbbSans", "KsbbSans-Bold"
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
RULE = colors.HexColor("#cbd2d9")
PAGE_WIDTH = A4[0] - 36 * mm
# Every table's cells hold paragraphs; without this, a table still names Helvetica, unembedded.
CELL_FONT = [("FONTNAME", (0, 0), (-1, -1), REGULAR)]


def _register_fonts() -> None:
    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(
        REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD
    )


def printable(text) -> str:
    """`text` as the embedded font can draw it: a letter it lacks becomes its unaccented base
    letter where it has one ("ő" → "o"), else "?"."""
    _register_fonts()
    glyphs = pdfmetrics.getFont(REGULAR).face.charToGlyph
    out = []
    for ch in str(text):
        if ord(ch) in glyphs or ch == "\n":
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
        out.append(base if base.strip() else ("" if unicodedata.category(ch)[0] in "CZ" else "?"))
    return "".join(out)


def _markup(text) -> str:
    return escape(printable(text)).replace("\n", "<br/>")


STYLES = {
    "title": ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=20, textColor=INK),
    "h2": ParagraphStyle(
        "h2", fontName=BOLD, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=3, textColor=INK
    ),
    "body": ParagraphStyle("body", fontName=REGULAR, fontSize=9.5, leading=13, textColor=INK),
    "small": ParagraphStyle("small", fontName=REGULAR, fontSize=8, leading=10.5, textColor=MUTED),
    "label": ParagraphStyle("label", fontName=BOLD, fontSize=9, leading=12, textColor=MUTED),
    "cell": ParagraphStyle("cell", fontName=REGULAR, fontSize=8.5, leading=11, textColor=INK),
    "head": ParagraphStyle("head", fontName=BOLD, fontSize=8.5, leading=11, textColor=INK),
}


class _Qr(Flowable):
    """A QR code of `url`, `size` wide, with its quiet zone. Drawn straight on the page: reportlab's
    drawing renderer would name its default font (Helvetica) in the file, unembedded."""

    QUIET = 4  # modules of white around the code, as the standard asks

    def __init__(self, url: str, size: float):
        super().__init__()
        self.qr = QrCodeWidget(url, barLevel="M").qr
        self.qr.make()
        self.width = self.height = size

    def draw(self):
        count = self.qr.getModuleCount()
        box = self.width / (count + 2 * self.QUIET)
        self.canv.setFillColor(colors.black)
        for r, row in enumerate(self.qr.modules):
            c = 0
            for dark, run in itertools.groupby(bool(m) for m in row):
                n = len(list(run))
                if dark:
                    y = self.height - (r + self.QUIET + 1) * box
                    self.canv.rect((c + self.QUIET) * box, y, n * box, box, stroke=0, fill=1)
                c += n


class Document:
    """A one-column A4 document, built up in reading order and rendered to bytes."""

    def __init__(self, title: str, *, language: str, subject: str = ""):
        _register_fonts()
        self.title, self.language, self.subject = printable(title), language, printable(subject)
        self.story: list[Flowable] = []

    def heading(self, text: str, *, level: int = 1) -> None:
        self.story.append(Paragraph(_markup(text), STYLES["title" if level == 1 else "h2"]))
        if level == 1:
            self.story.append(Spacer(1, 4 * mm))

    def paragraph(self, text: str, *, small: bool = False) -> None:
        self.story.append(Paragraph(_markup(text), STYLES["small" if small else "body"]))
        self.story.append(Spacer(1, 2 * mm))

    def facts(self, rows: list[tuple[str, str]]) -> None:
        """Label and value pairs, one per line."""
        data = [
            [Paragraph(_markup(label), STYLES["label"]), Paragraph(_markup(value), STYLES["body"])]
            for label, value in rows
        ]
        table = Table(data, colWidths=[48 * mm, PAGE_WIDTH - 48 * mm], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    *CELL_FONT,
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        self.story.append(table)
        self.story.append(Spacer(1, 3 * mm))

    def table(self, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
        """A table with a header row repeated on every page; `widths` are fractions of the page."""
        data = [[Paragraph(_markup(h), STYLES["head"]) for h in header]]
        data += [[Paragraph(_markup(cell), STYLES["cell"]) for cell in row] for row in rows]
        table = Table(data, colWidths=[w * PAGE_WIDTH for w in widths], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    *CELL_FONT,
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.75, INK),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ]
            )
        )
        self.story.append(table)
        self.story.append(Spacer(1, 3 * mm))

    def qr(self, url: str, caption: str) -> None:
        """A QR code of `url` beside its caption and the address written out."""
        text = Paragraph(
            f"{_markup(caption)}<br/><font name='{REGULAR}' size='8'>{_markup(url)}</font>",
            STYLES["body"],
        )
        table = Table(
            [[_Qr(url, 28 * mm), text]],
            colWidths=[32 * mm, PAGE_WIDTH - 32 * mm],
            hAlign="LEFT",
        )
        table.setStyle(TableStyle([*CELL_FONT, ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        self.story.append(table)

    def render(self) -> bytes:
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
            title=self.title,
            subject=self.subject,
            author="KSBB",
            creator="KSBB",
            lang=self.language,
            # Not reportlab's default Helvetica, which no file of ours should name unembedded.
            initialFontName=REGULAR,
            initialFontSize=9.5,
            # The same content gives the same bytes: no creation time or random id in the file.
            invariant=True,
        )
        doc.build(self.story, onFirstPage=self._footer, onLaterPages=self._footer)
        return buffer.getvalue()

    def _footer(self, canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(18 * mm, 10 * mm, self.title)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, str(doc.page))
        canvas.restoreState()
