"""Policy signals (issue 13 §5): recurring needs across the teams of a municipality, for the municipality's
policy makers.

Invariants:
- A "would have been solved if …" note belongs to one decided request (posted, and in a final status:
  granted, rejected, solved with another provision, expired, withdrawn, cancelled); it is written by an active
  member of that request's team, is NOTE_MIN to NOTE_MAX characters, holds no personal data (models.privacy),
  is audited on the request's timeline and is never edited, only added.
- Signals are read across all teams of one municipality and never name a member or a household; every
  count and every list of requests behind a signal obeys the small-number rule (k ≥ 5, models.reports):
  a count of 1 to 4 shows "< 5", and `requests_behind` gives no list for a signal of fewer than 5 requests.
- Rising needs (`rising_needs`): a cost category rises in a district when the district's teams posted at least
  RISE_MIN requests of it in the chosen quarter and at least half as many again as in the quarter before
  (later ≥ 1.5 × earlier; from 0 any RISE_MIN is a rise). It is a signal when it rises in at least
  RISE_DISTRICTS districts. Tip tags (`rising_tip_tags`) follow the same rule over the tips written by the
  districts' teams, tagged with the category. Quarters are Dutch calendar quarters of posted_at.
- The same other provision (`repeated_provisions`): requests of the budget year solved with another provision,
  grouped by the provision's name (case and surrounding blanks aside); a signal from THRESHOLD requests on,
  with its count per district suppressed as in models.reports.suppress.
- Notes (`notes_by_category`): the notes on requests of the budget year, per cost category of the request;
  their texts only when the category's notes concern at least THRESHOLD requests.
Verbs take a session and never commit.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import Text
from sqlmodel import Field, Session, SQLModel, select

from models.audit import EVENT_LABELS, record
from models.clock import LOCAL_ZONE, local_date, utcnow
from models.members import Membership, active_membership
from models.privacy import check_no_personal_data
from models.reports import SUPPRESSED, THRESHOLD, TOTAL, budget_year_of, suppress
from models.requests import FINAL_STATUSES, RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.teams import CostCategory, District, Team, municipality_of_team
from models.tips import Tip, TipCategory

NOTE_MIN, NOTE_MAX = 10, 500
#: a district's rise: at least this many requests in the later quarter …
RISE_MIN = 5
#: … and at least this many times the quarter before (as a fraction: 3/2 is "up by 50% or more")
RISE_FACTOR = (3, 2)
#: a rise is a signal once it happens in at least this many districts
RISE_DISTRICTS = 2
SIGNAL_KINDS = ("stijging", "tips", "voorziening", "notities")

EVENT_LABELS["solved_if_note"] = _l("notitie ‘was opgelost als …’")


class SolvedIfNote(SQLModel, table=True):
    """A worker's note on a decided request: it would have been solved if … (a provision, a rule, a policy)."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    #: the request's municipality, kept here so the signals page reads one municipality's notes at once
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    author_id: int = Field(foreign_key="member.id")
    body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


# --- the notes on a request ---

def is_decided(spend_request: SpendRequest) -> bool:
    """Posted and in a final status: a note may be added."""
    return spend_request.posted_at is not None and spend_request.status in FINAL_STATUSES


def may_add_note(membership, spend_request: SpendRequest) -> bool:
    """Whether this membership (of the request's team) may add a note to the request now."""
    return (isinstance(membership, Membership) and membership.is_active
            and membership.team_id == spend_request.team_id and is_decided(spend_request))


def add_solved_if_note(session: Session, spend_request: SpendRequest, member, body: str) -> SolvedIfNote:
    """`member` (active in the request's team) notes what would have solved the decided request."""
    if not is_decided(spend_request):
        raise RuleViolation(_l("Een notitie kan pas als over de aanvraag is besloten."), field="body")
    if member is None or active_membership(session, member.id, spend_request.team_id) is None:
        raise RuleViolation(_l("Alleen leden van het team van de aanvraag schrijven een notitie."), field="body")
    body = (body or "").strip()
    if not NOTE_MIN <= len(body) <= NOTE_MAX:
        raise RuleViolation(_l("Schrijf een notitie van %(min)s tot %(max)s tekens.", min=NOTE_MIN, max=NOTE_MAX),
                            field="body")
    check_no_personal_data(body, field="body")
    team = session.get(Team, spend_request.team_id)
    note = SolvedIfNote(request_id=spend_request.id, municipality_id=municipality_of_team(session, team).id,
                        author_id=member.id, body=body)
    session.add(note)
    session.flush()
    record(session, team_id=team.id, request_id=spend_request.id, actor_id=member.id, action="solved_if_note",
           note_id=note.id)
    return note


def notes_of_request(session: Session, request_id: int) -> list[SolvedIfNote]:
    """A request's notes, oldest first."""
    return list(session.exec(select(SolvedIfNote).where(SolvedIfNote.request_id == request_id)
                             .order_by(SolvedIfNote.id)))


# --- periods ---

def quarter_of(day: date) -> int:
    """The quarter (1-4) of a date."""
    return (day.month - 1) // 3 + 1


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    """The quarter before (year, quarter)."""
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def quarter_start(year: int, quarter: int) -> datetime:
    """The first moment of a Dutch calendar quarter."""
    if quarter > 4:
        year, quarter = year + 1, 1
    return datetime.combine(date(year, 3 * quarter - 2, 1), time(0), tzinfo=LOCAL_ZONE)


def default_quarter(year: int, today: date) -> int:
    """The last full quarter of `year` as seen on `today` (the first while the year's first quarter runs)."""
    if year < today.year:
        return 4
    if year > today.year:
        return 1
    return max(quarter_of(today) - 1, 1)


# --- a) rising needs ---

def is_rising(earlier: int, later: int) -> bool:
    """At least RISE_MIN in the later period and at least RISE_FACTOR times the earlier one."""
    more, than = RISE_FACTOR
    return later >= RISE_MIN and later * than >= earlier * more


@dataclass
class DistrictRise:
    """One district's counts in the quarter before and the chosen one."""
    district: District
    earlier: int
    later: int


@dataclass
class RisingNeed:
    """A cost category rising in at least RISE_DISTRICTS districts; `request_ids`: the requests of the category
    in the chosen quarter in those districts (the requests behind the signal)."""
    category: CostCategory
    districts: list[DistrictRise]
    request_ids: list[int]

    @property
    def requests(self) -> int:
        """How many requests are behind the signal."""
        return len(self.request_ids)


def _request_rows(session: Session, municipality_id: int, start: datetime, end: datetime):
    """(id, category id, district id, posted_at) of the municipality's requests posted in [start, end)."""
    return session.exec(
        select(SpendRequest.id, SpendRequest.cost_category_id, Team.district_id, SpendRequest.posted_at)
        .join(Team, Team.id == SpendRequest.team_id).join(District, District.id == Team.district_id)
        .where(District.municipality_id == municipality_id, SpendRequest.posted_at.is_not(None),
               SpendRequest.posted_at >= start, SpendRequest.posted_at < end)).all()


def _tip_rows(session: Session, municipality_id: int, start: datetime, end: datetime):
    """(category id, district id, created_at) per tag of the municipality's tips written in [start, end)."""
    return session.exec(
        select(TipCategory.category_id, Team.district_id, Tip.created_at)
        .join(Tip, Tip.id == TipCategory.tip_id).join(Team, Team.id == Tip.team_id)
        .where(Tip.municipality_id == municipality_id, Tip.archived_at.is_(None),
               Tip.created_at >= start, Tip.created_at < end)).all()


def _rises(rows, later_start: datetime) -> dict[int, dict[int, tuple[int, int]]]:
    """Category -> district -> (earlier, later) of the districts where it rises, for (category, district, moment)
    rows; only categories rising in at least RISE_DISTRICTS districts."""
    counts = defaultdict(lambda: [0, 0])
    for category_id, district_id, moment in rows:
        if category_id is not None:
            counts[(category_id, district_id)][moment >= later_start] += 1
    rising = defaultdict(dict)
    for (category_id, district_id), (earlier, later) in counts.items():
        if is_rising(earlier, later):
            rising[category_id][district_id] = (earlier, later)
    return {category_id: found for category_id, found in rising.items() if len(found) >= RISE_DISTRICTS}


def _rising(session: Session, municipality_id: int, year: int, quarter: int, source: str) -> list[RisingNeed]:
    earlier_start, later_start = quarter_start(*previous_quarter(year, quarter)), quarter_start(year, quarter)
    end = quarter_start(year, quarter + 1)
    requests = _request_rows(session, municipality_id, earlier_start, end)
    if source == "tips":
        rises = _rises(_tip_rows(session, municipality_id, earlier_start, end), later_start)
    else:
        rises = _rises([row[1:] for row in requests], later_start)
    districts = {d.id: d for d in session.exec(select(District).where(District.municipality_id == municipality_id))}
    categories = {c.id: c for c in session.exec(select(CostCategory).where(CostCategory.id.in_(list(rises))))}
    found = []
    for category_id, per_district in rises.items():
        behind = [request_id for request_id, category, district_id, moment in requests
                  if category == category_id and district_id in per_district and moment >= later_start]
        found.append(RisingNeed(categories[category_id], [
            DistrictRise(districts[district_id], earlier, later) for district_id, (earlier, later)
            in sorted(per_district.items(), key=lambda item: districts[item[0]].name)], behind))
    return sorted(found, key=lambda need: (need.category.position, need.category.id))


def rising_needs(session: Session, municipality_id: int, year: int, quarter: int) -> list[RisingNeed]:
    """Cost categories whose requests rise in the quarter in at least RISE_DISTRICTS districts."""
    return _rising(session, municipality_id, year, quarter, "requests")


def rising_tip_tags(session: Session, municipality_id: int, year: int, quarter: int) -> list[RisingNeed]:
    """Cost categories whose tips (by tag, per district of the writer's team) rise in the quarter in at least
    RISE_DISTRICTS districts; `requests` counts the requests of the category in those districts."""
    return _rising(session, municipality_id, year, quarter, "tips")


# --- b) the same other provision ---

@dataclass
class ProvisionSignal:
    """Requests solved with the same other provision: the total and (district, count or "< 5") per district."""
    name: str
    requests: int
    districts: list[tuple[District, int | str]]


def _folded(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


def _solved_rows(session: Session, municipality_id: int, budget_year_id: int):
    return session.exec(
        select(SpendRequest.id, SpendRequest.alternative_name, Team.district_id)
        .join(Team, Team.id == SpendRequest.team_id).join(District, District.id == Team.district_id)
        .where(District.municipality_id == municipality_id, SpendRequest.budget_year_id == budget_year_id,
               SpendRequest.status == RequestStatus.SOLVED, SpendRequest.posted_at.is_not(None))).all()


def repeated_provisions(session: Session, municipality_id: int, year: int) -> list[ProvisionSignal]:
    """Other provisions that solved at least THRESHOLD requests of the budget year, most often first."""
    budget_year = budget_year_of(session, municipality_id, year)
    if budget_year is None:
        return []
    groups = defaultdict(list)
    for _id, name, district_id in _solved_rows(session, municipality_id, budget_year.id):
        if _folded(name):
            groups[_folded(name)].append((" ".join(name.split()), district_id))
    districts = {d.id: d for d in session.exec(select(District).where(District.municipality_id == municipality_id))}
    found = []
    for rows in groups.values():
        if len(rows) < THRESHOLD:
            continue
        spellings = defaultdict(int)
        per_district = defaultdict(int)
        for spelling, district_id in rows:
            spellings[spelling] += 1
            per_district[district_id] += 1
        counts = {(0, district_id): count for district_id, count in per_district.items()}
        counts[(0, TOTAL)] = len(rows)
        hidden = suppress(counts)
        found.append(ProvisionSignal(
            name=max(spellings, key=lambda spelling: (spellings[spelling], spelling)), requests=len(rows),
            districts=[(districts[district_id], SUPPRESSED if (0, district_id) in hidden else count)
                       for district_id, count in sorted(per_district.items(), key=lambda i: districts[i[0]].name)]))
    return sorted(found, key=lambda signal: (-signal.requests, signal.name.casefold()))


# --- c) "would have been solved if …" notes ---

@dataclass
class NoteGroup:
    """The notes on requests of one cost category: how many requests they concern, and their texts (newest
    first) only when that is at least THRESHOLD; `category` None for requests without one."""
    category: CostCategory | None
    requests: int
    notes: list[str] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.requests >= THRESHOLD


def _note_rows(session: Session, municipality_id: int, budget_year_id: int):
    return session.exec(
        select(SolvedIfNote.request_id, SpendRequest.cost_category_id, SolvedIfNote.body)
        .join(SpendRequest, SpendRequest.id == SolvedIfNote.request_id)
        .where(SolvedIfNote.municipality_id == municipality_id, SpendRequest.budget_year_id == budget_year_id)
        .order_by(SolvedIfNote.created_at.desc(), SolvedIfNote.id.desc())).all()


def notes_by_category(session: Session, municipality_id: int, year: int) -> list[NoteGroup]:
    """The notes on the budget year's requests per cost category (see the module docstring)."""
    budget_year = budget_year_of(session, municipality_id, year)
    if budget_year is None:
        return []
    requests, bodies = defaultdict(set), defaultdict(list)
    for request_id, category_id, body in _note_rows(session, municipality_id, budget_year.id):
        requests[category_id].add(request_id)
        bodies[category_id].append(body)
    categories = {c.id: c for c in session.exec(select(CostCategory).where(
        CostCategory.municipality_id == municipality_id))}
    groups = [NoteGroup(categories.get(category_id), len(ids), bodies[category_id] if len(ids) >= THRESHOLD else [])
              for category_id, ids in requests.items()]
    return sorted(groups, key=lambda group: (group.category is None, -group.requests,
                                             group.category.position if group.category else 0))


# --- the requests behind a signal ---

@dataclass
class SignalKey:
    """Which signal: its kind (SIGNAL_KINDS), the budget year, and the quarter, category or provision."""
    kind: str
    year: int
    quarter: int | None = None
    category_id: int | None = None
    provision: str | None = None


@dataclass
class RequestLine:
    """One request behind a signal, anonymised: reference number, month, category, district, amount, outcome."""
    id: int
    month: date
    category: CostCategory | None
    district: District
    amount_cents: int | None
    status: str


def _ids_behind(session: Session, municipality_id: int, key: SignalKey) -> list[int]:
    """The ids of the requests behind the signal `key` (none when there is no such signal)."""
    if key.kind in ("stijging", "tips") and key.quarter in (1, 2, 3, 4):
        need = next((need for need in _rising(session, municipality_id, key.year, key.quarter,
                                              "tips" if key.kind == "tips" else "requests")
                     if need.category.id == key.category_id), None)
        return need.request_ids if need is not None else []
    budget_year = budget_year_of(session, municipality_id, key.year)
    if budget_year is None:
        return []
    if key.kind == "voorziening" and _folded(key.provision):
        return [row[0] for row in _solved_rows(session, municipality_id, budget_year.id)
                if _folded(row[1]) == _folded(key.provision)]
    if key.kind == "notities":
        return list(dict.fromkeys(row[0] for row in _note_rows(session, municipality_id, budget_year.id)
                                  if row[1] == key.category_id))
    return []


def requests_behind(session: Session, municipality_id: int, key: SignalKey) -> list[RequestLine] | None:
    """The anonymised requests behind a signal, oldest first; None (refused) when there are fewer than
    THRESHOLD, or no such signal."""
    ids = _ids_behind(session, municipality_id, key)
    if len(ids) < THRESHOLD:
        return None
    rows = session.exec(select(SpendRequest, District, CostCategory)
                        .join(Team, Team.id == SpendRequest.team_id).join(District, District.id == Team.district_id)
                        .outerjoin(CostCategory, CostCategory.id == SpendRequest.cost_category_id)
                        .where(SpendRequest.id.in_(ids))
                        .order_by(SpendRequest.posted_at, SpendRequest.id)).all()
    return [RequestLine(id=request.id, month=local_date(request.posted_at).replace(day=1), category=category,
                        district=district, amount_cents=request.amount_cents, status=request.status)
            for request, district, category in rows]
