"""The personal-data guard: text that reaches a team must not identify a client.

Invariant: `find_personal_data` reports every BSN (nine digits passing the 11-proef), IBAN with a valid
checksum, Dutch phone number, e-mail address and postcode-with-house-number in a text, each with the
fragment and the reason; amounts, dates and nine-digit numbers that fail the 11-proef are not reported.
`check_no_personal_data` (one text) and `check_texts_for_personal_data` (every text of a form at once) turn
the findings into one `PersonalDataFound` that names every fragment, so the worker fixes them all in one
edit; `highlighted` cuts a text into plain and found parts for showing each where it stands.

Invariant: every finding's fragment is exactly `text[start:end]`, and findings never overlap.
Invariant: an IBAN-shaped string whose only fault is its check digits is not reported (the rule asks for a
valid checksum), and its digits are not reported again as a phone number or BSN.
Invariant: a four-digit number followed by a lowercase Dutch word ("in 2026 en 2027") is not a postcode,
and a number followed by euro, € or %, or that is part of an amount or a date, is not a house number.
"""
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn
from stdnum.nl import postcode as stdnum_postcode

from models.rules import RuleViolation

KIND_LABELS = {
    "bsn": _l("een BSN"),
    "iban": _l("een rekeningnummer (IBAN)"),
    "phone": _l("een telefoonnummer"),
    "email": _l("een e-mailadres"),
    "address": _l("een postcode met huisnummer"),
}

# Nine digits, plain or grouped as 1234.56.782 or 123 456 782, that are not part of a longer number,
# a decimal amount or an amount in euros
_BSN = re.compile(r"(?<![\d€])(?<!\d[.,-])(?<!€ )(\d{9}|\d{4}[ .-]\d{2}[ .-]\d{3}|\d{3}[ .-]\d{3}[ .-]\d{3})"
                  r"(?!\d|[.,-]\d)")
# Country code, check digits, groups of four and a short tail; greedy, so it may swallow a word after the IBAN
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)\b", re.IGNORECASE)
# Between the digits of a phone number: one space, or a dash with or without spaces around it
_PHONE_SEPARATOR = r"(?:\s?-\s?|\s)?"
_PHONE = re.compile(
    r"(?<![\w+])(?!\d{1,2}-\d{1,2}-\d{4})("  # a date such as 05-03-2026 14:30 is not the start of a number
    rf"(?:\+|00)31{_PHONE_SEPARATOR}(?:\(0\))?{_PHONE_SEPARATOR}\d(?:{_PHONE_SEPARATOR}\d){{8}}"  # +31 6 1234 5678
    rf"|\(0\d{{1,3}}\)\s?\d(?:{_PHONE_SEPARATOR}\d){{5,7}}"  # (020) 123 4567
    rf"|0\d(?:{_PHONE_SEPARATOR}\d){{8}})(?!\d)"  # 06-12345678, 020-1234567
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.IGNORECASE)
# Not followed by a letter, but may be followed straight by the house number: 1012AB12
_POSTCODE = re.compile(r"\b([1-9]\d{3}) ?([A-Z]{2})(?![A-Z])", re.IGNORECASE)
# Lowercase two-letter words that follow a year or amount in ordinary Dutch ("in 2026 en", "1500 op")
_DUTCH_TWO_LETTER_WORDS = frozenset(
    "al af da de en er ex ga ik in is ja je me na nu of oh ok om op pa pm te uw we ze zo ca km kg cm mg ml".split())
# 12, 12a, 4-bis, 12-2; never the start of a longer number, an amount, a percentage or a date
_HOUSE_NUMBER = r"\d{1,5}(?!\d)(?:-?[A-Za-z]{1,3}\b|-\d{1,3})?(?![.,-]?\d|\s*(?:euro|eur|€|%))"
_HOUSE_NUMBER_AFTER = re.compile(rf"^\s*,?\s*(?:(?:nr|huisnr)\.?|huisnummer)?\s*{_HOUSE_NUMBER}", re.IGNORECASE)
_HOUSE_NUMBER_BEFORE = re.compile(
    r"[A-Za-zÀ-ÿ]+\.?\s+\d{1,5}(?:\s?-?[A-Za-z]{1,3}|-\d{1,3})?\s*,?\s*$")  # Damstraat 12-2, | nr. 12


@dataclass(frozen=True)
class Finding:
    """One piece of personal data found in a text."""

    kind: str
    fragment: str
    start: int
    end: int

    @property
    def label(self):
        """What kind of data this is, in words."""
        return KIND_LABELS[self.kind]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _national_digits(fragment: str) -> str:
    """The digits of a phone number as dialled within the Netherlands: +31 (0)6 … becomes 06…."""
    digits = _digits(fragment)
    if fragment.startswith("+31"):
        digits = digits[2:]
    elif fragment.startswith("0031"):
        digits = digits[4:]
    else:
        return digits
    # some people keep the trunk 0 after the country code: +31 (0)6 or +31 06
    return "0" + digits.removeprefix("0")


def _is_dutch_phone(fragment: str) -> bool:
    digits = _national_digits(fragment)
    # 10 digits after the trunk 0; 08xx/09xx are service numbers, not a person's
    return len(digits) == 10 and digits[0] == "0" and digits[1] not in "089"


def _is_valid_iban(number: str) -> bool:
    """ISO 13616: the country's length and structure, and the mod-97 checksum. Not stdnum's own country
    checks: they refuse real IBANs whose bank code their tables do not know (e.g. some Belgian banks)."""
    return stdnum_iban.is_valid(number, check_country=False)


def _is_iban_shaped(number: str) -> bool:
    """Valid, or valid but for its check digits: the structure of a real IBAN for its country."""
    compact = stdnum_iban.compact(number)
    return _is_valid_iban(compact[:2] + stdnum_iban.calc_check_digits(compact) + compact[4:])


def _iban_prefix(candidate: str) -> str | None:
    """The longest IBAN-shaped start of `candidate` in whole words; the regex may have swallowed words after it."""
    words = candidate.split(" ")
    for count in range(len(words), 0, -1):
        prefix = " ".join(words[:count])
        if _is_iban_shaped(prefix):
            return prefix
    return None


def _ibans(text: str) -> list[Finding]:
    """Every IBAN-shaped fragment, valid or not; the caller reports the valid ones and ignores digits in the rest."""
    found, position = [], 0
    while match := _IBAN.search(text, position):
        prefix = _iban_prefix(match.group(1))
        if prefix is None:
            position = match.start() + 1
            continue
        found.append(Finding("iban", prefix, match.start(1), match.start(1) + len(prefix)))
        position = match.start(1) + len(prefix)  # the words trimmed off may hold the next IBAN
    return found


def _is_postcode(match: re.Match) -> bool:
    letters = match.group(2)
    if not letters.isupper() and letters.lower() in _DUTCH_TWO_LETTER_WORDS:
        return False  # "in 2026 en 2027", "1500 op 12 maart"
    return stdnum_postcode.is_valid(match.group(0))


def find_personal_data(text: str) -> list[Finding]:
    """Every fragment of `text` that looks like personal data, in order of appearance."""
    text = text or ""
    findings = []
    for match in _EMAIL.finditer(text):
        findings.append(Finding("email", match.group(0), match.start(), match.end()))
    ibans = _ibans(text)
    mistyped_ibans = [iban for iban in ibans if not _is_valid_iban(iban.fragment)]
    findings += [iban for iban in ibans if iban not in mistyped_ibans]
    for match in _BSN.finditer(text):
        if stdnum_bsn.is_valid(_digits(match.group(1))):
            findings.append(Finding("bsn", match.group(1), match.start(1), match.end(1)))
    for match in _PHONE.finditer(text):
        if _is_dutch_phone(match.group(1)):
            findings.append(Finding("phone", match.group(1), match.start(1), match.end(1)))
    for match in _POSTCODE.finditer(text):
        if not _is_postcode(match):
            continue
        after = _HOUSE_NUMBER_AFTER.match(text[match.end():])
        before = _HOUSE_NUMBER_BEFORE.search(text[max(0, match.start() - 40):match.start()])
        if after or before:
            start = match.start() - len(before.group(0)) if before else match.start()
            end = match.end() + (after.end() if after else 0)
            findings.append(Finding("address", text[start:end].strip(), start, end))
    # the digits of an IBAN with mistyped check digits are an account number, not a phone number or BSN
    findings = [finding for finding in findings if not _overlaps_any(finding, mistyped_ibans)]
    findings.sort(key=lambda finding: finding.start)
    return _without_overlaps(findings)


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    kept = []
    for finding in findings:
        if kept and finding.start < kept[-1].end:
            continue  # e.g. the digits of an IBAN are not also a BSN
        kept.append(finding)
    return kept


def _overlaps_any(finding: Finding, others: list[Finding]) -> bool:
    return any(finding.start < other.end and other.start < finding.end for other in others)


class _EveryFinding:
    """The refusal's sentence naming every finding, translated when it is shown (as a lazy string is)."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings

    def __str__(self):
        found = ", ".join(str(_l("‘%(fragment)s’ lijkt %(kind)s", fragment=finding.fragment, kind=finding.label))
                          for finding in self.findings)
        return str(_l("Haal persoonsgegevens weg: %(found)s. Beschrijf de situatie zonder gegevens waarmee iemand "
                      "de cliënt kan herkennen.", found=found))


class PersonalDataFound(RuleViolation):
    """Texts hold personal data: every finding of every field, in the order of the fields and the text."""

    def __init__(self, findings: dict[str, tuple[str, list[Finding]]]):
        #: field name -> (its text, the findings in it), only fields with findings
        self.findings = findings
        every = [finding for _text, found in findings.values() for finding in found]
        super().__init__(_EveryFinding(every), field=next(iter(findings)))

    def by_field(self) -> list[tuple[str, list, list[Finding]]]:
        """(field, its text in parts as `highlighted` cuts it, its findings) for every field with findings."""
        return [(field, highlighted(text, found), found) for field, (text, found) in self.findings.items()]

    def messages(self) -> dict:
        """field name -> the sentence naming the findings in that field, to stand beside it."""
        return {field: _EveryFinding(found) for field, (_text, found) in self.findings.items()}

    def count(self) -> int:
        """How many findings there are in all."""
        return sum(len(found) for _text, found in self.findings.values())

    def as_json(self) -> list[dict]:
        """Every finding for a script: field, fragment, what it looks like, and where it stands in the text."""
        return [{"field": field, "fragment": finding.fragment, "kind": str(finding.label), "start": finding.start,
                 "end": finding.end} for field, (_text, found) in self.findings.items() for finding in found]


def check_texts_for_personal_data(texts: dict[str, str]) -> None:
    """PersonalDataFound listing every finding in every text of `texts` (field name -> text), if any."""
    findings = {field: (text, found) for field, text in texts.items() if (found := find_personal_data(text))}
    if findings:
        raise PersonalDataFound(findings)


def check_no_personal_data(text: str, *, field: str) -> None:
    """PersonalDataFound naming every fragment of personal data in `text`, if there is one."""
    check_texts_for_personal_data({field: text})


def highlighted(text: str, findings: list[Finding]) -> list[tuple[str, Finding | None]]:
    """`text` in parts: (plain text, None) and (fragment, its finding), in order, together the whole text."""
    parts, position = [], 0
    for finding in findings:
        if finding.start > position:
            parts.append((text[position:finding.start], None))
        parts.append((text[finding.start:finding.end], finding))
        position = finding.end
    if position < len(text):
        parts.append((text[position:], None))
    return parts
