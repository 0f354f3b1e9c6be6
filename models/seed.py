"""The demo municipality that `make run` creates on first run.

Two districts, three teams of twelve members covering every role (each team with a valid test IBAN), a
budget year with an annual budget per team, the cost categories of docs/domain.md, and one administrator
(foundation staff) besides the municipality. Names are invented workers' names: no
client data exists in the demo.
"""
from sqlmodel import Session, select

from models.invites import invite_recovery
from models.members import Member, Role, add_membership, create_member
from models.passkeys import active_passkeys
from models.ledger import allocate_annual_budget
from models.teams import District, Municipality, Team, create_municipality

DEMO_MUNICIPALITY = "Gemeente Demodam"
DEMO_COORDINATOR = "Cora Coördinator"
DEMO_WORKER = "Wim Werker"
DEMO_ADMINISTRATOR = "Demo beheerder"

#: (district, team, annual budget, the team bank account: valid test IBANs, made with schwifty's IBAN.generate)
_TEAMS = [
    ("Noord", "Team Noord-Oost", 250_000, "NL20INGB0001234567"),
    ("Noord", "Team Noord-West", 300_000, "NL44RABO0123456789"),
    ("Zuid", "Team Zuid", 200_000, "NL02ABNA0123456789"),
]
#: one team's roles: every role of docs/domain.md, with workers making up the rest of twelve
_ROLES = [Role.WORKER] * 5 + [Role.INCOME_CONSULTANT, Role.PROVISIONS_EXPERT, Role.CLIENT_MANAGER,
                              Role.PROGRAMME_MANAGER, Role.TEAM_LEADER, Role.OBSERVER, Role.WORKER]
_FIRST_NAMES = ["Anna", "Bram", "Chantal", "Dewi", "Emre", "Fleur", "Gijs", "Hanna", "Ilias", "Joke",
                "Kees", "Lotte", "Mo", "Nadia", "Otto", "Priya", "Quinten", "Roos", "Sem", "Tess",
                "Umut", "Vera", "Wouter", "Xandra", "Youssef", "Zoë", "Amir", "Bo", "Cas", "Daan",
                "Eva", "Finn", "Gül", "Hugo", "Iris", "Jesse"]


def seed_demo(session: Session) -> bool:
    """Create the demo municipality unless any municipality exists; True when it was created."""
    if session.exec(select(Municipality.id)).first() is not None:
        return False
    municipality, budget_year = create_municipality(session, DEMO_MUNICIPALITY)
    create_member(session, municipality_id=municipality.id, display_name=DEMO_COORDINATOR, is_coordinator=True)
    administrator = create_member(session, municipality_id=None, display_name=DEMO_ADMINISTRATOR)
    administrator.is_administrator = True  # foundation staff: no municipality of their own
    session.add(administrator)
    districts = {}
    names = iter(_FIRST_NAMES)
    for district_name, team_name, budget_cents, iban in _TEAMS:
        if district_name not in districts:
            districts[district_name] = District(municipality_id=municipality.id, name=district_name)
            session.add(districts[district_name])
            session.flush()
        team = Team(district_id=districts[district_name].id, name=team_name, iban=iban)
        session.add(team)
        session.flush()
        allocate_annual_budget(session, team, budget_year.id, budget_cents)
        for position, role in enumerate(_ROLES):
            name = DEMO_WORKER if (team_name == _TEAMS[0][1] and position == 0) else next(names)
            member = create_member(session, municipality_id=municipality.id, display_name=name)
            add_membership(session, member, team, role)
    session.flush()
    return True


def demo_sign_in_invites(session: Session, *, force: bool = False) -> list[tuple[str, str]]:
    """One-time links for the demo coordinator, worker and administrator who have no passkey yet (all with
    force); the administrator's is made by the administrator, the others' by the coordinator."""
    coordinator = session.exec(select(Member).where(Member.display_name == DEMO_COORDINATOR)).first()
    administrator = session.exec(select(Member).where(Member.display_name == DEMO_ADMINISTRATOR,
                                                      Member.is_administrator)).first()
    links = []
    for label, name, inviter in (("Demo coordinator", DEMO_COORDINATOR, coordinator),
                                 ("Demo worker", DEMO_WORKER, coordinator),
                                 ("Demo administrator", DEMO_ADMINISTRATOR, administrator)):
        member = session.exec(select(Member).where(Member.display_name == name)).first()
        if member is None or inviter is None or (active_passkeys(session, member.id) and not force):
            continue
        _invite, token = invite_recovery(session, inviter, member)
        links.append((label, token))
    return links
