"""Setup events (audit events of a municipality, without a team) in the municipality's hash chain
(models/audit_chain.py): they link at commit beside the teams' events and entries, verify, and an edit shows."""
import traceback

import pytest
from sqlmodel import select

from models.audit import AuditEvent, record, record_in_municipality
from models.audit_chain import ChainHead, verify
from models.db import begin_write, make_engine, make_session
from models.ledger import Entry, lock_for_money
from models.teams import District, Team
from tests.unit.test_audit_chain import _ids, _move, _municipality, _problems, _tamper, world  # noqa: F401


@pytest.fixture
def setup_world(session, world):
    """The chain world, with two setup events of the first municipality between its teams' rows."""
    mid = _municipality(session, world["oost"]).id
    record_in_municipality(session, municipality_id=mid, action="district_added", name="Noord")
    record(session, team_id=world["oost"].id, action="comment", text="Een bericht")
    session.commit()
    record_in_municipality(session, municipality_id=mid, action="category_renamed", name_nl="Eten",
                           changed={"name_nl": {"old": "Boodschappen", "new": "Eten"}})
    _move(session, world["west"], 300)
    session.commit()
    other = _municipality(session, session.exec(select(Team).where(Team.name == "Team Elders")).one()).id
    return world | {"municipality_id": mid, "other_id": other,
                    "setup": _ids(session, AuditEvent, AuditEvent.team_id.is_(None))}


def test_setup_events_take_places_in_their_municipalitys_chain_without_gaps(session, setup_world):
    mid = setup_world["municipality_id"]
    head = session.get(ChainHead, mid)
    team_ids = [setup_world["oost"].id, setup_world["west"].id]
    seqs = sorted(session.exec(select(AuditEvent.chain_seq)).all()
                  + session.exec(select(Entry.chain_seq).where(Entry.team_id.in_(team_ids))).all())
    assert seqs == list(range(1, head.seq + 1)) and head.seq == 11 + 4
    report = verify(session)
    assert report.ok, report.lines()
    first, second = report.chains
    assert (first.audit_events, first.entries, first.head_seq) == (6 + 3, 5 + 1, 15)
    assert (second.audit_events, second.entries, second.head_seq) == (0, 1, 1)


def test_a_municipality_with_only_setup_events_gets_a_chain(session, setup_world):
    other = setup_world["other_id"]
    record_in_municipality(session, municipality_id=other, action="municipality_renamed", name="Elders")
    session.commit()
    assert session.get(ChainHead, other).seq == 2  # after its budget's entry
    assert verify(session).ok


def test_an_edited_setup_event_detail_is_caught(session, setup_world):
    target = setup_world["setup"][1]
    _tamper(session, "UPDATE auditevent SET detail = :detail WHERE id = :id", detail='{"name_nl": "Eten"}', id=target)
    assert [p[:2] for p in _problems(session)] == [("audit", target)]
    assert "does not match" in _problems(session)[0][2]


def test_a_setup_event_moved_to_another_municipality_is_caught_in_both_chains(session, setup_world):
    target = setup_world["setup"][0]
    _tamper(session, "UPDATE auditevent SET municipality_id = :other WHERE id = :id",
            other=setup_world["other_id"], id=target)
    report = verify(session)
    first, second = report.chains
    assert [p.what for p in first.problems] == ["place 12 is missing (deleted?)"]  # after the world's 11
    # in the other chain it sits at a place that chain never had, beyond its head
    assert [p.what for p in second.problems] == ["places 2 to 11 are missing (deleted?)",
                                                 "rows beyond the chain head (1) up to place 12 (inserted?)"]


def test_a_setup_event_given_a_team_is_caught(session, setup_world):
    """Giving it a team of the same municipality keeps its place, but its content (team, no municipality) changes."""
    target = setup_world["setup"][0]
    _tamper(session, "UPDATE auditevent SET team_id = :team WHERE id = :id", team=setup_world["oost"].id, id=target)
    assert [p[:2] for p in _problems(session)] == [("audit", target)]


def test_a_setup_event_inserted_by_hand_is_caught(session, setup_world):
    _tamper(session, "INSERT INTO auditevent (municipality_id, action, detail, created_at) "
                     "VALUES (:mid, 'district_added', '{}', CURRENT_TIMESTAMP)", mid=setup_world["municipality_id"])
    inserted = _ids(session, AuditEvent)[-1]
    assert [p[:2] for p in _problems(session)] == [("audit", inserted)]
    assert "not in the chain" in _problems(session)[0][2]


def test_a_setup_event_deleted_is_caught(session, setup_world):
    _tamper(session, "DELETE FROM auditevent WHERE id = :id", id=setup_world["setup"][1])
    assert [p[0] for p in _problems(session)] == ["chain"]


def test_team_events_hash_as_before(session, world):
    """A team's event leaves municipality_id out of its content: the chains written before it existed verify."""
    from models.audit_chain import audit_content_hash

    row = (7, 3, None, 5, "comment", {"text": "x"}, None, None)
    assert audit_content_hash(row) == audit_content_hash(row[:7] + (99,))
    teamless = (7, None, None, 5, "district_added", {"name": "Noord"}, None, 1)
    assert audit_content_hash(teamless) != audit_content_hash(teamless[:7] + (2,))


# several processes writing one municipality's chain at once, setup events among them

def write_setup_share(database_url, team_ids, municipality_id, number, start, results):
    """One process: transactions booking money, recording a team's event, or recording a setup event, in turns."""
    errors, engine = [], make_engine(database_url)
    start.wait()
    for turn in range(6):
        team_id = team_ids[(number + turn) % len(team_ids)]
        with make_session(engine) as session:
            try:
                begin_write(session)
                if turn % 3 == 0:
                    lock_for_money(session, team_id)
                    _move(session, session.get(Team, team_id), 10 + number, memo=f"Race {number}")
                if turn % 3 == 1:
                    record(session, team_id=team_id, action="comment", process=number, turn=turn)
                else:
                    record_in_municipality(session, municipality_id=municipality_id, action="district_renamed",
                                           process=number, turn=turn)
                session.commit()
            except Exception:  # noqa: BLE001 -- any kind counts: a deadlock or a busy database fails too
                session.rollback()
                errors.append(traceback.format_exc())
    engine.dispose()
    results.put(errors)


def test_processes_writing_setup_and_team_events_at_once_leave_a_chain_that_verifies(session, world, database_url):
    from tests.racing import race

    teams = [world["oost"].id, world["west"].id]
    mid = session.get(District, world["oost"].district_id).municipality_id
    errors, exit_codes = race(write_setup_share, [(database_url, teams, mid, number) for number in range(4)])
    assert errors == [] and exit_codes == [0] * 4
    session.expire_all()
    report = verify(session)
    assert report.ok, report.lines()
    assert report.chains[0].head_seq == 11 + 4 * 6 + 4 * 2  # every event and entry of every process
