"""One glossary in the interface, in plain words (issue 14): no Dutch text a member or the client reads uses
the office jargon the issue names. Read from the catalog and from the sources themselves (babel's extract, as
`make extract-messages` does), so a text that never reached the catalog is caught too; and the journal's
column headers and account names (models/exports.py), which are Dutch without a translation.

The interface says "soort uitgave" where the office says kostensoort, and "kaart" for the card (pas, pasje).
"""
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from models.exports import ACCOUNT_NAMES, COLUMNS

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "web/translations/en/LC_MESSAGES/messages.po"
#: where user-facing texts live, and how babel reads them (web/translations/babel.cfg)
SOURCES = {"web": "python", "models": "python", "templates": "jinja2"}
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

#: a placeholder is filled in by the code (%(quorum)d is a number), so it is no word of the text
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")
JARGON = re.compile(
    r"kostensoort|uitbak|kenmerk van het huishouden|wachtende lading|opwaardering|\bquorum\b"
    # "pas" the card, not the adverb ("kan pas als …", "kun je pas openen") nor the verb ("pas het aan")
    r"|\bpasjes?\b|\b(?:de|een|jouw|uw) pas\b",
    re.IGNORECASE)


def jargon_in(text: str) -> list[str]:
    """The jargon words in one Dutch text, as written."""
    return [match.group() for match in JARGON.finditer(_PLACEHOLDER.sub(" ", text))]


def catalog_texts() -> list[str]:
    """Every Dutch msgid of the catalog, plurals both ways."""
    with open(CATALOG, "rb") as handle:
        return [text for message in read_po(handle) if message.id
                for text in (message.id if isinstance(message.id, tuple) else (message.id,))]


def source_texts() -> list[tuple[str, str]]:
    """(where, text) of every Dutch text that the templates and Python sources mark for translation."""
    found = []
    for folder, method in SOURCES.items():
        pattern = "**.py" if method == "python" else "**.html"
        for filename, line, message, *_ in extract_from_dir(ROOT / folder, [(pattern, method)], keywords=KEYWORDS):
            for text in message if isinstance(message, tuple) else (message,):
                if text:
                    found.append((f"{folder}/{filename}:{line}", text))
    return found


@pytest.mark.parametrize("text, words", [
    ("Kostensoort", ["Kostensoort"]),
    ("Winkels per kostensoort", ["kostensoort"]),
    ("Soorten uitgaven", []),
    ("Zet het geld op de pas.", ["de pas"]),
    ("Geef het pasje aan de cliënt.", ["pasje"]),
    ("Het kan pas als alles is betaald.", []),  # the adverb
    ("Die kun je pas openen vanaf 5.", []),
    ("Pas het aan of gooi het weg.", []),  # the verb
    ("Op betaalpassen", []),  # the journal's account, a word of the books
    ("nodig: %(quorum)d", []),  # a number filled in
    ("Het quorum is gehaald.", ["quorum"]),
    ("De wachtende lading en de opwaardering", ["wachtende lading", "opwaardering"]),
    ("Het kenmerk van het huishouden", ["kenmerk van het huishouden"]),
    ("Naar de uitbak", ["uitbak"]),
])
def test_jargon_in_finds_the_words_of_issue_14(text, words):
    assert jargon_in(text) == words


def test_the_catalog_speaks_plain_dutch():
    texts = catalog_texts()
    assert len(texts) > 500, "the catalog is read"
    assert {text: jargon_in(text) for text in texts if jargon_in(text)} == {}


def test_the_sources_speak_plain_dutch():
    texts = source_texts()
    assert len(texts) > 500, "the templates and sources are read"
    assert {where: text for where, text in texts if jargon_in(text)} == {}


def test_the_journal_speaks_plain_dutch():
    assert [text for text in [*COLUMNS, *ACCOUNT_NAMES.values()] if jargon_in(text)] == []
