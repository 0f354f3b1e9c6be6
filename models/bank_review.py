"""The coordinator's reconciliation queue: what the bank showed that needs a look, and how it was resolved
(issue 12 §3). The flags themselves are raised by models.reconciliation; this module resolves them.

Invariants:
- A flag is resolved once, in one of three ways, and then never again (a second try is a RuleViolation):
  - accepted: the coordinator accepts what the bank shows, with the reason in the note (required);
  - asked_worker: the coordinator asks the worker to talk with the client. The note (required) lands on the
    timeline of the request the line belongs to (action "bank_question"), and the requester hears of it
    (`models.events.BankQuestion`, handed on only by a commit). A line that belongs to no request cannot
    be asked about: link it first, or accept it;
  - linked: the coordinator names, by hand, the granted request or the batch line the bank line belongs
    to, of the flag's own team only. The line becomes match "by_hand" with that request, its card, its
    batch line and the batch line's ledger entry (for a request: its card load's entry).
- The note is at most NOTE_MAX characters and holds no personal data (models.privacy), as comments do.
- Every resolution is audited ("bank_flag_resolved", with the team, the flag and how), in the same
  transaction as the change; the verbs take the team's money lock first and never commit.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlmodel import Session, select

from models.audit import EVENT_LABELS, record
from models.bank_statements import BankLine
from models.batch_lines import BatchLine, LineKind, LoadBatch
from models.cards import cards_of_request, current_card
from models.clock import utcnow
from models.events import BankQuestion, record_outcome
from models.ledger import lock_for_money
from models.members import Member
from models.privacy import check_no_personal_data
from models.reconciliation import BankFlag
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.teams import Team

RESOLUTIONS = ("accepted", "asked_worker", "linked")
#: the longest note a coordinator may write with a resolution
NOTE_MAX = 1000

# "bank_flag_resolved" is labelled by models.reconciliation
EVENT_LABELS.update({"bank_question": _l("vraag over de bank")})


def resolve_flag(session: Session, flag: BankFlag, resolution: str, note: str | None, *, actor_id: int,
                 link: SpendRequest | BatchLine | None = None) -> None:
    """Resolve an open flag as `resolution` with `note`; `link` names what a "linked" line belongs to."""
    lock_for_money(session, flag.team_id)
    session.refresh(flag)  # PostgreSQL: another coordinator may have resolved it before the lock was ours
    if flag.resolved_at is not None:
        raise RuleViolation(_l("Deze melding is al afgehandeld."))
    if resolution not in RESOLUTIONS:
        raise RuleViolation(_l("Kies wat je met deze melding doet."), field="resolution")
    note = _checked_note(note, required=resolution != "linked")
    line = session.get(BankLine, flag.bank_line_id) if flag.bank_line_id else None
    if resolution == "linked":
        _link_by_hand(session, flag, line, link)
    elif resolution == "asked_worker":
        _ask_worker(session, flag, line, note, actor_id)
    flag.resolution, flag.resolution_note = resolution, note
    flag.resolved_at, flag.resolved_by_id = utcnow(), actor_id
    session.add(flag)
    record(session, team_id=flag.team_id, actor_id=actor_id, action="bank_flag_resolved", flag_id=flag.id,
           flag_reason=flag.reason, resolution=resolution, note=note)


def _checked_note(note: str | None, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise RuleViolation(_l("Schrijf op waarom."), field="note")
    if len(note) > NOTE_MAX:
        raise RuleViolation(_l("Gebruik hoogstens %(max)s tekens.", max=NOTE_MAX), field="note")
    check_no_personal_data(note, field="note")
    return note


def request_of_flag(session: Session, flag: BankFlag, line: BankLine | None) -> SpendRequest | None:
    """The request a flag is about: its line's, or else its batch line's; None when it has none."""
    request_id = line.request_id if line is not None else None
    if request_id is None and flag.batch_line_id:
        request_id = session.get(BatchLine, flag.batch_line_id).request_id
    return session.get(SpendRequest, request_id) if request_id else None


def _ask_worker(session: Session, flag: BankFlag, line: BankLine | None, note: str, actor_id: int) -> None:
    """The question on the request's timeline, and a notice to its requester once this commits."""
    spend_request = request_of_flag(session, flag, line)
    if spend_request is None:
        raise RuleViolation(_l("Deze regel hoort nog bij geen aanvraag. Koppel hem eerst aan een aanvraag, of "
                               "accepteer hem."), field="resolution")
    amount = abs(line.amount_cents) if line is not None else session.get(BatchLine, flag.batch_line_id).amount_cents
    record(session, team_id=spend_request.team_id, request_id=spend_request.id, actor_id=actor_id,
           action="bank_question", amount_cents=amount, reason=note)
    record_outcome(session, BankQuestion(spend_request.id, spend_request.requester_id))


def _link_by_hand(session: Session, flag: BankFlag, line: BankLine | None, link) -> None:
    """Tie the flagged line to a granted request or a batch line of the flag's own team."""
    if line is None:
        raise RuleViolation(_l("Er is geen bankregel om te koppelen."), field="resolution")
    if isinstance(link, SpendRequest) and link.team_id == flag.team_id and link.status == RequestStatus.GRANTED:
        batch_line = load_line_of_request(session, link.id)
        line.request_id, line.card_id = link.id, _card_id(session, link.id)
    elif isinstance(link, BatchLine) and link.team_id == flag.team_id and link.entry_id is not None:
        batch_line = link
        line.request_id, line.card_id = link.request_id, link.card_id
    else:
        raise RuleViolation(_l("Kies een aanvraag of opdracht van dit team."), field="link")
    line.batch_line_id = batch_line.id if batch_line else None
    line.entry_id = batch_line.entry_id if batch_line else None
    line.match = "by_hand"
    session.add(line)


def _card_id(session: Session, request_id: int) -> int | None:
    card = current_card(cards_of_request(session, request_id))
    return card.id if card else None


def load_line_of_request(session: Session, request_id: int) -> BatchLine | None:
    """The executed batch line that loaded the request's card (its entry is the card load), if any."""
    return session.exec(select(BatchLine).where(BatchLine.request_id == request_id, BatchLine.kind == LineKind.LOAD,
                                                BatchLine.entry_id.is_not(None))
                        .order_by(BatchLine.id.desc())).first()


@dataclass
class LinkChoice:
    """Something a coordinator may link a line to: "request-<id>" or "batchline-<id>", and its words."""
    value: str
    request: SpendRequest | None
    batch_line: BatchLine | None


def link_choices(session: Session, team_ids) -> dict[int, list[LinkChoice]]:
    """Per team: its granted requests (newest first) and its executed top-ups, to link a line to by hand."""
    found = {team_id: [] for team_id in team_ids}
    if not found:
        return found
    for spend_request in session.exec(select(SpendRequest).where(
            SpendRequest.team_id.in_(found), SpendRequest.status == RequestStatus.GRANTED)
            .order_by(SpendRequest.id.desc()).limit(200 * len(found))):
        found[spend_request.team_id].append(LinkChoice(f"request-{spend_request.id}", spend_request, None))
    for batch_line in session.exec(select(BatchLine).join(LoadBatch, LoadBatch.id == BatchLine.batch_id).where(
            BatchLine.team_id.in_(found), BatchLine.kind == LineKind.TOP_UP, BatchLine.entry_id.is_not(None))
            .order_by(BatchLine.id.desc()).limit(50 * len(found))):
        found[batch_line.team_id].append(LinkChoice(f"batchline-{batch_line.id}", None, batch_line))
    return found


def parse_link(session: Session, value: str | None) -> SpendRequest | BatchLine | None:
    """The request or batch line a link choice names, or None (the verb refuses what is not the team's)."""
    kind, _sep, number = (value or "").partition("-")
    model = {"request": SpendRequest, "batchline": BatchLine}.get(kind)
    if model is None or not number.isascii() or not number.isdigit() or len(number) > 12:
        return None
    return session.get(model, int(number))


@dataclass
class ResolvedRow:
    """One resolved flag for the queue's list below: the flag, its line (None for a transfer not seen), its
    team's name and who resolved it."""
    flag: BankFlag
    line: BankLine | None
    team_name: str
    resolved_by: str | None


def resolved_flags(session: Session, municipality_id: int, count: int = 50) -> list[ResolvedRow]:
    """The municipality's last `count` resolved flags, the most recently resolved first (open ones:
    `models.reconciliation.open_flags`)."""
    rows = session.exec(select(BankFlag, BankLine, Team.name, Member.display_name)
                        .join(BankLine, BankLine.id == BankFlag.bank_line_id, isouter=True)
                        .join(Team, Team.id == BankFlag.team_id)
                        .join(Member, Member.id == BankFlag.resolved_by_id, isouter=True)
                        .where(BankFlag.municipality_id == municipality_id, BankFlag.resolved_at.is_not(None))
                        .order_by(BankFlag.resolved_at.desc(), BankFlag.id.desc()).limit(count)).all()
    return [ResolvedRow(flag, line, team_name, resolver) for flag, line, team_name, resolver in rows]
