"""Outcomes: what a verb did to a request, recorded on the session and handed on only by a commit.

Invariants:
- A verb records an outcome (`record_outcome`) while it makes the change; a commit hands it on
  (`take_committed`), each outcome once. A rollback, or a session closed without commit, drops it, so
  nothing is ever announced that did not happen.
- An outcome is a neutral fact (which request, what happened to it). Who hears of it and in which
  words is the web layer's business (web/push_texts.py); models/ knows nothing about push.
"""
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

PENDING, COMMITTED = "outcomes_pending", "outcomes_committed"


@dataclass(frozen=True)
class RequestPosted:
    """A draft was posted to its team."""

    kind: ClassVar[str] = "posted"
    request_id: int
    team_id: int
    requester_id: int


@dataclass(frozen=True)
class RequestDecided:
    """An open request was granted, rejected, solved with an alternative, or expired."""

    kind: ClassVar[str] = "decided"
    request_id: int
    requester_id: int


@dataclass(frozen=True)
class RemindersDue:
    """These voting members were found still waiting to vote on the request (and recorded as reminded)."""

    kind: ClassVar[str] = "reminder"
    request_id: int
    member_ids: tuple[int, ...]


@dataclass(frozen=True)
class BankQuestion:
    """A coordinator asked the requester about what the bank showed for the request (models.bank_review)."""

    kind: ClassVar[str] = "bank_question"
    request_id: int
    requester_id: int


@dataclass(frozen=True)
class ReviewAsked:
    """The requester is asked how a grant went, 30 days on (models.outcome_reviews)."""

    kind: ClassVar[str] = "review"
    request_id: int
    requester_id: int


@dataclass(frozen=True)
class ExpertAsked:
    """A member of the request's team asked an expert about it (models.experts)."""

    kind: ClassVar[str] = "expert"
    request_id: int
    expert_id: int


def record_outcome(session, outcome) -> None:
    """Keep `outcome` on the session until the transaction ends: a commit hands it on, a rollback drops it."""
    session.info.setdefault(PENDING, []).append(outcome)


def take_committed(session) -> list:
    """The outcomes of every transaction this session committed so far (each handed out once)."""
    return session.info.pop(COMMITTED, [])


@event.listens_for(OrmSession, "after_commit")
def _hand_on_committed(session):
    pending = session.info.pop(PENDING, None)
    if pending:
        session.info.setdefault(COMMITTED, []).extend(pending)


@event.listens_for(OrmSession, "after_transaction_end")
def _drop_uncommitted(session, transaction):
    # after_commit has run by now for a committed transaction: whatever is still pending was rolled back
    if transaction.parent is None:
        session.info.pop(PENDING, None)
