"""What a PDF carries, read with pypdf: its text and the fonts it names."""

import io

from pypdf import PdfReader


def pdf_text(path_or_bytes):
    reader = PdfReader(io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes)
    return [page.extract_text() for page in reader.pages], reader


def embedded_fonts(reader):
    """The base names of every font the pages use; fails on one that is not embedded (a viewer would substitute it)."""
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if "/FontDescriptor" in font:
                descriptor = font["/FontDescriptor"].get_object()
            else:  # a composite (Type0) font keeps its descriptor on the descendant; a standard font has none
                assert "/DescendantFonts" in font, f"{font['/BaseFont']} is not embedded"
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"
            fonts.add(str(font["/BaseFont"]).split("+")[-1])
    return fonts
