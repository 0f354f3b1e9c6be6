"""A small MT940 reader for the layouts Dutch banks write (ING, Rabobank, ABN AMRO, Triodos, SNS/ASN, Knab,
bunq, Van Lanschot, Moneyou, Mollie), written here because the `mt-940` package raises on SNS/ASN
continuation lines and on an ING `:28C:` split over two lines, and silently drops lines of a Rabobank file.

`read_mt940(data, file_name)` returns every statement of the file, or raises `StatementRefused`:
- the file is decoded as UTF-8, else cp1252, else latin-1; a trailing Ctrl-Z is dropped;
- anything outside a message (`{1:}{2:}{4:` blocks, `0000 01INGBNL2AXXXX00001` / `940 00` / `:940:` /
  `ABNANL2A` headers, prose) is skipped; a message ends at `-`, `-XXX`, `-}`, `}`, the next `:20:`, or text
  after its closing balance. A `-` line inside a line's :86: (a wrapped mandate id) is continuation text;
- a statement is one `:20:` block. Each block is checked on its own: opening (:60F: or :60M:) + the sum of
  its :61: lines = closing (:62F: or :62M:); consecutive blocks of one account chained by :62M:/:60M:
  must hand over the same balance; where the file declares counts (ING `:86:/SUM/debits/credits/…` or
  `:86:D000003C000001D…C…` after the closing balance) the counts and sums must agree;
- a :61: that does not parse, a block without :25:, opening or closing balance, an amount with more
  decimals than its currency has, a `{4:` block not closed by `-}`, a file over MAX_FILE_BYTES, a zip,
  XML or text without MT940 tags are refused. All problems found are listed in one message naming the
  statement (its :20: and :28C:) and the figures.

Marks: D debit (money out), C credit (money in); RC is a reversal of a credit (a debit entry, money out)
and RD a reversal of a debit (a credit entry, money in), as in SWIFT's definition of field 61.
"""
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from schwifty import IBAN

from . import MAX_FILE_BYTES, Statement, StatementLine, StatementRefused, in_file, joined
from .camt import format_minor

FORMAT = "mt940"

#: ISO 4217 minor units where they are not 2
_CURRENCY_DECIMALS = {
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}

_TAG = re.compile(r"^:(\d\d[A-Z]?):(.*)$", re.S)
_BALANCE = re.compile(r"^([DC])(\d{6})([A-Z]{3})(\d+(?:[.,]\d*)?)$")
_LINE = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|C|D)(?P<funds>[A-Z])?(?P<amount>\d+(?:[.,]\d*)?)"
    r"(?P<type>[NFS][A-Z0-9]{2}[A-Z0-9 ])(?P<rest>.*)$"
)
_SUM_ING = re.compile(r"^/SUM/(\d+)/(\d+)/(\d+(?:[.,]\d*)?)/(\d+(?:[.,]\d*)?)/?$")
_SUM_DC = re.compile(r"^D(\d+)C(\d+)D(\d+(?:[.,]\d*)?)C(\d+(?:[.,]\d*)?)$")
_FULL_LINE = 65  # an MT940 :86: line holds 65 characters; a full one may wrap mid-word
_STRUCTURED_TAGS = (
    "EREF", "CNTP", "REMI", "TRCD", "PREF", "RTRN", "MARF", "CSID", "PURP", "ULTC", "ULTD", "ULTB", "BENM",
    "ORDP", "ISDT", "NAME", "IBAN", "BIC", "ADDR", "TRTP", "RTYP", "NRTX", "PIND", "ID", "SVCL", "SUM",
)
_STRUCTURED = re.compile(r"/(" + "|".join(_STRUCTURED_TAGS) + r")/")
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")


def _refuse(file_name: str, reason) -> StatementRefused:
    return in_file(file_name, reason)


class _Unreadable(ValueError):
    """What makes a block unreadable; `reason` is lazy and translatable, like StatementRefused's."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.reason)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _minor_units(text: str, currency: str) -> int:
    """'107,' / '0,3' / '000000002145.00' / '1,813' (BHD) → integer minor units; ValueError if not exact."""
    decimals = _CURRENCY_DECIMALS.get(currency, 2)
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation as error:
        raise _Unreadable(_l("bedrag %(text)s is geen getal", text=repr(text))) from error
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise _Unreadable(_l("bedrag %(text)s heeft meer dan %(decimals)s decimalen voor %(currency)s",
                             text=repr(text), decimals=decimals, currency=currency))
    return int(scaled)


def _yymmdd(text: str) -> date:
    year = int(text[:2])
    try:
        return date(2000 + year if year < 70 else 1900 + year, int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise _Unreadable(_l("datum %(text)s bestaat niet", text=repr(text))) from None


def _entry_date(mmdd: str, value_date: date) -> date:
    """The entry date has no year: take the one nearest the value date (a line valued 1 January may be
    booked 31 December, and the other way round)."""
    month, day = int(mmdd[:2]), int(mmdd[2:])
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise _Unreadable(_l("boekdatum %(text)s bestaat niet", text=repr(mmdd)))
    return min(candidates, key=lambda candidate: abs((candidate - value_date).days))


def _iban(text: str) -> str:
    """The electronic form of `text` if it is a valid IBAN (a trailing currency code allowed), else ''."""
    compact = re.sub(r"\s", "", text).upper()
    for candidate in (compact, compact[:-3] if len(compact) > 3 and compact[-3:].isalpha() else ""):
        if len(candidate) < 15 or not candidate[:2].isalpha():
            continue
        try:
            return IBAN(candidate).compact
        except Exception:  # schwifty raises its own exception classes for every kind of invalid IBAN
            continue
    return ""


def _account(raw: str) -> str:
    for token in re.split(r"[/\s]+", raw.strip()):
        if found := _iban(token):
            return found
    return _iban(raw)


@dataclass
class _Field:
    tag: str
    lines: list[str]


@dataclass
class _Block:
    """The raw fields of one :20: block."""

    fields: list[_Field] = field(default_factory=list)


def _split_blocks(text: str, file_name: str) -> list[_Block]:
    lines = text.split("\n")
    blocks: list[_Block] = []
    block: _Block | None = None
    closed = False  # the block has its closing balance: text that is not a tag ends it
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r")
        stripped = line.strip()
        if not stripped:
            continue
        tag = _TAG.match(line)
        if tag and tag.group(1) == "20":
            block = _Block([_Field("20", [tag.group(2)])])
            blocks.append(block)
            closed = False
            continue
        if block is None:
            if tag:
                raise _refuse(file_name, _l("tag :%(tag)s: buiten een afschrift (regel %(line)s)",
                                             tag=tag.group(1), line=index + 1))
            continue  # headers and text between messages
        if tag:
            block.fields.append(_Field(tag.group(1), [tag.group(2)]))
            if tag.group(1)[:2] in ("62", "64", "65"):
                closed = True
            continue
        current = block.fields[-1]
        if stripped in ("-", "-XXX", "}") or stripped.startswith("-}"):
            if stripped == "-" and current.tag in ("61", "86") and not closed:
                following = next((rest.strip() for rest in lines[index + 1:] if rest.strip()), "")
                if following and following[0] not in ":{}-":
                    current.lines.append(line)  # a wrapped value that happens to start a line with '-'
                    continue
            block = None
            continue
        if closed or current.tag[:2] in ("60", "62", "64", "65"):
            block = None  # prose or a header after the balances: the message is over
            if closed:
                continue
            raise _refuse(file_name, _l("onverwachte tekst na :%(tag)s: (regel %(line)s): %(text)s",
                                        tag=current.tag, line=index + 1, text=repr(stripped[:40])))
        current.lines.append(line)
    return blocks


def _join_86(parts: list[str]) -> str:
    """Join the lines of a :86: field: structured text ('/TAG/…') wraps anywhere, so its lines are joined
    as they are; free text is joined with a space unless the previous line was full (65 characters)."""
    first = parts[0]
    if first.strip().startswith("/"):
        return "".join(part.rstrip() if len(part) < _FULL_LINE else part for part in parts)
    text = first
    for previous, part in zip(parts, parts[1:]):
        text += ("" if len(previous) >= _FULL_LINE else " ") + part
    return text


def _clean(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())


def _structured_fields(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    matches = list(_STRUCTURED.finditer(text))
    for match, following in zip(matches, matches[1:] + [None]):
        end = following.start() if following else len(text)
        found.setdefault(match.group(1), []).append(text[match.end():end])
    return found


def _apply_details(line: StatementLine, text: str, type_code: str) -> None:
    """Fill the line's counterparty, references, codes and description from its :86: text."""
    description = _clean(text)
    stripped = text.strip()
    if stripped.startswith("/") and _STRUCTURED.search(stripped):
        tags = _structured_fields(stripped)
        if "EREF" in tags:
            eref = tags["EREF"][0].strip("/ ").strip()
            if eref and eref.upper() != "NOTPROVIDED":
                line.entry_reference = eref
        if "CNTP" in tags:
            parts = tags["CNTP"][0].split("/")
            line.counterparty_iban = line.counterparty_iban or _iban(parts[0])
            if len(parts) > 2 and parts[2].strip():
                line.counterparty_name = _clean(parts[2])
        if "IBAN" in tags and not line.counterparty_iban:
            line.counterparty_iban = _iban(tags["IBAN"][0].strip("/ "))
        names = [_clean(value.strip("/")) for value in tags.get("NAME", []) if value.strip("/ ")]
        if names and not line.counterparty_name:
            line.counterparty_name = names[0]
        if "TRCD" in tags:
            line.transaction_code = tags["TRCD"][0].strip("/ ")
        remittance = []
        for value in tags.get("REMI", []):
            value = value.strip()
            value = re.sub(r"^(USTD|STRD/CUR|STRD/ISO|STRD)//?", "", value).strip("/ ").strip()
            if value:
                remittance.append(_clean(value))
        if remittance:
            description = " ".join(remittance)
    elif re.match(r"^\d{3}>\d\d", stripped):  # Triodos: '000>100555555555' then >20…>29 subfields
        pieces = []
        for number, value in re.findall(r">(\d\d)([^>]*)", stripped):
            if number.startswith("2"):
                if found := _iban(value):
                    line.counterparty_iban = line.counterparty_iban or found
                elif not _BIC.match(value.strip()):
                    pieces.append(value)
        description = _clean("".join(pieces)) or description
    elif re.match(r"^\d{3}\?\d\d", stripped):  # German '?20' subfields
        subfields = dict()
        for number, value in re.findall(r"\?(\d\d)([^?]*)", stripped):
            subfields[number] = subfields.get(number, "") + value
        line.transaction_code = line.transaction_code or stripped[:3]
        line.counterparty_name = line.counterparty_name or _clean(subfields.get("32", "") + subfields.get("33", ""))
        remittance = "".join(subfields.get(f"{n}", "") for n in [*range(20, 30), *range(60, 64)])
        description = _clean(remittance) or description
    else:  # free text: ABN 'IBAN: … NAAM: …', Knab 'REK: …/NAAM: …', SNS/ASN 'NL..IBAN name'
        if not line.counterparty_iban:
            found = re.search(r"(?:IBAN|REK):\s*([A-Z]{2}\d\d[A-Z0-9]+)", stripped) or re.match(
                r"^([A-Z]{2}\d\d[A-Z0-9]{10,30})\b", stripped
            )
            if found:
                line.counterparty_iban = _iban(found.group(1))
        if not line.counterparty_name:
            found = re.search(r"NAAM:\s*(.+?)(?=\s{2,}|\s+[A-Z][A-Z.]*:|$)", stripped)
            if found:
                line.counterparty_name = _clean(found.group(1))
    line.description = description
    mcc = re.search(r"MCC:(\d{4})", re.sub(r"\s", "", text))
    if mcc:
        line.merchant_category_code = mcc.group(1)
    _card_or_cash(line, _clean(text), type_code)


def _card_or_cash(line: StatementLine, text: str, type_code: str) -> None:
    upper = text.upper()
    card = None
    for pattern in (r",\s*PAS\s*(\d+)", r"PASNR\.?\s*(\d+)", r"\bPAS:\s*(\d+)", r"\bPAS\s+(\d{3,4})\b"):
        if found := re.search(pattern, upper):
            card = found.group(1)
            break
    if card is None and "BETAALAUTOMAAT" in upper:
        found = re.search(r"BETAALAUTOMAAT.*?\s(\d{3})\s+[A-Z0-9]{6}\s", upper)
        card = found.group(1) if found else ""
    if card is not None:
        line.card_reference = card
    is_cash = bool(re.search(r"\bGEA\b|GELDAUTOMAAT|NAAM:\s*ATM\b|GUICHET AUTOMATIQUE", upper))
    is_card = not is_cash and (
        re.search(r"\bBEA\b", upper) is not None
        or type_code.strip() in ("NBEA",)
        or ("BETAALAUTOMAAT" in upper and "AFREK" not in upper)
        or re.search(r"\bPAS:\s*\d+", upper) is not None
    )
    if is_cash:
        line.transaction_code = "cash"
    elif is_card:
        line.transaction_code = "card"


def _parse_line(parts: list[str], currency: str) -> tuple[StatementLine, str]:
    """A :61: field (with its continuation lines) → the line, and its D/C mark for the declared counts."""
    match = _LINE.match(parts[0].strip())
    if not match:
        raise _Unreadable(_l(":61:%(text)s is niet te lezen", text=parts[0].strip()[:50]))
    try:
        value_date = _yymmdd(match["value"])
        booking_date = _entry_date(match["entry"], value_date) if match["entry"] else value_date
        amount = _minor_units(match["amount"], currency)
    except _Unreadable as error:
        raise _Unreadable(_l(":61:%(text)s is niet te lezen: %(error)s", text=parts[0].strip()[:50],
                             error=error.reason)) from None
    mark = match["mark"]
    if mark in ("D", "RC"):
        amount = -amount
    rest = match["rest"].rstrip()
    bank_reference = ""
    supplementary_extra = ""
    continuation = [part.rstrip() for part in parts[1:]]
    if "//" in rest:
        customer, bank_reference = rest.split("//", 1)
        # a bank reference wrapped onto the next line (ING): only a short alphanumeric piece
        while continuation and re.fullmatch(r"[A-Za-z0-9]+", continuation[0].strip()) and (
            len(bank_reference) + len(continuation[0].strip()) <= 16
        ):
            bank_reference += continuation.pop(0).strip()
    else:
        customer = rest
    pieces = re.split(r"\s{2,}", customer.strip(), maxsplit=1)  # old Rabobank: reference, then a name
    customer = pieces[0].strip()
    if len(pieces) > 1:
        supplementary_extra = pieces[1].strip()
    supplementary = "".join(continuation).strip()
    line = StatementLine(amount=amount, booking_date=booking_date, value_date=value_date)
    line.bank_reference = bank_reference.strip()
    if customer.upper() not in ("NONREF", "EREF", "PREF", "MARF", "NOTPROVIDED"):
        line.entry_reference = customer
    line.transaction_code = match["type"].strip()
    if trcd := re.search(r"/TRCD/([^/]+)/?", supplementary):
        line.transaction_code = trcd.group(1).strip()
    elif supplementary:
        if found := _iban(supplementary.split()[0]):
            line.counterparty_iban = found
        elif not re.fullmatch(r"[A-Z]{2}\d\d[A-Z0-9]{8,30}|[\d. ]+", supplementary.strip()):
            line.counterparty_name = _clean(supplementary)  # SNS/ASN: the counterparty's name
    if found := _iban(customer):
        line.counterparty_iban = line.counterparty_iban or found
        line.entry_reference = ""
    if supplementary_extra and not line.counterparty_name:
        line.counterparty_name = _clean(supplementary_extra)
    return line, mark


@dataclass
class _Parsed:
    statement: Statement
    label: str
    opening_kind: str
    closing_kind: str
    marks: list[str]
    declared: tuple[int, int, int, int] | None  # debit count, credit count, debit sum, credit sum
    account: str  # the :25: as written


def _parse_block(block: _Block, file_name: str) -> _Parsed:
    values: dict[str, list[_Field]] = {}
    for item in block.fields:
        values.setdefault(item.tag, []).append(item)
    reference = _clean("".join(values["20"][0].lines))
    sequence_field = (values.get("28C") or values.get("28") or [None])[0]
    sequence = "".join(part.strip() for part in sequence_field.lines) if sequence_field else ""
    label = f":20:{reference}" + (f" :{sequence_field.tag}:{sequence}" if sequence else "")

    def balance(tags: tuple[str, ...]) -> tuple[str, int, date, str] | None:
        for tag in tags:
            if tag in values:
                text = "".join(values[tag][0].lines).strip()
                found = _BALANCE.match(text)
                if not found:
                    raise _Unreadable(_l(":%(tag)s:%(text)s is niet te lezen", tag=tag, text=text[:40]))
                mark, day, currency, amount = found.groups()
                try:
                    cents, when = _minor_units(amount, currency), _yymmdd(day)
                except _Unreadable as error:
                    raise _Unreadable(_l(":%(tag)s:%(text)s is niet te lezen: %(error)s", tag=tag, text=text[:40],
                                         error=error.reason)) from None
                return tag, -cents if mark == "D" else cents, when, currency
        return None

    account_raw = _clean(" ".join(values["25"][0].lines)) if "25" in values else ""
    if not account_raw:
        raise _Unreadable(_l("afschrift %(label)s heeft geen rekening (:25:)", label=label))
    opening = balance(("60F", "60M"))
    closing = balance(("62F", "62M"))
    if opening is None:
        raise _Unreadable(_l("afschrift %(label)s heeft geen beginsaldo (:60F:/:60M:)", label=label))
    if closing is None:
        raise _Unreadable(_l("afschrift %(label)s heeft geen eindsaldo (:62F:/:62M:); misschien is het bestand "
                             "afgebroken", label=label))
    if opening[3] != closing[3]:
        raise _Unreadable(_l("afschrift %(label)s begint in %(opening)s en eindigt in %(closing)s", label=label,
                             opening=opening[3], closing=closing[3]))
    currency = opening[3]
    iban = _account(account_raw)
    statement_id = label if iban else f"{label} :25:{account_raw}"
    statement = Statement(
        format=FORMAT, account_iban=iban, currency=currency, statement_id=statement_id,
        opening_balance=opening[1], closing_balance=closing[1], opening_date=opening[2], closing_date=closing[2],
    )
    marks: list[str] = []
    declared = None
    current: StatementLine | None = None
    detail: list[str] = []
    type_code = ""
    after_closing = False

    def finish() -> None:
        if current is not None and detail:
            _apply_details(current, _join_86(detail), type_code)
        elif current is not None:
            _card_or_cash(current, "", type_code)

    for item in block.fields:
        if item.tag == "61":
            if after_closing:
                raise _Unreadable(_l("afschrift %(label)s heeft een :61: na het eindsaldo", label=label))
            finish()
            try:
                current, mark = _parse_line(item.lines, currency)
            except _Unreadable as error:
                raise _Unreadable(_l("afschrift %(label)s: %(error)s", label=label, error=error.reason)) from None
            type_code = _LINE.match(item.lines[0].strip())["type"]
            detail = []
            marks.append(mark)
            statement.lines.append(current)
        elif item.tag == "86":
            if current is not None and not after_closing:
                # a repeated :86: (old Rabobank) continues the previous one
                detail.extend(item.lines if not detail else [" " + item.lines[0].rstrip(), *item.lines[1:]])
            else:
                text = _clean(" ".join(item.lines))
                if found := _SUM_ING.match(text) or _SUM_DC.match(text):
                    declared = (
                        int(found.group(1)), int(found.group(2)),
                        _minor_units(found.group(3), currency), _minor_units(found.group(4), currency),
                    )
        elif item.tag[:2] in ("62", "64", "65"):
            after_closing = True
            finish()
            current, detail = None, []
    finish()
    return _Parsed(statement, label, opening[0], closing[0], marks, declared, account_raw)


def _check(parsed: list[_Parsed]) -> list:
    """What does not add up, per statement: lazy, translatable texts with the figures."""
    problems: list = []
    previous: _Parsed | None = None
    for item in parsed:
        statement = item.statement
        total = sum(line.amount for line in statement.lines)
        if statement.opening_balance + total != statement.closing_balance:
            money = lambda amount: format_minor(amount, statement.currency)  # noqa: E731
            problems.append(_l(
                "afschrift %(label)s klopt niet: beginsaldo %(opening)s + %(count)s regels %(total)s = %(sum)s, "
                "maar het eindsaldo is %(closing)s (verschil %(difference)s)", label=item.label,
                opening=money(statement.opening_balance), count=len(statement.lines), total=money(total),
                sum=money(statement.opening_balance + total), closing=money(statement.closing_balance),
                difference=money(statement.closing_balance - statement.opening_balance - total)))
        if item.declared is not None:
            debits = [line.amount for line, mark in zip(statement.lines, item.marks) if mark in ("D", "RC")]
            credits = [line.amount for line, mark in zip(statement.lines, item.marks) if mark in ("C", "RD")]
            read = (len(debits), len(credits), -sum(debits), sum(credits))
            if read != item.declared:
                money = lambda amount: format_minor(amount, statement.currency)  # noqa: E731
                problems.append(_l(
                    "afschrift %(label)s: het bestand meldt %(debits)s afschrijvingen en %(credits)s bijschrijvingen "
                    "van samen %(debit_sum)s en %(credit_sum)s, maar er zijn %(read_debits)s afschrijvingen en "
                    "%(read_credits)s bijschrijvingen van samen %(read_debit_sum)s en %(read_credit_sum)s gelezen",
                    label=item.label, debits=item.declared[0], credits=item.declared[1],
                    debit_sum=money(item.declared[2]), credit_sum=money(item.declared[3]), read_debits=read[0],
                    read_credits=read[1], read_debit_sum=money(read[2]), read_credit_sum=money(read[3])))
        if (
            previous is not None
            and item.opening_kind == "60M"
            and previous.closing_kind == "62M"
            and previous.account == item.account
            and previous.statement.closing_balance != statement.opening_balance
        ):
            problems.append(_l(
                "afschrift %(label)s volgt op %(previous)s, maar begint op %(opening)s waar dat eindigde op "
                "%(closing)s", label=item.label, previous=previous.label,
                opening=format_minor(statement.opening_balance, statement.currency),
                closing=format_minor(previous.statement.closing_balance, previous.statement.currency)))
        previous = item
    return problems


def _parse(data: bytes, file_name: str) -> list[_Parsed]:
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(file_name, _l("het bestand is %(size)s bytes, meer dan de %(max)s die worden aangenomen",
                                    size=len(data), max=MAX_FILE_BYTES))
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        raise _refuse(file_name, _l("geen MT940-bestand: het is een zip-bestand"))
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        raise _refuse(file_name, _l("geen MT940-bestand: het lijkt op XML"))
    if b"\x00" in data:
        raise _refuse(file_name, _l("geen MT940-bestand: er staan binaire gegevens in"))
    text = _decode(data).rstrip().rstrip("\x1a").replace("\t", " ")
    if not re.search(r"^:20:", text, re.M) or not re.search(r"^:60[FM]:", text, re.M):
        raise _refuse(file_name, _l("geen MT940-bestand: geen tags :20: en :60F:"))
    if "{4:" in text:  # SWIFT blocks: each must be closed, or the file was cut off
        ends = sum(1 for line in text.split("\n") if line.strip().startswith("-}") or line.strip() == "}")
        if ends < text.count("{4:"):
            raise _refuse(file_name, _l("geweigerd: een bericht ({4:-blok) is niet afgesloten met '-}'; misschien "
                                        "is het bestand afgebroken"))
    blocks = _split_blocks(text, file_name)
    parsed = []
    for block in blocks:
        try:
            parsed.append(_parse_block(block, file_name))
        except ValueError as error:  # _Unreadable; any other ValueError still refuses the file, never a 500
            raise _refuse(file_name, _l("geweigerd: %(error)s", error=getattr(error, "reason", error))) from None
    if not parsed:
        raise _refuse(file_name, _l("geen MT940-bestand: geen afschrift gevonden"))
    return parsed


def read_mt940_unchecked(data: bytes, file_name: str = "") -> list[Statement]:
    """The statements as read, WITHOUT the balance and count checks: for diagnostics and tests only (an
    import must use `read_mt940`). Still refuses what cannot be read at all."""
    return [item.statement for item in _parse(data, file_name)]


def read_mt940(data: bytes, file_name: str = "") -> list[Statement]:
    """Every statement of an MT940 file, each checked (see the module docstring), or StatementRefused."""
    parsed = _parse(data, file_name)
    problems = _check(parsed)
    if problems:
        raise _refuse(file_name, _l("geweigerd, niets ingelezen: %(problems)s", problems=joined(problems)))
    return [item.statement for item in parsed]
