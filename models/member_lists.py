"""Member lists for coordinators: searched and paged in SQL, never longer than MEMBERS_PER_PAGE.

Invariants:
- A search is a case-insensitive substring of the display name; `%`, `_` and `\\` in it are taken
  literally (escaped in the LIKE pattern), control characters are dropped and it is at most as long as a
  name can be, so no typed text reaches the database as a pattern or a value it cannot store.
- Paging is LIMIT/OFFSET over a stable order (name regardless of case, then id); a page past the last shows
  the last one.
"""
import math
import unicodedata
from dataclasses import dataclass

from sqlalchemy import and_, exists
from sqlmodel import Session, func, select

from models.members import DISPLAY_NAME_MAX, Member, Membership
from models.passkeys import Passkey
from models.teams import Team

MEMBERS_PER_PAGE = 50


@dataclass
class MemberPage:
    """One page of a member list: `members` are positions `first`–`last` of `total` (1-based)."""

    members: list[Member]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one, even when empty)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        """The position of the first member shown (0 when none)."""
        return (self.page - 1) * self.per_page + 1 if self.members else 0

    @property
    def last(self) -> int:
        """The position of the last member shown."""
        return self.first + len(self.members) - 1 if self.members else 0


def clean_search(raw: str | None) -> str:
    """What a person typed to find a name: no control characters or lone surrogates, blanks collapsed, at most
    as long as a name can be (a longer text matches no one anyway)."""
    kept = "".join(c for c in (raw or "") if unicodedata.category(c) not in ("Cc", "Cs"))
    return " ".join(kept.split())[:DISPLAY_NAME_MAX]


def _contains(text: str) -> str:
    """A LIKE pattern (escape character `\\`) for names containing `text`, its wildcards taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_members(session: Session, municipality_id: int, query: str | None = None, *, page: int = 1,
                   per_page: int = MEMBERS_PER_PAGE, addable_to: Team | None = None) -> MemberPage:
    """Members of the municipality whose name contains `query`, ordered by name, one page of them.

    With `addable_to`, only those who can be given a role in that team: active, no coordinator, not in it yet.
    A page past the last shows the last page."""
    per_page = max(1, min(per_page, MEMBERS_PER_PAGE))
    conditions = [Member.municipality_id == municipality_id]
    text = clean_search(query)
    if text:
        conditions.append(Member.display_name.ilike(_contains(text), escape="\\"))
    if addable_to is not None:
        conditions += [Member.deactivated_at.is_(None), Member.is_coordinator.is_(False),
                       ~exists().where(and_(Membership.member_id == Member.id, Membership.team_id == addable_to.id,
                                            Membership.ended_at.is_(None)))]
    total = session.exec(select(func.count(Member.id)).where(*conditions)).one()
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    members = list(session.exec(select(Member).where(*conditions).order_by(func.lower(Member.display_name), Member.id)
                                .offset((page - 1) * per_page).limit(per_page)))
    return MemberPage(members=members, total=total, page=page, per_page=per_page)


def teams_of_members(session: Session, member_ids) -> dict[int, list[tuple[Team, Membership]]]:
    """The active teams of each of these members (one query for a page of them), by team name."""
    ids = list(member_ids)
    found: dict[int, list[tuple[Team, Membership]]] = {member_id: [] for member_id in ids}
    if ids:
        for team, membership in session.exec(select(Team, Membership).join(Membership, Membership.team_id == Team.id)
                                             .where(Membership.member_id.in_(ids), Membership.ended_at.is_(None))
                                             .order_by(Team.name)):
            found[membership.member_id].append((team, membership))
    return found


def passkey_counts(session: Session, member_ids) -> dict[int, int]:
    """How many active passkeys each of these members has (one query for a page of them)."""
    ids = list(member_ids)
    counts = dict.fromkeys(ids, 0)
    if ids:
        counts.update(session.exec(select(Passkey.member_id, func.count(Passkey.id)).where(
            Passkey.member_id.in_(ids), Passkey.revoked_at.is_(None)).group_by(Passkey.member_id)).all())
    return counts
