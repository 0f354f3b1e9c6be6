"""Reading bank statements (CAMT.053, CAMT.054, MT940) into one shape, before anything is saved.

Invariants (issue 12, §1):
- A file is read whole or refused whole: `read_statement_file` returns every statement in it, or raises
  `StatementRefused` with a message that says what did not add up; never a partial result.
- For every statement: opening balance + the sum of its lines = closing balance, and the number of lines
  read equals the number the file declares where it declares one (CAMT `TxsSummry/TtlNtries/NbOfNtries`,
  MT940 `:86:/SUM/` or trailer counts where present); otherwise the file is refused.
- Amounts are integer minor units (cents for EUR) taken from the text, never through float; the number of
  decimals of the currency is respected (a BHD amount has three).
- XML with a DOCTYPE or entity declaration is refused before parsing (no entity is ever expanded, nothing is
  fetched); so are files larger than MAX_FILE_BYTES, zip archives and text that is neither format.
- Nothing here touches the database: matching a line to the ledger is models/ (issue 12, §2), elsewhere.
- A refusal's reason is Dutch first and translatable (`lazy_gettext`, like `models.rules.RuleViolation`): it is
  put together lazily and rendered when shown, in the language of the request (Dutch outside one, so the
  readers need no Flask app). It keeps the figures: which statement, which numbers did not add up.
"""
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l

#: the largest statement file accepted (a team account's year of statements is far below this)
MAX_FILE_BYTES = 5 * 1024 * 1024


class StatementRefused(ValueError):
    """The file cannot be imported; `reason` says why (a lazy, translatable text); `str(error)` renders it in
    the current language (Dutch outside a request)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.reason)


def in_file(file_name: str, reason) -> StatementRefused:
    """The refusal with the file's name in front of its reason (where the file has a name)."""
    return StatementRefused(_l("%(file)s: %(reason)s", file=file_name, reason=reason) if file_name else reason)


def joined(reasons: list, shown: int = 5):
    """Several reasons as one text, "; " between them, at most `shown` of them and how many more (lazy)."""
    text = reasons[0]
    for reason in reasons[1:shown]:
        text = _l("%(first)s; %(next)s", first=text, next=reason)
    if len(reasons) > shown:
        text = _l("%(reasons)s; en nog %(count)s", reasons=text, count=len(reasons) - shown)
    return text


@dataclass
class StatementLine:
    """One booked line (an entry) of a statement."""

    amount: int  # minor units, positive = money in (credit), negative = money out (debit)
    booking_date: date
    value_date: date | None = None
    #: the bank's own reference for the line (CAMT AcctSvcrRef / MT940 bank reference), if any
    bank_reference: str = ""
    #: the end-to-end or customer reference (CAMT EndToEndId, MT940 /EREF/ or the :61: customer reference)
    entry_reference: str = ""
    counterparty_name: str = ""
    counterparty_iban: str = ""
    #: the free text (remittance information / :86: description), whitespace collapsed
    description: str = ""
    #: bank transaction code as given (CAMT Domn/Fmly/SubFmlyCd joined by '/', or Prtry; MT940 GVC/TRCD/type code)
    transaction_code: str = ""
    #: merchant category code (ISO 18245) where the file gives one
    merchant_category_code: str = ""
    #: a card's last four digits or card reference where the file gives one
    card_reference: str = ""


@dataclass
class Statement:
    """One statement (or notification) of one account."""

    format: str  # "camt.053.001.02", "camt.054.001.08", "mt940", ...
    account_iban: str  # electronic form, upper case, no spaces ('' when the file names no IBAN)
    currency: str
    statement_id: str
    opening_balance: int | None  # minor units; None for a CAMT.054 notification, which has no balances
    closing_balance: int | None
    opening_date: date | None = None
    closing_date: date | None = None
    lines: list[StatementLine] = field(default_factory=list)


def read_statement_file(data: bytes, file_name: str = "") -> list[Statement]:
    """Every statement in the file, CAMT or MT940 by its content (never by its name), or StatementRefused."""
    if len(data) > MAX_FILE_BYTES:
        raise StatementRefused(_l("Het bestand is groter dan %(mb)s MB.", mb=MAX_FILE_BYTES // (1024 * 1024)))
    if data.startswith(b"PK\x03\x04"):
        raise StatementRefused(_l("Een zip-bestand: pak het uit en lees de afschriften die erin zitten in."))
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        from models.bank_formats.camt import read_camt

        return read_camt(data, file_name)
    from models.bank_formats.mt940 import read_mt940

    return read_mt940(data, file_name)
