"""Reconciliation (models/reconciliation.py): bank lines matched to top-ups, card loads, returns and card spending,
and the flags for what is not simply fine, with our own statements in tests/data/statements/."""
from datetime import date, datetime, timezone
from pathlib import Path
from string import Template
from types import SimpleNamespace

import pytest
from sqlmodel import func, select

from models.audit import AuditEvent
from models.bank_formats import read_statement_file
from models.bank_statements import BankLine, BankStatement, import_statement_file
from models.batches import create_batch, execute_batch, freeze
from models.batch_lines import BatchLine, LineKind
from models.cards import Card, mark_handed_over, register_card_account, return_card
from models.db import begin_write
from models.ledger import Entry
from models.reconciliation import (
    DEFAULT_MCCS, BankFlag, MerchantRule, add_merchant_rule, bank_lines_of_request, flag_transfers_not_seen,
    MatchCounts, is_cash, keyword_found, merchant_fits, open_flags, rematch_unmatched, remove_merchant_rule,
    transfer_references, working_days_after)
from models.requests import SpendRequest
from models.rules import RuleViolation
from models.teams import CostCategory, Municipality, Team
from tests.card_world import card_on, granted_request, loaded, municipality_id

STATEMENTS = Path(__file__).parent.parent / "data" / "statements"
TEAM_IBAN = "NL20INGB0001234567"
CARD_IBAN = "NL69INGB0123456789"
OTHER_IBAN = "NL02ABNA0123456789"


def statement_file(name: str, **values) -> bytes:
    """One of our test statements with the ids of this test filled in."""
    return Template((STATEMENTS / name).read_text()).substitute(values).encode()


@pytest.fixture
def world(session, make_team, make_member, clock):
    """A team with its account, a request granted EUR 40.00 for medicine, its card 1234 loaded in a batch."""
    clock(datetime(2026, 11, 30, 10, tzinfo=timezone.utc))
    team = make_team("Team Bank")
    team.iban = TEAM_IBAN
    session.add(team)
    session.commit()
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator")
    request = granted_request(session, team, worker, voter, 4000)
    _set_category(session, request, "medical")
    card = card_on(session, team, request, coordinator, "1234")
    return SimpleNamespace(team=team, worker=worker, voter=voter, coordinator=coordinator, request=request,
                           card=card, municipality_id=municipality_id(session, team), batch=None)


def _set_category(session, request, code):
    request = session.get(SpendRequest, request.id)
    request.cost_category_id = session.exec(select(CostCategory.id).where(
        CostCategory.municipality_id == municipality_id(session, session.get(Team, request.team_id)),
        CostCategory.code == code)).one()
    session.add(request)
    session.commit()


@pytest.fixture
def executed(session, world):
    """The world with its batch (top-up and load of EUR 40.00) downloaded and executed."""
    world.batch = loaded(session, world.team, [world.card], world.coordinator)
    return world


def _file(world, name):
    return statement_file(name, team=world.team.id, batch=world.batch.id if world.batch else 0,
                          request=world.request.id, team_iban=TEAM_IBAN, card_iban=CARD_IBAN)


def _import(session, world, name, *, data=None, municipality_id="world"):
    begin_write(session)
    result = import_statement_file(session, data if data is not None else _file(world, name), name,
                                   municipality_id=world.municipality_id if municipality_id == "world"
                                   else municipality_id, actor_id=None)
    session.commit()
    return result


def _lines(session, statement_name=None):
    query = select(BankLine).order_by(BankLine.id)
    if statement_name:
        query = query.join(BankStatement, BankStatement.id == BankLine.statement_id).where(
            BankStatement.file_name == statement_name)
    return session.exec(query).all()


def _flags(session, **where):
    query = select(BankFlag).order_by(BankFlag.id)
    for name, value in where.items():
        query = query.where(getattr(BankFlag, name) == value)
    return session.exec(query).all()


def _reasons(session, line):
    return sorted(flag.reason for flag in _flags(session, bank_line_id=line.id))


def _batch_line(session, batch, kind):
    return session.exec(select(BatchLine).where(BatchLine.batch_id == batch.id, BatchLine.kind == kind)).one()


def _register_card_account(session, world):
    begin_write(session)
    register_card_account(session, session.get(Card, world.card.id), CARD_IBAN, actor_id=world.coordinator.id)
    session.commit()


# --- our statements read whole -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, lines, closing", [
    ("team_account.camt053.xml", 3, 850), ("team_account_overlap.camt053.xml", 3, 1100),
    ("card_account.camt053.xml", 4, 250), ("card_account.camt054.xml", 1, None), ("team_account.mt940", 3, 1220)])
def test_our_statements_read_whole(name, lines, closing):
    data = statement_file(name, team=7, batch=3, request=45, team_iban=TEAM_IBAN, card_iban=CARD_IBAN)
    [statement] = read_statement_file(data, name)
    assert (len(statement.lines), statement.closing_balance) == (lines, closing)


# --- references ----------------------------------------------------------------------------------------------

def test_transfer_references_tolerate_spaces_and_case_but_not_other_digits():
    assert transfer_references("tb-12-opw 3") == [(12, "top_up", 3)]
    assert transfer_references("Kaartlading TB - 12 - 45 en TB-12-OPW-7") == [(12, "load", 45), (12, "top_up", 7)]
    assert transfer_references("XTB-12-45") == [] and transfer_references("TB12L3") == []
    assert transfer_references("TB-12-456") == [(12, "load", 456)]


# --- matching ------------------------------------------------------------------------------------------------

def test_a_team_statement_matches_its_top_up_and_card_load(session, executed):
    world = executed
    result = _import(session, world, "team_account.camt053.xml")
    assert (result.new, result.matched, result.flagged) == (3, 2, 1)
    top_up, load, costs = _lines(session)
    top_up_line, load_line = _batch_line(session, world.batch, LineKind.TOP_UP), _batch_line(
        session, world.batch, LineKind.LOAD)
    assert (top_up.match, top_up.batch_line_id, top_up.entry_id) == ("top_up", top_up_line.id, top_up_line.entry_id)
    assert top_up.entry_id is not None and top_up.card_id is None
    assert (load.match, load.batch_line_id, load.entry_id, load.card_id, load.request_id) == (
        "load", load_line.id, load_line.entry_id, world.card.id, world.request.id)
    assert costs.match == "" and costs.entry_id is None
    [flag] = _flags(session)
    assert (flag.bank_line_id, flag.reason, flag.detail["hint"], flag.team_id) == (
        costs.id, "unmatched", "bank_costs", world.team.id)
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "statement_imported")).all()
    assert (event.detail["matched"], event.detail["flagged"]) == (2, 1)


def test_an_overlapping_statement_adds_the_return_and_no_second_flag(session, executed):
    world = executed
    _import(session, world, "team_account.camt053.xml")
    begin_write(session)
    return_card(session, session.get(Card, world.card.id), 250, actor_id=world.coordinator.id)
    session.commit()
    result = _import(session, world, "team_account_overlap.camt053.xml")
    assert (result.lines, result.new, result.duplicates, result.matched, result.flagged) == (3, 1, 2, 1, 0)
    [returned] = _lines(session, "team_account_overlap.camt053.xml")
    settle = session.exec(select(Entry).where(Entry.memo == "Kaart 1234 terug")).one()
    assert (returned.match, returned.card_id, returned.request_id, returned.entry_id) == (
        "return", world.card.id, world.request.id, settle.id)
    assert len(_flags(session)) == 1  # the bank costs, flagged once


def test_a_return_of_another_amount_or_an_unreturned_card_stays_unmatched(session, executed):
    world = executed
    _import(session, world, "team_account_overlap.camt053.xml")  # the card is not returned yet
    returned = _lines(session)[-1]
    assert returned.match == "" and _reasons(session, returned) == ["unmatched"]
    begin_write(session)
    return_card(session, session.get(Card, world.card.id), 300, actor_id=world.coordinator.id)
    session.commit()
    assert rematch_unmatched(session, world.municipality_id).matched == 0  # 3.00 left, 2.50 came back


def test_a_card_account_statement_matches_the_load_and_the_spending(session, executed):
    world = executed
    _register_card_account(session, world)
    _import(session, world, "team_account.camt053.xml")
    result = _import(session, world, "card_account.camt053.xml")
    assert (result.account, result.new, result.matched) == (CARD_IBAN, 4, 4)
    statement = session.exec(select(BankStatement).where(BankStatement.account_iban == CARD_IBAN)).one()
    assert (statement.team_id, statement.card_id) == (world.team.id, world.card.id)
    load, pharmacy, supermarket, cash = _lines(session, "card_account.camt053.xml")
    load_line = _batch_line(session, world.batch, LineKind.LOAD)
    assert (load.match, load.batch_line_id, load.card_id) == ("load", load_line.id, world.card.id)
    for line in (pharmacy, supermarket, cash):
        assert (line.match, line.card_id, line.request_id, line.entry_id) == (
            "spending", world.card.id, world.request.id, load_line.entry_id)
    # medicine money: the pharmacy fits, the supermarket does not, cash is cash
    assert (_reasons(session, pharmacy), _reasons(session, supermarket), _reasons(session, cash)) == (
        [], ["purpose"], ["cash"])
    assert result.flagged == 2
    purpose = _flags(session, reason="purpose")[0]
    assert purpose.detail == {"amount_cents": -2000, "category": "medical", "mcc": "5411", "by": "mcc"}
    # the request page lists the load once (team account and card account both show it), then the spending
    assert [line.id for line in bank_lines_of_request(session, world.request.id)] == [
        _lines(session, "team_account.camt053.xml")[1].id, pharmacy.id, supermarket.id, cash.id]


def test_a_pharmacy_for_a_groceries_grant_is_flagged_and_a_supermarket_is_not(session, executed):
    world = executed
    _set_category(session, world.request, "groceries")
    _register_card_account(session, world)
    _import(session, world, "card_account.camt053.xml")
    _load, pharmacy, supermarket, cash = _lines(session)
    assert (_reasons(session, pharmacy), _reasons(session, supermarket), _reasons(session, cash)) == (
        ["purpose"], [], ["cash"])


def test_a_notification_passing_the_loaded_amount_is_flagged_overspent(session, executed):
    world = executed
    _register_card_account(session, world)
    _import(session, world, "card_account.camt053.xml")  # 37.50 of 40.00 spent
    result = _import(session, world, "card_account.camt054.xml")  # 3.20 more
    [bakery] = _lines(session, "card_account.camt054.xml")
    assert (bakery.match, result.matched) == ("spending", 1)
    assert _reasons(session, bakery) == ["overspent", "purpose"]  # and a bakery is no medicine
    assert _flags(session, reason="overspent")[0].detail == {"loaded_cents": 4000, "spent_cents": 4070}
    assert result.flagged == 2


def test_spending_after_the_card_was_settled_is_flagged(session, executed):
    world = executed
    _register_card_account(session, world)
    begin_write(session)
    card = session.get(Card, world.card.id)
    mark_handed_over(session, card)
    return_card(session, card, 0, actor_id=world.coordinator.id)  # settled on 30 November
    session.commit()
    _import(session, world, "card_account.camt054.xml")  # booked 4 December
    [bakery] = _lines(session)
    assert "after_settled" in _reasons(session, bakery)
    assert _flags(session, reason="after_settled")[0].detail["settled_on"] == "2026-11-30"


def test_an_mt940_team_statement_matches_card_payments_by_the_last_four(session, executed):
    world = executed
    result = _import(session, world, "team_account.mt940")
    top_up, pharmacy, cash = _lines(session)
    assert (top_up.match, pharmacy.match, cash.match, result.matched) == ("top_up", "spending", "spending", 3)
    assert pharmacy.card_id == cash.card_id == world.card.id
    # no MCC: "apotheek" is a keyword of medical; GEA is cash
    assert (_reasons(session, pharmacy), _reasons(session, cash)) == ([], ["cash"])
    assert result.flagged == 1


def test_a_batch_line_is_matched_once_per_account_and_a_second_is_a_possible_double(session, executed):
    world = executed
    _import(session, world, "team_account.camt053.xml")
    _import(session, world, "team_account.mt940")  # the same top-up again, with another bank reference
    first = _lines(session, "team_account.camt053.xml")[0]
    again = _lines(session, "team_account.mt940")[0]
    assert (first.match, again.match) == ("top_up", "")
    [flag] = _flags(session, bank_line_id=again.id)
    assert (flag.reason, flag.detail["double_of"]) == ("unmatched", first.id)


def test_lines_never_match_another_teams_or_municipalitys_transfers(session, executed, make_team):
    world = executed
    neighbour = make_team("Team Buren")  # another municipality
    same_town = make_team("Team Noord", municipality=session.get(Municipality, world.municipality_id))
    for team, iban in ((neighbour, OTHER_IBAN), (same_town, "NL86INGB0002445588")):
        team.iban = iban
        session.add(team)
    session.commit()
    for team, iban in ((neighbour, OTHER_IBAN), (same_town, "NL86INGB0002445588")):
        # a statement of that team's account naming the world's team, batch and request
        data = statement_file("team_account.camt053.xml", team=world.team.id, batch=world.batch.id,
                              request=world.request.id, team_iban=iban, card_iban=CARD_IBAN)
        result = _import(session, world, f"{iban}.xml", data=data, municipality_id=municipality_id(session, team))
        assert (result.new, result.matched, result.flagged) == (3, 0, 3)
    assert session.exec(select(func.count()).select_from(BankLine).where(BankLine.match != "")).one() == 0


def test_a_team_statement_naming_another_teams_card_does_not_match_it(session, executed, make_team):
    world = executed
    other = make_team("Team Noord", municipality=session.get(Municipality, world.municipality_id))
    other.iban = OTHER_IBAN
    session.add(other)
    session.commit()
    data = statement_file("team_account.mt940", team=other.id, batch=world.batch.id, request=world.request.id,
                          team_iban=OTHER_IBAN, card_iban=CARD_IBAN)
    result = _import(session, world, "other.mt940", data=data, municipality_id=municipality_id(session, other))
    assert result.matched == 0  # "PAS 1234" is the world's card, not one of this team's


def test_lines_imported_before_the_batch_was_executed_match_when_it_is_executed(session, world):
    begin_write(session)
    batch = create_batch(session, world.municipality_id, card_ids=[world.card.id], top_ups={world.team.id: 4000},
                         actor_id=world.coordinator.id)
    freeze(session, batch, "<xml/>")
    session.commit()
    world.batch = batch
    result = _import(session, world, "team_account.camt053.xml")
    assert (result.matched, result.flagged) == (0, 3)
    begin_write(session)
    execute_batch(session, batch, actor_id=world.coordinator.id)  # matches what came in before, by itself
    session.commit()
    assert rematch_unmatched(session, world.municipality_id) == MatchCounts(0, 0)  # nothing was left to match
    top_up, load, costs = _lines(session)
    assert (top_up.match, load.match, costs.match) == ("top_up", "load", "")
    unmatched = {flag.bank_line_id: flag for flag in _flags(session, reason="unmatched")}
    assert unmatched[top_up.id].resolution == "linked" and unmatched[top_up.id].resolved_by_id is None
    assert unmatched[costs.id].resolved_at is None
    assert [row.flag.id for row in open_flags(session, world.municipality_id)] == [unmatched[costs.id].id]


def test_an_unknown_account_is_refused_saying_so(session, world):
    with pytest.raises(RuleViolation, match="geen kaartrekening"):
        _import(session, world, "card_account.camt053.xml")
    session.rollback()
    assert session.exec(select(func.count()).select_from(BankStatement)).one() == 0


# --- cash ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, mcc, text, cash", [
    ("cash", "", "", True), ("PMNT/CCRD/CWDL", "", "", True), ("PMNT/CNTR/BCWD", "", "", True), ("CWDL", "", "", True),
    ("", "6011", "", True), ("", "6010", "", True), ("", "", "Geldautomaat Centrum", True),
    ("", "", "ATM Schiphol", True), ("PMNT/CCRD/POSD", "5411", "Albert Heijn", False),
    ("", "", "Geamateriaal", False)])
def test_cash_is_told_by_code_mcc_or_words(code, mcc, text, cash):
    line = SimpleNamespace(amount_cents=-500, transaction_code=code, merchant_category_code=mcc, description=text,
                           counterparty_name="")
    assert is_cash(line) is cash
    assert is_cash(SimpleNamespace(**{**vars(line), "amount_cents": 500})) is False  # money in is no withdrawal


# --- merchants -----------------------------------------------------------------------------------------------

def _line(mcc="", name="", text=""):
    return SimpleNamespace(merchant_category_code=mcc, counterparty_name=name, description=text)


def test_keywords_are_whole_words_in_any_case():
    assert keyword_found("ah", "AH to go Centraal") and not keyword_found("ah", "Ahold")
    assert keyword_found("albert heijn", "ALBERT  HEIJN 1403") and keyword_found("c&a", "C&A Utrecht")
    assert not keyword_found("ns", "Nsomething") and keyword_found("ns", "NS Reizigers")


def test_merchant_fits_by_mcc_else_keywords_and_other_fits_all(session, world):
    categories = {category.code: category for category in session.exec(select(CostCategory).where(
        CostCategory.municipality_id == world.municipality_id))}
    fits = lambda code, line: merchant_fits(session, world.municipality_id, categories[code], line)  # noqa: E731
    assert fits("medical", _line("5912")) and not fits("groceries", _line("5912"))
    assert fits("groceries", _line("5411", "Apotheek")) is True  # the MCC decides, not the name
    assert not fits("medical", _line("5411", "Apotheek"))
    assert fits("medical", _line("", "Apotheek De Roos")) and not fits("medical", _line("", "Jumbo Centrum"))
    assert fits("other", _line("7995")) and "5912" in DEFAULT_MCCS["medical"]


def test_a_coordinator_extends_what_fits(session, world, make_team):
    category = session.exec(select(CostCategory).where(CostCategory.municipality_id == world.municipality_id,
                                                       CostCategory.code == "medical")).one()
    for kind, value, field in (("mcc", "591", "value"), ("mcc", "59a2", "value"), ("keyword", "x", "value"),
                               ("keyword", "<script>", "value"), ("iban", "5411", "kind")):
        with pytest.raises(RuleViolation) as refused:
            add_merchant_rule(session, world.municipality_id, category, kind, value, actor_id=world.coordinator.id)
        assert refused.value.field == field, (kind, value)
    rule = add_merchant_rule(session, world.municipality_id, category.id, "mcc", " 5411 ",
                             actor_id=world.coordinator.id)
    add_merchant_rule(session, world.municipality_id, category, "keyword", "Zorgwinkel  Oost", actor_id=None)
    session.commit()
    with pytest.raises(RuleViolation) as refused:
        add_merchant_rule(session, world.municipality_id, category, "mcc", "5411", actor_id=None)
    assert refused.value.field == "value"
    assert merchant_fits(session, world.municipality_id, category, _line("5411"))
    assert merchant_fits(session, world.municipality_id, category, _line("", "zorgwinkel oost b.v."))
    elsewhere = make_team("Team Elders")
    with pytest.raises(RuleViolation):
        remove_merchant_rule(session, municipality_id(session, elsewhere), rule.id, actor_id=None)
    with pytest.raises(RuleViolation):  # another municipality's category
        add_merchant_rule(session, municipality_id(session, elsewhere), category, "mcc", "5411", actor_id=None)
    remove_merchant_rule(session, world.municipality_id, rule.id, actor_id=world.coordinator.id)
    session.commit()
    assert not merchant_fits(session, world.municipality_id, category, _line("5411"))
    assert session.exec(select(func.count()).select_from(MerchantRule)).one() == 1


# --- transfers the bank did not show -----------------------------------------------------------------------

def test_working_days_skip_weekends_and_target2_closing_days():
    assert working_days_after(date(2026, 11, 27), 5) == date(2026, 12, 4)  # Friday → Friday
    assert working_days_after(date(2026, 12, 18), 5) == date(2026, 12, 28)  # Christmas Day is closed
    assert working_days_after(date(2026, 4, 2), 1) == date(2026, 4, 7)  # Good Friday and Easter Monday


def test_an_executed_transfer_no_statement_shows_is_flagged_after_five_working_days(session, world, clock):
    clock(datetime(2026, 12, 18, 10, tzinfo=timezone.utc))  # a Friday
    world.batch = loaded(session, world.team, [world.card], world.coordinator)
    begin_write(session)
    assert flag_transfers_not_seen(session, world.municipality_id, date(2026, 12, 28)) == 0
    assert flag_transfers_not_seen(session, world.municipality_id, date(2026, 12, 29)) == 2
    assert flag_transfers_not_seen(session, world.municipality_id, date(2027, 1, 5)) == 0  # once
    session.commit()
    flags = _flags(session, reason="not_seen")
    assert {flag.batch_line_id for flag in flags} == {line.id for line in session.exec(
        select(BatchLine).where(BatchLine.batch_id == world.batch.id))}
    assert all(flag.bank_line_id is None and flag.detail["due_on"] == "2026-12-28" for flag in flags)
    rows = open_flags(session, world.municipality_id)
    assert {row.request_id for row in rows} == {None, world.request.id} and rows[0].team_name == "Team Bank"
    # the statement shows them after all: the flags resolve themselves, kept as linked
    _import(session, world, "team_account.camt053.xml")
    for flag in _flags(session, reason="not_seen"):
        assert (flag.resolution, flag.resolved_by_id) == ("linked", None) and flag.resolved_at is not None
        seen = session.get(BankLine, flag.detail["seen_in_line"])  # the queue words it (web/reconciliation.py)
        assert flag.resolution_note == "" and flag.detail["seen_on"] == seen.booking_date.isoformat()
    assert [row.flag.reason for row in open_flags(session, world.municipality_id)] == ["unmatched"]


# --- card accounts -------------------------------------------------------------------------------------------

def test_a_card_account_is_checked_and_audited(session, world):
    card = session.get(Card, world.card.id)
    for iban in ("", "NL00INGB0123456789", TEAM_IBAN):
        with pytest.raises(RuleViolation) as refused:
            register_card_account(session, card, iban, actor_id=world.coordinator.id)
        assert refused.value.field == "account_iban", iban
    register_card_account(session, card, "nl69 ingb 0123 4567 89", actor_id=world.coordinator.id)
    session.commit()
    assert card.account_iban == CARD_IBAN
    other = Card(team_id=world.team.id, reference="K-9", last_four="9999")
    session.add(other)
    session.flush()
    with pytest.raises(RuleViolation, match="andere kaart"):
        register_card_account(session, other, CARD_IBAN, actor_id=world.coordinator.id)
    [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "card_account_registered")).all()
    assert event.detail == {"card_id": card.id, "last_four": "1234"}


def test_a_line_a_coordinator_explained_is_not_matched_again(session, world):
    begin_write(session)
    batch = create_batch(session, world.municipality_id, card_ids=[world.card.id], top_ups={world.team.id: 4000},
                         actor_id=world.coordinator.id)
    freeze(session, batch, "<xml/>")
    session.commit()
    world.batch = batch
    _import(session, world, "team_account.camt053.xml")
    top_up = _lines(session)[0]
    [explained] = _flags(session, bank_line_id=top_up.id)
    explained.resolved_at, explained.resolution = datetime(2026, 11, 30, 11, tzinfo=timezone.utc), "accepted"
    session.add(explained)
    begin_write(session)
    execute_batch(session, batch, actor_id=world.coordinator.id)  # rematches: the load only
    assert rematch_unmatched(session, world.municipality_id).matched == 0
    session.commit()
    assert [line.match for line in _lines(session)] == ["", "load", ""]


def test_the_same_transfer_twice_in_one_statement_matches_once(session, executed):
    world = executed
    data = _file(world, "team_account.mt940").decode()
    top_up = data[data.index(":61:2612011201C40,00"):data.index(":61:2612031203D7,80")]
    twice = data.replace(top_up, top_up + top_up.replace("26335000000001", "26335000000009")).replace(
        ":62F:C261204EUR12,20", ":62F:C261204EUR52,20")
    result = _import(session, world, "twice.mt940", data=twice.encode())
    first, second = _lines(session)[:2]
    assert (result.new, first.match, second.match) == (4, "top_up", "")
    assert _flags(session, bank_line_id=second.id)[0].detail["double_of"] == first.id


def test_a_card_account_of_another_municipality_is_refused(session, executed, make_team):
    world = executed
    _register_card_account(session, world)
    elsewhere = make_team("Team Elders")
    with pytest.raises(RuleViolation, match="geen kaartrekening"):
        _import(session, world, "card_account.camt053.xml", municipality_id=municipality_id(session, elsewhere))
    session.rollback()
    assert _import(session, world, "card_account.camt053.xml", municipality_id=None).new == 4  # the command line
