"""Load batches: the coordinator's bank order of top-ups and card loads, and its ledger entries.

The tables (LoadBatch, BatchLine) are models.batch_lines', so models.cards needs no import of this module.

Invariants:
- A municipality has at most one open (not executed) batch, so what was checked when a batch was made
  still holds when it is executed: per team, bank + top-ups stays within the account cap, top-ups stay
  within what is reserved, loads stay within bank + top-ups. Execution checks it again all the same.
- A load line carries exactly the granted amount of its request; a card is in one open batch at most
  (its state is load_requested while it is).
- Once downloaded a batch is frozen: no line is added, removed or changed, and every download returns
  the same file. Executing posts its ledger entries exactly once (a conditional UPDATE claims it, under
  the money lock): top-ups first (reserved → bank), then loads (bank → cards).
- References in the file are anonymous: "TB-<team>-<request>" for a load, "TB-<team>-OPW<batch>" for a
  top-up; never a name, a household or a card number.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlmodel import Session, select

from models.batch_lines import BatchLine, LineKind, LoadBatch
from models.cards import Card, CardState, mark_loaded, transition
from models.clock import today, utcnow
from models.ledger import Account, AccountKind, balance_cents, load_onto_card, top_up
from models.requests import SpendRequest
from models.rules import RuleViolation
from models.teams import District, Team, current_budget_year


def open_batch(session: Session, municipality_id: int) -> LoadBatch | None:
    """The municipality's batch that is not executed yet, if any."""
    return session.exec(select(LoadBatch).where(LoadBatch.municipality_id == municipality_id,
                                                LoadBatch.executed_at.is_(None))).first()


def recent_batches(session: Session, municipality_id: int, count: int = 10) -> list[LoadBatch]:
    """The municipality's newest batches, newest first."""
    return list(session.exec(select(LoadBatch).where(LoadBatch.municipality_id == municipality_id)
                             .order_by(LoadBatch.id.desc()).limit(count)))


def lines_of(session: Session, batch_id: int) -> list[BatchLine]:
    """A batch's lines: top-ups first, then loads."""
    lines = session.exec(select(BatchLine).where(BatchLine.batch_id == batch_id).order_by(BatchLine.id)).all()
    return sorted(lines, key=lambda line: (line.kind != LineKind.TOP_UP, line.id))


def waiting_loads(session: Session, team_ids: list[int]) -> dict[int, list[tuple[Card, SpendRequest]]]:
    """Reserved cards of these teams, with their granted requests (loads not yet in a batch), per team."""
    found = {team_id: [] for team_id in team_ids}
    for card, request in session.exec(select(Card, SpendRequest).join(SpendRequest, SpendRequest.id == Card.request_id)
                                      .where(Card.team_id.in_(team_ids), Card.state == CardState.RESERVED)
                                      .order_by(Card.id)):
        found[card.team_id].append((card, request))
    return found


def teams_money(session: Session, teams: list[Team], budget_year_id: int,
                loads: dict[int, list[tuple[Card, SpendRequest]]]) -> dict[int, dict]:
    """Per team: the team account, what is reserved, what its waiting `loads` (`waiting_loads`) add up to
    and the top-up they need (within the cap). One query, however many teams (the coordinator's overview)."""
    balances = {(team_id, kind): cents for team_id, kind, cents in session.exec(
        select(Account.team_id, Account.kind, Account.balance_cents).where(
            Account.team_id.in_([team.id for team in teams]), Account.budget_year_id == budget_year_id))}
    money = {}
    for team in teams:
        bank, reserved = balances.get((team.id, AccountKind.BANK), 0), balances.get((team.id, AccountKind.RESERVED), 0)
        waiting = sum(request.granted_amount_cents for _card, request in loads[team.id])
        needed = min(max(0, waiting - bank), team.account_cap_cents - bank, reserved)
        money[team.id] = {"bank": bank, "reserved": reserved, "cards": balances.get((team.id, AccountKind.CARDS), 0),
                          "waiting": waiting, "needed_top_up": max(0, needed), "cap": team.account_cap_cents}
    return money


def load_reference(team_id: int, request_id: int) -> str:
    """The anonymous remittance reference of a card load."""
    return f"TB-{team_id}-{request_id}"


def create_batch(session: Session, municipality_id: int, *, card_ids: list[int], top_ups: dict[int, int],
                 actor_id: int) -> LoadBatch:
    """A new batch of the chosen waiting loads and top-ups (team id → cents), checked per team."""
    if open_batch(session, municipality_id) is not None:
        raise RuleViolation(_l("Er is nog een opdracht die niet is uitgevoerd. Voer die eerst uit of annuleer hem."))
    top_ups = {team_id: cents for team_id, cents in top_ups.items() if cents}
    if not card_ids and not top_ups:
        raise RuleViolation(_l("Kies minstens één kaart om te laden of een bijstorting."))
    batch = LoadBatch(municipality_id=municipality_id, created_by_id=actor_id)
    session.add(batch)
    session.flush()
    year = current_budget_year(session, municipality_id, today())
    for team_id, cents in top_ups.items():
        team = _team_of(session, team_id, municipality_id)
        if year is None:
            raise RuleViolation(_l("Er is nog geen budget voor dit jaar."), field=f"top_up_{team_id}")
        if cents < 0:
            raise RuleViolation(_l("Een bijstorting moet meer dan nul zijn."), field=f"top_up_{team_id}")
        session.add(BatchLine(batch_id=batch.id, team_id=team.id, kind=LineKind.TOP_UP, amount_cents=cents,
                              budget_year_id=year.id, reference=f"TB-{team.id}-OPW{batch.id}"))
    for card_id in card_ids:
        card = session.get(Card, card_id)
        if card is None:
            raise RuleViolation(_l("Die kaart bestaat niet."))
        _team_of(session, card.team_id, municipality_id)
        request = session.get(SpendRequest, card.request_id) if card.request_id else None
        transition(session, card, "request_load", actor_id=actor_id, batch_id=batch.id)
        session.add(BatchLine(batch_id=batch.id, team_id=card.team_id, kind=LineKind.LOAD, card_id=card.id,
                              request_id=request.id, amount_cents=request.granted_amount_cents,
                              budget_year_id=card.budget_year_id, reference=load_reference(card.team_id, request.id)))
    session.flush()
    check_batch(session, batch)
    return batch


def _team_of(session: Session, team_id: int, municipality_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None or session.get(District, team.district_id).municipality_id != municipality_id:
        raise RuleViolation(_l("Dat team hoort niet bij deze gemeente."))
    return team


def check_batch(session: Session, batch: LoadBatch) -> None:
    """Per team and budget year: within the cap, within what is reserved, loads covered by the bank."""
    totals = {}
    for line in lines_of(session, batch.id):
        key = (line.team_id, line.budget_year_id)
        top, load = totals.get(key, (0, 0))
        totals[key] = (top + line.amount_cents, load) if line.kind == LineKind.TOP_UP else (top, load + line.amount_cents)
    for (team_id, year_id), (top, load) in totals.items():
        team = session.get(Team, team_id)
        bank = balance_cents(session, team_id, year_id, AccountKind.BANK)
        if bank + top > team.account_cap_cents:
            raise RuleViolation(_l("%(team)s: de teamrekening zou boven het maximum komen.", team=team.name),
                                field=f"top_up_{team_id}")
        if top > balance_cents(session, team_id, year_id, AccountKind.RESERVED):
            raise RuleViolation(_l("%(team)s: de bijstorting is meer dan er is toegekend.", team=team.name),
                                field=f"top_up_{team_id}")
        if load > bank + top:
            raise RuleViolation(_l("%(team)s: er is een grotere bijstorting nodig voor deze ladingen.", team=team.name),
                                field=f"top_up_{team_id}")


def cancel_batch(session: Session, batch: LoadBatch, *, actor_id: int) -> None:
    """Throw away a batch that was not downloaded yet; its cards wait again."""
    _check_editable(batch)
    for line in lines_of(session, batch.id):
        if line.card_id:
            transition(session, session.get(Card, line.card_id), "cancel_load", actor_id=actor_id, batch_id=batch.id)
        session.delete(line)
    session.delete(batch)


def _check_editable(batch: LoadBatch) -> None:
    if batch.downloaded_at is not None:
        raise RuleViolation(_l("Deze opdracht is al gedownload en kan niet meer veranderen."))


def freeze(session: Session, batch: LoadBatch, sepa_xml: str) -> str:
    """Keep the file of the first download and freeze the batch; returns the file to send (always the same)."""
    if batch.downloaded_at is None:
        batch.downloaded_at, batch.sepa_xml = utcnow(), sepa_xml
        session.add(batch)
    return batch.sepa_xml


def execute_batch(session: Session, batch: LoadBatch, *, actor_id: int) -> None:
    """The bank carried out the batch: post every line's entry, once (callers hold the money lock)."""
    if batch.downloaded_at is None:
        raise RuleViolation(_l("Download de opdracht eerst en laat de bank hem uitvoeren."))
    claimed = session.execute(update(LoadBatch).where(LoadBatch.id == batch.id, LoadBatch.executed_at.is_(None))
                              .values(executed_at=utcnow(), executed_by_id=actor_id))
    if claimed.rowcount != 1:
        raise RuleViolation(_l("Deze opdracht is al uitgevoerd."))
    # the whole batch first, per team: a refusal names the team and its field, before any line is posted
    # (top_up and load_onto_card check their own line again: they are also called on their own)
    check_batch(session, batch)
    for line in lines_of(session, batch.id):
        team = session.get(Team, line.team_id)
        if line.kind == LineKind.TOP_UP:
            entry = top_up(session, team, line.budget_year_id, line.amount_cents, memo=f"Opwaardering {line.reference}",
                           actor_id=actor_id)
        else:
            entry = load_onto_card(session, team, line.budget_year_id, line.amount_cents, request_id=line.request_id,
                                   memo=f"Lading {line.reference}", actor_id=actor_id)
            mark_loaded(session, session.get(Card, line.card_id), line.amount_cents, actor_id=actor_id)
        line.entry_id = entry.id
        session.add(line)
    session.flush()
    # a statement imported before the coordinator marked the batch executed now finds its transfers
    from models.reconciliation import rematch_unmatched
    rematch_unmatched(session, batch.municipality_id)
    session.refresh(batch)
