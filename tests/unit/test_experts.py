"""Ask an expert as rules: topics of 2-60 characters without personal data, once per member, spelled as the
municipality already spells them; only active members of the municipality's teams are experts; a member of
the request's team asks an expert of the same municipality once per request (audited, the expert told after
commit); the asked expert gets a seat on that request that never votes or stops, and nobody else does."""
import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.clock import utcnow
from models.events import ExpertAsked, take_committed
from models.experts import (ExpertSeat, ask_expert, expert_seat, experts_for_request, list_topic,
                            open_questions_to, questions_to, topics_to_pick, unlist_topic)
from models.members import active_membership, end_membership
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.teams import Municipality
from models.tips import ExpertQuestion, ExpertTopic
from models.votes import is_voting_member, may_stop
from tests.card_world import municipality_id
from tests.racing import race, write_once


@pytest.fixture
def world(session, make_team, make_member):
    oost = make_team("Team Oost")
    west = make_team("Team West", municipality=session.get(Municipality, municipality_id(session, oost)))
    far = make_team("Team Ver")
    people = {"worker": make_member(oost, "worker", name="Wim"), "voter": make_member(oost, "worker", name="Vera"),
              "expert": make_member(west, "worker", name="Eva"), "other_expert": make_member(west, "worker", name="Olga"),
              "coordinator": make_member(oost, "coordinator", name="Co"), "far": make_member(far, "worker", name="Fee")}
    request = SpendRequest(team_id=oost.id, requester_id=people["worker"].id, status=RequestStatus.OPEN,
                           amount_cents=4_000, situation="s", prevents="p", posted_at=utcnow())
    session.add(request)
    session.commit()
    return {"oost": oost, "west": west, "far": far, "request": request, **people}


def _membership(session, world, who, team="oost"):
    return active_membership(session, world[who].id, world[team].id)


def test_list_topic_checks_and_keeps_the_municipalitys_spelling(session, world):
    listed = list_topic(session, world["expert"], "  Schuld hulp  ")
    session.commit()
    assert listed.topic == "Schuld hulp" and listed.municipality_id == municipality_id(session, world["oost"])
    assert list_topic(session, world["other_expert"], "schuld HULP").topic == "Schuld hulp"
    session.commit()
    for topic in ("x", "y" * 61, "bel 0612345678"):
        with pytest.raises(RuleViolation) as refused:
            list_topic(session, world["expert"], topic)
        assert refused.value.field == "topic"
    with pytest.raises(RuleViolation) as twice:
        list_topic(session, world["expert"], "SCHULD hulp")
    assert "al als expert" in str(twice.value.message)
    with pytest.raises(RuleViolation):  # a coordinator is no member of a team
        list_topic(session, world["coordinator"], "jeugd")
    assert "Schuld hulp" in topics_to_pick(session, listed.municipality_id)
    assert "jeugd" in topics_to_pick(session, listed.municipality_id)
    assert list_topic(session, world["far"], "schuldhulp").topic == "schuldhulp"  # another municipality's own


def test_unlist_own_topic_only(session, world):
    listed = list_topic(session, world["expert"], "wonen")
    session.commit()
    with pytest.raises(RuleViolation):
        unlist_topic(session, listed, world["other_expert"])
    unlist_topic(session, listed, world["expert"])
    session.commit()
    assert session.exec(select(ExpertTopic)).all() == []


def test_experts_for_a_request_leave_out_requester_asker_the_inactive_and_other_municipalities(session, world,
                                                                                                make_member):
    for who in ("expert", "other_expert", "worker", "voter", "far"):
        list_topic(session, world[who], "jeugd")
    gone = make_member(world["west"], "worker", name="Gijs")
    list_topic(session, gone, "jeugd")
    left = make_member(world["west"], "worker", name="Lot")
    list_topic(session, left, "jeugd")
    session.commit()
    gone.deactivated_at = utcnow()
    session.add(gone)
    end_membership(session, active_membership(session, left.id, world["west"].id))
    session.commit()
    offers = experts_for_request(session, world["request"], world["voter"].id)
    assert [(offer.topic, offer.name, offer.asked) for offer in offers] == [("jeugd", "Eva", False), ("jeugd", "Olga", False)]


def test_ask_an_expert_once_audited_and_told_after_commit(session, world):
    list_topic(session, world["expert"], "jeugd")
    session.commit()
    take_committed(session)
    question = ask_expert(session, world["request"], _membership(session, world, "voter"), str(world["expert"].id),
                          "jeugd")
    session.commit()
    assert (question.expert_id, question.asked_by_id, question.topic) == (world["expert"].id, world["voter"].id, "jeugd")
    assert take_committed(session) == [ExpertAsked(world["request"].id, world["expert"].id)]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "expert_asked")).one()
    assert (event.request_id, event.team_id, event.detail["expert_id"]) == (world["request"].id, world["oost"].id,
                                                                            world["expert"].id)
    with pytest.raises(RuleViolation) as twice:
        ask_expert(session, world["request"], _membership(session, world, "worker"), world["expert"].id, "jeugd")
    assert "Eva is al gevraagd" in str(twice.value.message)
    session.rollback()
    assert take_committed(session) == []
    assert len(session.exec(select(ExpertQuestion)).all()) == 1
    assert [offer.asked for offer in experts_for_request(session, world["request"], world["voter"].id)] == [True]


@pytest.mark.parametrize("case", ["topic_not_listed", "other_municipality", "the_requester", "asker_not_of_team",
                                  "draft", "deactivated"])
def test_asking_is_refused(session, world, case):
    for who in ("expert", "far", "worker"):
        list_topic(session, world[who], "jeugd")
    session.commit()
    request, asker, expert, topic = world["request"], _membership(session, world, "voter"), world["expert"], "jeugd"
    if case == "topic_not_listed":
        topic = "wonen"
    elif case == "other_municipality":
        expert = world["far"]
    elif case == "the_requester":
        expert = world["worker"]
    elif case == "asker_not_of_team":
        asker = _membership(session, world, "other_expert", "west")
    elif case == "draft":
        request.status = RequestStatus.DRAFT
    elif case == "deactivated":
        expert.deactivated_at = utcnow()
    with pytest.raises(RuleViolation):
        ask_expert(session, request, asker, expert.id, topic)
    session.rollback()
    assert session.exec(select(ExpertQuestion)).all() == []


def test_the_asked_expert_gets_a_seat_that_never_votes(session, world):
    list_topic(session, world["expert"], "jeugd")
    session.commit()
    request = world["request"]
    assert expert_seat(session, world["expert"], request) is None
    ask_expert(session, request, _membership(session, world, "voter"), world["expert"].id, "jeugd")
    session.commit()
    seat = expert_seat(session, world["expert"], request)
    assert seat == ExpertSeat(member_id=world["expert"].id)
    assert not is_voting_member(seat, request) and not may_stop(seat, request)
    assert expert_seat(session, world["other_expert"], request) is None
    assert [line.request_id for line in questions_to(session, world["expert"])] == [request.id]
    end_membership(session, active_membership(session, world["expert"].id, world["west"].id))
    session.commit()
    assert expert_seat(session, world["expert"], request) is None and questions_to(session, world["expert"]) == []


def test_the_home_lists_an_older_open_question_behind_newer_decided_ones(session, world, monkeypatch):
    monkeypatch.setattr("models.experts.QUESTIONS_SHOWN", 1)
    list_topic(session, world["expert"], "jeugd")
    session.commit()
    decided = SpendRequest(team_id=world["oost"].id, requester_id=world["worker"].id, status=RequestStatus.OPEN,
                           amount_cents=2_000, situation="s", prevents="p", posted_at=utcnow())
    session.add(decided)
    session.commit()
    for request in (world["request"], decided):  # the open one asked first, the one decided later after it
        ask_expert(session, request, _membership(session, world, "voter"), world["expert"].id, "jeugd")
        session.commit()
    decided.status = RequestStatus.GRANTED
    session.commit()
    assert [line.request_id for line in questions_to(session, world["expert"])] == [decided.id]
    assert [line.request_id for line in open_questions_to(session, world["expert"])] == [world["request"].id]


def ask_share(database_url, request_id, member_id, team_id, expert_id, start, results):
    """One process: a member of the team asks the expert, as the view does."""
    def ask(session):
        ask_expert(session, session.get(SpendRequest, request_id), active_membership(session, member_id, team_id),
                   expert_id, "jeugd")
        return "asked"
    write_once(database_url, start, results, ask)


def test_two_members_asking_the_same_expert_at_once_ask_once(session, world, database_url):
    list_topic(session, world["expert"], "jeugd")
    session.commit()
    ids = (world["request"].id, world["oost"].id, world["expert"].id)
    shares = [(database_url, ids[0], world[who].id, ids[1], ids[2]) for who in ("worker", "voter")]
    session.close()
    answers, exit_codes = race(ask_share, shares)
    assert sorted(answers) == ["asked", "refused"] and exit_codes == [0, 0]
    assert len(session.exec(select(ExpertQuestion)).all()) == 1
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "expert_asked")).all()) == 1
