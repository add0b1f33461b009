"""A QR code as PNG, drawn here (ReportLab's encoder, Pillow's pixels): the enrolment page loads nothing from outside."""

import io

from PIL import Image
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def qr_png(data, *, scale=6):
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(data)
    code.make()
    count = code.getModuleCount()
    side = count + 2 * QUIET_ZONE
    image = Image.new("1", (side, side), 1)
    pixels = image.load()
    for row in range(count):
        for col in range(count):
            if code.isDark(row, col):
                pixels[col + QUIET_ZONE, row + QUIET_ZONE] = 0
    image = image.resize((side * scale, side * scale), Image.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
