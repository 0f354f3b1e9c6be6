"""Plain Dutch (B1) in the interface, measured with LIX (issue 14).

LIX (Björnsson, 1968) = words per sentence + the percentage of words longer than six letters. It needs no
syllable counting, so it works the same for Dutch and English. Usual bands: below 30 very easy, 30–40 easy
(children's books, simple fiction), 40–50 standard (newspapers), above 50 hard (officialese, science). Plain
language at level B1 sits in the "easy" band, so B1 here means LIX ≤ 40. Dutch writes compounds as one word
(kostensoort, huisuitzetting), which counts them as long where English would write two short words, so the same
bound is stricter for Dutch than for English: a text that passes it is B1 or simpler.

- The client's page (templates/cards/client*.html and _client*.html, and why a link does not work) is read
  by people in a crisis, often not in their first language: strict. Together at most 30, and no sentence
  (five words or more) above 40 on its own.
- The whole Dutch catalog (every msgid of messages.po) is looser: labels, headings and sentences of staff
  screens together at most 40. The figure at the time of writing: about 31 for all messages, about 30 for
  those of five words or more; the test's message names the current one.
"""
import inspect
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract, extract_from_file
from babel.messages.pofile import read_po

from models.handover import HandoverUnusable

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "web/translations/en/LC_MESSAGES/messages.po"
#: the client's page and its parts: every cards/client*.html and cards/_client*.html
CLIENT_TEMPLATES = sorted(path for pattern in ("client*.html", "_client*.html")
                          for path in (ROOT / "templates/cards").glob(pattern))
B1 = 40
CLIENT_PAGE = 30

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
#: what is filled in later (a name, an amount) or markup, which is no part of the sentence being read
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}|<[^>]+>")
_SENTENCE_END = re.compile(r"[.!?:;]+(?:\s|$)")


def counts(text: str) -> tuple[int, int, int]:
    """(words, sentences, long words) of one text; a label without a full stop is one sentence."""
    text = _PLACEHOLDER.sub(" ", text)
    words = _WORD.findall(text)
    sentences = len([part for part in _SENTENCE_END.split(text) if _WORD.search(part)])
    return len(words), max(1, sentences) if words else 0, sum(1 for word in words if len(word.replace("-", "")) > 6)


def lix(texts) -> float:
    """LIX of `texts` read together."""
    words = sentences = long_words = 0
    for text in texts:
        w, s, long = counts(text)
        words, sentences, long_words = words + w, sentences + s, long_words + long
    return words / sentences + 100 * long_words / words if words else 0.0


def dutch_catalog() -> list[str]:
    """Every Dutch msgid of the catalog (the singular of a plural)."""
    with open(CATALOG, "rb") as handle:
        return [message.id if isinstance(message.id, str) else message.id[0] for message in read_po(handle) if message.id]


def client_page_texts() -> list[str]:
    """The Dutch texts of the client's handover page: what its templates ask for, and why a link does not
    work (models.handover.HandoverUnusable), which the page shows as its message."""
    link = inspect.getsource(HandoverUnusable).encode()
    found = [message for template in CLIENT_TEMPLATES for _line, message, *_ in extract_from_file("jinja2", template)]
    found += [message for _line, message, *_ in extract("python", io.BytesIO(link), keywords={"_l": None})]
    return [message if isinstance(message, str) else message[0] for message in found]


@pytest.mark.parametrize("text, expected", [
    ("Bewaar het bonnetje.", (3, 1, 1)),  # "bonnetje" has eight letters
    ("Op de kaart staat %(amount)s.", (4, 1, 0)),  # the amount is no word
    ("Heb je een vraag? Vraag het aan %(name)s.", (7, 2, 0)),
    ("Kostensoort", (1, 1, 1)),
    ("", (0, 0, 0)),
])
def test_counts_words_sentences_and_long_words(text, expected):
    assert counts(text) == expected


def test_lix_of_a_known_text():
    # 10 words in 2 sentences, 2 of them long (stichting, overhandigen): 10/2 + 100*2/10 = 25
    assert lix(["De stichting zet het geld op de kaart.", "Daarna overhandigen."]) == pytest.approx(5 + 20)


def test_the_clients_page_is_b1_or_simpler():
    texts = client_page_texts()
    assert len(texts) >= 10, "the client's page has its texts in the templates"
    figure = lix(texts)
    assert figure <= CLIENT_PAGE, f"the client's page reads at LIX {figure:.1f}"
    # one by one only the sentences: a label of two words swings from 2 to 52 on one long word
    hard = {text: round(lix([text])) for text in texts if counts(text)[0] >= 5 and lix([text]) > B1}
    assert hard == {}, "write these in plainer Dutch"


def test_the_dutch_catalog_reads_at_b1(record_property):
    texts = dutch_catalog()
    figure, sentences = lix(texts), lix([text for text in texts if counts(text)[0] >= 5])
    record_property("lix_catalog", round(figure, 1))
    record_property("lix_catalog_sentences", round(sentences, 1))
    assert figure <= B1 and sentences <= B1, f"the catalog reads at LIX {figure:.1f} ({sentences:.1f} for sentences)"
