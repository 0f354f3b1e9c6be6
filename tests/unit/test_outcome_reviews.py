"""Outcome reviews as rules: asked 30 Dutch days after a grant and once, answered once by the requester only,
a lesson with personal data refused, the regret rate per team (never per member)."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.clock import utcnow
from models.events import ReviewAsked, take_committed
from models.members import active_membership, end_membership
from models.outcome_reviews import (OutcomeReview, answer_review, ask_due_reviews, review_of, team_lessons,
                                    team_regret, waiting_reviews)
from models.rules import RuleViolation
from models.teams import Municipality, District
from models.db import begin_write, make_engine, make_session
from tests.card_world import granted_request
from tests.racing import race

#: 23:30 UTC on 2 March is 00:30 on 3 March in the Netherlands: the grant's Dutch date is 3 March
GRANTED_AT = datetime(datetime.now(timezone.utc).year, 3, 2, 23, 30, tzinfo=timezone.utc)


@pytest.fixture
def world(clock, session, make_team, make_member):
    """A team with a requester and a voter, and a request granted at GRANTED_AT."""
    clock(GRANTED_AT)
    team = make_team("Team Terug")
    world = {"team": team, "worker": make_member(team, "worker", name="Wim"),
             "voter": make_member(team, "worker", name="Vera")}
    world["request"] = granted_request(session, team, world["worker"], world["voter"], 7_500)
    return world


def _ask(session, moment):
    asked = ask_due_reviews(session, moment)
    session.commit()
    return asked


def test_asked_30_dutch_days_after_the_grant_not_before(session, world):
    # 1 April 23:00 in the Netherlands (21:00 UTC) is day 29 after 3 March
    assert _ask(session, GRANTED_AT.replace(month=4, day=1, hour=21)) == []
    take_committed(session)
    # 2 April 01:00 in the Netherlands (1 April 23:00 UTC): 30 days
    asked = _ask(session, GRANTED_AT.replace(month=4, day=1, hour=23))
    assert [review.request_id for review in asked] == [world["request"].id]
    assert take_committed(session) == [ReviewAsked(world["request"].id, world["worker"].id)]
    events = session.exec(select(AuditEvent.action).where(AuditEvent.request_id == world["request"].id)).all()
    assert "review_asked" in events


def test_asked_once(session, world):
    moment = GRANTED_AT + timedelta(days=31)
    assert len(_ask(session, moment)) == 1
    take_committed(session)
    assert _ask(session, moment + timedelta(days=1)) == []
    assert take_committed(session) == []
    assert len(session.exec(select(OutcomeReview)).all()) == 1


def test_old_grants_and_other_statuses_are_not_asked(session, world):
    assert _ask(session, GRANTED_AT + timedelta(days=120)) == []  # too old: past ASK_UNTIL_DAYS
    spend_request = world["request"]
    spend_request.status = "cancelled"
    session.add(spend_request)
    session.commit()
    assert _ask(session, GRANTED_AT + timedelta(days=31)) == []


def test_a_requester_who_left_is_asked_without_a_push(session, world):
    end_membership(session, active_membership(session, world["worker"].id, world["team"].id))
    session.commit()
    take_committed(session)  # the posting and the grant
    assert len(_ask(session, GRANTED_AT + timedelta(days=31))) == 1
    assert take_committed(session) == []


@pytest.fixture
def asked(session, world):
    """The review of the world's request, asked."""
    _ask(session, GRANTED_AT + timedelta(days=31))
    return review_of(session, world["request"].id)


def test_only_the_requester_answers_once(clock, session, world, asked):
    clock(None)
    with pytest.raises(RuleViolation, match="Alleen wie de aanvraag deed"):
        answer_review(session, asked, "helped", "", actor_id=world["voter"].id)
    assert waiting_reviews(session, world["team"].id, world["worker"].id)[0][0].id == world["request"].id
    assert waiting_reviews(session, world["team"].id, world["voter"].id) == []
    answer_review(session, asked, "partly", "  Eerst de schuldhulp bellen.  ", actor_id=world["worker"].id)
    session.commit()
    assert (asked.outcome, asked.lesson, asked.answered_by_id) == ("partly", "Eerst de schuldhulp bellen.",
                                                                   world["worker"].id)
    assert asked.answered_at is not None and asked.answered_at <= utcnow()
    with pytest.raises(RuleViolation, match="al teruggeblikt"):
        answer_review(session, asked, "regret", "", actor_id=world["worker"].id)
    assert waiting_reviews(session, world["team"].id, world["worker"].id) == []
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "review_answered")).one()
    assert event.actor_id == world["worker"].id and event.detail == {}  # the outcome is not on the timeline


@pytest.mark.parametrize("outcome", [None, "", "spijt", "HELPED", "helped "])
def test_an_outcome_must_be_chosen(session, world, asked, outcome):
    with pytest.raises(RuleViolation) as refused:
        answer_review(session, asked, outcome, "", actor_id=world["worker"].id)
    assert refused.value.field == "outcome"


@pytest.mark.parametrize("lesson", ["Bel mevrouw op 06-12345678 eerst.", "Mail naar jan@example.nl", "x" * 501])
def test_a_lesson_with_personal_data_or_too_long_is_refused(session, world, asked, lesson):
    with pytest.raises(RuleViolation) as refused:
        answer_review(session, asked, "helped", lesson, actor_id=world["worker"].id)
    assert refused.value.field == "lesson"
    assert asked.answered_at is None


def test_the_regret_rate_is_per_team(clock, session, world, make_team, make_member):
    team = world["team"]
    other = make_team("Team Ander", municipality=session.get(Municipality, session.get(
        District, team.district_id).municipality_id))
    other_worker, other_voter = make_member(other, "worker"), make_member(other, "worker")
    clock(GRANTED_AT)
    requests = [world["request"]] + [granted_request(session, team, world["worker"], world["voter"], 1_000 + n,
                                                     household=f"H-{n}") for n in range(4)]
    foreign = granted_request(session, other, other_worker, other_voter, 2_000, household="H-9")
    clock(None)
    _ask(session, GRANTED_AT + timedelta(days=31))
    assert team_regret(session, team.id) == (0, 0, None)
    for spend_request, outcome in zip(requests, ["regret", "helped", "helped", "partly", "not"]):
        answer_review(session, review_of(session, spend_request.id), outcome, f"Les {outcome}",
                      actor_id=world["worker"].id)
    answer_review(session, review_of(session, foreign.id), "regret", "", actor_id=other_worker.id)
    session.commit()
    assert team_regret(session, team.id) == (5, 1, 0.2)
    assert team_regret(session, team.id, world["request"].budget_year_id) == (5, 1, 0.2)
    assert team_regret(session, team.id, world["request"].budget_year_id + 1000) == (0, 0, None)
    assert team_regret(session, other.id) == (1, 1, 1.0)
    lessons = team_lessons(session, team.id, 3)
    assert len(lessons) == 3 and all(lesson.text.startswith("Les ") for lesson in lessons)
    assert not any(hasattr(lesson, name) for lesson in lessons for name in ("member_id", "answered_by_id", "author"))
    assert team_lessons(session, other.id, 10) == []  # an empty lesson is no lesson


def ask_share(database_url, moment, start, results):
    """One process: ask the due reviews as send-reminders does (write lock first), and commit."""
    errors, engine = [], make_engine(database_url)
    start.wait()
    with make_session(engine) as session:
        try:
            begin_write(session)
            errors.append(len(ask_due_reviews(session, moment)))
            session.commit()
        except Exception as error:  # noqa: BLE001 -- a deadlock or a busy database counts as a failure
            session.rollback()
            errors.append(repr(error))
    engine.dispose()
    results.put(errors)


def test_two_runs_at_once_ask_once(session, world, database_url):
    session.close()
    answers, exit_codes = race(ask_share, [(database_url, GRANTED_AT + timedelta(days=31))] * 2)
    assert sorted(answers) == [0, 1] and exit_codes == [0, 0]
    assert len(session.exec(select(OutcomeReview)).all()) == 1
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "review_asked")).all()) == 1
