"""Ask an expert (issue 13 §3): members who offer their knowledge of a topic, and the requests put to them.

Invariants:
- An expert is a member who is not deactivated and is an active member of at least one team of their own
  municipality (`is_active_in_municipality`). They list themselves for topics of TOPIC_MIN..TOPIC_MAX
  characters without personal data (models.privacy), each topic once; a topic typed in another case than
  one already used in the municipality takes that spelling, so experts group under one topic. Unlisting
  removes the row; the questions already put stay.
- Only an active member of a posted request's team asks (`ask_expert`); only an expert of the request's own
  municipality, on a topic they list, who is neither the requester nor the asker; each expert once per
  request: a second time is refused with a message, also when two ask at once (the unique
  (request_id, expert_id) decides, in a savepoint).
- An asked expert may read that request's page and add to its discussion while they stay an active member
  in its municipality (`expert_seat`). The seat is no membership of the team: they never vote, stop, or see
  or act on the card, receipts or loan. No one else outside the team passes.
- Asking is audited on the request's timeline (`expert_asked`) and tells the expert (`ExpertAsked`) once
  committed.
Verbs take a session and never commit.
"""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models.audit import EVENT_LABELS, record
from models.bounds import parse_id
from models.events import ExpertAsked, record_outcome
from models.members import Member, Membership
from models.privacy import check_no_personal_data
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.teams import CostCategory, District, Team, municipality_of_team
from models.tips import ExpertQuestion, ExpertTopic

TOPIC_MIN, TOPIC_MAX = 2, 60
#: offered to pick while typing a topic, beside the ones already used in the municipality (stored as typed)
SUGGESTED_TOPICS = ("schuldhulp", "inkomen en uitkeringen", "jeugd", "wonen", "zorg")
#: the questions an expert's list shows, newest first
QUESTIONS_SHOWN = 50

EVENT_LABELS.update({"expert_asked": _l("expert gevraagd")})


@dataclass(frozen=True)
class ExpertSeat:
    """An asked expert's place on a request page: no membership of its team, so no vote and no stop
    (models.votes checks the team), and the page leaves out the card, receipts and loan."""

    member_id: int
    team_id: None = None
    role: None = None
    is_active: bool = False


@dataclass(frozen=True)
class ExpertOffer:
    """An expert on a topic, as the request page offers them to ask."""

    topic: str
    member_id: int
    name: str
    asked: bool


@dataclass(frozen=True)
class QuestionLine:
    """A request put to me as an expert: enough to find it, nothing about the household."""

    request_id: int
    team_id: int
    team_name: str
    amount_cents: int
    category: CostCategory | None
    status: str
    topic: str
    asked_by: str
    asked_at: datetime


def _members_in_municipality(municipality_id: int):
    """The ids of members with an active membership of a team of the municipality (a subquery)."""
    return (select(Membership.member_id).join(Team, Team.id == Membership.team_id)
            .join(District, District.id == Team.district_id)
            .where(Membership.ended_at.is_(None), District.municipality_id == municipality_id))


def is_active_in_municipality(session: Session, member: Member | None, municipality_id: int | None) -> bool:
    """Whether `member` is not deactivated and an active member of a team of `municipality_id`, their own."""
    if member is None or member.deactivated_at is not None or municipality_id is None \
            or member.municipality_id != municipality_id:
        return False
    return session.exec(_members_in_municipality(municipality_id).where(Membership.member_id == member.id)
                        .limit(1)).first() is not None


def _municipality_of_request(session: Session, spend_request: SpendRequest) -> int:
    return municipality_of_team(session, session.get(Team, spend_request.team_id)).id


def _clean_topic(raw: str | None) -> str:
    topic = " ".join((raw or "").split())
    if not TOPIC_MIN <= len(topic) <= TOPIC_MAX:
        raise RuleViolation(_l("Schrijf een onderwerp van %(min)s tot %(max)s tekens.", min=TOPIC_MIN, max=TOPIC_MAX),
                            field="topic")
    check_no_personal_data(topic, field="topic")
    return topic


def list_topic(session: Session, member: Member, raw_topic: str) -> ExpertTopic:
    """`member` offers to answer questions on a topic (see the module docstring)."""
    if not is_active_in_municipality(session, member, member.municipality_id):
        raise RuleViolation(_l("Alleen leden van een team in deze gemeente kunnen zich als expert opgeven."))
    topic = _clean_topic(raw_topic)
    used = session.exec(select(ExpertTopic.topic).where(
        ExpertTopic.municipality_id == member.municipality_id,
        func.lower(ExpertTopic.topic) == topic.lower()).order_by(ExpertTopic.id).limit(1)).first()
    topic = used or topic
    mine = session.exec(select(ExpertTopic).where(ExpertTopic.member_id == member.id,
                                                  func.lower(ExpertTopic.topic) == topic.lower())).first()
    if mine is not None:
        raise RuleViolation(_l("Je staat al als expert op de lijst voor %(topic)s.", topic=mine.topic), field="topic")
    listed = ExpertTopic(municipality_id=member.municipality_id, member_id=member.id, topic=topic)
    try:
        with session.begin_nested():
            session.add(listed)
            session.flush()
    except IntegrityError:  # the same member listed it at the same moment (unique member_id, topic)
        raise RuleViolation(_l("Je staat al als expert op de lijst voor %(topic)s.", topic=topic), field="topic")
    return listed


def unlist_topic(session: Session, listed: ExpertTopic, member: Member) -> None:
    """`member` no longer offers `listed`: their own topic only."""
    if listed.member_id != member.id:
        raise RuleViolation(_l("Je kunt alleen je eigen onderwerpen weghalen."))
    session.delete(listed)


def topics_of(session: Session, member_id: int) -> list[ExpertTopic]:
    """The topics a member offers, alphabetically."""
    return list(session.exec(select(ExpertTopic).where(ExpertTopic.member_id == member_id)
                             .order_by(func.lower(ExpertTopic.topic))))


def topics_to_pick(session: Session, municipality_id: int) -> list[str]:
    """The topics used in the municipality and the suggested ones, each once, alphabetically."""
    used = session.exec(select(ExpertTopic.topic).where(ExpertTopic.municipality_id == municipality_id)).all()
    found: dict[str, str] = {}
    for topic in [*used, *SUGGESTED_TOPICS]:
        found.setdefault(topic.lower(), topic)
    return sorted(found.values(), key=str.lower)


def experts_of(session: Session, municipality_id: int, *, leave_out=()) -> list[tuple[str, int, str]]:
    """(topic, member id, name) of every expert of the municipality (see the module docstring), by topic
    and name; the members in `leave_out` are not listed."""
    statement = (select(ExpertTopic.topic, Member.id, Member.display_name)
                 .join(Member, Member.id == ExpertTopic.member_id)
                 .where(ExpertTopic.municipality_id == municipality_id, Member.municipality_id == municipality_id,
                        Member.deactivated_at.is_(None),
                        Member.id.in_(_members_in_municipality(municipality_id)))
                 .order_by(func.lower(ExpertTopic.topic), Member.display_name, Member.id))
    left_out = {member_id for member_id in leave_out if member_id}
    return [row for row in session.exec(statement).all() if row[1] not in left_out]


def experts_for_request(session: Session, spend_request: SpendRequest, asker_id: int) -> list[ExpertOffer]:
    """The experts a member of the team may ask about `spend_request` (not its requester, not the asker),
    each marked when already asked."""
    asked = set(session.exec(select(ExpertQuestion.expert_id).where(ExpertQuestion.request_id == spend_request.id)))
    rows = experts_of(session, _municipality_of_request(session, spend_request),
                      leave_out=(spend_request.requester_id, asker_id))
    return [ExpertOffer(topic, member_id, name, member_id in asked) for topic, member_id, name in rows]


def _of_the_team(membership: Membership | ExpertSeat, spend_request: SpendRequest) -> bool:
    return membership.is_active and membership.team_id == spend_request.team_id  # a seat is no member


def may_ask_expert(membership: Membership | ExpertSeat, spend_request: SpendRequest) -> bool:
    """Whether the member may ask an expert about the request: an active member of its team (not an asked
    expert), once it is posted. The request page offers the experts where this holds."""
    return _of_the_team(membership, spend_request) and spend_request.status != RequestStatus.DRAFT


def ask_expert(session: Session, spend_request: SpendRequest, membership: Membership, expert_id,
               topic: str) -> ExpertQuestion:
    """A member of the request's team asks an expert about it (see the module docstring)."""
    if not may_ask_expert(membership, spend_request):
        raise RuleViolation(_l("Verstuur de aanvraag eerst; een concept ziet alleen jij.")
                            if _of_the_team(membership, spend_request) else _l("Alleen leden van het team vragen een expert."))
    municipality_id = _municipality_of_request(session, spend_request)
    expert_id, topic = parse_id(expert_id), " ".join((topic or "").split())
    expert = session.get(Member, expert_id) if expert_id else None
    listed = expert is not None and session.exec(select(ExpertTopic.id).where(
        ExpertTopic.member_id == expert.id, ExpertTopic.topic == topic,
        ExpertTopic.municipality_id == municipality_id)).first() is not None
    if not listed or expert.id in (spend_request.requester_id, membership.member_id) \
            or not is_active_in_municipality(session, expert, municipality_id):
        raise RuleViolation(_l("Kies een expert uit de lijst."), field="expert")
    question = ExpertQuestion(request_id=spend_request.id, expert_id=expert.id, asked_by_id=membership.member_id,
                              topic=topic)
    try:
        with session.begin_nested():
            session.add(question)
            session.flush()
    except IntegrityError:  # asked before (or by a colleague at the same moment): the unique pair decides
        raise RuleViolation(_l("%(name)s is al gevraagd bij deze aanvraag.", name=expert.display_name),
                            field="expert")
    record(session, team_id=spend_request.team_id, request_id=spend_request.id, actor_id=membership.member_id,
           action="expert_asked", expert_id=expert.id, topic=topic)
    record_outcome(session, ExpertAsked(spend_request.id, expert.id))
    return question


def was_asked(session: Session, request_id: int, member_id: int) -> bool:
    """Whether `member_id` was asked as an expert about the request."""
    return session.exec(select(ExpertQuestion.id).where(ExpertQuestion.request_id == request_id,
                                                        ExpertQuestion.expert_id == member_id)).first() is not None


def expert_seat(session: Session, member: Member, spend_request: SpendRequest) -> ExpertSeat | None:
    """The seat of `member` on the page of `spend_request` when they were asked about it as an expert and
    may still read it (posted, their municipality, still active in it); otherwise None."""
    if spend_request.status == RequestStatus.DRAFT or not was_asked(session, spend_request.id, member.id):
        return None
    if not is_active_in_municipality(session, member, _municipality_of_request(session, spend_request)):
        return None
    return ExpertSeat(member_id=member.id)


def open_questions_to(session: Session, member: Member) -> list[QuestionLine]:
    """The questions put to `member` whose request is still open, for the home of a team they are an active
    member of: that shows them active in their municipality, which `questions_to` would read again."""
    return _questions(session, member, open_only=True)


def questions_to(session: Session, member: Member, *, open_only: bool = False) -> list[QuestionLine]:
    """The requests put to `member` as an expert that they may read (`open_only`: those still open), newest
    first (at most QUESTIONS_SHOWN)."""
    if not is_active_in_municipality(session, member, member.municipality_id):
        return []
    return _questions(session, member, open_only=open_only)


def _questions(session: Session, member: Member, *, open_only: bool) -> list[QuestionLine]:
    asker = Member.__table__.alias("asker")
    # the open ones are chosen here, before the limit, so an older open question is not cut off by newer ones
    shown = SpendRequest.status == RequestStatus.OPEN if open_only else SpendRequest.status != RequestStatus.DRAFT
    rows = session.exec(
        select(ExpertQuestion, SpendRequest, Team.name, asker.c.display_name)
        .join(SpendRequest, SpendRequest.id == ExpertQuestion.request_id)
        .join(Team, Team.id == SpendRequest.team_id).join(District, District.id == Team.district_id)
        .join(asker, asker.c.id == ExpertQuestion.asked_by_id)
        .where(ExpertQuestion.expert_id == member.id, District.municipality_id == member.municipality_id, shown)
        .order_by(ExpertQuestion.created_at.desc(), ExpertQuestion.id.desc()).limit(QUESTIONS_SHOWN)).all()
    category_ids = {spend_request.cost_category_id for _q, spend_request, _t, _a in rows if spend_request.cost_category_id}
    categories = {c.id: c for c in session.exec(select(CostCategory).where(CostCategory.id.in_(category_ids)))} \
        if category_ids else {}
    return [QuestionLine(request_id=spend_request.id, team_id=spend_request.team_id, team_name=team_name,
                         amount_cents=spend_request.amount_cents or 0,
                         category=categories.get(spend_request.cost_category_id), status=spend_request.status,
                         topic=question.topic, asked_by=asked_by, asked_at=question.created_at)
            for question, spend_request, team_name, asked_by in rows]
