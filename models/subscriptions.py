"""Push subscriptions: members' devices that opted in, and the reminders they were sent (data only).

The verbs on requests, votes and decisions never import this module: they record neutral outcomes
(models.events), and the web layer (web/push*.py) turns committed outcomes into messages.

Invariants:
- A subscription is one device's push endpoint with its two public keys, owned by one member; it holds
  no personal data. An endpoint is unique: subscribing again on a device that another member used
  before moves the endpoint to the member who is signed in now.
- A member is reminded of a request waiting for their vote at most once (PushReminder, unique); the
  reminder is an outcome (models.events.RemindersDue), handed on only by a commit.
- An endpoint is stored only when it is a push service's: https on the default port, no user info, and a
  host name (never an IP address in any spelling) that is an allowed host or ends in "." + one
  (`is_push_service_endpoint`). That it resolves to a public address is checked when sending
  (web/push_network.py), because DNS may answer differently then.
"""
import ipaddress
import re
import socket
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, delete, func, select

from models.clock import utcnow
from models.events import RemindersDue, record_outcome
from models.members import NON_VOTING_ROLES, Membership
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.teams import Team
from models.votes import Vote

ENDPOINT_MAX = 1000
MAX_DEVICES = 20  # per member; a phone that subscribes anew replaces its own endpoint
LOCALES = ("nl", "en")
#: the push services the browsers use: Chrome, Edge and Android (FCM; android.googleapis.com for old
#: GCM-era subscriptions), Firefox (Mozilla autopush), Windows (WNS) and Safari (Apple)
DEFAULT_PUSH_HOSTS = ("fcm.googleapis.com", "android.googleapis.com", "push.services.mozilla.com",
                      "notify.windows.com", "push.apple.com")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


class PushSubscription(SQLModel, table=True):
    """One device of a member that receives push messages (the browser's PushSubscription)."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    #: the push service's URL for this device (a capability: never logged)
    endpoint: str = Field(max_length=ENDPOINT_MAX, unique=True)
    #: the device's P-256 public key and auth secret (base64url), to encrypt messages for it
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)
    #: the language the device showed when it subscribed; messages are written in it
    locale: str = Field(default="nl", max_length=5)
    created_at: datetime = Field(default_factory=utcnow)


class PushReminder(SQLModel, table=True):
    """That a member was reminded of a request waiting for their vote (once per member and request)."""

    __table_args__ = (UniqueConstraint("request_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="spendrequest.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    reminded_at: datetime = Field(default_factory=utcnow)


def _key(raw, field_name: str, limit: int) -> str:
    value = raw if isinstance(raw, str) else ""
    if not value or len(value) > limit or not all(c.isalnum() or c in "-_=" for c in value):
        raise RuleViolation(_l("Dit apparaat gaf geen geldige aanmelding voor meldingen."), field=field_name)
    return value


def push_hosts(value) -> tuple[str, ...]:
    """The allow-list from a setting: a list, or a string separated by commas or spaces; lower case."""
    names = value.replace(",", " ").split() if isinstance(value, str) else list(value or ())
    return tuple(name.strip().strip(".").lower() for name in names if name.strip().strip("."))


def is_ip_literal(host: str) -> bool:
    """Whether a URL host names an address rather than a name: 127.0.0.1, ::1, but also the forms
    that resolvers and the URL standard read as IPv4 (2130706433, 0x7f000001, 0177.0.0.1, 127.1)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
        return True
    except OSError:
        last = host.rstrip(".").rsplit(".", 1)[-1]
        return last.isdigit() or last.startswith("0x")  # a host ending in a number is IPv4 to a browser


def host_is_allowed(host: str, allowed_hosts) -> bool:
    """Whether `host` is one of the allowed hosts or a name under one (a whole-label suffix, never a
    substring: evilfcm.googleapis.com is not under fcm.googleapis.com); never an IP address."""
    host = (host or "").lower()
    if is_ip_literal(host) or not all(_LABEL.match(label) for label in host.split(".")):
        return False
    return any(host == allowed or host.endswith("." + allowed) for allowed in push_hosts(allowed_hosts))


def is_push_service_endpoint(endpoint: str, allowed_hosts, *, allow_insecure: bool = False) -> bool:
    """Whether the server may send to `endpoint`: https, default port, no user info, an allowed host.
    `allow_insecure` (tests: a stub on loopback) also allows plain http and any port."""
    if not endpoint.isascii() or any(c <= " " or c in "\\\x7f" for c in endpoint):
        return False  # the URL standard drops or rewrites these; a parser could read another host
    try:
        url = urlsplit(endpoint)
        port = url.port
    except ValueError:
        return False
    secure = url.scheme == "https" or (allow_insecure and url.scheme == "http")
    default_port = port is None or port == 443 or allow_insecure
    return secure and default_port and "@" not in url.netloc and host_is_allowed(url.hostname, allowed_hosts)


def subscribe(session: Session, member_id: int, subscription: dict, *, locale: str = "nl",
              allow_insecure: bool = False, allowed_hosts=DEFAULT_PUSH_HOSTS) -> PushSubscription:
    """Store the browser's PushSubscription JSON for the member (again: update it); only an endpoint of
    an allowed push service (`is_push_service_endpoint`)."""
    subscription = subscription if isinstance(subscription, dict) else {}
    endpoint = subscription.get("endpoint") if isinstance(subscription.get("endpoint"), str) else ""
    try:
        url = urlsplit(endpoint)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        url = urlsplit("")
    secure = url.scheme == "https" or (allow_insecure and url.scheme == "http")
    if not secure or not url.netloc or len(endpoint) > ENDPOINT_MAX:
        raise RuleViolation(_l("Dit apparaat gaf geen geldige aanmelding voor meldingen."), field="endpoint")
    if not is_push_service_endpoint(endpoint, allowed_hosts, allow_insecure=allow_insecure):
        raise RuleViolation(_l("Meldingen kunnen alleen via de pushdienst van een browser (Google, Mozilla, "
                               "Microsoft of Apple) lopen; dit apparaat gaf een ander adres."), field="endpoint")
    keys = subscription.get("keys") if isinstance(subscription.get("keys"), dict) else {}
    p256dh, auth = _key(keys.get("p256dh"), "p256dh", 200), _key(keys.get("auth"), "auth", 100)
    found = session.exec(select(PushSubscription).where(PushSubscription.endpoint == endpoint)).first()
    if found is None:
        devices = session.exec(select(func.count()).select_from(PushSubscription)
                               .where(PushSubscription.member_id == member_id)).one()
        if devices >= MAX_DEVICES:
            raise RuleViolation(_l("Je hebt meldingen al op te veel apparaten aan staan."), field="endpoint")
        found = PushSubscription(member_id=member_id, endpoint=endpoint, p256dh=p256dh, auth=auth)
    found.member_id, found.p256dh, found.auth = member_id, p256dh, auth
    found.locale = locale if locale in LOCALES else "nl"
    session.add(found)
    session.flush()
    return found


def unsubscribe(session: Session, member_id: int, endpoint: str) -> bool:
    """Forget the member's device with this endpoint; False when there was none."""
    found = session.exec(select(PushSubscription).where(PushSubscription.endpoint == endpoint,
                                                        PushSubscription.member_id == member_id)).first()
    if found is not None:
        session.delete(found)
    return found is not None


def remove_expired(session: Session, subscription_id: int) -> None:
    """Forget a device whose push service says the subscription is gone (404 or 410)."""
    session.exec(delete(PushSubscription).where(PushSubscription.id == subscription_id))


def subscriptions_of(session: Session, member_ids) -> list[PushSubscription]:
    """The devices of these members that receive push messages."""
    return list(session.exec(select(PushSubscription).where(col(PushSubscription.member_id).in_(list(member_ids)))
                             .order_by(PushSubscription.id)))


# --- reminders: recorded here, sent by the web layer once committed ---

def remind_waiting_voters(session: Session, now: datetime | None = None,
                          failed_teams: dict[int, str] | None = None) -> int:
    """Record a reminder (and its outcome, RemindersDue) for each voting member who has not voted on an
    open request past the team's reminder time and was not reminded of it before; returns how many.

    A team whose reminders fail (a broken setting, a database error) is skipped with what it did undone
    (a savepoint), and named in `failed_teams` (team id → the error's kind); the other teams go on.
    """
    now = now or utcnow()
    failed_teams = failed_teams if failed_teams is not None else {}
    open_requests = session.exec(select(SpendRequest, Team).join(Team, Team.id == SpendRequest.team_id)
                                 .where(SpendRequest.status == RequestStatus.OPEN)
                                 .order_by(SpendRequest.id)).all()
    count = 0
    for request, team in open_requests:
        if team.id in failed_teams:
            continue
        try:
            with session.begin_nested():
                waiting = _record_due_reminders(session, request, team, now)
        except Exception as error:  # one team's fault must not keep every other team's members unreminded
            failed_teams[team.id] = type(error).__name__
            continue
        if waiting:
            record_outcome(session, RemindersDue(request.id, tuple(sorted(waiting))))
        count += len(waiting)
    return count


def _record_due_reminders(session: Session, request: SpendRequest, team: Team, now: datetime) -> list[int]:
    if request.posted_at + timedelta(hours=team.reminder_after_hours) > now:
        return []
    voted = select(Vote.member_id).where(Vote.request_id == request.id)
    reminded = select(PushReminder.member_id).where(PushReminder.request_id == request.id)
    waiting = session.exec(select(Membership.member_id).where(
        Membership.team_id == team.id, col(Membership.ended_at).is_(None),
        col(Membership.role).not_in([role.value for role in NON_VOTING_ROLES]),
        Membership.member_id != request.requester_id, col(Membership.member_id).not_in(voted),
        col(Membership.member_id).not_in(reminded))).all()
    for member_id in waiting:
        session.add(PushReminder(request_id=request.id, member_id=member_id, reminded_at=now))
    session.flush()  # inside the savepoint, so a refused row fails this team only
    return list(waiting)
