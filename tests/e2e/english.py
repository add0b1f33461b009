"""A scan of a page shown in Vietnamese for English text, against the English source strings of the Vietnamese catalogue.

Only source strings of two words or more are looked for (a lone "OK", a code, a user name or a number is never
counted), and only where they stand on their own in a text node or an attribute a person reads: the whole text,
or bounded by its start, its end, spaces or punctuation. Placeholders (%(name)s, %s, %d) match any text.
"""

import functools
import re
from dataclasses import dataclass
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "vi" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\([^)]+\)[sdif]|%[sdif]|\{[a-z_]+\}")
WORD = re.compile(r"[A-Za-z]{2,}")

# Every text a person reads on the page: visible text nodes, the labels a screen reader or a hover says, and the
# labels the stacked phone tables draw from data-label.
VISIBLE_TEXT = """() => {
    const texts = [document.title];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (!parent || parent.closest("script, style, template, noscript")) continue;
        if (!parent.checkVisibility({visibilityProperty: true}) && !parent.closest(".visually-hidden")) continue;
        if (node.textContent.trim()) texts.push(node.textContent);
    }
    for (const el of document.querySelectorAll("[title], [aria-label], [placeholder], [alt], [data-label]")) {
        for (const name of ["title", "aria-label", "placeholder", "alt", "data-label"]) {
            const value = el.getAttribute(name);
            if (value && value.trim()) texts.push(value);
        }
    }
    return texts;
}"""


@dataclass(frozen=True)
class Source:
    msgid: str
    translated: bool  # False: in the catalogue but not yet translated (or fuzzy), so shown in English for now


def _unquote(line: str) -> str:
    return line[line.index('"') + 1 : line.rindex('"')].encode("raw_unicode_escape").decode("unicode_escape")


def _entries(text: str):
    """(flags, {"msgid": …, "msgid_plural": …, "msgstr": …}) for each entry of a .po file."""
    for block in text.split("\n\n"):
        flags, fields, current = "", {}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags += line
            elif line.startswith("#"):
                continue
            elif line.startswith('"') and current:
                fields[current] += _unquote(line)
            elif line.startswith("msg"):
                current = line.split(" ", 1)[0].split("[", 1)[0]
                fields[current] = fields.get(current, "") + ("\0" if current in fields else "") + _unquote(line)
        if fields.get("msgid"):
            yield flags, fields


@functools.cache
def english_sources() -> tuple[Source, ...]:
    """The catalogue's English strings worth looking for, and whether Vietnamese replaces them."""
    found = {}
    for flags, fields in _entries(CATALOGUE.read_text(encoding="utf-8")):
        msgstrs = fields.get("msgstr", "").split("\0")
        translated = "fuzzy" not in flags and all(msgstrs)
        for msgid in filter(None, (fields["msgid"], fields.get("msgid_plural"))):
            msgid = " ".join(msgid.split())
            if translated and msgid in (" ".join(s.split()) for s in msgstrs):
                continue  # the same in both languages (a code, a format name)
            if len(WORD.findall(PLACEHOLDER.sub(" ", msgid))) < 2:
                continue
            found[msgid] = Source(msgid, translated)
    return tuple(found.values())


def _pattern(msgid: str) -> str:
    parts = PLACEHOLDER.split(msgid.replace("%%", "%"))
    return ".+?".join(re.escape(part) for part in parts)


@functools.cache
def _matchers() -> dict[str, list]:
    """The matchers by the longest word of their source string: a text is tried only against those whose word it has."""
    by_word = {}
    for source in english_sources():
        matcher = re.compile(r"(?:^|(?<=[\s(\[\"'“«:;,.–—·]))" + _pattern(source.msgid) + r"(?=$|[\s)\]\"'”»:;,.!?–—·])")
        key = max(WORD.findall(PLACEHOLDER.sub(" ", source.msgid)), key=len)
        by_word.setdefault(key, []).append((source, matcher))
    return by_word


def english_in(texts) -> list[tuple[Source, str]]:
    """Each (source string, text it was found in) of the catalogue's English strings shown in `texts`."""
    leaks = []
    matchers = _matchers()
    for raw in texts:
        text = " ".join(raw.split())
        words = set(WORD.findall(text))
        if len(words) < 2:
            continue
        for word in words & matchers.keys():
            for source, matcher in matchers[word]:
                if matcher.search(text):
                    leaks.append((source, text))
    return leaks


def assert_no_english(page, where: str = "") -> None:
    """Fail when text of the page shown in Vietnamese is one of the catalogue's English strings."""
    leaks = english_in(page.evaluate(VISIBLE_TEXT))
    if leaks:
        lines = [
            f"- {source.msgid!r}{'' if source.translated else ' (not yet translated in the catalogue)'} in {text[:160]!r}"
            for source, text in leaks
        ]
        raise AssertionError(f"English text on {where or page.url} in Vietnamese mode:\n" + "\n".join(lines))
