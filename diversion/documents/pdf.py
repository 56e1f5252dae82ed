"""An A4 document marked OFFICIAL-SENSITIVE, numbered "Page N of M" on every page; or,
for paper handed to a participant, unmarked."""

from __future__ import annotations

from fpdf import FPDF
from fpdf.fonts import FontFace

MARKING = "OFFICIAL-SENSITIVE"
FONT = "Helvetica"
GREY = (80, 90, 95)
NOTE = FontFace(color=GREY)


class OfficialDocument(FPDF):
    """A4, the protective marking at the top and bottom of each page, pages numbered."""

    def __init__(self, *, title: str, footer: str, marking: str = MARKING) -> None:
        super().__init__(format="A4")
        self.footer_text = latin1(footer)
        self.marking = marking
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(title)
        self.set_creator("Diversion")
        # Uncompressed text keeps the record searchable by tools that read raw PDF streams.
        self.set_compression(False)

    def header(self) -> None:
        self.set_font(FONT, "B", 9)
        self.set_text_color(0)
        self.set_y(7)
        self.cell(0, 5, self.marking, align="C")
        self.set_y(15)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_draw_color(*GREY)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.5)
        third = (self.w - self.l_margin - self.r_margin) / 3
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        self.cell(third, 5, self.footer_text, align="L")
        self.set_font(FONT, "B", 9)
        self.set_text_color(0)
        self.cell(third, 5, self.marking, align="C")
        self.set_font(FONT, "", 8)
        # fpdf2 writes the page count in place of {nb} once the last page is known.
        self.cell(third, 5, f"Page {self.page_no()} of {{nb}}", align="R")

    # ---- building blocks ------------------------------------------------------------

    def title_block(self, title: str, lines: list[str]) -> None:
        self.set_font(FONT, "B", 18)
        self.multi_cell(0, 9, latin1(title), new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, "", 10)
        for text in lines:
            self.multi_cell(0, 5, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def heading(self, text: str, size: int = 13, *, keep: float = 30) -> None:
        """A heading kept on the page with at least ``keep`` mm of what follows it."""
        if self.will_page_break(size * 0.5 + 4 + keep):
            self.add_page()
        self.ln(2)
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(1)
        self.set_font(FONT, "", 10)

    def paragraph(self, text: str, *, size: float = 10, style: str = "") -> None:
        self.set_font(FONT, style, size)
        self.multi_cell(0, size * 0.5, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, "", 10)
        self.ln(1)

    def bullets(self, items: list[str]) -> None:
        self.set_font(FONT, "", 10)
        for text in items:
            self.set_x(self.l_margin)
            self.cell(5, 5, "-")
            self.multi_cell(0, 5, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def grid(self, head: list[str], rows: list[list[str]], widths: tuple[float, ...],
             *, size: float = 8, notes: list[str] | None = None) -> None:
        """A table with its headings repeated on each page it runs onto.

        A row's note, when given, is a second line across the whole table beneath it:
        for a value too long for a column that must still read in one piece.
        """
        self.set_font(FONT, "", size)
        self.set_draw_color(*GREY)
        with self.table(
            col_widths=widths, width=self.w - self.l_margin - self.r_margin,
            text_align="LEFT", v_align="TOP", line_height=size * 0.5,
            headings_style=FontFace(emphasis="BOLD", fill_color=(232, 232, 232)),
            padding=1.2, first_row_as_headings=True,
        ) as table:
            heading = table.row()
            for text in head:
                heading.cell(latin1(text))
            for n, cells in enumerate(rows):
                row = table.row()
                for text in cells:
                    row.cell(latin1(text))
                if notes is not None:
                    table.row().cell(latin1(notes[n]), colspan=len(head), style=NOTE)
        self.set_font(FONT, "", 10)
        self.ln(3)


def latin1(text: str) -> str:
    """Fit text to the PDF core fonts (Latin-1): other characters show as "?", never lost."""
    text = (text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2018", "'")
            .replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"'))
    return text.encode("latin-1", "replace").decode("latin-1")
