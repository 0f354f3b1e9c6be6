"""The demo municipality that `make run` creates on first run.

Two districts, three teams of twelve members covering every role (each team with a valid test IBAN), this
year's budget year with an annual budget per team, the cost categories and other provisions of
docs/domain.md, and one administrator (foundation staff) besides the municipality. Last year is there too,
closed: each team granted, loaded and settled a few requests (a gift, a lower amount, a loan partly repaid),
solved one with another provision, rejected one and cancelled one, and its unspent budget went back to the
municipality, so the year statement and the journal have something to show. Names are invented workers'
names; households are random keys: no client data exists in the demo.
"""
import secrets
from datetime import date, datetime, time, timezone

from sqlmodel import Session, select

from models.avoided_costs import add_example_scenarios
from models.clock import today

from models.invites import invite_recovery
from models.members import Member, Role, add_membership, create_member
from models.passkeys import active_passkeys
from models.ledger import AccountKind, Entry, account, allocate_annual_budget, load_onto_card, post_entry, top_up
from models.teams import BudgetYear, CostCategory, District, Municipality, Team, create_municipality

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
#: the organisations the demo's workers come from (a team has workers of several), shown to a client beside
#: the worker's first name on the handover page
_ORGANISATIONS = ["Buurtteam Demodam", "Schuldhulp Demodam", "Jongerenwerk Demodam", "Maatschappelijk werk Demodam"]
_FIRST_NAMES = ["Anna", "Bram", "Chantal", "Dewi", "Emre", "Fleur", "Gijs", "Hanna", "Ilias", "Joke",
                "Kees", "Lotte", "Mo", "Nadia", "Otto", "Priya", "Quinten", "Roos", "Sem", "Tess",
                "Umut", "Vera", "Wouter", "Xandra", "Youssef", "Zoë", "Amir", "Bo", "Cas", "Daan",
                "Eva", "Finn", "Gül", "Hugo", "Iris", "Jesse"]


def seed_demo(session: Session) -> bool:
    """Create the demo municipality unless any municipality exists; True when it was created."""
    if session.exec(select(Municipality.id)).first() is not None:
        return False
    municipality, budget_year = create_municipality(session, DEMO_MUNICIPALITY)
    coordinator = create_member(session, municipality_id=municipality.id, display_name=DEMO_COORDINATOR,
                                is_coordinator=True)
    administrator = create_member(session, municipality_id=None, display_name=DEMO_ADMINISTRATOR)
    administrator.is_administrator = True  # foundation staff: no municipality of their own
    session.add(administrator)
    districts, teams = {}, []
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
        requester = None
        for position, role in enumerate(_ROLES):
            name = DEMO_WORKER if (team_name == _TEAMS[0][1] and position == 0) else next(names)
            member = create_member(session, municipality_id=municipality.id, display_name=name)
            member.organisation = _ORGANISATIONS[position % len(_ORGANISATIONS)]
            add_membership(session, member, team, role)
            requester = requester or member
        teams.append((team, requester, budget_cents))
    session.flush()
    add_example_scenarios(session, municipality.id)  # avoided costs: example figures, marked as such
    _closed_last_year(session, municipality, teams, coordinator)
    return True


#: last year's requests of each demo team: (cost category, asked, granted, kind, how it ended, what was left
#: on the card when it came back, repaid); amounts in cents
_LAST_YEAR = [
    ("groceries", 7_500, 7_500, "gift", "spent", None, None),
    ("energy", 15_000, 10_000, "gift", "returned", 1_250, None),
    ("housing", 20_000, 20_000, "loan", "spent", None, 5_000),
    ("groceries", 6_000, None, "gift", "solved_alternative", None, None),
    ("transport", 4_500, None, "gift", "rejected", None, None),
    ("children", 6_000, 6_000, "gift", "cancelled", None, None),
]


def _closed_last_year(session: Session, municipality: Municipality, teams: list, coordinator: Member) -> None:
    """Last year, lived through with the domain's own verbs, then closed (models/year_close.py)."""
    from models.cards import Card, CardState, mark_spent, return_card
    from models.grants import cancel_grant
    from models.loans import record_repayment
    from models.requests import SpendRequest
    from models.year_close import close_year

    year = today().year - 1
    last_year = BudgetYear(municipality_id=municipality.id, year=year, starts_on=date(year, 1, 1),
                           ends_on=date(year, 12, 31))
    session.add(last_year)
    session.flush()
    categories = {c.code: c.id for c in session.exec(select(CostCategory).where(
        CostCategory.municipality_id == municipality.id))}

    def on(month, day):
        return datetime.combine(date(year, month, day), time(10), tzinfo=timezone.utc)

    for team, requester, budget_cents in teams:
        allocate_annual_budget(session, team, last_year.id, budget_cents, actor_id=coordinator.id)
        for number, (code, asked, granted, kind, outcome, left, repaid) in enumerate(_LAST_YEAR, start=1):
            month = 2 * number
            request = SpendRequest(
                team_id=team.id, requester_id=requester.id, status="granted" if granted else outcome, kind=kind,
                amount_cents=asked, cost_category_id=categories[code], budget_year_id=last_year.id,
                situation="Voorbeeld uit het demojaar", prevents="Voorbeeld", household_key=secrets.token_hex(32),
                created_at=on(month, 1), updated_at=on(month, 2), posted_at=on(month, 1), decided_at=on(month, 2),
                granted_amount_cents=granted, granted_kind=kind if granted else None,
                alternative_name="Voedselbank" if outcome == "solved_alternative" else None)
            session.add(request)
            session.flush()
            if not granted:
                continue
            _dated(post_entry(session, team.id, [
                (account(session, team.id, last_year.id, AccountKind.AVAILABLE), -granted),
                (account(session, team.id, last_year.id, AccountKind.RESERVED), granted),
            ], memo=f"Toekenning aanvraag {request.id}", request_id=request.id), on(month, 2))
            if outcome == "cancelled":
                cancel_grant(session, request, coordinator, "Het huishouden kreeg toch bijzondere bijstand")
                continue
            _dated(top_up(session, team, last_year.id, granted, memo=f"Opwaardering TB-{team.id}"), on(month, 5))
            _dated(load_onto_card(session, team, last_year.id, granted, memo=f"Lading TB-{team.id}-{request.id}",
                                  request_id=request.id), on(month, 5))
            card = Card(team_id=team.id, reference=f"DEMO-{year}-{team.id}-{number}", last_four=f"{number:04d}",
                        state=CardState.HANDED_OVER, request_id=request.id, budget_year_id=last_year.id,
                        loaded_amount_cents=granted, loaded_at=on(month, 5), handed_over_at=on(month, 6))
            session.add(card)
            session.flush()
            if outcome == "spent":
                mark_spent(session, card, actor_id=coordinator.id)
            else:
                return_card(session, card, left, actor_id=coordinator.id)
            if repaid:
                record_repayment(session, request, repaid, date(year, 11, 15), coordinator.id)
    close_year(session, municipality.id, last_year, coordinator)


def _dated(entry: Entry, moment: datetime) -> None:
    """A demo entry carries the day it would have been booked, so last year's journal reads as last year."""
    entry.created_at = moment


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
