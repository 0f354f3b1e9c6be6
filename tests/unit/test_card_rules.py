"""Cards as rules, without Flask views: the transition table, registering, reserving, the team account,
load batches, returns, handover links, and the SEPA file against the pain.001.001.03 XSD.
"""
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
import xmlschema
from sqlmodel import select

from models.audit import AuditEvent
from models.batches import (
    BatchLine, cancel_batch, create_batch, execute_batch, freeze, lines_of, teams_money, waiting_loads)
from models.cards import (
    TRANSITIONS, Card, CardState, block_card, mark_spent, register_card, release_card,
    reserve_card, return_card, transition)
from models.clock import utcnow
from models.handover import CardHandover, confirm_handover, create_handover, usable_handover
from models.ledger import AccountKind, Entry, Posting, accounts_out_of_balance, balance_cents, load_onto_card, top_up
from models.rules import RuleViolation
from models.sepa import pain001
from tests.card_world import SEPA_CONFIG, card_on, granted_request, loaded, municipality_id

XSD = Path(__file__).parent.parent / "data" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
C = CardState


@pytest.fixture
def world(session, make_team, make_member):
    """A team with a requester, a voter and a coordinator."""
    team = make_team("Team Kaart", annual_budget_cents=250_000)
    return {"team": team, "worker": make_member(team, "worker", name="Wim"),
            "voter": make_member(team, "worker", name="Vera"), "coordinator": make_member(team, "coordinator")}


def _balance(session, team, request, kind):
    return balance_cents(session, team.id, request.budget_year_id, kind)


# --- the transition table ---------------------------------------------------------------------------

def test_transitions_reach_every_state_from_the_stock():
    reached, frontier = {C.IN_STOCK}, [C.IN_STOCK]
    while frontier:
        state = frontier.pop()
        for (source, _action), target in TRANSITIONS.items():
            if source == state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(CardState)


def test_transitions_leave_no_dead_state_but_the_final_ones():
    sources = {source for source, _action in TRANSITIONS}
    assert set(CardState) - sources == {C.SPENT, C.RETURNED}


def test_transition_follows_the_table_or_refuses_and_audits(session, world):
    card = register_card(session, world["team"], "K-1", "1234", actor_id=world["coordinator"].id)
    for state in CardState:
        for action in sorted({action for _state, action in TRANSITIONS}):
            card.state = state
            expected = TRANSITIONS.get((state, action))
            if expected is None:
                with pytest.raises(RuleViolation):
                    transition(session, card, action, actor_id=None)
                assert card.state == state, (state, action)
            else:
                transition(session, card, action, actor_id=None)
                assert card.state == expected
    audited = session.exec(select(AuditEvent.action).where(AuditEvent.action.like("card_%"))).all()
    assert set(audited) == {"card_registered"} | {f"card_{target}" for target in TRANSITIONS.values()}
    assert len(audited) == 1 + len(TRANSITIONS)


# --- registering and reserving ---------------------------------------------------------------------

@pytest.mark.parametrize("last_four", ["123", "12345", "4111111111111111", "12a4", ""])
def test_register_card_refuses_anything_but_four_digits(session, world, last_four):
    with pytest.raises(RuleViolation) as refused:
        register_card(session, world["team"], "K-1", last_four, actor_id=world["coordinator"].id)
    assert refused.value.field == "last_four"


def test_register_card_refuses_a_card_number_as_reference_and_duplicates(session, world):
    with pytest.raises(RuleViolation):
        register_card(session, world["team"], "4111111111111111", "1111", actor_id=world["coordinator"].id)
    register_card(session, world["team"], "K-1", "1234", actor_id=world["coordinator"].id)
    with pytest.raises(RuleViolation):
        register_card(session, world["team"], "K-1", "5678", actor_id=world["coordinator"].id)


def test_reserve_card_only_for_a_granted_request_without_another_card(session, world):
    request = granted_request(session, world["team"], world["worker"], world["voter"], 6_000)
    card = card_on(session, world["team"], request, world["coordinator"])
    assert card.state == C.RESERVED and card.request_id == request.id
    second = register_card(session, world["team"], "K-2", "5678", actor_id=world["coordinator"].id)
    with pytest.raises(RuleViolation):
        reserve_card(session, second, request, actor_id=world["worker"].id)
    release_card(session, card, actor_id=world["worker"].id)
    reserve_card(session, second, request, actor_id=world["worker"].id)
    assert card.state == C.IN_STOCK and card.request_id is None and second.request_id == request.id


# --- the team account -------------------------------------------------------------------------------

def test_top_up_refuses_above_the_cap_and_beyond_what_is_reserved(session, world):
    team = world["team"]
    team.account_cap_cents = 10_000
    request = granted_request(session, team, world["worker"], world["voter"], 8_000)
    year = request.budget_year_id
    with pytest.raises(RuleViolation):
        top_up(session, team, year, 8_001, memo="x")  # more than is reserved
    top_up(session, team, year, 8_000, memo="x")
    request2 = granted_request(session, team, world["worker"], world["voter"], 5_000, household="H-2")
    with pytest.raises(RuleViolation):
        top_up(session, team, request2.budget_year_id, 5_000, memo="x")  # 13,000 > cap
    top_up(session, team, year, 2_000, memo="x")
    assert _balance(session, team, request, AccountKind.BANK) == 10_000
    with pytest.raises(RuleViolation):
        load_onto_card(session, team, year, 10_001, memo="x", request_id=request.id)


def test_needed_top_up_is_what_the_waiting_loads_lack_within_the_cap(session, world):
    team = world["team"]
    request = granted_request(session, team, world["worker"], world["voter"], 20_000)
    card_on(session, team, request, world["coordinator"])
    request2 = granted_request(session, team, world["worker"], world["voter"], 15_000, household="H-2")
    card_on(session, team, request2, world["coordinator"], last_four="5678")
    loads = waiting_loads(session, [team.id])
    money = teams_money(session, [team], request.budget_year_id, loads)[team.id]
    assert (money["waiting"], money["needed_top_up"], money["bank"]) == (35_000, 35_000, 0)
    team.account_cap_cents = 30_000
    assert teams_money(session, [team], request.budget_year_id, loads)[team.id]["needed_top_up"] == 30_000


# --- batches ----------------------------------------------------------------------------------------

def test_executing_a_batch_posts_top_up_and_load_once(session, world):
    team, coordinator = world["team"], world["coordinator"]
    request = granted_request(session, team, world["worker"], world["voter"], 6_000)
    card = card_on(session, team, request, coordinator)
    batch = loaded(session, team, [card], coordinator)
    assert card.state == C.LOADED and card.loaded_amount_cents == 6_000
    assert [_balance(session, team, request, kind) for kind in (AccountKind.RESERVED, AccountKind.BANK, AccountKind.CARDS)] \
        == [0, 0, 6_000]
    with pytest.raises(RuleViolation):
        execute_batch(session, batch, actor_id=coordinator.id)
    assert len(session.exec(select(Entry).where(Entry.memo.like("Lading%"))).all()) == 1
    assert accounts_out_of_balance(session) == []


def test_a_batch_needs_enough_top_up_and_only_one_is_open(session, world):
    team, coordinator = world["team"], world["coordinator"]
    request = granted_request(session, team, world["worker"], world["voter"], 6_000)
    card = card_on(session, team, request, coordinator)
    mid = municipality_id(session, team)
    with pytest.raises(RuleViolation):
        create_batch(session, mid, card_ids=[card.id], top_ups={team.id: 5_000}, actor_id=coordinator.id)
    session.rollback()
    batch = create_batch(session, mid, card_ids=[card.id], top_ups={team.id: 6_000}, actor_id=coordinator.id)
    with pytest.raises(RuleViolation):
        create_batch(session, mid, card_ids=[], top_ups={team.id: 1}, actor_id=coordinator.id)
    with pytest.raises(RuleViolation):
        execute_batch(session, batch, actor_id=coordinator.id)  # not downloaded
    cancel_batch(session, batch, actor_id=coordinator.id)
    assert session.get(Card, card.id).state == C.RESERVED


def test_a_downloaded_batch_is_frozen(session, world):
    team, coordinator = world["team"], world["coordinator"]
    request = granted_request(session, team, world["worker"], world["voter"], 6_000)
    card = card_on(session, team, request, coordinator)
    batch = create_batch(session, municipality_id(session, team), card_ids=[card.id], top_ups={team.id: 6_000},
                         actor_id=coordinator.id)
    assert freeze(session, batch, "<first/>") == "<first/>"
    assert freeze(session, batch, "<second/>") == "<first/>"
    with pytest.raises(RuleViolation):
        cancel_batch(session, batch, actor_id=coordinator.id)


def test_sepa_file_validates_against_the_xsd_and_its_totals_match_the_ledger(session, world):
    team, coordinator = world["team"], world["coordinator"]
    requests = [granted_request(session, team, world["worker"], world["voter"], amount, household=f"H-{amount}")
                for amount in (6_050, 12_000)]
    cards = [card_on(session, team, r, coordinator, last_four=f"{1000 + i}") for i, r in enumerate(requests)]
    batch = create_batch(session, municipality_id(session, team), card_ids=[c.id for c in cards],
                         top_ups={team.id: 18_050}, actor_id=coordinator.id)
    xml = pain001(batch.id, lines_of(session, batch.id), SEPA_CONFIG, execution_date=utcnow().date())
    freeze(session, batch, xml)
    execute_batch(session, batch, actor_id=coordinator.id)
    session.commit()

    schema = xmlschema.XMLSchema(str(XSD))
    schema.validate(xml)
    root = ElementTree.fromstring(xml.encode())
    number = int(root.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS))
    control_sum = Decimal(root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS))
    remittances = [node.text for node in root.iterfind(".//p:RmtInf/p:Ustrd", namespaces=NS)]
    entry_ids = [line.entry_id for line in session.exec(select(BatchLine).where(BatchLine.batch_id == batch.id))]
    credited = sum(p.amount_cents for p in session.exec(select(Posting).where(
        Posting.entry_id.in_(entry_ids), Posting.amount_cents > 0)))
    assert number == len(entry_ids) == 3
    assert control_sum * 100 == credited == 18_050 + 18_050
    assert sorted(remittances) == sorted([f"TB-{team.id}-{r.id}" for r in requests] + [f"TB-{team.id}-OPW{batch.id}"])


def test_sepa_file_refuses_a_wrong_iban(session, world):
    with pytest.raises(RuleViolation):
        pain001(1, [], {**SEPA_CONFIG, "SEPA_CREDITOR_IBAN": "NL02RABO0123456789"}, execution_date=utcnow().date())


# --- handover, spending and returns ------------------------------------------------------------------

def _loaded_card(session, world, amount=6_000):
    request = granted_request(session, world["team"], world["worker"], world["voter"], amount)
    card = card_on(session, world["team"], request, world["coordinator"])
    loaded(session, world["team"], [card], world["coordinator"])
    return request, card


def test_handover_link_works_once_and_marks_the_card_handed_over(session, world):
    request, card = _loaded_card(session, world)
    token = create_handover(session, card, request, member_id=world["worker"].id)
    confirm_handover(session, usable_handover(session, token))
    assert card.state == C.HANDED_OVER and card.handed_over_at is not None
    with pytest.raises(RuleViolation) as used:
        usable_handover(session, token)
    assert used.value.reason == "used"


def test_handover_link_expires_and_a_new_one_replaces_the_old(session, world):
    request, card = _loaded_card(session, world)
    with pytest.raises(RuleViolation):
        create_handover(session, card, request, member_id=world["voter"].id)  # only the requester
    first = create_handover(session, card, request, member_id=world["worker"].id)
    second = create_handover(session, card, request, member_id=world["worker"].id)
    with pytest.raises(RuleViolation):
        usable_handover(session, first)
    handover = usable_handover(session, second)
    handover.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(RuleViolation) as expired:
        usable_handover(session, second)
    assert expired.value.reason == "expired"
    assert session.exec(select(CardHandover.token_hash)).all() and second not in str(
        session.exec(select(CardHandover.token_hash)).all())


def test_returned_card_puts_what_is_left_back_on_the_team_account(session, world):
    request, card = _loaded_card(session, world)
    return_card(session, card, 2_500, actor_id=world["coordinator"].id)
    team = world["team"]
    assert card.state == C.RETURNED and card.returned_amount_cents == 2_500
    assert [_balance(session, team, request, kind) for kind in (AccountKind.BANK, AccountKind.CARDS, AccountKind.SPENT)] \
        == [2_500, 0, 3_500]


def test_a_return_above_the_cap_sends_the_excess_back_to_available(session, world):
    team = world["team"]
    request, card = _loaded_card(session, world)
    available = _balance(session, team, request, AccountKind.AVAILABLE)
    team.account_cap_cents = 1_000
    return_card(session, card, 2_500, actor_id=world["coordinator"].id)
    assert _balance(session, team, request, AccountKind.BANK) == 1_000
    assert _balance(session, team, request, AccountKind.AVAILABLE) == available + 1_500


def test_spent_blocked_and_lost_cards(session, world):
    request, card = _loaded_card(session, world)
    token = create_handover(session, card, request, member_id=world["worker"].id)
    confirm_handover(session, usable_handover(session, token))
    mark_spent(session, card, actor_id=world["coordinator"].id)
    assert _balance(session, world["team"], request, AccountKind.SPENT) == 6_000
    with pytest.raises(RuleViolation):
        return_card(session, card, 0, actor_id=world["coordinator"].id)
    stock_card = register_card(session, world["team"], "K-9", "9999", actor_id=world["coordinator"].id)
    block_card(session, stock_card, "lose", actor_id=world["coordinator"].id)
    assert stock_card.state == C.LOST and stock_card.closed_at is not None


def test_two_executions_at_once_post_the_batch_once(session, world, database_url):
    import threading

    from models.batches import LoadBatch
    from models.ledger import lock_municipality
    from models.db import begin_write, make_engine, make_session

    team, coordinator = world["team"], world["coordinator"]
    request = granted_request(session, team, world["worker"], world["voter"], 6_000)
    card = card_on(session, team, request, coordinator)
    batch = create_batch(session, municipality_id(session, team), card_ids=[card.id], top_ups={team.id: 6_000},
                         actor_id=coordinator.id)
    freeze(session, batch, "<xml/>")
    session.commit()
    engine, outcomes, start = make_engine(database_url), [], threading.Barrier(2)

    def execute():
        with make_session(engine) as own:
            start.wait()
            begin_write(own)
            lock_municipality(own, municipality_id(own, team))
            try:
                execute_batch(own, own.get(LoadBatch, batch.id), actor_id=coordinator.id)
                own.commit()
                outcomes.append("executed")
            except RuleViolation:
                own.rollback()
                outcomes.append("refused")
    threads = [threading.Thread(target=execute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert sorted(outcomes) == ["executed", "refused"]
    session.expire_all()
    assert len(session.exec(select(Entry).where(Entry.memo.like("Lading%"))).all()) == 1
