"""Balances side by side (models/bank_balances.py, issue 12 §4): a team account's last bank balance beside the
ledger's, the items that explain a difference, the rest that they do not; and per card what the bank says is
left beside what the ledger and the receipts say. Statements and their matched lines are made directly here
(the matching itself is models/reconciliation.py's)."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from models.bank_balances import (
    NO_TRANSFER, NOT_IN_LEDGER, NOT_ON_STATEMENT, RETURN_NOT_ON_STATEMENT, card_balances, team_account_balances)
from models.bank_statements import BankLine, BankStatement
from models.batch_lines import BatchLine, LineKind
from models.cards import Card, mark_handed_over, return_card
from models.clock import today
from models.db import begin_write
from models.receipts import Receipt
from tests.card_world import card_on, granted_request, loaded, municipality_id
from tests.unit.test_camt_reader import TEAM_IBAN

CARD_IBAN = "NL69INGB0123456789"


@pytest.fixture
def world(session, make_team, make_member):
    """Team Oost with its account: a card loaded with 45.00 and a grant of 300.00 topped up, both in one executed
    batch (top-up 345.00, load 45.00): the ledger's team account holds 300.00."""
    team = make_team("Team Oost", annual_budget_cents=250_000)
    team.iban = TEAM_IBAN
    session.add(team)
    session.commit()
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    small = granted_request(session, team, worker, voter, 4_500, household="H-1")
    big = granted_request(session, team, worker, voter, 30_000, household="H-2")
    card = card_on(session, team, small, coordinator)
    batch = loaded(session, team, [card], coordinator, top_up_cents=34_500)
    lines = {line.kind: line for line in session.exec(select(BatchLine).where(BatchLine.batch_id == batch.id))}
    return {"team": team, "card": session.get(Card, card.id), "request": small, "big": big, "coordinator": coordinator,
            "worker": worker, "top_up": lines[LineKind.TOP_UP], "load": lines[LineKind.LOAD],
            "municipality_id": municipality_id(session, team)}


def statement(session, team, *, opening, closing, lines=(), days=(-3, 0), card=None):
    """A stored statement of the team's account (or of `card`'s account) with these lines: dicts of BankLine
    fields, `days` before/after today for the booking date (default: the closing day)."""
    opened, closed = today() + timedelta(days=days[0]), today() + timedelta(days=days[1])
    row = BankStatement(municipality_id=municipality_id(session, team), team_id=team.id,
                        account_iban=CARD_IBAN if card else TEAM_IBAN, format="camt.053.001.02",
                        statement_ref=uuid.uuid4().hex, currency="EUR", opening_cents=opening, closing_cents=closing,
                        opening_date=opened if opening is not None else None,
                        closing_date=closed if closing is not None else None, file_name="test.xml",
                        card_id=card.id if card else None)
    session.add(row)
    session.flush()
    for values in lines:
        values = dict(values)
        booked = today() + timedelta(days=values.pop("day", days[1]))
        session.add(BankLine(statement_id=row.id, team_id=team.id, identity=uuid.uuid4().hex, booking_date=booked,
                             **values))
    session.commit()
    return row


def _both_batch_lines(world):
    return [dict(amount_cents=34_500, match="top_up", batch_line_id=world["top_up"].id, counterparty_name="Gemeente"),
            dict(amount_cents=-4_500, match="load", batch_line_id=world["load"].id, card_id=world["card"].id,
                 request_id=world["request"].id, counterparty_name="Kaartbank")]


def _team_row(session, world):
    [row] = team_account_balances(session, world["municipality_id"])
    assert row.team.id == world["team"].id
    return row


def test_without_a_statement_there_is_no_bank_balance_and_no_difference(session, world):
    row = _team_row(session, world)
    assert (row.ledger_cents, row.bank_cents, row.bank_date, row.difference_cents) == (30_000, None, None, None)
    assert row.explanations == []


def test_equal_balances_need_no_explanation(session, world):
    statement(session, world["team"], opening=0, closing=30_000, lines=_both_batch_lines(world))
    row = _team_row(session, world)
    assert (row.bank_cents, row.bank_date, row.ledger_cents) == (30_000, today(), 30_000)
    assert (row.difference_cents, row.explanations, row.explained) == (0, [], True)


def test_a_bank_fee_the_ledger_does_not_know_explains_the_difference(session, world):
    statement(session, world["team"], opening=0, closing=29_850, lines=_both_batch_lines(world) + [
        dict(amount_cents=-150, counterparty_name="ING Bank", description="Kosten betaalrekening", day=-1)])
    row = _team_row(session, world)
    assert row.difference_cents == 150  # the ledger has 1.50 more than the bank
    [item] = row.explanations
    assert (item.kind, item.amount_cents, item.day, item.text) == (NOT_IN_LEDGER, 150, today() - timedelta(days=1),
                                                                   "ING Bank")
    assert item.line_amount_cents == -150 and str(item.label) == "bij de bank, niet in de boekhouding"
    assert row.explained and row.unexplained_cents == 0


def test_an_executed_batch_not_on_a_statement_yet_explains_the_difference(session, world):
    statement(session, world["team"], opening=0, closing=0, days=(-1, -1))  # the day before: nothing booked yet
    row = _team_row(session, world)
    assert row.difference_cents == 30_000
    assert [(item.kind, item.amount_cents, item.text, item.day) for item in row.explanations] == [
        (NOT_ON_STATEMENT, 34_500, world["top_up"].reference, today()),
        (NOT_ON_STATEMENT, -4_500, world["load"].reference, today())]
    assert row.explained


def test_a_matched_line_booked_after_the_last_closing_balance_is_not_on_the_statement_yet(session, world):
    statement(session, world["team"], opening=0, closing=0, days=(-2, -1))
    # a notification (no balances) of today shows the top-up: the bank's balance of yesterday does not have it
    statement(session, world["team"], opening=None, closing=None, lines=_both_batch_lines(world)[:1])
    row = _team_row(session, world)
    assert (row.bank_cents, row.bank_date) == (0, today() - timedelta(days=1))
    assert [item.amount_cents for item in row.explanations] == [34_500, -4_500] and row.explained


def test_what_happened_before_the_first_statement_is_in_its_opening_balance(session, world):
    statement(session, world["team"], opening=30_000, closing=30_000, days=(1, 2))
    row = _team_row(session, world)
    assert (row.difference_cents, row.explanations) == (0, [])


def test_a_difference_nothing_explains_is_shown_as_the_rest(session, world):
    # 100.00 stood on the account before the app booked anything; plus an unmatched fee
    statement(session, world["team"], opening=10_000, closing=39_850, lines=_both_batch_lines(world) + [
        dict(amount_cents=-150, counterparty_name="ING Bank")])
    row = _team_row(session, world)
    assert row.difference_cents == -9_850
    assert row.explained_cents == 150 and row.unexplained_cents == -10_000 and not row.explained


def test_a_returned_card_explains_the_difference_until_the_bank_shows_the_return(session, world):
    begin_write(session)
    card = session.get(Card, world["card"].id)
    mark_handed_over(session, card)
    return_card(session, card, 3_000, actor_id=world["coordinator"].id)
    session.commit()
    first = statement(session, world["team"], opening=0, closing=30_000, lines=_both_batch_lines(world))
    row = _team_row(session, world)
    assert row.ledger_cents == 33_000 and row.difference_cents == 3_000
    [item] = row.explanations
    assert (item.kind, item.amount_cents, item.card_id, item.text) == (
        RETURN_NOT_ON_STATEMENT, 3_000, card.id, card.last_four)
    assert row.explained

    statement(session, world["team"], opening=30_000, closing=33_000, days=(0, 1), lines=[
        dict(amount_cents=3_000, match="return", card_id=card.id, counterparty_name="Kaartbank", day=1)])
    row = _team_row(session, world)
    assert first.id and (row.difference_cents, row.explanations) == (0, [])


def test_a_grant_cancelled_after_its_top_up_is_a_booking_no_transfer_makes(session, world):
    from models.grants import cancel_grant
    from models.requests import SpendRequest

    statement(session, world["team"], opening=0, closing=30_000, lines=_both_batch_lines(world))
    begin_write(session)
    cancel_grant(session, session.get(SpendRequest, world["big"].id), world["worker"], "Zelf opgelost.")
    session.commit()
    row = _team_row(session, world)
    assert (row.ledger_cents, row.bank_cents, row.difference_cents) == (0, 30_000, -30_000)
    [item] = row.explanations
    assert (item.kind, item.amount_cents, item.line_amount_cents) == (NO_TRANSFER, -30_000, -30_000)
    assert item.text == f"Annulering toekenning aanvraag {world['big'].id}" and row.explained


def test_another_municipalitys_teams_are_not_listed(session, world, make_team):
    other = make_team("Team Elders")
    other.iban = "NL91ABNA0417164300"
    session.add(other)
    session.commit()
    rows = team_account_balances(session, world["municipality_id"])
    assert [row.team.name for row in rows] == ["Team Oost"]


def test_a_team_without_an_iban_or_archived_is_not_listed(session, world, make_team):
    from models.teams import District, Team
    from models.clock import utcnow
    district = session.get(District, world["team"].district_id)
    session.add(Team(district_id=district.id, name="Team Zonder Rekening"))
    session.add(Team(district_id=district.id, name="Team Weg", iban="NL91ABNA0417164300", archived_at=utcnow()))
    session.commit()
    assert [row.team.name for row in team_account_balances(session, world["municipality_id"])] == ["Team Oost"]


# --- cards -------------------------------------------------------------------------------------------

def _receipt(session, world, cents):
    session.add(Receipt(request_id=world["request"].id, team_id=world["team"].id, added_by_id=world["worker"].id,
                        file_name=uuid.uuid4().hex, width=1, height=1, amount_cents=cents))
    session.commit()


def test_a_loaded_card_shows_what_the_bank_and_the_receipts_say_is_left(session, world):
    statement(session, world["team"], opening=0, closing=30_000, lines=_both_batch_lines(world) + [
        dict(amount_cents=-1_200, match="spending", card_id=world["card"].id, request_id=world["request"].id,
             counterparty_name="Apotheek De Roos", merchant_category_code="5912")])
    _receipt(session, world, 1_000)
    [row] = card_balances(session, world["municipality_id"])
    assert (row.card.id, row.team_name, row.loaded_cents, row.spent_bank_cents, row.left_bank_cents,
            row.left_bank_date, row.receipts_cents, row.left_ledger_cents, row.difference_cents) == (
        world["card"].id, "Team Oost", 4_500, 1_200, 3_300, None, 1_000, 3_500, -200)


def test_a_card_accounts_statement_gives_what_is_left(session, world):
    card = world["card"]
    statement(session, world["team"], card=card, opening=4_500, closing=3_250, lines=[
        dict(amount_cents=-1_250, match="spending", card_id=card.id, counterparty_name="Albert Heijn")])
    _receipt(session, world, 1_250)
    [row] = card_balances(session, world["municipality_id"])
    assert (row.spent_bank_cents, row.left_bank_cents, row.left_bank_date, row.left_ledger_cents,
            row.difference_cents) == (1_250, 3_250, today(), 3_250, 0)
    # the card account's statement is no statement of the team account
    assert _team_row(session, world).bank_cents is None


def test_a_closed_card_is_listed_only_with_a_statement_of_its_own(session, world):
    begin_write(session)
    card = session.get(Card, world["card"].id)
    mark_handed_over(session, card)
    return_card(session, card, 3_000, actor_id=world["coordinator"].id)
    session.commit()
    assert card_balances(session, world["municipality_id"]) == []
    statement(session, world["team"], card=card, opening=4_500, closing=0, lines=[
        dict(amount_cents=-1_500, match="spending", card_id=card.id, counterparty_name="Albert Heijn"),
        dict(amount_cents=-3_000, match="return", card_id=card.id, counterparty_name="Teamrekening")])
    [row] = card_balances(session, world["municipality_id"])
    assert (row.left_bank_cents, row.left_ledger_cents, row.difference_cents) == (0, 0, 0)


def test_the_balances_read_a_fixed_number_of_queries(session, world, make_team):
    statement(session, world["team"], opening=0, closing=30_000, lines=_both_batch_lines(world))
    counted = []

    def count(*_args):
        counted.append(1)

    def queries():
        counted.clear()
        session.expire_all()
        event.listen(session.get_bind(), "before_cursor_execute", count)
        try:
            team_account_balances(session, world["municipality_id"])
            card_balances(session, world["municipality_id"])
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", count)
        return len(counted)

    one_team = queries()
    from models.teams import District, Team
    district = session.get(District, world["team"].district_id)
    for number in range(3):
        session.add(Team(district_id=district.id, name=f"Team {number}", iban=f"NL0{number}INGB000000000{number}"))
    session.commit()
    assert queries() == one_team <= 14
