"""A reader for ISO 20022 CAMT bank statements (camt.053, `Stmt`) and notifications (camt.054, `Ntfctn`).

Standard library only: `xml.etree.ElementTree` on expat, after the raw bytes have been screened. What it
returns and the invariants it keeps are in models/bank_formats/__init__.py; in short, a file is read whole
or refused whole with `StatementRefused`.

Refused before parsing: more than MAX_FILE_BYTES, a zip archive, any `<!DOCTYPE` or `<!ENTITY` anywhere in
the bytes (case-insensitive; so no entity is ever expanded and nothing is fetched), NUL bytes (UTF-16/32,
which would hide a DOCTYPE from the byte screen) and an XML declaration naming an encoding other than
UTF-8, US-ASCII or ISO-8859-1 (UTF-7 or EBCDIC would hide it too).

Refused after parsing: malformed XML; a root that is not `Document` in a camt.053.001.NN or camt.054.001.NN
namespace (versions .02 to .13, whose elements read here are the same) with `BkToCstmrStmt` resp.
`BkToCstmrDbtCdtNtfctn` in it; an amount with more decimals than its currency has (trailing zeros are
fine: EUR `8.850` is 885 cents); a balance or entry without `CdtDbtInd`; a booked entry without a booking
date; a balance or entry in another currency than the account's; and, per statement:
- camt.053: opening balance (`Bal` of type OPBD, else PRCD) + the sum of the booked lines must equal the
  closing balance (CLBD); both balances are required;
- camt.053 and camt.054: where `TxsSummry/TtlNtries/NbOfNtries` is given it must equal the number of booked
  lines read; `Sum` (sum of the absolute amounts) and the net total (`TtlNetNtry/Amt`+`CdtDbtInd`, or in
  .02 `TtlNetNtryAmt`+`CdtDbtInd`) must agree with them where given; likewise for `TtlCdtNtries` and
  `TtlDbtNtries`.

Lines are the `Ntry` elements with status BOOK (`<Sts>BOOK</Sts>` in .02-.04, `<Sts><Cd>BOOK</Cd></Sts>`
from .08). Entries with status PDNG (pending) or INFO (information only) are skipped: they are not booked,
do not move the balance and are not counted; a camt.054 whose only entries are INFO gives a notification
with no lines. An entry with no status at all is refused (it cannot be told apart from a pending one).
One entry is one line, also for a batch entry with several `TxDtls`: its amount is the entry's amount;
references, counterparty, MCC and card are taken from the first `TxDtls` that has them; the remittance texts
of all `TxDtls` are joined.

A camt.054 has no balances: `opening_balance` and `closing_balance` are None.
"""
import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from . import MAX_FILE_BYTES, Statement, StatementLine, StatementRefused, in_file

_NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:(camt\.(053|054)\.001\.(\d\d))\}Document$")
_SUPPORTED_VERSIONS = range(2, 14)
_MESSAGE = {"053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
_HOSTILE = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_ALLOWED_ENCODINGS = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}
_AMOUNT = re.compile(r"^\s*(\d*)(?:\.(\d*))?\s*$")
#: ISO 4217 minor units where they are not 2
_DECIMALS = {
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}


def currency_decimals(currency: str) -> int:
    """The number of decimals (ISO 4217 minor unit) of a currency; 2 unless listed otherwise."""
    return _DECIMALS.get(currency.upper(), 2)


def format_minor(amount: int, currency: str) -> str:
    """`-1234, 'EUR'` -> `'EUR -12.34'`, for messages."""
    decimals = currency_decimals(currency)
    sign = "-" if amount < 0 else ""
    whole, minor = divmod(abs(amount), 10**decimals)
    return f"{currency} {sign}{whole}" + (f".{minor:0{decimals}d}" if decimals else "")


def read_camt(data: bytes, file_name: str = "") -> list[Statement]:
    """Every statement (camt.053) or notification (camt.054) in `data`, or `StatementRefused`."""
    try:
        return _read(data)
    except StatementRefused as refused:
        raise in_file(file_name, refused.reason) from None


def _read(data: bytes) -> list[Statement]:
    _screen(data)
    try:
        root = ET.fromstring(data, parser=ET.XMLParser())
    except ET.ParseError as error:
        raise StatementRefused(_l("onleesbare XML (%(error)s)", error=str(error))) from None
    match = _NAMESPACE.match(root.tag)
    if not match or int(match.group(3)) not in _SUPPORTED_VERSIONS:
        raise StatementRefused(_l("geen camt.053- of camt.054-afschrift: onbekend hoofdelement %(tag)s",
                                  tag=repr(root.tag)))
    format_name, kind = match.group(1), match.group(2)
    ns = root.tag[: root.tag.index("}") + 1]
    message_tag, statement_tag = _MESSAGE[kind]
    message = root.find(ns + message_tag)
    if message is None:
        raise StatementRefused(_l("%(format)s zonder element %(element)s", format=format_name, element=message_tag))
    reader = _Reader(ns)
    statements = []
    for number, element in enumerate(message.findall(ns + statement_tag), start=1):
        statement = reader.statement(element, format_name, kind, number)
        statements.append(statement)
    if not statements:
        raise StatementRefused(_l("%(format)s zonder één element %(element)s", format=format_name,
                                  element=statement_tag))
    return statements


def _screen(data: bytes) -> None:
    if not isinstance(data, (bytes, bytearray)):
        raise StatementRefused(_l("de inhoud van het bestand ontbreekt"))
    if len(data) > MAX_FILE_BYTES:
        raise StatementRefused(_l("bestand te groot: %(size)s bytes, hoogstens %(max)s bytes worden aangenomen",
                                  size=len(data), max=MAX_FILE_BYTES))
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        raise StatementRefused(_l("een zip-bestand, geen afschrift: pak het uit en lees de XML-bestanden in"))
    if _HOSTILE.search(data):
        raise StatementRefused(_l("XML met een DOCTYPE- of ENTITY-declaratie wordt geweigerd"))
    if b"\x00" in data:
        raise StatementRefused(_l("geen XML-bestand in UTF-8 (NUL-bytes; UTF-16 en UTF-32 worden geweigerd)"))
    declared = _DECLARED_ENCODING.match(data.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).decode("ascii").lower() not in _ALLOWED_ENCODINGS:
        raise StatementRefused(_l("XML-codering %(encoding)s wordt niet ondersteund",
                                  encoding=repr(declared.group(1).decode("ascii"))))


def parse_amount(text: str | None, currency: str, what: str) -> int:
    """The decimal text of an amount as integer minor units of `currency`, exactly (Decimal, never float).
    More decimals than the currency has are refused unless they are zeros."""
    match = _AMOUNT.match(text or "")
    if not match or not (match.group(1) or match.group(2)):
        raise StatementRefused(_l("%(what)s: geen bedrag: %(text)s", what=what, text=repr(text)))
    decimals = currency_decimals(currency)
    try:
        value = Decimal(f"{match.group(1) or '0'}.{match.group(2) or '0'}")
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise StatementRefused(_l("%(what)s: geen bedrag: %(text)s", what=what, text=repr(text))) from None
    minor = value.scaleb(decimals)
    if minor != minor.to_integral_value():
        raise StatementRefused(_l("%(what)s: bedrag %(amount)s heeft meer decimalen dan %(currency)s toestaat "
                                  "(%(decimals)s)", what=what, amount=text.strip(), currency=currency,
                                  decimals=decimals))
    return int(minor)


def _date(text: str | None, what: str) -> date:
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        raise StatementRefused(_l("%(what)s: geen datum: %(text)s", what=what, text=repr(text))) from None


class _Reader:
    def __init__(self, ns: str):
        self.ns = ns

    # -- small helpers ----------------------------------------------------------------------------
    def path(self, path: str) -> str:
        return "/".join(self.ns + part if part not in (".", "..", "*") else part for part in path.split("/"))

    def find(self, element, path: str):
        return None if element is None else element.find(self.path(path))

    def text(self, element, *paths: str) -> str:
        """The stripped text of the first of `paths` that is present and not empty."""
        for path in paths:
            found = self.find(element, path)
            if found is not None and (found.text or "").strip():
                return " ".join(found.text.split())
        return ""

    def date_of(self, element, what: str) -> date | None:
        """A `Dt`/`DtTm` choice (BookgDt, ValDt, Bal/Dt): the date written, or None when absent."""
        text = self.text(element, "Dt", "DtTm")
        return _date(text, what) if text else None

    def signed(self, element, currency: str, what: str, amount_path: str = "Amt") -> int:
        amount_element = self.find(element, amount_path)
        if amount_element is None:
            raise StatementRefused(_l("%(what)s: geen bedrag", what=what))
        amount_currency = (amount_element.get("Ccy") or currency).strip().upper()
        if amount_currency != currency:
            raise StatementRefused(_l("%(what)s: bedrag in %(amount_currency)s, maar de rekening is in %(currency)s",
                                      what=what, amount_currency=amount_currency, currency=currency))
        amount = parse_amount(amount_element.text, currency, what)
        indicator = self.text(element, "CdtDbtInd")
        if indicator == "CRDT":
            return amount
        if indicator == "DBIT":
            return -amount
        raise StatementRefused(_l("%(what)s: geen teken voor bij of af (CdtDbtInd), dus niet bekend of het geld "
                                  "binnenkomt of weggaat", what=what))

    # -- a statement --------------------------------------------------------------------------------
    def statement(self, element, format_name: str, kind: str, number: int) -> Statement:
        statement_id = self.text(element, "Id") or f"#{number}"
        label = (_l("afschrift %(id)s", id=statement_id) if kind == "053"
                 else _l("melding %(id)s", id=statement_id))
        iban = self.text(element, "Acct/Id/IBAN").replace(" ", "").upper()
        currency = self.currency(element, label)
        opening = closing = None
        opening_date = closing_date = None
        if kind == "053":
            opening_element = self.balance(element, "OPBD") or self.balance(element, "PRCD")
            closing_element = self.balance(element, "CLBD")
            if opening_element is None or closing_element is None:
                raise StatementRefused(_l("%(statement)s: geen beginsaldo (OPBD/PRCD) of geen eindsaldo (CLBD)",
                                          statement=label))
            opening_label = _l("%(statement)s, %(part)s", statement=label, part=_l("beginsaldo"))
            closing_label = _l("%(statement)s, %(part)s", statement=label, part=_l("eindsaldo"))
            opening = self.signed(opening_element, currency, opening_label)
            closing = self.signed(closing_element, currency, closing_label)
            opening_date = self.date_of(self.find(opening_element, "Dt"), opening_label)
            closing_date = self.date_of(self.find(closing_element, "Dt"), closing_label)
        if opening_date is None:
            opening_date = _optional_date(self.text(element, "FrToDt/FrDtTm"), label)
        if closing_date is None:
            closing_date = _optional_date(self.text(element, "FrToDt/ToDtTm"), label)
        lines = []
        for index, entry in enumerate(element.findall(self.path("Ntry")), start=1):
            line = self.entry(entry, currency, _l("%(statement)s, regel %(number)s", statement=label, number=index))
            if line is not None:
                lines.append(line)
        self.check_summary(element, lines, currency, label)
        if kind == "053":
            total = sum(line.amount for line in lines)
            if opening + total != closing:
                raise StatementRefused(_l(
                    "%(statement)s: de saldi kloppen niet: beginsaldo %(opening)s + %(count)s regels %(total)s = "
                    "%(sum)s, maar het eindsaldo is %(closing)s", statement=label,
                    opening=format_minor(opening, currency), count=len(lines), total=format_minor(total, currency),
                    sum=format_minor(opening + total, currency), closing=format_minor(closing, currency)))
        return Statement(
            format=format_name,
            account_iban=iban,
            currency=currency,
            statement_id=statement_id,
            opening_balance=opening,
            closing_balance=closing,
            opening_date=opening_date,
            closing_date=closing_date,
            lines=lines,
        )

    def currency(self, element, label: str) -> str:
        currency = self.text(element, "Acct/Ccy")
        if not currency:
            for path in ("Bal/Amt", "Ntry/Amt"):
                found = self.find(element, path)
                if found is not None and found.get("Ccy"):
                    currency = found.get("Ccy")
                    break
        currency = currency.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise StatementRefused(_l("%(statement)s: geen valuta voor de rekening", statement=label))
        return currency

    def balance(self, element, code: str):
        for balance in element.findall(self.path("Bal")):
            if self.text(balance, "Tp/CdOrPrtry/Cd") == code:
                return balance
        return None

    def check_summary(self, element, lines: list[StatementLine], currency: str, label: str) -> None:
        summary = self.find(element, "TxsSummry")
        if summary is None:
            return
        credits = [line.amount for line in lines if line.amount > 0]
        debits = [-line.amount for line in lines if line.amount < 0]
        zero = [0 for line in lines if line.amount == 0]
        groups = (
            ("TtlNtries", _l("regels"), len(lines), sum(credits) + sum(debits)),
            ("TtlCdtNtries", _l("bijschrijvingen"), len(credits), sum(credits)),
            ("TtlDbtNtries", _l("afschrijvingen"), len(debits), sum(debits)),
        )
        for tag, name, count, absolute in groups:
            group = self.find(summary, tag)
            if group is None:
                continue
            if tag != "TtlNtries" and zero:
                continue  # a zero-amount line counts as credit or debit by its indicator, which is not kept
            declared = self.text(group, "NbOfNtries")
            if declared and (not declared.isdigit() or int(declared) != count):
                raise StatementRefused(_l(
                    "%(statement)s: het bestand meldt %(declared)s %(name)s (TxsSummry/%(tag)s/NbOfNtries), maar er "
                    "zijn %(count)s geboekte %(name)s gelezen", statement=label, declared=declared, name=name,
                    tag=tag, count=count))
            declared_sum = self.text(group, "Sum")
            if declared_sum:
                part = f"TxsSummry/{tag}/Sum"
                value = parse_amount(declared_sum, currency, _l("%(statement)s, %(part)s", statement=label, part=part))
                if value != absolute:
                    raise StatementRefused(_l(
                        "%(statement)s: het bestand meldt een som van %(declared)s voor de %(name)s "
                        "(TxsSummry/%(tag)s/Sum), maar de gelezen geboekte %(name)s tellen op tot %(read)s",
                        statement=label, declared=format_minor(value, currency), name=name, tag=tag,
                        read=format_minor(absolute, currency)))
        entries = self.find(summary, "TtlNtries")
        net = None
        net_label = _l("%(statement)s, %(part)s", statement=label, part=_l("nettototaal in TxsSummry"))
        if self.find(entries, "TtlNetNtry") is not None:
            net = self.signed(self.find(entries, "TtlNetNtry"), currency, net_label)
        elif self.find(entries, "TtlNetNtryAmt") is not None:
            net = self.signed(entries, currency, net_label, amount_path="TtlNetNtryAmt")
        total = sum(line.amount for line in lines)
        if net is not None and net != total:
            raise StatementRefused(_l(
                "%(statement)s: het bestand meldt een nettototaal van %(declared)s (TxsSummry), maar de gelezen "
                "geboekte regels tellen op tot %(read)s", statement=label, declared=format_minor(net, currency),
                read=format_minor(total, currency)))

    # -- an entry -------------------------------------------------------------------------------------
    def entry(self, entry, currency: str, label: str) -> StatementLine | None:
        status = self.text(entry, "Sts/Cd", "Sts/Prtry", "Sts").upper()
        if status in ("PDNG", "INFO"):
            return None
        if status != "BOOK":
            raise StatementRefused(_l("%(entry)s: status %(status)s, verwacht BOOK, PDNG of INFO", entry=label,
                                      status=status or _l("ontbreekt")))
        reference = self.text(entry, "AcctSvcrRef") or self.text(entry, "NtryRef")
        label = _l("%(what)s (%(reference)s)", what=label, reference=reference) if reference else label
        amount = self.signed(entry, currency, label)
        booking_date = self.date_of(self.find(entry, "BookgDt"), label)
        if booking_date is None:
            raise StatementRefused(_l("%(entry)s: een geboekte regel zonder boekdatum (BookgDt)", entry=label))
        details = entry.findall(self.path("NtryDtls/TxDtls"))
        party, account = ("Cdtr", "CdtrAcct") if amount < 0 else ("Dbtr", "DbtrAcct")
        return StatementLine(
            amount=amount,
            booking_date=booking_date,
            value_date=self.date_of(self.find(entry, "ValDt"), label),
            bank_reference=self.text(entry, "AcctSvcrRef"),
            entry_reference=self.first(details, "Refs/EndToEndId"),
            counterparty_name=self.first(details, f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm"),
            counterparty_iban=self.first(details, f"RltdPties/{account}/Id/IBAN").replace(" ", "").upper(),
            description=self.description(entry, details),
            transaction_code=self.transaction_code(entry, details),
            merchant_category_code=self.merchant_category_code(entry, details),
            card_reference=self.card_reference(entry, details),
        )

    def first(self, details, *paths: str) -> str:
        for detail in details:
            value = self.text(detail, *paths)
            if value and value.upper() != "NOTPROVIDED":
                return value
        return ""

    def description(self, entry, details) -> str:
        texts = []
        for detail in details:
            unstructured = [" ".join((u.text or "").split()) for u in detail.findall(self.path("RmtInf/Ustrd"))]
            unstructured = [text for text in unstructured if text]
            if unstructured:
                texts.append(" ".join(unstructured))
                continue
            references = [
                " ".join((r.text or "").split()) for r in detail.findall(self.path("RmtInf/Strd/CdtrRefInf/Ref"))
            ]
            texts.extend(text for text in references if text)
        if not texts:
            texts = [self.text(entry, "AddtlNtryInf")] if self.text(entry, "AddtlNtryInf") else []
        return " ".join(texts)

    def transaction_code(self, entry, details) -> str:
        for element in [entry, *details]:
            code = self.find(element, "BkTxCd")
            domain = self.text(code, "Domn/Cd")
            if domain:
                return "/".join(
                    part for part in (domain, self.text(code, "Domn/Fmly/Cd"), self.text(code, "Domn/Fmly/SubFmlyCd"))
                    if part
                )
            proprietary = self.text(code, "Prtry/Cd")
            if proprietary:
                return proprietary
        return ""

    def merchant_category_code(self, entry, details) -> str:
        """ISO 18245 MCC: a `MrchntCtgyCd` anywhere in the entry (card transaction data), or a proprietary
        reference/code typed MCC (`Refs/Prtry` with `Tp` MCC, `BkTxCd/Prtry` with `Issr` MCC)."""
        for element in [entry, *details]:
            for found in element.iter(self.ns + "MrchntCtgyCd"):
                if re.fullmatch(r"\d{4}", (found.text or "").strip()):
                    return found.text.strip()
            for proprietary in element.findall(self.path("Refs/Prtry")) + element.findall(self.path("BkTxCd/Prtry")):
                kind = (self.text(proprietary, "Tp") or self.text(proprietary, "Issr")).upper()
                value = self.text(proprietary, "Ref") or self.text(proprietary, "Cd")
                if kind in ("MCC", "MRCHNTCTGYCD") and re.fullmatch(r"\d{4}", value):
                    return value
        return ""

    def card_reference(self, entry, details) -> str:
        """The last four digits of the (masked) card number in `CardTx/Card` (MskdPAN or Pan), if any."""
        for element in [entry, *details]:
            card = self.find(element, "CardTx/Card")
            if card is None:
                continue
            for tag in ("MskdPAN", "Pan"):
                for found in card.iter(self.ns + tag):
                    digits = re.sub(r"\D", "", found.text or "")
                    if len(digits) >= 4:
                        return digits[-4:]
        return ""


def _optional_date(text: str, label: str) -> date | None:
    return _date(text, label) if text else None
