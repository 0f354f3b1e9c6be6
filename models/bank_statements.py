"""Bank statements stored: the statements of a team account or a card's own account as the bank sent them, line
by line (issue 12, §1), each new line matched and flagged as it is stored (models.reconciliation, §2 and §3).

Invariants:
- A file is read by `models.bank_formats.read_statement_file`, whole or refused whole; a refused file saves
  nothing. So is a file whose statements name more than one account, or no IBAN at all.
- The account must be the IBAN (`Team.iban`, electronic form) of a team of the municipality that imports it
  (an archived team's too: its old statements still come in), or a card's own account registered for a card of
  such a team (`Card.account_iban`, models.cards.register_card_account): then the statement is stored for the
  card's team with `card_id` set. With no municipality (the command line) a team or card of any municipality.
  Anything else is refused, saying so. A team account wins over a card account with the same IBAN (which
  register_card_account does not allow).
- A line's identity is the SHA-256 over: the account IBAN, the bank reference (or else the entry reference),
  the booking date, the amount in cents, the counterparty IBAN (or else its name), and the occurrence number
  among the lines of the same statement with exactly these values. It is unique: importing a file again, or
  an overlapping statement, adds no line twice, while two identical coffee payments on one day in one
  statement stay two lines.
- A statement already stored (same team and account, statement id, dates and balances) is not stored again;
  its lines count as duplicates.
- An import takes the team's money lock (`models.ledger.lock_for_money`) before it reads what is stored, so
  two imports of one file do not both insert; the unique identity is the last guard.
- Every stored statement is audited ("statement_imported", with its counts, matched and flagged).
- The new lines of each statement (never a line stored before) are matched and flagged by
  `models.reconciliation.match_lines` in the same transaction, under the same lock: the result counts them
  (`matched`: new lines matched; `flagged`: flags the import created).
"""
import hashlib
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Index, Text
from sqlmodel import Field, Session, SQLModel, select

from models.audit import EVENT_LABELS, record
from models.bank_formats import Statement, StatementLine, StatementRefused, read_statement_file
from models.clock import utcnow
from models.ledger import lock_for_money
from models.reconciliation import match_lines
from models.rules import RuleViolation
from models.teams import District, Team


class BankStatement(SQLModel, table=True):
    """One statement (or notification) of a team account, as read from a file."""

    __table_args__ = (Index("ix_bankstatement_team_ref", "team_id", "statement_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    #: the team whose account it is
    team_id: int = Field(foreign_key="team.id")
    account_iban: str = Field(max_length=34)
    format: str = Field(max_length=30)
    #: the statement's own id in the file (CAMT Stmt/Id, MT940 :20:/:28C:)
    statement_ref: str = Field(max_length=200)
    currency: str = Field(max_length=3)
    #: None for a CAMT.054 notification, which has no balances
    opening_cents: int | None = None
    closing_cents: int | None = None
    opening_date: date | None = None
    closing_date: date | None = None
    file_name: str = Field(max_length=200)
    imported_at: datetime = Field(default_factory=utcnow)
    #: set for the statement of a card's own account (Card.account_iban); None for the team account
    card_id: int | None = Field(default=None, foreign_key="card.id")
    #: None when imported on the command line
    imported_by_id: int | None = Field(default=None, foreign_key="member.id")


class BankLine(SQLModel, table=True):
    """One booked line of a stored statement."""

    __table_args__ = (Index("ix_bankline_team_booking", "team_id", "booking_date"),)
    id: int | None = Field(default=None, primary_key=True)
    statement_id: int = Field(foreign_key="bankstatement.id", index=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    #: SHA-256 (hex) of the line's identity, see the module docstring
    identity: str = Field(max_length=64, unique=True)
    amount_cents: int  # positive = money in, negative = money out
    booking_date: date
    value_date: date | None = None
    bank_reference: str = Field(default="", max_length=200)
    entry_reference: str = Field(default="", max_length=200)
    counterparty_name: str = Field(default="", max_length=200)
    counterparty_iban: str = Field(default="", max_length=34)
    description: str = Field(default="", sa_type=Text)
    transaction_code: str = Field(default="", max_length=100)
    merchant_category_code: str = Field(default="", max_length=4)
    card_reference: str = Field(default="", max_length=50)
    #: the ledger entry the line was matched to (models.reconciliation)
    entry_id: int | None = Field(default=None, foreign_key="entry.id")
    #: what the line was matched as: top_up, load, return, spending, by_hand; "" while unmatched
    match: str = Field(default="", max_length=20)
    #: the card and request a card load, return or spending line belongs to
    card_id: int | None = Field(default=None, foreign_key="card.id", index=True)
    request_id: int | None = Field(default=None, foreign_key="spendrequest.id", index=True)
    #: the batch line (top-up or load) the line is the bank's execution of
    batch_line_id: int | None = Field(default=None, foreign_key="batchline.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


EVENT_LABELS.update({"statement_imported": _l("bankafschrift ingelezen")})


@dataclass
class ImportResult:
    """What one file did: the command prints `as_json()`, the upload page shows it."""

    file: str
    format: str
    account: str
    statements: int
    lines: int
    new: int
    duplicates: int
    opening_cents: int | None  # the first statement's opening balance
    closing_cents: int | None  # the last statement's closing balance
    matched: int = 0  # new lines matched to a top-up, load, return or card spending
    flagged: int = 0  # flags created by the import (models.reconciliation)

    def as_json(self) -> dict:
        return asdict(self)


def line_identity(account_iban: str, line: StatementLine, occurrence: int) -> str:
    """The SHA-256 (hex) that makes a line the same line in any file (see the module docstring)."""
    return hashlib.sha256("\x1f".join(_identity_values(account_iban, line) + (str(occurrence),))
                          .encode()).hexdigest()


def _identity_values(account_iban: str, line: StatementLine) -> tuple[str, ...]:
    return (account_iban, line.bank_reference or line.entry_reference, line.booking_date.isoformat(),
            str(line.amount), line.counterparty_iban or line.counterparty_name)


def _team_of_account(session: Session, iban: str, municipality_id: int | None) -> Team | None:
    """The team whose account it is: a current team before an archived one with the same IBAN."""
    query = select(Team).join(District, District.id == Team.district_id).where(Team.iban == iban)
    if municipality_id is not None:
        query = query.where(District.municipality_id == municipality_id)
    return session.exec(query.order_by(Team.archived_at.is_not(None), Team.id.desc())).first()


def _card_of_account(session: Session, iban: str, municipality_id: int | None):
    """The card whose own account it is (a card of a team of the municipality), newest first."""
    from models.cards import Card

    query = (select(Card).join(Team, Team.id == Card.team_id).join(District, District.id == Team.district_id)
             .where(Card.account_iban == iban))
    if municipality_id is not None:
        query = query.where(District.municipality_id == municipality_id)
    return session.exec(query.order_by(Card.id.desc())).first()


def import_statement_file(session: Session, data: bytes, file_name: str, *, municipality_id: int | None,
                          actor_id: int | None) -> ImportResult:
    """Store every statement of the file for its team's account (or a card's own account), each line once, and
    match and flag the new lines; RuleViolation when refused."""
    try:
        statements = read_statement_file(data, file_name)
    except StatementRefused as error:
        raise RuleViolation(_l("Dit bestand is geweigerd: %(reason)s", reason=str(error))) from None
    if not statements:
        raise RuleViolation(_l("Dit bestand bevat geen afschriften."))
    accounts = sorted({statement.account_iban for statement in statements})
    if "" in accounts:
        raise RuleViolation(_l("Dit bestand noemt de IBAN van de rekening niet."))
    if len(accounts) > 1:
        raise RuleViolation(_l("Dit bestand bevat afschriften van meer dan één rekening (%(accounts)s): "
                               "lees ze apart in.", accounts=", ".join(accounts)))
    account = accounts[0]
    team, card = _team_of_account(session, account, municipality_id), None
    if team is None:
        card = _card_of_account(session, account, municipality_id)
        team = session.get(Team, card.team_id) if card is not None else None
    if team is None:
        raise RuleViolation(_l("Rekening %(iban)s is geen teamrekening van deze gemeente en geen kaartrekening die "
                               "hier is vastgelegd.", iban=account))
    lock_for_money(session, team.id)
    team_municipality = session.get(District, team.district_id).municipality_id
    lines = new = matched = flagged = 0
    for statement in statements:
        lines += len(statement.lines)
        stored = _store(session, team, team_municipality, statement, file_name, actor_id,
                        card_id=card.id if card is not None else None)
        new += stored.new
        matched += stored.matched
        flagged += stored.flagged
    return ImportResult(file=file_name, format=statements[0].format, account=account, statements=len(statements),
                        lines=lines, new=new, duplicates=lines - new, opening_cents=statements[0].opening_balance,
                        closing_cents=statements[-1].closing_balance, matched=matched, flagged=flagged)


@dataclass
class _Stored:
    new: int = 0
    matched: int = 0
    flagged: int = 0


def _store(session: Session, team: Team, municipality_id: int, statement: Statement, file_name: str,
           actor_id: int | None, *, card_id: int | None) -> _Stored:
    """Store one statement and its lines not stored yet, matched and flagged; how many lines were new (none for a
    stored statement), matched and flagged."""
    stored = session.exec(select(BankStatement.id).where(
        BankStatement.team_id == team.id, BankStatement.account_iban == statement.account_iban,
        BankStatement.statement_ref == statement.statement_id[:200],
        BankStatement.opening_date == statement.opening_date, BankStatement.closing_date == statement.closing_date,
        BankStatement.opening_cents == statement.opening_balance,
        BankStatement.closing_cents == statement.closing_balance)).first()
    if stored is not None:
        return _Stored()
    occurrences: Counter = Counter()
    identities = []
    for line in statement.lines:
        values = _identity_values(statement.account_iban, line)
        occurrences[values] += 1
        identities.append(line_identity(statement.account_iban, line, occurrences[values]))
    known = set()
    for start in range(0, len(identities), 500):
        known.update(session.exec(select(BankLine.identity).where(
            BankLine.identity.in_(identities[start:start + 500]))))
    row = BankStatement(municipality_id=municipality_id, team_id=team.id, account_iban=statement.account_iban,
                        format=statement.format[:30], statement_ref=statement.statement_id[:200],
                        currency=statement.currency[:3], opening_cents=statement.opening_balance,
                        closing_cents=statement.closing_balance, opening_date=statement.opening_date,
                        closing_date=statement.closing_date, file_name=file_name[:200], imported_by_id=actor_id,
                        card_id=card_id)
    session.add(row)
    session.flush()
    new_lines = []
    for line, identity in zip(statement.lines, identities):
        if identity in known:
            continue
        new_lines.append(BankLine(
            statement_id=row.id, team_id=team.id, identity=identity, amount_cents=line.amount,
            booking_date=line.booking_date, value_date=line.value_date, bank_reference=line.bank_reference[:200],
            entry_reference=line.entry_reference[:200], counterparty_name=line.counterparty_name[:200],
            counterparty_iban=line.counterparty_iban[:34], description=line.description,
            transaction_code=line.transaction_code[:100], merchant_category_code=line.merchant_category_code[:4],
            card_reference=line.card_reference[:50]))
    session.add_all(new_lines)
    session.flush()
    counts = match_lines(session, new_lines)
    new = len(new_lines)
    record(session, team_id=team.id, action="statement_imported", actor_id=actor_id, file=file_name[:200],
           statement=statement.statement_id[:200], lines=len(statement.lines), new=new,
           duplicates=len(statement.lines) - new, matched=counts.matched, flagged=counts.flagged)
    return _Stored(new=new, matched=counts.matched, flagged=counts.flagged)


def last_bank_balance(session: Session, team_id: int) -> tuple[int, date | None] | None:
    """The bank's newest closing balance of the team's account and its date, or None (no statement with one)."""
    row = session.exec(select(BankStatement.closing_cents, BankStatement.closing_date).where(
        BankStatement.team_id == team_id, BankStatement.closing_cents.is_not(None))
        .order_by(BankStatement.closing_date.desc().nulls_last(), BankStatement.id.desc())).first()
    return None if row is None else (row[0], row[1])


def recent_statements(session: Session, municipality_id: int, count: int) -> list[BankStatement]:
    """The municipality's most recently imported statements, newest first."""
    return list(session.exec(select(BankStatement).where(BankStatement.municipality_id == municipality_id)
                             .order_by(BankStatement.id.desc()).limit(count)))
