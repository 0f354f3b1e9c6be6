"""A household's history: what was granted before to the same household (issue 13 §3).

Invariants:
- A household is only its keyed hash (models.requests.household_key); the reference is never read here.
- The history holds only requests granted (money decided) in the same budget year, which is the
  municipality's own, by a team of that municipality; a cancelled or undecided request is not in it.
- It never names a person: each line is when, which cost category, how much, and which team.
- The request being looked at is left out of its own history.
Reads only: nothing here writes.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from models.requests import RequestStatus, SpendRequest
from models.teams import CostCategory, District, Team, current_budget_year


@dataclass(frozen=True)
class HistoryLine:
    """One earlier grant to the household: when, for what, how much, by which team."""

    decided_at: datetime | None
    category_id: int | None
    category: CostCategory | None
    amount_cents: int
    team_name: str


def household_history(session: Session, municipality_id: int, budget_year_id: int | None,
                      household_key: str | None, *, leave_out_request_id: int | None = None) -> list[HistoryLine]:
    """The grants to the household `household_key` in `budget_year_id` of the municipality, oldest first."""
    if not household_key or budget_year_id is None:
        return []
    statement = (
        select(SpendRequest, Team.name)
        .join(Team, Team.id == SpendRequest.team_id).join(District, District.id == Team.district_id)
        .where(SpendRequest.household_key == household_key, SpendRequest.budget_year_id == budget_year_id,
               SpendRequest.status == RequestStatus.GRANTED, District.municipality_id == municipality_id)
        .order_by(SpendRequest.decided_at, SpendRequest.id)
    )
    if leave_out_request_id is not None:
        statement = statement.where(SpendRequest.id != leave_out_request_id)
    rows = session.exec(statement).all()
    category_ids = {row.cost_category_id for row, _name in rows if row.cost_category_id}
    categories = {c.id: c for c in session.exec(select(CostCategory).where(CostCategory.id.in_(category_ids))).all()} \
        if category_ids else {}
    return [HistoryLine(decided_at=row.decided_at, category_id=row.cost_category_id,
                        category=categories.get(row.cost_category_id),
                        amount_cents=row.granted_amount_cents or row.amount_cents or 0, team_name=name)
            for row, name in rows]


def history_of_request(session: Session, team: Team, spend_request: SpendRequest) -> list[HistoryLine]:
    """The household's earlier grants this year, as the team sees them on the request page."""
    municipality_id = session.get(District, team.district_id).municipality_id
    return household_history(session, municipality_id, spend_request.budget_year_id,
                             spend_request.household_key, leave_out_request_id=spend_request.id)


def history_while_drafting(session: Session, team: Team, member_id: int, on, *, key: str | None,
                           draft_id: int | None) -> tuple[list[HistoryLine], bool]:
    """What the drafting member sees: the history of the household `key` (the hash of the reference typed),
    else of the household recorded on their own draft `draft_id` of this team (another's draft is ignored),
    in this year's budget year, leaving that draft out; and whether a household was named at all."""
    leave_out = None
    draft = session.get(SpendRequest, draft_id) if draft_id else None
    if draft is not None and draft.team_id == team.id and draft.requester_id == member_id:
        leave_out, key = draft.id, key or draft.household_key
    municipality_id = session.get(District, team.district_id).municipality_id
    year = current_budget_year(session, municipality_id, on)
    return (household_history(session, municipality_id, year.id if year else None, key,
                              leave_out_request_id=leave_out), bool(key))
