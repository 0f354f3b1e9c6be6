"""Shared knowledge (issue 13 §3): tips shared across the teams of a municipality, and members who offer
their expertise on a topic.

Invariants:
- A tip belongs to one municipality and is seen by the members of that municipality's teams only.
- Its body is 10 to 500 characters without personal data (models.privacy); it has at least one cost
  category, each of its own municipality.
- A tip made from a request (`source_request_id`) names a request of the author's team solved with another
  provision (`source_request_of`); any other is refused.
- Only its author, a coordinator of its municipality or an administrator archives it; an archived tip is no
  longer listed or suggested.
- Suggestions while drafting: at most SUGGESTIONS tips, those tagged with the chosen category first,
  then by the number of words shared with what was typed; a tip that shares nothing and is not tagged
  with the category is not suggested.
Verbs take a session and never commit. The rules of ExpertTopic and ExpertQuestion are in models/experts.py.
"""
import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, select

from models.audit import record
from models.bounds import parse_id
from models.clock import utcnow
from models.privacy import check_no_personal_data
from models.rules import RuleViolation

BODY_MIN, BODY_MAX = 10, 500
SUGGESTIONS = 3
#: short words say nothing about the need; they are not counted as shared
_MIN_WORD = 4


class Tip(SQLModel, table=True):
    """A short tip by a member: what helped, which provision fits which need."""

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    #: the author's team when it was written
    team_id: int = Field(foreign_key="team.id")
    author_id: int = Field(foreign_key="member.id")
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
    archived_at: datetime | None = None
    #: the request solved with another provision that the tip was made from, if any
    source_request_id: int | None = Field(default=None, foreign_key="spendrequest.id")


class TipCategory(SQLModel, table=True):
    """A cost category a tip is tagged with."""

    tip_id: int = Field(foreign_key="tip.id", primary_key=True)
    category_id: int = Field(foreign_key="costcategory.id", primary_key=True, index=True)


class ExpertTopic(SQLModel, table=True):
    """A member available for questions on a topic (debt counselling, benefits, youth …)."""

    __table_args__ = (UniqueConstraint("member_id", "topic"),)
    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    topic: str = Field(max_length=60)
    created_at: datetime = Field(default_factory=utcnow)


class ExpertQuestion(SQLModel, table=True):
    """A request put to an expert: from then on the expert may see that request."""

    __table_args__ = (UniqueConstraint("request_id", "expert_id"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    expert_id: int = Field(foreign_key="member.id", index=True)
    asked_by_id: int = Field(foreign_key="member.id")
    topic: str = Field(max_length=60)
    created_at: datetime = Field(default_factory=utcnow)


def source_request_of(session: Session, team_id: int, request_id) -> "SpendRequest | None":
    """The request `request_id` when it is one of `team_id` solved with another provision, else None."""
    from models.requests import RequestStatus, SpendRequest

    request_id = parse_id(request_id)
    found = session.get(SpendRequest, request_id) if request_id else None
    if found is None or found.team_id != team_id or found.status != RequestStatus.SOLVED:
        return None
    return found


def write_tip(session: Session, *, municipality_id: int, team_id: int, author_id: int, body: str,
              category_ids, source_request_id: int | None = None) -> Tip:
    """A new tip by `author_id` of `team_id`, tagged with `category_ids` (each of the municipality), made
    from the team's request `source_request_id` solved with another provision, if given."""
    from models.teams import CostCategory

    if source_request_id is not None and source_request_of(session, team_id, source_request_id) is None:
        raise RuleViolation(_l("Een tip kan alleen komen van een aanvraag van je team die is opgelost met een "
                               "andere voorziening."), field="form")
    body = (body or "").strip()
    if len(body) < BODY_MIN or len(body) > BODY_MAX:
        raise RuleViolation(_l("Schrijf een tip van %(min)s tot %(max)s tekens.", min=BODY_MIN, max=BODY_MAX),
                            field="body")
    check_no_personal_data(body, field="body")
    ids = {parse_id(value) for value in category_ids or [] if str(value).strip()}
    ids.discard(None)
    if not ids:
        raise RuleViolation(_l("Kies minstens één soort uitgave."), field="category_ids")
    found = session.exec(select(CostCategory.id).where(CostCategory.id.in_(ids),
                                                       CostCategory.municipality_id == municipality_id)).all()
    if len(set(found)) != len(ids):
        raise RuleViolation(_l("Kies een soort uitgave uit de lijst."), field="category_ids")
    tip = Tip(municipality_id=municipality_id, team_id=team_id, author_id=author_id, body=body,
              source_request_id=source_request_id)
    session.add(tip)
    session.flush()
    for category_id in sorted(ids):
        session.add(TipCategory(tip_id=tip.id, category_id=category_id))
    record(session, team_id=team_id, action="tip_written", actor_id=author_id, tip_id=tip.id)
    return tip


def may_archive_tip(tip: Tip, member) -> bool:
    """Whether `member` may archive `tip`: its author, a coordinator of its municipality or an administrator."""
    return (tip.author_id == member.id or member.is_administrator
            or (member.is_coordinator and member.municipality_id == tip.municipality_id))


def archive_tip(session: Session, tip: Tip, member) -> None:
    """Archive `tip`: only who `may_archive_tip`."""
    if not may_archive_tip(tip, member):
        raise RuleViolation(_l("Alleen wie de tip schreef of een coördinator haalt hem weg."))
    if tip.archived_at is None:
        tip.archived_at = utcnow()
        session.add(tip)
        record(session, team_id=tip.team_id, action="tip_archived", actor_id=member.id, tip_id=tip.id)


def categories_of_tips(session: Session, tip_ids) -> dict[int, list[int]]:
    """Each tip's category ids."""
    tagged: dict[int, list[int]] = {tip_id: [] for tip_id in tip_ids}
    if tagged:
        for tip_id, category_id in session.exec(select(TipCategory.tip_id, TipCategory.category_id)
                                                .where(TipCategory.tip_id.in_(list(tagged)))).all():
            tagged[tip_id].append(category_id)
    return tagged


def search_tips(session: Session, municipality_id: int, *, text: str = "", category_id: int | None = None,
                limit: int = 100) -> list[Tip]:
    """The municipality's tips that are not archived, newest first; `text` matched anywhere in the body,
    regardless of case; `category_id` keeps those tagged with it."""
    statement = select(Tip).where(Tip.municipality_id == municipality_id, Tip.archived_at.is_(None))
    text = (text or "").strip()
    if text:
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(func.lower(Tip.body).like(f"%{escaped}%", escape="\\"))
    if category_id is not None:
        statement = statement.where(Tip.id.in_(select(TipCategory.tip_id).where(TipCategory.category_id == category_id)))
    return list(session.exec(statement.order_by(Tip.created_at.desc(), Tip.id.desc()).limit(limit)))


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"\w+", (text or "").lower()) if len(word) >= _MIN_WORD}


def suggest_tips(session: Session, municipality_id: int, category_id: int | None, typed: str) -> list[Tip]:
    """At most SUGGESTIONS tips for a request being drafted (see the module docstring for the order)."""
    typed_words = _words(typed)
    tips = search_tips(session, municipality_id, limit=1000)
    tagged = categories_of_tips(session, [tip.id for tip in tips])
    scored = []
    for tip in tips:
        in_category = category_id is not None and category_id in tagged[tip.id]
        shared = len(typed_words & _words(tip.body))
        if in_category or shared:
            scored.append((not in_category, -shared, -tip.id, tip))
    return [entry[-1] for entry in sorted(scored, key=lambda entry: entry[:3])[:SUGGESTIONS]]
