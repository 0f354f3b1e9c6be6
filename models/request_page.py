"""What the request page shows, as one read model (like `team_overview` in models/inbox.py).

`request_page` gathers everything templates/requests/detail.html and its parts show of one posted request
for one member: status, votes, stop, discussion, timeline, budget effect, for a granted request the card,
the receipts and the bank lines matched to it, for its requester the outcome review, and for a granted loan
what was lent, repaid and is outstanding; for the team's members the experts to ask. An expert asked about
the request (models.experts.ExpertSeat instead of a membership) reads it without the card, receipts and loan. The page and its partials get it explicitly (`RequestPage.context()`);
no template asks the database on its own. The card part is also polled alone (web/cards.py), so `card_panel`
stands apart. Reads only: nothing here writes.
"""
from dataclasses import dataclass, field, fields

from sqlmodel import Session, select

from models.audit import team_version, timeline
from models.avoided_costs import scenarios_of_request
from models.household_history import history_of_request
from models.cards import NAMED_STATES, STATE_LABELS, card_choice, cards_of_request, current_card
from models.experts import ExpertSeat, experts_for_request, may_ask_expert
from models.inbox import balances
from models.loans import LoanPosition, is_loan, loan_position
from models.next_step import RECEIPT_STEPS, next_step
from models.members import Member, Membership
from models.outcome_reviews import review_of
from models.policy_signals import is_decided, may_add_note, notes_of_request
from models.receipts import ReceiptPanel, receipt_panel
from models.reconciliation import bank_lines_of_request
from models.requests import RequestStatus, SpendRequest, comments_of
from models.teams import CostCategory, Team
from models.votes import VoteChoice, is_voting_member, may_stop, standing_stop, votes_on


def display_names(session: Session, member_ids) -> dict[int, str]:
    """The display name of each member in `member_ids`."""
    ids = {member_id for member_id in member_ids if member_id}
    if not ids:
        return {}
    return dict(session.exec(select(Member.id, Member.display_name).where(Member.id.in_(ids))).all())


def category_of(session: Session, spend_request: SpendRequest) -> CostCategory | None:
    """The cost category of a request, or None when it has none."""
    return session.get(CostCategory, spend_request.cost_category_id) if spend_request.cost_category_id else None


@dataclass
class CardPanel:
    """The card part of a granted request: its card, the stock to choose from, whether it is mine."""
    card: object
    state_labels: dict
    named_states: object
    mine: bool
    stock: list
    version: int


def card_panel(session: Session, spend_request: SpendRequest, member_id: int, version: int | None = None) -> CardPanel:
    """What the card part shows; `version`, the team's, when the caller has read it already."""
    cards = cards_of_request(session, spend_request.id)
    return CardPanel(card=current_card(cards), state_labels=STATE_LABELS, named_states=NAMED_STATES,
                     mine=spend_request.requester_id == member_id,
                     stock=card_choice(session, spend_request, member_id, cards),
                     version=team_version(session, spend_request.team_id) if version is None else version)


@dataclass
class RequestPage:
    """Everything the request page shows of one request for one member (the names its templates use)."""
    team: Team
    req: SpendRequest
    category: CostCategory | None
    money: dict | None
    votes: list
    comments: list
    events: list
    names: dict[int, str]
    stop: object
    can_vote: bool
    can_stop: bool
    my_vote: object
    version: int
    choices: type
    card_panel: CardPanel | None  # a granted request only
    receipt_panel: ReceiptPanel | None  # a granted request only
    loan: LoanPosition | None = None  # a granted loan only
    bank_lines: list = field(default_factory=list)  # a granted request only: what the bank showed of it
    scenarios: list = field(default_factory=list)  # the scenarios it prevents (models.avoided_costs)
    review: object = None  # the requester only: the outcome review of their granted request (models.outcome_reviews)
    history: list = field(default_factory=list)  # the household's earlier grants this year (models.household_history)
    as_expert: bool = False  # an expert asked about it reads the page (models.experts): no card, receipts, loan
    may_ask_expert: bool = False  # a member of the team, on a posted request: the experts are offered
    experts: list = field(default_factory=list)  # the experts to ask, read only when offered (models.experts)
    solved_if_notes: list = field(default_factory=list)  # a decided request: "would have been solved if …" notes
    may_note: bool = False  # whether this member may add such a note (models.policy_signals)

    member_id: int | None = None  # the member it was read for

    @property
    def next_step(self) -> str | None:
        """The one next step the page shows first to this member (models/next_step.py)."""
        return next_step(self)

    def context(self) -> dict:
        """The page as template variables, with the next step and whether the receipts part comes first."""
        step = self.next_step
        return {**{field.name: getattr(self, field.name) for field in fields(self)}, "next_step": step,
                "receipts_first": step in RECEIPT_STEPS}


class _ReadWhenShown:
    """A list read the first time a template uses it: most answers drawn from the request page (the live
    poll every few seconds, a vote's or a receipt's part) never show what it holds."""

    def __init__(self, read):
        self._read, self._rows = read, None

    def _loaded(self) -> list:
        if self._rows is None:
            self._rows = self._read()
        return self._rows

    def __iter__(self):
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def request_page(session: Session, team: Team, spend_request: SpendRequest, membership: Membership) -> RequestPage:
    """The request page of `spend_request` (of `team`) as `membership`'s member sees it."""
    member_id = membership.member_id
    votes, comments = votes_on(session, spend_request.id), comments_of(session, spend_request.id)
    events = timeline(session, spend_request.id)
    version = team_version(session, team.id)
    notes = notes_of_request(session, spend_request.id) if is_decided(spend_request) else []
    as_expert = isinstance(membership, ExpertSeat)  # not of the team: the page leaves the money's parts out
    granted = spend_request.status == RequestStatus.GRANTED and not as_expert
    may_ask = may_ask_expert(membership, spend_request)
    cards = card_panel(session, spend_request, member_id, version) if granted else None
    return RequestPage(
        team=team, req=spend_request, category=category_of(session, spend_request), member_id=member_id,
        money=balances(session, team.id, spend_request.budget_year_id) if spend_request.budget_year_id else None,
        votes=votes, comments=comments, events=events,
        names=display_names(session, {spend_request.requester_id} | {v.member_id for v in votes}
                            | {c.member_id for c in comments} | {e.actor_id for e in events}
                            | {n.author_id for n in notes}),
        stop=standing_stop(session, spend_request.id),
        can_vote=spend_request.is_open and is_voting_member(membership, spend_request),
        can_stop=spend_request.is_open and may_stop(membership, spend_request),
        my_vote=next((v for v in votes if v.member_id == member_id), None), version=version, choices=VoteChoice,
        card_panel=cards,
        receipt_panel=receipt_panel(session, spend_request, member_id, cards.card) if granted else None,
        loan=loan_position(session, spend_request) if is_loan(spend_request) and not as_expert else None,
        bank_lines=bank_lines_of_request(session, spend_request.id) if granted else [],
        scenarios=scenarios_of_request(session, spend_request.id),
        review=review_of(session, spend_request.id) if granted and spend_request.requester_id == member_id else None,
        solved_if_notes=notes, may_note=may_add_note(membership, spend_request),
        history=history_of_request(session, team, spend_request), as_expert=as_expert, may_ask_expert=may_ask,
        experts=_ReadWhenShown(lambda: experts_for_request(session, spend_request, member_id)) if may_ask else [])
