"""Who may see what: every route × every role × another municipality's objects.

The route table is read from the app itself, so a new route is covered (or must be classified) the
moment it is added.
"""
import re

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

from models.invites import Invite, invite_administrator, invite_coordinator, invite_to_team, redeem_invite
from models.members import TEAM_ROLES, active_membership, end_membership, new_user_handle
from models.clock import utcnow
from models.passkeys import Passkey
from models.receipts import Receipt
from models.requests import SpendRequest
from models.batches import LoadBatch
from models.cards import Card
from models.teams import BudgetYear, CostCategory, District, Provision, Team
from models.reconciliation import BankFlag, MerchantRule
from models.avoided_costs import AvoidedCostScenario
from models.tips import ExpertTopic, Tip

#: routes that name no object and are open to anyone, or act only on the signed-in member's own data
PUBLIC_OR_OWN = {
    "static", "shell.home", "shell.accessibility", "shell.switch_language", "shell.choose_team", "shell.settings",
    "auth.sign_in", "auth.sign_in_begin", "auth.sign_in_finish", "auth.sign_out",
    "auth.invite", "auth.invite_begin", "auth.invite_finish",
    "account.passkeys", "account.add_begin", "account.add_finish",
    "account.organisation",  # my own organisation, shown to a client (tests/http/test_handover_page.py)
    "pwa.service_worker", "pwa.manifest", "pwa.offline", "pwa.page_scripts_file",
    "push.key", "push.add", "push.remove",
    "outbox.page", "outbox.token",
    "handover.show",  # the client's one-time card link (tests/http/test_cards.py)
    "experts.index", "experts.add_topic",  # ask an expert: my own topics (a member of a team; tests/http/test_experts.py)
}
OBJECT_ARGUMENTS = {"team_id", "membership_id", "member_id", "invite_id", "passkey_id", "request_id", "receipt_id",
                    "card_id", "batch_id", "municipality_id", "district_id", "category_id", "provision_id",
                    "budget_year_id", "flag_id", "rule_id", "scenario_id", "tip_id",
                    "topic_id"}  # ask an expert
#: blueprints for coordinators (and administrators, in the municipality they chose); a team role gets 403
COORDINATOR_BLUEPRINTS = (
    "admin.", "card_admin.",
    "foundation.",    # municipalities (administrators only), districts and teams
    "catalogue.",     # cost categories and other provisions
    "budget_years.",  # opening next year
    "year_close.",    # closing a year, the year statement
    "bank.",          # bank statements: the upload page
    "reconciliation.",  # bank statements: the queue of flags, merchant rules
    "exports.",       # the accountant's journal
    "avoided_costs.",  # avoided costs: the scenarios and their totals
    "reports.overview", "reports.chart", "reports.download_",  # reports (a team's participation: below)
    "tip_admin.",     # every tip of the municipality, archived by a coordinator
    "year_report.",   # the year report as a PDF (tests/http/test_year_report.py)
    "policy_signals.overview", "policy_signals.requests_list",  # policy signals (a note on a request: team_id)
)
ACTORS = [role.value for role in TEAM_ROLES] + ["coordinator"]
#: foundation: an administrator who chose our municipality acts as its coordinator (and reaches every municipality)
ADMINISTRATOR = "administrator"
#: foundation: the routes of the municipalities themselves, for administrators only
ADMINISTRATOR_ONLY = ("foundation.municipalit", "foundation.administrator")


def _routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _snapshot(session):
    """Every row of every table, except the last-seen time that any signed-in request may touch."""
    rows = {}
    for table in SQLModel.metadata.sorted_tables:
        columns = [c.name for c in table.columns if not (table.name == "loginsession" and c.name == "last_seen_at")]
        order = ", ".join(c.name for c in table.primary_key.columns)
        query = f"SELECT {', '.join(columns)} FROM {table.name} ORDER BY {order}"
        rows[table.name] = [tuple(row) for row in session.execute(text(query))]
    return rows


@pytest.fixture
def world(session, make_team, make_member):
    """Our municipality's team with one member per role, and a foreign municipality with objects of its own."""
    ours = make_team("Team Ons")
    actors = {role: make_member(ours, role) for role in ACTORS}
    actors[ADMINISTRATOR] = redeem_invite(session, invite_administrator(session, None)[0], display_name="Bea",
                                          user_handle=new_user_handle())  # foundation
    theirs = make_team("Team Ander")
    foreign_coordinator = make_member(theirs, "coordinator")
    foreign_worker = make_member(theirs, "worker")
    foreign_invite, _token = invite_to_team(session, foreign_coordinator, theirs, "worker")
    foreign_passkey = Passkey(member_id=foreign_worker.id, credential_id=b"foreign", public_key=b"key", name="x")
    session.add(foreign_passkey)
    foreign_request = SpendRequest(team_id=theirs.id, requester_id=foreign_worker.id, amount_cents=5_000,
                                   situation="Ander team", status="open", posted_at=utcnow())
    session.add(foreign_request)
    session.flush()
    foreign_receipt = Receipt(request_id=foreign_request.id, team_id=theirs.id, added_by_id=foreign_worker.id,
                              file_name="f" * 32, width=1, height=1)
    session.add(foreign_receipt)
    foreign_category = CostCategory(municipality_id=foreign_coordinator.municipality_id, code="x", name_nl="x", name_en="x")
    foreign_provision = Provision(municipality_id=foreign_coordinator.municipality_id, name="Ander fonds")
    session.add_all([foreign_category, foreign_provision])
    foreign_card = Card(team_id=theirs.id, reference="K-ANDER", last_four="9999")
    foreign_batch = LoadBatch(municipality_id=foreign_coordinator.municipality_id, created_by_id=foreign_coordinator.id)
    session.add_all([foreign_card, foreign_batch])
    session.flush()
    foreign_flag = BankFlag(municipality_id=foreign_coordinator.municipality_id, team_id=theirs.id, reason="unmatched")
    foreign_rule = MerchantRule(municipality_id=foreign_coordinator.municipality_id, category_id=foreign_category.id,
                                kind="keyword", value="ander")
    foreign_scenario = AvoidedCostScenario(municipality_id=foreign_coordinator.municipality_id, name_nl="Ander",
                                           name_en="Other", reference_cost_cents=100)
    session.add_all([foreign_flag, foreign_rule, foreign_scenario])
    foreign_tip = Tip(municipality_id=foreign_coordinator.municipality_id, team_id=theirs.id,
                      author_id=foreign_worker.id, body="Een tip van het andere team.")
    session.add(foreign_tip)
    foreign_topic = ExpertTopic(municipality_id=foreign_coordinator.municipality_id, member_id=foreign_worker.id,
                                topic="schuldhulp")  # ask an expert
    session.add(foreign_topic)
    session.commit()
    foreign = {
        "team_id": theirs.id,
        "membership_id": active_membership(session, foreign_worker.id, theirs.id).id,
        "member_id": foreign_worker.id,
        "invite_id": foreign_invite.id,
        "passkey_id": foreign_passkey.id,
        "request_id": foreign_request.id,
        "receipt_id": foreign_receipt.id,
        "card_id": foreign_card.id,
        "batch_id": foreign_batch.id,
        "municipality_id": foreign_coordinator.municipality_id,
        "district_id": theirs.district_id,
        "category_id": foreign_category.id,
        "provision_id": foreign_provision.id,
        "budget_year_id": session.exec(select(BudgetYear.id).where(
            BudgetYear.municipality_id == foreign_coordinator.municipality_id)).first(),
        "flag_id": foreign_flag.id, "rule_id": foreign_rule.id,  # reconciliation queue
        "scenario_id": foreign_scenario.id,  # avoided costs
        "tip_id": foreign_tip.id,  # shared knowledge
        "topic_id": foreign_topic.id,  # ask an expert
    }
    return {"ours": ours, "actors": actors, "foreign": foreign}


def _sign_in(client, login_as, world, actor):
    """Sign the actor in; the administrator also chooses our municipality (foundation)."""
    login_as(world["actors"][actor])
    if actor == ADMINISTRATOR:
        with client.session_transaction() as cookie_session:
            cookie_session["municipality_id"] = world["actors"]["coordinator"].municipality_id


def test_every_route_is_classified(app):
    unclassified = {rule.endpoint for rule, _method in _routes(app)
                    if not (set(rule.arguments) & OBJECT_ARGUMENTS)
                    and rule.endpoint not in PUBLIC_OR_OWN and not rule.endpoint.startswith(COORDINATOR_BLUEPRINTS)}
    assert unclassified == set()


@pytest.mark.parametrize("actor", ACTORS + [ADMINISTRATOR])
def test_foreign_objects_are_refused_and_unchanged(app, client, session, world, login_as, actor):
    _sign_in(client, login_as, world, actor)
    before = _snapshot(session)
    checked = 0
    for rule, method in _routes(app):
        if not set(rule.arguments) & OBJECT_ARGUMENTS:
            continue
        if actor == ADMINISTRATOR and rule.endpoint.startswith(ADMINISTRATOR_ONLY):
            continue  # every municipality is the administrator's own (below)
        url = rule.build({name: world["foreign"][name] for name in rule.arguments}, append_unknown=False)[1]
        response = client.open(url, method=method, data={"role": "worker", "name": "x", "member_id": 1})
        assert response.status_code in (403, 404), f"{actor} {method} {url} → {response.status_code}"
        checked += 1
    session.expire_all()
    assert _snapshot(session) == before
    assert checked >= 10


@pytest.mark.parametrize("actor", [role.value for role in TEAM_ROLES])
def test_team_roles_cannot_use_admin_pages(app, client, session, world, login_as, actor):
    login_as(world["actors"][actor])
    before = _snapshot(session)
    ours = world["ours"]
    own_objects = {"team_id": ours.id, "member_id": world["actors"]["worker"].id,
                   "membership_id": active_membership(session, world["actors"]["worker"].id, ours.id).id,
                   "invite_id": world["foreign"]["invite_id"], "card_id": world["foreign"]["card_id"],
                   "batch_id": world["foreign"]["batch_id"],
                   "request_id": world["foreign"]["request_id"],  # year close: 403 before anything is read
                   **{name: world["foreign"][name] for name in (
                       "municipality_id", "district_id", "category_id", "provision_id", "budget_year_id",
                       "flag_id", "rule_id", "scenario_id", "tip_id")}}
    for rule, method in _routes(app):
        if not rule.endpoint.startswith(COORDINATOR_BLUEPRINTS):
            continue
        url = rule.build({name: own_objects[name] for name in rule.arguments}, append_unknown=False)[1]
        response = client.open(url, method=method, data={"role": "worker"})
        assert response.status_code == 403, f"{actor} {method} {url} → {response.status_code}"
    session.expire_all()
    assert _snapshot(session) == before


@pytest.mark.parametrize("actor", [role.value for role in TEAM_ROLES])
def test_members_see_their_own_team(client, world, login_as, actor):
    login_as(world["actors"][actor])
    response = client.get(f"/teams/{world['ours'].id}")
    assert response.status_code == 200
    assert "Team Ons" in response.text and "Team Ander" not in response.text


def test_coordinator_manages_own_municipality_but_is_no_team_member(client, world, login_as):
    login_as(world["actors"]["coordinator"])
    assert client.get("/beheer").status_code == 200
    assert "Team Ons" in client.get("/beheer").text and "Team Ander" not in client.get("/beheer").text
    assert client.get(f"/beheer/teams/{world['ours'].id}").status_code == 200
    assert client.get(f"/teams/{world['ours'].id}").status_code == 404


def test_ended_membership_loses_access(client, session, world, login_as):
    worker = world["actors"]["worker"]
    login_as(worker)
    assert client.get(f"/teams/{world['ours'].id}").status_code == 200
    end_membership(session, active_membership(session, worker.id, world["ours"].id))
    session.commit()
    assert client.get(f"/teams/{world['ours'].id}").status_code == 404


@pytest.mark.parametrize("url", ["/teams/1", "/beheer", "/beheer/teams/1", "/mijn-passkeys", "/teams", "/instellingen"])
def test_anonymous_visitors_are_sent_to_sign_in(client, world, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/inloggen?next=")


def test_anonymous_htmx_request_is_redirected_by_header(client, world):
    response = client.post("/mijn-passkeys/1/naam", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/inloggen")


@pytest.mark.parametrize("actor", [role.value for role in TEAM_ROLES])
def test_another_teams_request_is_not_found_through_my_team(app, client, session, world, login_as, actor):
    login_as(world["actors"][actor])
    before = _snapshot(session)
    for rule, method in _routes(app):
        if "request_id" not in rule.arguments or rule.endpoint.startswith(COORDINATOR_BLUEPRINTS):
            continue  # year close: a coordinator's page is 403 to team roles (test_team_roles_cannot_use_admin_pages)
        url = rule.build({"team_id": world["ours"].id, "request_id": world["foreign"]["request_id"],
                          "receipt_id": world["foreign"]["receipt_id"]}, append_unknown=False)[1]
        response = client.open(url, method=method, data={"choice": "approve", "body": "x", "stop_reason": "x"})
        assert response.status_code == 404, f"{actor} {method} {url} → {response.status_code}"
    session.expire_all()
    assert _snapshot(session) == before


def test_a_member_of_two_teams_switches_between_them(client, session, make_team, make_member, login_as):
    """The team switcher lists the member's active teams (read with the membership check) and marks this one."""
    from models.members import add_membership
    from models.teams import District, Municipality
    oost = make_team("Team Oost")
    west = make_team("Team West", municipality=session.get(Municipality, session.get(District, oost.district_id).municipality_id))
    worker = make_member(oost, "worker", name="Wim")
    add_membership(session, worker, west, "worker")
    session.commit()
    login_as(worker)
    page = client.get(f"/teams/{west.id}").text
    assert "Wissel van team" in page
    assert f'href="/teams/{oost.id}"' in page
    assert re.search(rf'href="/teams/{west.id}"\s+aria-current="page">Team West<', page)
    end_membership(session, active_membership(session, worker.id, oost.id))
    session.commit()
    page = client.get(f"/teams/{west.id}").text
    assert "Wissel van team" not in page and f'href="/teams/{oost.id}"' not in page


def test_only_administrators_reach_the_municipalities(app, client, session, world, login_as):
    """foundation: a coordinator gets 403 on every municipality route, even their own municipality's; an
    administrator reads every municipality's page, and the districts and teams of the chosen one only."""
    own = {"municipality_id": world["actors"]["coordinator"].municipality_id}
    # the open invites on the municipalities' page: one an administrator made for our coordinator
    own["invite_id"] = invite_coordinator(session, world["actors"][ADMINISTRATOR], own["municipality_id"])[0].id
    session.commit()
    login_as(world["actors"]["coordinator"])
    before = _snapshot(session)
    municipality_routes = [(rule, method) for rule, method in _routes(app) if rule.endpoint.startswith(ADMINISTRATOR_ONLY)]
    for rule, method in municipality_routes:
        url = rule.build({name: own[name] for name in rule.arguments}, append_unknown=False)[1]
        response = client.open(url, method=method, data={"name": "x"})
        assert response.status_code == 403, f"coordinator {method} {url} → {response.status_code}"
    session.expire_all()
    assert _snapshot(session) == before
    assert len(municipality_routes) >= 5
    _sign_in(client, login_as, world, ADMINISTRATOR)
    for municipality_id in (own["municipality_id"], world["foreign"]["municipality_id"]):
        assert client.get(f"/beheer/gemeenten/{municipality_id}").status_code == 200
    ours = world["ours"]
    for url in ("/beheer/inrichting", f"/beheer/inrichting/teams/{ours.id}", f"/beheer/inrichting/stadsdelen/{ours.district_id}",
                "/beheer/inrichting/wijzigingen"):
        assert client.get(url).status_code == 200, url
    assert client.post(f"/beheer/gemeenten/uitnodigingen/{own['invite_id']}/intrekken").status_code == 303
    assert session.get(Invite, own["invite_id"]).revoked_at is not None


@pytest.mark.parametrize("actor", ACTORS + [ADMINISTRATOR])
def test_the_setup_changes_are_the_own_municipalitys_for_its_coordinators(client, session, world, login_as, actor):
    """foundation: /beheer/inrichting/wijzigingen shows a coordinator (an administrator: the chosen municipality)
    the changes of their own municipality only; a team role gets 403."""
    from models.audit import record_in_municipality

    ours = world["actors"]["coordinator"].municipality_id
    record_in_municipality(session, municipality_id=ours, action="district_added", name="Ons Noord")
    record_in_municipality(session, municipality_id=world["foreign"]["municipality_id"], action="district_added",
                           name="Ander Noord")
    session.commit()
    _sign_in(client, login_as, world, actor)
    response = client.get("/beheer/inrichting/wijzigingen")
    if actor not in ("coordinator", ADMINISTRATOR):
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert "Ons Noord" in response.text and "Ander Noord" not in response.text


@pytest.mark.parametrize("actor", ACTORS + [ADMINISTRATOR])
def test_another_municipalitys_archived_team_and_district_are_not_restored(app, client, session, world, login_as,
                                                                           actor):
    """foundation: taking an archived team or district into use again (…/terugzetten) is refused to every role
    for another municipality's (403 or 404, as archiving is), the administrator working in ours included."""
    theirs = session.get(Team, world["foreign"]["team_id"])
    district = session.get(District, world["foreign"]["district_id"])
    theirs.archived_at = district.archived_at = utcnow()  # set directly: their open request blocks archive_team
    session.add_all([theirs, district])
    session.commit()
    _sign_in(client, login_as, world, actor)
    before = _snapshot(session)
    restore_routes = [rule for rule, _method in _routes(app)
                      if rule.endpoint.startswith("foundation.") and rule.rule.endswith("/terugzetten")]
    assert {rule.endpoint for rule in restore_routes} == {"foundation.team_restore", "foundation.district_restore"}
    for rule in restore_routes:
        url = rule.build({name: world["foreign"][name] for name in rule.arguments}, append_unknown=False)[1]
        response = client.post(url)
        assert response.status_code in (403, 404), f"{actor} POST {url} → {response.status_code}"
    session.expire_all()
    assert _snapshot(session) == before


@pytest.mark.parametrize("actor", ACTORS + [ADMINISTRATOR])
def test_a_teams_participation_is_for_its_team_leader_and_coordinators(client, world, login_as, actor):
    """Reports: the team leader of the team and the municipality's coordinators (administrators in it);
    any other role of the team 403; another municipality's team 404 (test_foreign_objects_are_refused…)."""
    _sign_in(client, login_as, world, actor)
    expected = 200 if actor in ("team_leader", "coordinator", ADMINISTRATOR) else 403
    ours = world["ours"].id
    for url in (f"/teams/{ours}/deelname", f"/teams/{ours}/rapportage", f"/teams/{ours}/rapportage/grafiek.svg",
                f"/teams/{ours}/rapportage/rapportage.csv", f"/teams/{ours}/rapportage/rapportage.xlsx"):
        assert client.get(url).status_code == expected, (actor, url)  # reports: a team's own report alike



@pytest.mark.parametrize("actor", ACTORS + [ADMINISTRATOR])
def test_the_policy_signals_are_for_the_municipalitys_coordinators(client, world, login_as, actor):
    """Policy signals: the page and the lists behind it for coordinators (administrators in the municipality they
    chose); every team role 403 (a list of fewer than 5 requests is refused to them too: tests/http/test_policy_signals.py)."""
    _sign_in(client, login_as, world, actor)
    expected = 200 if actor in ("coordinator", ADMINISTRATOR) else 403
    assert client.get("/beheer/signalen").status_code == expected, actor
    assert client.get("/beheer/signalen/aanvragen?soort=notities").status_code == 403, actor


def test_an_asked_expert_of_another_team_reads_that_request_only(app, client, session, world, make_team,
                                                                  make_member, login_as):
    """Ask an expert: a member of another team of our municipality, asked about our request, reads its page and
    its live part and may comment (tests/http/test_experts.py); every other route of the request stays 404,
    and our team's other requests too. Another municipality's member is never listed or asked."""
    from models.experts import ask_expert, list_topic
    from models.teams import District, Municipality

    ours = world["ours"]
    west = make_team("Team West", municipality=session.get(Municipality, session.get(District, ours.district_id).municipality_id))
    expert = make_member(west, "worker", name="Eva")
    list_topic(session, expert, "schuldhulp")
    worker, voter = world["actors"]["worker"], world["actors"]["income_consultant"]
    asked, other = (SpendRequest(team_id=ours.id, requester_id=worker.id, amount_cents=5_000, situation="Ons team",
                                 prevents="p", status="open", posted_at=utcnow()) for _ in range(2))
    session.add_all([asked, other])
    session.flush()
    ask_expert(session, asked, active_membership(session, voter.id, ours.id), expert.id, "schuldhulp")
    session.commit()
    login_as(expert)
    reads = {"requests.show": 200, "requests.live": 200, "requests.comment": 303}
    for rule, method in _routes(app):
        if "request_id" not in rule.arguments or rule.endpoint.startswith(COORDINATOR_BLUEPRINTS):
            continue
        for spend_request in (asked, other):
            url = rule.build({"team_id": ours.id, "request_id": spend_request.id,
                              "receipt_id": world["foreign"]["receipt_id"]}, append_unknown=False)[1]
            response = client.open(url, method=method, data={"choice": "approve", "body": "Vraag de schuldhulp.",
                                                            "stop_reason": "x", "expert_id": expert.id})
            expected = reads.get(rule.endpoint, 404) if spend_request is asked else 404
            assert response.status_code == expected, f"{method} {url} → {response.status_code}"
