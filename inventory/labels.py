"""Printable item labels: a PDF of A4 sheets, each label with the SKU as Code 128 and QR code."""

import io
from collections.abc import Iterable

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from inventory.models import Item

COLUMNS, ROWS = 2, 6
MARGIN = 10 * mm
LABEL_W = (A4[0] - 2 * MARGIN) / COLUMNS
LABEL_H = (A4[1] - 2 * MARGIN) / ROWS
QR_SIZE = 30 * mm


def _code128(sku: str, bar_width: float = 0.32 * mm) -> Drawing:
    """The SKU's Code 128 symbol, with bars narrowed so that a long SKU fits beside the QR."""
    drawing = createBarcodeDrawing(
        "Code128", value=sku, barHeight=14 * mm, barWidth=bar_width, humanReadable=True
    )
    room = LABEL_W - QR_SIZE - 12 * mm
    if drawing.width > room:
        return _code128(sku, bar_width * room / drawing.width * 0.98)
    return drawing


def _draw_label(canvas: Canvas, item: Item, x: float, y: float) -> None:
    """One label with its lower left corner at (x, y)."""
    canvas.setLineWidth(0.3)
    canvas.rect(x + 2 * mm, y + 2 * mm, LABEL_W - 4 * mm, LABEL_H - 4 * mm)
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(x + 5 * mm, y + LABEL_H - 10 * mm, item.sku)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(x + 5 * mm, y + LABEL_H - 14 * mm, item.name[:48])
    renderPDF.draw(_code128(item.sku), canvas, x + 5 * mm, y + 6 * mm)
    qr = createBarcodeDrawing("QR", value=item.sku, width=QR_SIZE, height=QR_SIZE)
    renderPDF.draw(qr, canvas, x + LABEL_W - QR_SIZE - 4 * mm, y + LABEL_H - QR_SIZE - 6 * mm)


def labels_pdf(items: Iterable[Item], *, title: str = "Item labels") -> bytes:
    """A PDF with one label per item, COLUMNS x ROWS labels to a page."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(title)
    per_page = COLUMNS * ROWS
    for index, item in enumerate(items):
        if index and index % per_page == 0:
            canvas.showPage()
        column, row = index % COLUMNS, (index % per_page) // COLUMNS
        x = MARGIN + column * LABEL_W
        y = A4[1] - MARGIN - (row + 1) * LABEL_H
        _draw_label(canvas, item, x, y)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
