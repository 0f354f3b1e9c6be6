"""The team's money as a double-entry, append-only ledger.

Invariants:
- Every entry has at least two postings, none zero, and its postings sum to zero; `post_entry` checks
  this before anything is written, so no unbalanced entry can exist.
- Entries and postings are never updated or deleted: a correction is a new, reversing entry.
- Balances are sums of postings. Each account also keeps its running total (`balance_cents`), changed
  only by `post_entry` in the same transaction as the postings, with an atomic UPDATE; so reading a
  balance does not add up a year of postings (see `make bench`), and `accounts_out_of_balance` proves
  the totals equal the sums.
- No team's available balance is ever negative: grants check it (models.decisions), and a lowered
  annual budget never takes back what was already granted.
- Accounts are per team and budget year:
    funding    — where the year's budget comes from (its balance is minus what was allocated)
    available  — budget the team may still grant
    reserved   — granted to requests, not yet brought onto the team bank account
    bank       — the team bank account behind the team's cards (derdenrekening); never above the
                 team's account cap, never negative
    cards      — money loaded onto prepaid cards and not yet spent or returned
    spent      — what clients spent from their cards (of a gift)
    lent       — what clients spent from the card of a loan: owed back (models/loans.py)
    repayments — loan repayments received in this year: income, like funding (repayments → available)
  The way of granted money: available → reserved (grant) → bank (top-up) → cards (load) → spent (a gift)
  or lent (a loan), or back to bank when a card is returned (what would pass the cap goes back to
  available: the card bank refunds it to the foundation). So, before the year close, available + reserved
  + bank + cards + spent + lent is the annual budget plus the repayments received in the year.
- A top-up never takes the bank above its cap nor beyond what is reserved; a load never beyond the bank.
- Money-changing work holds `lock_for_money` first: on SQLite the database write lock (BEGIN
  IMMEDIATE), on PostgreSQL the municipality's row, so checks and postings of concurrent requests never
  interleave (the household cap spans every team of a municipality).
"""
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, UniqueConstraint, update
from sqlmodel import Field, Session, SQLModel, func, select

from models.clock import utcnow
from models.rules import RuleViolation
from models.teams import BudgetYear, District, Municipality, Team, TeamBudget


class AccountKind(StrEnum):
    """What an account holds."""

    FUNDING = "funding"
    AVAILABLE = "available"
    RESERVED = "reserved"
    BANK = "bank"
    CARDS = "cards"
    SPENT = "spent"
    #: loan money spent by the client: owed back to the team (outstanding loans)
    LENT = "lent"
    #: grants carried over between years (out of the closed year: positive; into the new year: negative)
    CARRIED = "carried"
    #: loan repayments received in this year (income, like funding)
    REPAYMENTS = "repayments"
    #: the unspent budget booked back to the municipality at the year close
    TO_MUNICIPALITY = "to_municipality"


class Account(SQLModel, table=True):
    """One of a team's accounts in one budget year."""

    __table_args__ = (UniqueConstraint("team_id", "budget_year_id", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    budget_year_id: int = Field(foreign_key="budgetyear.id")
    kind: str = Field(max_length=20)
    #: running total of this account's postings, kept by post_entry
    balance_cents: int = 0


class Entry(SQLModel, table=True):
    """One event that moves money between accounts."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    memo: str = Field(max_length=200)
    #: the request this entry is for, if any
    request_id: int | None = Field(default=None, foreign_key="spendrequest.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id")
    #: set on a correction: the entry it reverses
    reverses_entry_id: int | None = Field(default=None, foreign_key="entry.id")
    #: place in the municipality's hash chain and the chain's hash up to this row (models.audit_chain)
    chain_seq: int | None = None
    chain_hash: str | None = Field(default=None, max_length=64)


class Posting(SQLModel, table=True):
    """One side of an entry: an amount into (positive) or out of (negative) an account."""

    __table_args__ = (CheckConstraint("amount_cents <> 0", name="posting_not_zero"),)
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    amount_cents: int


def account(session: Session, team_id: int, budget_year_id: int, kind: AccountKind) -> Account:
    """The team's account of `kind` in the budget year, created on first use."""
    found = session.exec(select(Account).where(
        Account.team_id == team_id, Account.budget_year_id == budget_year_id, Account.kind == kind)).first()
    if found is None:
        found = Account(team_id=team_id, budget_year_id=budget_year_id, kind=kind)
        session.add(found)
        session.flush()
    return found


def post_entry(session: Session, team_id: int, postings: list[tuple[Account, int]], *, memo: str,
               request_id: int | None = None, actor_id: int | None = None,
               reverses_entry_id: int | None = None) -> Entry:
    """Write one balanced entry; RuleViolation if it would not balance or touches a closed budget year."""
    if len(postings) < 2 or any(amount == 0 for _account, amount in postings):
        raise RuleViolation(_l("Een boeking heeft minstens twee regels, geen van nul."))
    if sum(amount for _account, amount in postings) != 0:
        raise RuleViolation(_l("Een boeking moet op nul uitkomen."))
    if any(acc.team_id != team_id for acc, _amount in postings):
        raise RuleViolation(_l("Een boeking blijft binnen één team."))
    year_ids = {acc.budget_year_id for acc, _amount in postings}
    if session.exec(select(BudgetYear.id).where(BudgetYear.id.in_(year_ids), BudgetYear.closed_at.is_not(None))).first():
        raise RuleViolation(_l("Dit budgetjaar is afgesloten."))
    entry = Entry(team_id=team_id, memo=memo, request_id=request_id, actor_id=actor_id,
                  reverses_entry_id=reverses_entry_id)
    session.add(entry)
    session.flush()
    for acc, amount in postings:
        session.add(Posting(entry_id=entry.id, account_id=acc.id, amount_cents=amount))
        session.execute(update(Account).where(Account.id == acc.id)
                        .values(balance_cents=Account.balance_cents + amount))
    session.flush()
    return entry


def reverse_entry(session: Session, entry: Entry, *, memo: str, actor_id: int | None = None) -> Entry:
    """Correct an entry by posting its exact opposite."""
    postings = session.exec(select(Posting).where(Posting.entry_id == entry.id)).all()
    return post_entry(session, entry.team_id,
                      [(session.get(Account, p.account_id), -p.amount_cents) for p in postings],
                      memo=memo, request_id=entry.request_id, actor_id=actor_id, reverses_entry_id=entry.id)


def balance_cents(session: Session, team_id: int, budget_year_id: int, kind: AccountKind) -> int:
    """The balance of the team's account of `kind` (0 when it has no postings yet)."""
    total = session.exec(select(Account.balance_cents).where(
        Account.team_id == team_id, Account.budget_year_id == budget_year_id, Account.kind == kind)).first()
    return total or 0


def accounts_out_of_balance(session: Session) -> list[int]:
    """Accounts whose running total differs from the sum of their postings (should be none)."""
    sums = (select(Posting.account_id, func.sum(Posting.amount_cents).label("total"))
            .group_by(Posting.account_id).subquery())
    rows = session.exec(select(Account.id, Account.balance_cents, sums.c.total)
                        .join(sums, sums.c.account_id == Account.id, isouter=True)).all()
    return [account_id for account_id, cached, summed in rows if cached != (summed or 0)]


def allocate_annual_budget(session: Session, team: Team, budget_year_id: int, annual_budget_cents: int,
                           actor_id: int | None = None) -> TeamBudget:
    """Set the team's budget for the year, posting the difference from funding to available."""
    budget = session.exec(select(TeamBudget).where(
        TeamBudget.team_id == team.id, TeamBudget.budget_year_id == budget_year_id)).first()
    difference = annual_budget_cents - (budget.annual_budget_cents if budget else 0)
    # what was granted stays granted: the budget shrinks at most by what is still available
    if difference < 0 and balance_cents(session, team.id, budget_year_id, AccountKind.AVAILABLE) + difference < 0:
        raise RuleViolation(_l("Het budget kan niet lager worden dan wat al is toegekend."), field="annual_budget")
    budget = budget or TeamBudget(team_id=team.id, budget_year_id=budget_year_id)
    budget.annual_budget_cents = annual_budget_cents
    session.add(budget)
    if difference:
        post_entry(session, team.id, [
            (account(session, team.id, budget_year_id, AccountKind.FUNDING), -difference),
            (account(session, team.id, budget_year_id, AccountKind.AVAILABLE), difference),
        ], memo="Jaarbudget", actor_id=actor_id)
    return budget


def lock_for_money(session: Session, team_id: int) -> None:
    """Serialise money-changing work: BEGIN IMMEDIATE on SQLite, the municipality row on PostgreSQL.

    On SQLite the transaction must have begun with the write lock, before it read anything
    (`begin_write` in models.db arranges that). On PostgreSQL the row lock also orders work across
    teams of one municipality, which the household cap needs; what the transaction read before the
    lock was granted may have changed since, so callers lock first (only the team's id is needed).
    """
    # the municipality's row through the team's district, in one statement (no team: nothing to lock)
    _lock_rows(session, select(Municipality.id).join(District, District.municipality_id == Municipality.id)
               .join(Team, Team.district_id == District.id).where(Team.id == team_id))


def lock_municipality(session: Session, municipality_id: int) -> None:
    """`lock_for_money` for work on several teams of one municipality at once (a load batch)."""
    _lock_rows(session, select(Municipality.id).where(Municipality.id == municipality_id))


def _lock_rows(session: Session, municipality_rows) -> None:
    if session.get_bind().dialect.name == "sqlite":
        return  # the transaction began with BEGIN IMMEDIATE (models.db.begin_write)
    session.exec(municipality_rows.with_for_update(of=Municipality)).first()


def top_up(session: Session, team: Team, budget_year_id: int, amount_cents: int, *, memo: str,
           actor_id: int | None = None) -> Entry:
    """Bring reserved budget onto the team bank account (reserved → bank), within the cap."""
    bank = balance_cents(session, team.id, budget_year_id, AccountKind.BANK)
    if bank + amount_cents > team.account_cap_cents:
        raise RuleViolation(_l("De teamrekening zou boven het maximum komen."), field="top_up")
    if amount_cents > balance_cents(session, team.id, budget_year_id, AccountKind.RESERVED):
        raise RuleViolation(_l("Dat is meer dan er is toegekend en nog niet overgemaakt."), field="top_up")
    return post_entry(session, team.id, [
        (account(session, team.id, budget_year_id, AccountKind.RESERVED), -amount_cents),
        (account(session, team.id, budget_year_id, AccountKind.BANK), amount_cents),
    ], memo=memo, actor_id=actor_id)


def load_onto_card(session: Session, team: Team, budget_year_id: int, amount_cents: int, *, memo: str,
                   request_id: int, actor_id: int | None = None) -> Entry:
    """Move money from the team bank account onto a card (bank → cards); never more than the bank holds."""
    if amount_cents > balance_cents(session, team.id, budget_year_id, AccountKind.BANK):
        raise RuleViolation(_l("Er staat niet genoeg op de teamrekening voor deze lading."), field="load")
    return post_entry(session, team.id, [
        (account(session, team.id, budget_year_id, AccountKind.BANK), -amount_cents),
        (account(session, team.id, budget_year_id, AccountKind.CARDS), amount_cents),
    ], memo=memo, request_id=request_id, actor_id=actor_id)


def settle_card(session: Session, team: Team, budget_year_id: int, loaded_cents: int, remaining_cents: int, *,
                memo: str, request_id: int | None, actor_id: int | None = None,
                pending_top_ups_cents: int = 0) -> Entry:
    """Take a card's money off the books: what is left goes back to the bank, the rest counts as spent
    (as lent, when the card's request was granted as a loan).

    What would take the bank (with the top-ups waiting in a batch) above its cap goes back to available:
    the card bank refunds that part to the foundation.
    """
    from models.requests import RequestKind, SpendRequest

    if not 0 <= remaining_cents <= loaded_cents:
        raise RuleViolation(_l("Het restbedrag moet tussen nul en het geladen bedrag liggen."), field="remaining")
    room = team.account_cap_cents - balance_cents(session, team.id, budget_year_id, AccountKind.BANK) \
        - pending_top_ups_cents
    to_bank = max(0, min(remaining_cents, room))
    loan = request_id is not None and session.exec(select(SpendRequest.granted_kind).where(
        SpendRequest.id == request_id)).first() == RequestKind.LOAN
    parts = [(AccountKind.CARDS, -loaded_cents),
             (AccountKind.LENT if loan else AccountKind.SPENT, loaded_cents - remaining_cents),
             (AccountKind.BANK, to_bank), (AccountKind.AVAILABLE, remaining_cents - to_bank)]
    return post_entry(session, team.id, [(account(session, team.id, budget_year_id, kind), amount)
                                         for kind, amount in parts if amount],
                      memo=memo, request_id=request_id, actor_id=actor_id)
