"""Setting up a municipality: its name, its districts (stadsdelen) and its teams.

Invariants:
- Names are typed text without control characters, blanks collapsed, 1 to NAME_MAX characters; a name
  is unique where people pick from it (ignoring case): a municipality in the installation, a district
  and a team within their municipality. A refused name changes nothing.
- Nothing in use is deleted: a district or a team is archived (`archived_at`), and keeps its history. An
  archived district gets no new team and no team moved into it, and is archived only once its teams
  are archived. An archived team posts no new request (models/requests.py `post_request`), and is
  archived only when it has no open request and no grant whose money was not yet loaded onto a card
  (money still on its `reserved` account).
- A team's IBAN is checked with schwifty and stored in electronic form (`NL91ABNA0417164300`); a team
  bank account belongs to one active team.
- A new municipality starts with the default cost categories, the default other provisions and this
  calendar year's budget year (`create_municipality`).
- Renaming a municipality and adding, renaming, archiving or restoring a district are audit events of the
  municipality (models.audit `record_in_municipality`, in its hash chain); a team's changes are its own.
"""
import unicodedata

from flask_babel import lazy_gettext as _l
from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits, InvalidCountryCode, InvalidLength, SchwiftyException
from sqlmodel import Session, func, select

from models.audit import EVENT_LABELS, changed_fields, record, record_in_municipality
from models.bounds import has_forbidden_characters
from models.clock import utcnow
from models.ledger import Account, AccountKind
from models.requests import RequestStatus, SpendRequest
from models.rules import RuleViolation
from models.teams import District, Municipality, Team, create_municipality as new_municipality

NAME_MAX = 100
#: Unicode categories no name needs: control and format characters (a right-to-left override can make a
#: name read as another), lone surrogates, private use and unassigned code points
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn"}
#: the longest IBAN (34) with a space every four characters
IBAN_INPUT_MAX = 42


EVENT_LABELS.update({"team_created": _l("team aangemaakt"), "team_changed": _l("team gewijzigd"),
                     "team_archived": _l("team gearchiveerd"),
                     "team_restored": _l("team weer in gebruik genomen"),
                     "municipality_renamed": _l("naam van de gemeente gewijzigd"),
                     "district_added": _l("stadsdeel toegevoegd"), "district_renamed": _l("stadsdeel hernoemd"),
                     "district_archived": _l("stadsdeel gearchiveerd"),
                     "district_restored": _l("stadsdeel weer in gebruik genomen")})


def clean_name(raw, *, field: str = "name") -> str:
    """The typed name with blanks collapsed, or RuleViolation when it is empty, too long or holds control
    characters."""
    text = raw if isinstance(raw, str) else ""
    name = " ".join(text.split())  # TAB, LF and CR are blanks too
    if any(unicodedata.category(character) in _INVISIBLE for character in name):
        raise RuleViolation(_l("Gebruik alleen letters, cijfers en leestekens."), field=field)
    if not name:
        raise RuleViolation(_l("Vul een naam in."), field=field)
    if len(name) > NAME_MAX:
        raise RuleViolation(_l("Gebruik hoogstens %(max)s tekens.", max=NAME_MAX), field=field)
    return name


def check_iban(raw, *, field: str = "iban") -> str:
    """The IBAN in electronic form (no spaces, upper case), or RuleViolation saying what is wrong."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise RuleViolation(_l("Vul het IBAN van de teamrekening in."), field=field)
    if len(text) > IBAN_INPUT_MAX or has_forbidden_characters(text):
        raise RuleViolation(_l("Dit is geen IBAN: een IBAN heeft hoogstens 34 letters en cijfers."), field=field)
    try:
        return IBAN(text).compact
    except InvalidChecksumDigits:
        message = _l("Het controlegetal van dit IBAN klopt niet. Kijk of je het goed hebt overgenomen.")
    except InvalidLength:
        message = _l("Dit IBAN heeft niet het juiste aantal tekens voor zijn land.")
    except InvalidCountryCode:
        message = _l("Een IBAN begint met een landcode, zoals NL.")
    except (SchwiftyException, ValueError):
        message = _l("Dit is geen geldig IBAN. Kijk of je het goed hebt overgenomen.")
    raise RuleViolation(message, field=field)


def formatted_iban(iban: str | None) -> str:
    """An IBAN as people read it, in groups of four (`NL91 ABNA 0417 1643 00`); empty when there is none."""
    if not iban:
        return ""
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def _taken(names, name: str) -> bool:
    return name.casefold() in {existing.casefold() for existing in names}


# municipalities

def create_municipality(session: Session, raw_name) -> Municipality:
    """A new municipality with the default cost categories, other provisions and this year's budget year."""
    name = clean_name(raw_name)
    if _taken(session.exec(select(Municipality.name)), name):
        raise RuleViolation(_l("Er is al een gemeente met deze naam."), field="name")
    municipality, _budget_year = new_municipality(session, name)  # with categories and provisions (models/catalogue.py)
    return municipality


def rename_municipality(session: Session, municipality: Municipality, raw_name, *, actor_id: int | None = None) -> None:
    """Give a municipality another name, unique in the installation."""
    name = clean_name(raw_name)
    others = session.exec(select(Municipality.name).where(Municipality.id != municipality.id))
    if _taken(others, name):
        raise RuleViolation(_l("Er is al een gemeente met deze naam."), field="name")
    if name != municipality.name:
        record_in_municipality(session, municipality_id=municipality.id, action="municipality_renamed",
                               actor_id=actor_id, name=name, changed={"name": {"old": municipality.name, "new": name}})
    municipality.name = name
    session.add(municipality)


def municipality_named(session: Session, name: str) -> Municipality | None:
    """The municipality with exactly this name, if any (the command line names municipalities)."""
    return session.exec(select(Municipality).where(Municipality.name == name)).first()


def municipality_ids(session: Session) -> list[int]:
    """The id of every municipality, archived ones too (their bank history still gets checked), in order."""
    return list(session.exec(select(Municipality.id).order_by(Municipality.id)))


def municipalities_with_team_counts(session: Session) -> list[tuple[Municipality, int]]:
    """Every municipality, by name, with its number of active (not archived) teams."""
    teams = (select(District.municipality_id, func.count(Team.id).label("teams"))
             .join(Team, Team.district_id == District.id).where(Team.archived_at.is_(None))
             .group_by(District.municipality_id).subquery())
    statement = (select(Municipality, func.coalesce(teams.c.teams, 0))
                 .outerjoin(teams, teams.c.municipality_id == Municipality.id).order_by(Municipality.name))
    return [(municipality, count) for municipality, count in session.exec(statement)]


# districts

def districts_of(session: Session, municipality_id: int, *, archived: bool = True) -> list[District]:
    """The municipality's districts by name; the archived ones too unless `archived` is False."""
    statement = select(District).where(District.municipality_id == municipality_id)
    if not archived:
        statement = statement.where(District.archived_at.is_(None))
    return list(session.exec(statement.order_by(District.name)))


def _check_district_name(session: Session, municipality_id: int, name: str, *, district_id: int | None = None):
    others = select(District.name).where(District.municipality_id == municipality_id)
    if district_id is not None:
        others = others.where(District.id != district_id)
    if _taken(session.exec(others), name):
        raise RuleViolation(_l("Deze gemeente heeft al een stadsdeel met deze naam."), field="name")


def _record_district(session: Session, district: District, action: str, actor_id, **detail) -> None:
    record_in_municipality(session, municipality_id=district.municipality_id, action=action, actor_id=actor_id,
                           district_id=district.id, name=district.name, **detail)


def add_district(session: Session, municipality_id: int, raw_name, *, actor_id: int | None = None) -> District:
    """A new district of the municipality, its name unique there."""
    name = clean_name(raw_name)
    _check_district_name(session, municipality_id, name)
    district = District(municipality_id=municipality_id, name=name)
    session.add(district)
    session.flush()
    _record_district(session, district, "district_added", actor_id)
    return district


def rename_district(session: Session, district: District, raw_name, *, actor_id: int | None = None) -> None:
    """Give a district another name, unique in its municipality."""
    name = clean_name(raw_name)
    _check_district_name(session, district.municipality_id, name, district_id=district.id)
    old = district.name
    district.name = name
    session.add(district)
    if name != old:
        _record_district(session, district, "district_renamed", actor_id, changed={"name": {"old": old, "new": name}})


def archive_district(session: Session, district: District, *, actor_id: int | None = None) -> None:
    """Archive a district whose teams are all archived; it and its teams' history stay."""
    if district.archived_at is not None:
        raise RuleViolation(_l("Dit stadsdeel is al gearchiveerd."))
    active = session.exec(select(func.count(Team.id)).where(
        Team.district_id == district.id, Team.archived_at.is_(None))).one()
    if active:
        raise RuleViolation(_l("Dit stadsdeel heeft nog %(count)s actieve teams. Archiveer ze eerst, of zet ze in een "
                               "ander stadsdeel.", count=active))
    district.archived_at = utcnow()
    session.add(district)
    _record_district(session, district, "district_archived", actor_id)


def restore_district(session: Session, district: District, *, actor_id: int | None = None) -> None:
    """Take an archived district into use again; its teams stay archived until each is restored."""
    if district.archived_at is None:
        raise RuleViolation(_l("Dit stadsdeel is al in gebruik."))
    district.archived_at = None
    session.add(district)
    _record_district(session, district, "district_restored", actor_id)


# teams

def _open_district(session: Session, municipality_id: int, district_id) -> District:
    district = session.get(District, district_id) if isinstance(district_id, int) else None
    if district is None or district.municipality_id != municipality_id or district.archived_at is not None:
        raise RuleViolation(_l("Kies een stadsdeel."), field="district_id")
    return district


def _check_team(session: Session, municipality_id: int, name: str, iban: str, *, team_id: int | None = None):
    others = (select(Team.name, Team.iban, Team.archived_at).join(District, District.id == Team.district_id)
              .where(District.municipality_id == municipality_id))
    if team_id is not None:
        others = others.where(Team.id != team_id)
    rows = list(session.exec(others))
    if _taken([row.name for row in rows], name):
        raise RuleViolation(_l("Deze gemeente heeft al een team met deze naam."), field="name")
    elsewhere = select(Team.id).where(Team.iban == iban, Team.archived_at.is_(None))
    if team_id is not None:
        elsewhere = elsewhere.where(Team.id != team_id)
    if session.exec(elsewhere).first() is not None:
        raise RuleViolation(_l("Deze rekening hoort al bij een ander team."), field="iban")


def create_team(session: Session, municipality_id: int, *, name, district_id, iban, actor_id: int) -> Team:
    """A new team in an open district of the municipality, with its checked bank account; the rules (quorum
    and the rest) start at their defaults."""
    name, iban = clean_name(name), check_iban(iban)
    district = _open_district(session, municipality_id, district_id)
    _check_team(session, municipality_id, name, iban)
    team = Team(district_id=district.id, name=name, iban=iban)
    session.add(team)
    session.flush()
    record(session, team_id=team.id, actor_id=actor_id, action="team_created", name=name)
    return team


def edit_team(session: Session, team: Team, *, name, district_id, iban, actor_id: int) -> None:
    """Change a team's name, district (an open one of the same municipality) or bank account."""
    name, iban = clean_name(name), check_iban(iban)
    current = session.get(District, team.district_id)
    district = current if district_id == current.id else _open_district(session, current.municipality_id, district_id)
    _check_team(session, current.municipality_id, name, iban, team_id=team.id)
    changes = changed_fields(team, {"name": name, "district_id": district.id, "iban": iban})
    for field, change in changes.items():
        setattr(team, field, change["new"])
    session.add(team)
    if changes:
        record(session, team_id=team.id, actor_id=actor_id, action="team_changed", **changes)


def archive_team(session: Session, team: Team, *, actor_id: int) -> None:
    """Archive a team with nothing underway: no open request and no grant still waiting for its card load."""
    if team.archived_at is not None:
        raise RuleViolation(_l("Dit team is al gearchiveerd."))
    open_requests = session.exec(select(func.count(SpendRequest.id)).where(
        SpendRequest.team_id == team.id, SpendRequest.status == RequestStatus.OPEN)).one()
    if open_requests:
        raise RuleViolation(_l("Dit team heeft nog %(count)s open aanvragen. Wacht op het besluit, of laat ze "
                               "intrekken.", count=open_requests))
    reserved = session.exec(select(func.coalesce(func.sum(Account.balance_cents), 0)).where(
        Account.team_id == team.id, Account.kind == AccountKind.RESERVED)).one()
    if reserved:
        raise RuleViolation(_l("Dit team heeft nog toekenningen waarvan het geld niet op een kaart is gezet. Laad "
                               "die kaarten eerst, of trek de toekenningen in."))
    team.archived_at = utcnow()
    session.add(team)
    record(session, team_id=team.id, actor_id=actor_id, action="team_archived")


def restore_team(session: Session, team: Team, *, actor_id: int) -> None:
    """Take an archived team into use again: its district must be active and its bank account free."""
    if team.archived_at is None:
        raise RuleViolation(_l("Dit team is al in gebruik."))
    district = session.get(District, team.district_id)
    if district.archived_at is not None:
        raise RuleViolation(_l("Stadsdeel %(name)s is gearchiveerd. Neem eerst het stadsdeel weer in gebruik, of "
                               "zet het team in een ander stadsdeel.", name=district.name))
    try:
        _check_team(session, district.municipality_id, team.name, team.iban, team_id=team.id)
    except RuleViolation as violation:
        if violation.field != "iban":
            raise
        # archiving freed the account, and another team may have taken it since
        raise RuleViolation(_l("De rekening %(iban)s hoort nu bij een ander team. Geef dit team eerst een andere "
                               "rekening.", iban=formatted_iban(team.iban)), field="iban") from violation
    team.archived_at = None
    session.add(team)
    record(session, team_id=team.id, actor_id=actor_id, action="team_restored")


def teams_of(session: Session, municipality_id: int) -> list[tuple[Team, District]]:
    """Every team of the municipality with its district: active ones first, then by district and name."""
    statement = (select(Team, District).join(District, District.id == Team.district_id)
                 .where(District.municipality_id == municipality_id)
                 .order_by(Team.archived_at.is_not(None), District.name, Team.name))
    return list(session.exec(statement))
