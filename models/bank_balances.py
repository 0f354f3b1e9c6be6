"""Balances side by side (issue 12, §4): per team account and per card, what the bank says next to the ledger.

Read verbs only: nothing here writes, so the coordinator's bank page may call them on every visit.

The rule for a team account:
- The bank's balance is the closing balance of the team account's newest statement (team-account statements
  only: `BankStatement.card_id` is NULL; a CAMT.054 notification has no balance and does not count) and its
  date, D.
- The ledger's balance is the team's `bank` accounts summed over the budget years that are not closed, as of
  now. It is not the ledger as of D: the ledger has no booking date the bank would recognise (a batch is
  executed on one day, booked by the bank a day or two later), so a ledger "as of D" would differ for reasons
  no line could show. Comparing now with D, the difference (ledger minus bank) is explained item by item:
  (a) a line of the team account booked on or before D and not matched (`BankLine.match` is "") is money the
      ledger does not know (a bank fee, interest, a transfer nobody expected): it explains minus its amount;
  (b) a batch line (top-up +, card load −) of an open budget year, executed on or after the team's first
      statement opened and with no bank line booked on or before D that is its execution
      (`BankLine.batch_line_id`): money the ledger moved that the bank has not shown yet;
  (c) a card returned in an open budget year, on or after the first statement opened, whose remainder the
      ledger brought back onto the team account (the positive `bank` posting of its settlement) while no bank
      line of the team account booked on or before D returns money of that card (`BankLine.card_id`, amount
      positive, matched).
  (d) any other posting on the team's `bank` accounts of an open budget year that no bank line is linked to
      (`BankLine.entry_id`): a booking no transfer makes, e.g. a grant cancelled after its top-up (the ledger
      takes the money off the team account, the bank keeps it). It never shows on a statement, so its date
      does not matter.
  What happened before the first statement opened is in that statement's opening balance, so (b) and (c) are
  items only from then on. When the items add up to the whole difference it is "explained"; otherwise the
  rest is shown as unexplained (e.g. money on the account before the app booked anything, or what a year
  close took off the books of a year that is closed now).
- A team with no statement with a balance has no bank balance and no difference.

The rule for a card (one with money: loaded and not closed, or one with a statement of its own account):
- loaded: `Card.loaded_amount_cents` (what the ledger loaded onto it);
- spent according to the bank: the matched spending lines of the card (`match` "spending"), on any statement;
- left according to the bank: the closing balance of the card account's newest statement when it has one,
  else loaded − spent according to the bank;
- left according to the ledger: 0 once the card is closed (spent or returned: the ledger took its money off
  the card), else loaded − the receipts' total of its request (what the worker entered, models.receipts);
- difference: left according to the bank − left according to the ledger.

Both verbs read a fixed handful of queries for the whole municipality, never one per team or card.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, func, select

from models.bank_statements import BankLine, BankStatement
from models.batch_lines import BatchLine, LineKind, LoadBatch
from models.cards import Card, CardState
from models.clock import local_date
from models.ledger import Account, AccountKind, Entry, Posting
from models.receipts import Receipt, left_on_card_cents
from models.teams import BudgetYear, District, Team

#: what an item that explains a difference is
NOT_IN_LEDGER = "not_in_ledger"
NOT_ON_STATEMENT = "not_on_statement"
RETURN_NOT_ON_STATEMENT = "return_not_on_statement"
NO_TRANSFER = "no_transfer"
EXPLANATION_LABELS = {
    NOT_IN_LEDGER: _l("bij de bank, niet in de boekhouding"),
    NOT_ON_STATEMENT: _l("in de boekhouding, nog niet op het afschrift"),
    RETURN_NOT_ON_STATEMENT: _l("kaart terug, nog niet op het afschrift"),
    NO_TRANSFER: _l("alleen in de boekhouding, geen overboeking"),
}


@dataclass
class Explanation:
    """One item that explains (part of) a team account's difference."""

    kind: str  # NOT_IN_LEDGER, NOT_ON_STATEMENT, RETURN_NOT_ON_STATEMENT, NO_TRANSFER
    day: date
    #: what the item adds to the difference (ledger − bank)
    amount_cents: int
    #: the bank line's counterparty or text, the batch line's reference, the card's last four digits, the
    #: ledger entry's memo
    text: str
    bank_line_id: int | None = None
    batch_line_id: int | None = None
    card_id: int | None = None
    entry_id: int | None = None

    @property
    def label(self):
        return EXPLANATION_LABELS[self.kind]

    @property
    def line_amount_cents(self) -> int:
        """The amount as the item moves the account: a bank line's own amount, else the ledger's movement."""
        return -self.amount_cents if self.kind == NOT_IN_LEDGER else self.amount_cents


@dataclass
class TeamAccountBalance:
    """A team account: the bank's last closing balance beside the ledger's, and what explains a difference."""

    team: Team
    ledger_cents: int
    bank_cents: int | None = None  # None: no statement with a balance yet
    bank_date: date | None = None
    explanations: list[Explanation] = field(default_factory=list)

    @property
    def difference_cents(self) -> int | None:
        """Ledger − bank; None without a bank balance."""
        return None if self.bank_cents is None else self.ledger_cents - self.bank_cents

    @property
    def explained_cents(self) -> int:
        return sum(item.amount_cents for item in self.explanations)

    @property
    def unexplained_cents(self) -> int | None:
        """What the items do not explain; 0 when they explain the whole difference ("verklaard")."""
        difference = self.difference_cents
        return None if difference is None else difference - self.explained_cents

    @property
    def explained(self) -> bool:
        return self.unexplained_cents == 0


@dataclass
class CardBalance:
    """A card with money: what the bank says is left on it beside what the ledger and the receipts say."""

    card: Card
    team_name: str
    loaded_cents: int
    spent_bank_cents: int
    left_bank_cents: int
    #: the card account statement's date, None when "left" is loaded − spent (no statement of its own)
    left_bank_date: date | None
    receipts_cents: int
    left_ledger_cents: int

    @property
    def difference_cents(self) -> int:
        """Left according to the bank − left according to the ledger."""
        return self.left_bank_cents - self.left_ledger_cents


def _day(moment: datetime | None) -> date | None:
    return None if moment is None else local_date(moment)


def team_account_balances(session: Session, municipality_id: int) -> list[TeamAccountBalance]:
    """Per active team with an IBAN (by district and name): bank and ledger side by side (rule: module docstring)."""
    teams = list(session.exec(select(Team).join(District, District.id == Team.district_id).where(
        District.municipality_id == municipality_id, Team.archived_at.is_(None), Team.iban.is_not(None),
        Team.iban != "").order_by(District.name, Team.name)))
    if not teams:
        return []
    team_ids = [team.id for team in teams]
    open_years = select(BudgetYear.id).where(BudgetYear.municipality_id == municipality_id,
                                             BudgetYear.closed_at.is_(None))

    ledger = dict(session.exec(select(Account.team_id, func.sum(Account.balance_cents)).where(
        Account.team_id.in_(team_ids), Account.kind == AccountKind.BANK, Account.budget_year_id.in_(open_years))
        .group_by(Account.team_id)).all())

    last: dict[int, tuple[int, date]] = {}
    first_opening: dict[int, date] = {}
    for team_id, closing, closing_date, opening_date in session.exec(
            select(BankStatement.team_id, BankStatement.closing_cents, BankStatement.closing_date,
                   BankStatement.opening_date)
            .where(BankStatement.team_id.in_(team_ids), BankStatement.card_id.is_(None),
                   BankStatement.closing_cents.is_not(None))
            .order_by(BankStatement.closing_date.desc().nulls_last(), BankStatement.id.desc())):
        last.setdefault(team_id, (closing, closing_date))
        start = opening_date or closing_date
        if start is not None and (team_id not in first_opening or start < first_opening[team_id]):
            first_opening[team_id] = start

    rows = {team.id: TeamAccountBalance(team=team, ledger_cents=int(ledger.get(team.id) or 0)) for team in teams}
    for team_id, (closing, closing_date) in last.items():
        rows[team_id].bank_cents, rows[team_id].bank_date = closing, closing_date
    with_bank = [team_id for team_id in team_ids if team_id in last]
    if not with_bank:
        return list(rows.values())

    def on_statement(team_id: int, booked: date | None) -> bool:
        bank_date = last[team_id][1]
        return booked is not None and (bank_date is None or booked <= bank_date)

    def since_first_statement(team_id: int, moment: datetime | None) -> bool:
        start = first_opening.get(team_id)
        return start is None or (moment is not None and local_date(moment) >= start)

    # (a) lines of the team accounts the ledger does not know
    for line in session.exec(select(BankLine).join(BankStatement, BankStatement.id == BankLine.statement_id).where(
            BankLine.team_id.in_(with_bank), BankStatement.card_id.is_(None), BankLine.match == "")
            .order_by(BankLine.booking_date, BankLine.id)):
        if on_statement(line.team_id, line.booking_date):
            rows[line.team_id].explanations.append(Explanation(
                NOT_IN_LEDGER, line.booking_date, -line.amount_cents,
                line.counterparty_name or line.description[:80] or line.entry_reference, bank_line_id=line.id))

    # what the team-account statements show of batch lines and of returned cards, with their booking dates
    shown = session.exec(select(BankLine.team_id, BankLine.batch_line_id, BankLine.card_id, BankLine.amount_cents,
                                BankLine.booking_date)
                         .join(BankStatement, BankStatement.id == BankLine.statement_id)
                         .where(BankLine.team_id.in_(with_bank), BankStatement.card_id.is_(None),
                                BankLine.match != "",
                                (BankLine.batch_line_id.is_not(None)) | (BankLine.card_id.is_not(None)))).all()
    batch_lines_shown = {batch_line_id for team_id, batch_line_id, _card, _amount, booked in shown
                         if batch_line_id is not None and on_statement(team_id, booked)}
    returns_shown = {card_id for team_id, _batch, card_id, amount, booked in shown
                     if card_id is not None and amount > 0 and on_statement(team_id, booked)}

    # (b) executed top-ups and loads the statements do not show yet
    transfer_entries: set[int] = set()  # entries a bank transfer makes: (b) and (c), never (d)
    for line, executed_at in session.exec(
            select(BatchLine, LoadBatch.executed_at).join(LoadBatch, LoadBatch.id == BatchLine.batch_id).where(
                BatchLine.team_id.in_(with_bank), LoadBatch.executed_at.is_not(None),
                BatchLine.budget_year_id.in_(open_years)).order_by(LoadBatch.executed_at, BatchLine.id)):
        transfer_entries.add(line.entry_id)
        if line.id in batch_lines_shown or not since_first_statement(line.team_id, executed_at):
            continue
        rows[line.team_id].explanations.append(Explanation(
            NOT_ON_STATEMENT, _day(executed_at),
            line.amount_cents if line.kind == LineKind.TOP_UP else -line.amount_cents, line.reference,
            batch_line_id=line.id, card_id=line.card_id))

    # (c) returned cards whose remainder the ledger brought back to the team account, not on a statement yet
    for card, amount, created_at, entry_id in session.exec(
            select(Card, Posting.amount_cents, Entry.created_at, Entry.id)
            .join(Entry, Entry.request_id == Card.request_id)
            .join(Posting, Posting.entry_id == Entry.id)
            .join(Account, Account.id == Posting.account_id)
            .where(Card.team_id.in_(with_bank), Card.state == CardState.RETURNED, Entry.team_id == Card.team_id,
                   Account.kind == AccountKind.BANK, Account.budget_year_id.in_(open_years),
                   Posting.amount_cents > 0)
            .order_by(Entry.created_at, Entry.id)):
        transfer_entries.add(entry_id)
        if card.id in returns_shown or not since_first_statement(card.team_id, created_at):
            continue
        rows[card.team_id].explanations.append(Explanation(
            RETURN_NOT_ON_STATEMENT, _day(created_at), amount, card.last_four, card_id=card.id, entry_id=entry_id))

    # (d) bookings on the team account that no transfer makes and no bank line is linked to
    linked = select(BankLine.entry_id).where(BankLine.team_id.in_(with_bank), BankLine.entry_id.is_not(None))
    for entry, amount in session.exec(
            select(Entry, func.sum(Posting.amount_cents)).join(Posting, Posting.entry_id == Entry.id)
            .join(Account, Account.id == Posting.account_id)
            .where(Account.team_id.in_(with_bank), Account.kind == AccountKind.BANK,
                   Account.budget_year_id.in_(open_years), Entry.id.not_in(linked))
            .group_by(Entry.id).order_by(Entry.created_at, Entry.id)):
        if entry.id not in transfer_entries and amount:
            rows[entry.team_id].explanations.append(Explanation(
                NO_TRANSFER, _day(entry.created_at), int(amount), entry.memo, entry_id=entry.id))

    for row in rows.values():
        row.explanations.sort(key=lambda item: (item.day or date.min, item.kind))
    return list(rows.values())


def card_balances(session: Session, municipality_id: int) -> list[CardBalance]:
    """Per card with money of the municipality's active teams (by team, then card): bank beside ledger."""
    team_names = dict(session.exec(
        select(Team.id, Team.name).join(District, District.id == Team.district_id)
        .where(District.municipality_id == municipality_id, Team.archived_at.is_(None))).all())
    if not team_names:
        return []
    statements: dict[int, tuple[int, date | None]] = {}
    for card_id, closing, closing_date in session.exec(
            select(BankStatement.card_id, BankStatement.closing_cents, BankStatement.closing_date)
            .where(BankStatement.municipality_id == municipality_id, BankStatement.card_id.is_not(None),
                   BankStatement.closing_cents.is_not(None))
            .order_by(BankStatement.closing_date.desc().nulls_last(), BankStatement.id.desc())):
        statements.setdefault(card_id, (closing, closing_date))
    cards = list(session.exec(select(Card).where(
        Card.team_id.in_(list(team_names)),
        ((Card.loaded_at.is_not(None)) & (Card.closed_at.is_(None))) | Card.id.in_(list(statements) or [-1]))
        .order_by(Card.team_id, Card.id)))
    if not cards:
        return []
    card_ids = [card.id for card in cards]
    spent = dict(session.exec(select(BankLine.card_id, func.sum(BankLine.amount_cents)).where(
        BankLine.card_id.in_(card_ids), BankLine.match == "spending").group_by(BankLine.card_id)).all())
    request_ids = [card.request_id for card in cards if card.request_id is not None]
    receipts = dict(session.exec(select(Receipt.request_id, func.sum(Receipt.amount_cents)).where(
        Receipt.request_id.in_(request_ids or [-1]), Receipt.amount_cents.is_not(None))
        .group_by(Receipt.request_id)).all())
    found = []
    for card in cards:
        loaded = card.loaded_amount_cents or 0
        spent_bank = -int(spent.get(card.id) or 0)  # spending lines are money out: negative
        receipts_total = int(receipts.get(card.request_id) or 0)
        left_bank, left_date = statements.get(card.id, (loaded - spent_bank, None))
        found.append(CardBalance(
            card=card, team_name=team_names[card.team_id], loaded_cents=loaded, spent_bank_cents=spent_bank,
            left_bank_cents=left_bank, left_bank_date=left_date, receipts_cents=receipts_total,
            left_ledger_cents=left_on_card_cents(card, receipts_total) or 0))
    return sorted(found, key=lambda row: (row.team_name, row.card.last_four, row.card.id))
