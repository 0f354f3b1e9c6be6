"""Outcome reviews (issue 13 §2): 30 days after a grant the requesting worker says how it went.

Invariants:
- A granted request (status granted, not cancelled) is asked about once, when 30 Dutch days have passed
  since the Dutch date of its grant (`ask_due_reviews`, run by `flask --app web send-reminders`): one
  OutcomeReview per request (unique), its asking audited on the request's timeline, and a push to the
  requester (`ReviewAsked`) only when that commits; two runs at once ask each request once. Grants older than ASK_UNTIL_DAYS are not asked any more,
  so a first run (or a cron that was down) does not ask about a whole history at once.
- A requester who left the team before the review was due is not pushed (the review waits for them if they
  come back); only the requester answers, once, while an active member of the team: nobody else knows how
  it went with the household.
- An answer is one of OUTCOMES plus an optional lesson of at most LESSON_MAX characters that the
  personal-data guard (models.privacy) accepts; it is audited without the outcome (the timeline names who
  acted, and a regret is never a mark against a person).
- Figures and lessons are per team only (`team_regret`, `team_lessons`): nothing here returns who answered.
"""
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, and_, case
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, func, select

from models.audit import EVENT_LABELS, record
from models.clock import LOCAL_ZONE, local_date, utcnow
from models.events import ReviewAsked, record_outcome
from models.members import active_membership
from models.privacy import check_no_personal_data
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.teams import CostCategory

#: days after the grant's Dutch date that the requester is asked
ASK_AFTER_DAYS = 30
#: grants older than this are not asked any more (see the module docstring)
ASK_UNTIL_DAYS = 90
#: the share of decisions the practice allows a team to regret, as long as it learns from them
REGRET_ALLOWED = 0.20
LESSON_MAX = 500

OUTCOMES = ("helped", "partly", "not", "regret")
OUTCOME_LABELS = {
    "helped": _l("Het hielp"),
    "partly": _l("Het hielp een beetje"),
    "not": _l("Het hielp niet"),
    "regret": _l("Ik zou het niet nog eens doen"),
}
EVENT_LABELS.update({"review_asked": _l("terugblik gevraagd"), "review_answered": _l("terugblik gegeven")})


class OutcomeReview(SQLModel, table=True):
    """The review of one granted request: asked once, answered once."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", unique=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    asked_at: datetime
    answered_at: datetime | None = None
    answered_by_id: int | None = Field(default=None, foreign_key="member.id")
    #: helped, partly, not, regret (would not do it again)
    outcome: str | None = Field(default=None, max_length=10)
    #: one lesson learned, checked by the personal-data guard
    lesson: str = Field(default="", sa_type=Text)


def _start_of_dutch_day(day) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_ZONE)


def ask_due_reviews(session: Session, now: datetime) -> list[OutcomeReview]:
    """Ask about every granted request whose grant is 30 Dutch days old and not asked yet; the new reviews."""
    today = local_date(now)
    # decided on a Dutch date at most today - 30 days: before the start of the day after that one
    due_before = _start_of_dutch_day(today - timedelta(days=ASK_AFTER_DAYS - 1))
    not_before = _start_of_dutch_day(today - timedelta(days=ASK_UNTIL_DAYS))
    due = session.exec(select(SpendRequest).join(
        OutcomeReview, OutcomeReview.request_id == SpendRequest.id, isouter=True).where(
        SpendRequest.status == RequestStatus.GRANTED, SpendRequest.decided_at < due_before,
        SpendRequest.decided_at >= not_before, OutcomeReview.id.is_(None)).order_by(SpendRequest.id)).all()
    asked = []
    for spend_request in due:
        review = OutcomeReview(request_id=spend_request.id, team_id=spend_request.team_id, asked_at=now)
        try:
            with session.begin_nested():
                session.add(review)
                session.flush()
        except IntegrityError:  # a run at the same time asked it first (PostgreSQL: its unique request_id)
            continue
        record(session, team_id=spend_request.team_id, request_id=spend_request.id, action="review_asked")
        if active_membership(session, spend_request.requester_id, spend_request.team_id):
            record_outcome(session, ReviewAsked(spend_request.id, spend_request.requester_id))
        asked.append(review)
    return asked


def review_of(session: Session, request_id: int) -> OutcomeReview | None:
    """The review of a request, asked or answered, or None."""
    return session.exec(select(OutcomeReview).where(OutcomeReview.request_id == request_id)).first()


def answer_review(session: Session, review: OutcomeReview, outcome: str | None, lesson: str | None, *,
                  actor_id: int) -> OutcomeReview:
    """The requester says how it went (one of OUTCOMES) and, if they like, one lesson; once."""
    spend_request = session.get(SpendRequest, review.request_id)
    if actor_id != spend_request.requester_id or not active_membership(session, actor_id, review.team_id):
        raise RuleViolation(_l("Alleen wie de aanvraag deed, kan terugblikken."))
    if review.answered_at is not None:
        raise RuleViolation(_l("Op deze aanvraag is al teruggeblikt."))
    if outcome not in OUTCOMES:
        raise RuleViolation(_l("Kies hoe het ging."), field="outcome")
    lesson = (lesson or "").strip()
    if len(lesson) > LESSON_MAX:
        raise RuleViolation(_l("Schrijf de les in hoogstens %(max)d tekens.", max=LESSON_MAX), field="lesson")
    check_no_personal_data(lesson, field="lesson")
    review.outcome, review.lesson = outcome, lesson
    review.answered_at, review.answered_by_id = utcnow(), actor_id
    session.add(review)
    record(session, team_id=review.team_id, request_id=review.request_id, actor_id=actor_id,
           action="review_answered")
    return review


def waiting_reviews(session: Session, team_id: int, member_id: int) -> list[tuple[SpendRequest, CostCategory]]:
    """The member's own requests in the team whose review was asked and not answered, oldest first."""
    return list(session.exec(select(SpendRequest, CostCategory).join(
        OutcomeReview, OutcomeReview.request_id == SpendRequest.id).join(
        CostCategory, CostCategory.id == SpendRequest.cost_category_id, isouter=True).where(
        OutcomeReview.team_id == team_id, OutcomeReview.answered_at.is_(None),
        SpendRequest.requester_id == member_id).order_by(OutcomeReview.asked_at, SpendRequest.id)).all())


def team_regret(session: Session, team_id: int, year_id: int | None = None) -> tuple[int, int, float | None]:
    """(answered, regretted, regretted / answered or None) of the team's reviews, in `year_id` if given."""
    query = select(func.count(OutcomeReview.id),
                   func.coalesce(func.sum(case((OutcomeReview.outcome == "regret", 1), else_=0)), 0)).where(
        OutcomeReview.team_id == team_id, OutcomeReview.answered_at.is_not(None))
    if year_id is not None:
        query = query.join(SpendRequest, and_(SpendRequest.id == OutcomeReview.request_id,
                                              SpendRequest.budget_year_id == year_id))
    answered, regretted = session.exec(query).one()
    return answered, int(regretted), (regretted / answered if answered else None)


@dataclass(frozen=True)
class Lesson:
    """A lesson as the team sees it: what it says, how it went, the cost category; never who wrote it."""

    text: str
    outcome: str
    category: CostCategory | None


def team_lessons(session: Session, team_id: int, limit: int = 20) -> list[Lesson]:
    """The team's lessons learned, newest first, without their authors."""
    rows = session.exec(select(OutcomeReview.lesson, OutcomeReview.outcome, CostCategory).join(
        SpendRequest, SpendRequest.id == OutcomeReview.request_id).join(
        CostCategory, CostCategory.id == SpendRequest.cost_category_id, isouter=True).where(
        OutcomeReview.team_id == team_id, OutcomeReview.answered_at.is_not(None), OutcomeReview.lesson != "")
        .order_by(OutcomeReview.answered_at.desc(), OutcomeReview.id.desc()).limit(limit)).all()
    return [Lesson(text, outcome, category) for text, outcome, category in rows]
