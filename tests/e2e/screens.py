"""The two screens the browser tests use, and the check that a page fits the width of its screen."""

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
WIDER_THAN_SCREEN = """(width) => [...document.querySelectorAll("body *")]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && !el.closest(".table-wrap, .nav-links"))
    .slice(0, 5).map((el) => el.tagName + "." + el.className)"""


def assert_fits_width(page) -> None:
    """Nothing but the tables (which scroll inside their frame) may push the page wider than the screen."""
    overflow = page.evaluate("document.documentElement.scrollWidth") - page.viewport_size["width"]
    if overflow > 0:
        culprits = page.evaluate(WIDER_THAN_SCREEN, page.viewport_size["width"])
        raise AssertionError(f"{page.url} is {overflow}px wider than the screen: {culprits}")
