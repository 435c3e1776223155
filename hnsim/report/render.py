"""Rendering the appendix blocks: Markdown (figures linked), HTML (self-contained) and Word (.docx)."""

from __future__ import annotations

import base64
import html
import struct
from pathlib import Path

import pandas as pd

from hnsim.report.appendix import Block
from hnsim.results.store import write_atomic

A4_TEXT_WIDTH_IN = 6.3


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table."""
    head = "| " + " | ".join(_md_cell(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def to_markdown(blocks: list[Block]) -> str:
    """The appendix as Markdown; figures are linked by their path relative to the output directory."""
    out = []
    for b in blocks:
        if b.kind == "heading":
            out.append("#" * b.level + " " + b.text)
        elif b.kind == "paragraph":
            out.append(b.text)
        elif b.kind == "bullets":
            out.append("\n".join(f"- {item}" for item in b.items or []))
        elif b.kind == "figure":
            out.append(f"![{b.figure.title}]({b.figure.png})\n\n*{b.text}* (numbers: [{Path(b.figure.csv).name}]({b.figure.csv}), vector: [{Path(b.figure.svg).name}]({b.figure.svg}))")
        elif b.kind == "table":
            out.append(markdown_table(b.table))
    return "\n\n".join(out) + "\n"


CSS = """
body{font-family:Arial,Helvetica,sans-serif;max-width:50em;margin:2em auto;color:#222;line-height:1.4;font-size:11pt}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #ccc;margin-top:1.6em}h3{font-size:1.05em}
figure{margin:1.2em 0}figure img{width:100%;height:auto}figcaption{font-size:.9em;color:#333}
table{border-collapse:collapse;font-size:.8em;margin:.6em 0;width:100%}
th,td{border:1px solid #bbb;padding:.2em .4em;vertical-align:top;text-align:left}
th{background:#e8eef4}td.num{text-align:right}
"""


def html_table(table: pd.DataFrame) -> str:
    """An HTML table; cells that look like numbers are right-aligned."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = []
    for row in table.itertuples(index=False):
        cells = []
        for v in row:
            text = str(v)
            cls = ' class="num"' if text.replace(",", "").replace("\u2212", "").replace("-", "").replace(".", "").isdigit() else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def to_html(blocks: list[Block], root: Path) -> str:
    """A self-contained HTML page that still works when emailed: every figure embedded as a PNG data
    URI and the numbers drawn as a CSV download inside the page, no link to another file (files
    resolved against ``root``)."""
    title = next((b.text for b in blocks if b.kind == "heading"), "hnsim report")
    parts = [f"<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title><style>{CSS}</style></head><body>"]
    for b in blocks:
        if b.kind == "heading":
            parts.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif b.kind == "paragraph":
            parts.append(f"<p>{html.escape(b.text)}</p>")
        elif b.kind == "bullets":
            parts.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in b.items or []) + "</ul>")
        elif b.kind == "figure":
            data = base64.b64encode((root / b.figure.png).read_bytes()).decode("ascii")
            numbers = base64.b64encode((root / b.figure.csv).read_bytes()).decode("ascii")
            csv_name = html.escape(Path(b.figure.csv).name)
            parts.append(
                f'<figure id="{html.escape(b.figure.name)}"><img alt="{html.escape(b.figure.title)}" src="data:image/png;base64,{data}">'
                f'<figcaption>{html.escape(b.text)} <a download="{csv_name}" href="data:text/csv;base64,{numbers}">The numbers drawn ({csv_name})</a>.</figcaption></figure>'
            )
        elif b.kind == "table":
            parts.append(html_table(b.table))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def png_size_in(path: Path, dpi: int = 300) -> tuple[float, float]:
    """Width and height in inches of a PNG at ``dpi`` (from its IHDR header)."""
    with open(path, "rb") as fh:
        head = fh.read(24)
    width, height = struct.unpack(">II", head[16:24])
    return width / dpi, height / dpi


def write_docx(blocks: list[Block], root: Path, path: Path) -> Path:
    """The appendix as a Word document on A4 with 2.5 cm margins; figures at their own size."""
    from docx import Document
    from docx.shared import Cm, Inches, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    for b in blocks:
        if b.kind == "heading":
            doc.add_heading(b.text, level=min(b.level, 3) if b.level > 1 else 0)
        elif b.kind == "paragraph":
            doc.add_paragraph(b.text)
        elif b.kind == "bullets":
            for item in b.items or []:
                doc.add_paragraph(item, style="List Bullet")
        elif b.kind == "figure":
            png = root / b.figure.png
            width, _ = png_size_in(png)
            doc.add_picture(str(png), width=Inches(min(width, A4_TEXT_WIDTH_IN)))
            caption = doc.add_paragraph(b.text)
            caption.runs[0].font.size = Pt(8.5)
            caption.runs[0].italic = True
        elif b.kind == "table":
            _docx_table(doc, b.table, Pt(7 if len(b.table.columns) > 5 or len(b.table) > 30 else 8))
    return write_atomic(path, doc.save)


def _docx_table(doc, table: pd.DataFrame, size) -> None:
    grid = doc.add_table(rows=1, cols=len(table.columns))
    grid.style = "Table Grid"
    for cell, name in zip(grid.rows[0].cells, table.columns):
        cell.text = str(name)
        for run in cell.paragraphs[0].runs:
            run.font.bold = True
            run.font.size = size
    for row in table.itertuples(index=False):
        cells = grid.add_row().cells
        for cell, value in zip(cells, row):
            cell.text = str(value)
            for run in cell.paragraphs[0].runs:
                run.font.size = size
    doc.add_paragraph()
