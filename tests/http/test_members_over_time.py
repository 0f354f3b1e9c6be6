"""Members over time (issue 11 §7) and team composition (§6) through the coordinator's pages: deactivating,
moving, searching and paging the member lists, and the warnings about a team's composition."""
import re

import pytest
from sqlalchemy import event
from sqlmodel import func, select

from models.invites import Invite, invite_recovery
from models.members import Member, Membership, active_membership, create_member
from models.passkeys import Passkey, active_passkeys
from models.sign_in import start_login_session
from models.teams import District, Municipality
from tests.unit.test_decision_rules import World


def _sign_in(client, session, member):
    """Sign `member` in on this client (as the login_as fixture does, for a second browser)."""
    login = start_login_session(session, member.id)
    session.commit()
    with client.session_transaction() as cookie_session:
        cookie_session.update({"_user_id": str(member.id), "_fresh": True, "login_key": login.key})


def _municipality(session, team):
    return session.get(Municipality, session.get(District, team.district_id).municipality_id)


@pytest.fixture
def world(session, make_team, make_member):
    """Team Oost deciding with quorum 3 (tests/unit/test_decision_rules.py), Team West beside it, a coordinator."""
    decisions = World(session, make_team, make_member)
    east = decisions.team("Team Oost")
    west = make_team("Team West", municipality=_municipality(session, east))
    coordinator = make_member(east, "coordinator", name="Cora")
    return decisions, east, west, coordinator


# --- deactivating ----------------------------------------------------------------------------------------------

def test_deactivated_member_is_out_on_the_next_request_and_keeps_their_name(app, client, session, world, login_as):
    decisions, east, _west, coordinator = world
    leaver = decisions.members[(east.id, "w1")]
    request = decisions.open(east, 10_000)
    decisions.vote(east, request, "w1")
    session.add(Passkey(member_id=leaver.id, credential_id=b"leaver", public_key=b"key", name="Telefoon"))
    session.commit()
    leavers_phone, colleagues_phone = app.test_client(), app.test_client()
    _sign_in(leavers_phone, session, leaver)
    _sign_in(colleagues_phone, session, decisions.members[(east.id, "w2")])
    assert leavers_phone.get(f"/teams/{east.id}").status_code == 200

    login_as(coordinator)
    response = client.post(f"/beheer/leden/{leaver.id}/deactiveren")
    assert response.status_code == 303 and response.headers["Location"] == "/beheer/leden"

    response = leavers_phone.get(f"/teams/{east.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/inloggen")
    session.expire_all()
    assert active_passkeys(session, leaver.id) == []
    assert active_membership(session, leaver.id, east.id) is None
    page = colleagues_phone.get(f"/teams/{east.id}/aanvragen/{request.id}").text
    assert "w1 Team Oost" in page  # their vote, with their name, stays on the request's page
    listing = client.get("/beheer/leden", query_string={"zoek": "w1"}).text
    assert "gedeactiveerd" in listing and "Weer actief maken met een herstellink" in listing


def test_deactivated_member_is_not_offered_to_add_and_cannot_be_added(client, session, world, login_as):
    decisions, east, west, coordinator = world
    leaver = decisions.members[(east.id, "w1")]
    login_as(coordinator)
    offered = f'<option value="{leaver.id}"'
    assert offered in client.get(f"/beheer/teams/{west.id}", query_string={"zoek": "w1"}).text
    client.post(f"/beheer/leden/{leaver.id}/deactiveren")
    page = client.get(f"/beheer/teams/{west.id}", query_string={"zoek": "w1"}).text
    assert offered not in page and "Niemand gevonden" in page
    response = client.post(f"/beheer/teams/{west.id}/leden", data={"member_id": leaver.id, "role": "worker"})
    assert response.status_code == 422 and 'id="add-member-error"' in response.text and "gedeactiveerd" in response.text
    assert active_membership(session, leaver.id, west.id) is None


def test_nobody_deactivates_themselves_and_twice_is_refused(client, session, world, login_as):
    decisions, east, _west, coordinator = world
    login_as(coordinator)
    response = client.post(f"/beheer/leden/{coordinator.id}/deactiveren")
    assert response.status_code == 422 and f'id="member-{coordinator.id}-error"' in response.text
    assert "Je kunt jezelf niet deactiveren." in response.text
    leaver = decisions.members[(east.id, "w1")]
    assert client.post(f"/beheer/leden/{leaver.id}/deactiveren").status_code == 303
    response = client.post(f"/beheer/leden/{leaver.id}/deactiveren", data={"zoek": "w1"})
    assert response.status_code == 422 and "al gedeactiveerd" in response.text
    session.expire_all()
    assert session.get(Member, coordinator.id).deactivated_at is None


def test_recovery_invite_reactivates_without_a_team(client, session, world, login_as):
    decisions, east, west, coordinator = world
    leaver = decisions.members[(east.id, "w1")]
    open_invite, _token = invite_recovery(session, coordinator, leaver)
    session.commit()
    login_as(coordinator)
    client.post(f"/beheer/leden/{leaver.id}/deactiveren")
    session.expire_all()
    assert session.get(Invite, open_invite.id).revoked_at is not None  # the invite made before is void
    response = client.post(f"/beheer/leden/{leaver.id}/herstel")
    assert response.status_code == 200 and "Herstellink voor w1 Team Oost" in response.text
    session.expire_all()
    assert session.get(Member, leaver.id).deactivated_at is None
    assert active_membership(session, leaver.id, east.id) is None  # the coordinator adds them where they belong
    assert client.post(f"/beheer/teams/{west.id}/leden", data={"member_id": leaver.id, "role": "worker"}).status_code == 303


# --- moving ------------------------------------------------------------------------------------------------------

def test_move_a_member_to_another_team_keeping_the_role(client, session, world, login_as):
    decisions, east, west, coordinator = world
    mover = decisions.members[(east.id, "ic")]
    membership = active_membership(session, mover.id, east.id)
    login_as(coordinator)
    assert "Naar een ander team" in client.get(f"/beheer/teams/{east.id}").text
    response = client.post(f"/beheer/teams/{east.id}/leden/{membership.id}/verhuizen", data={"to_team_id": west.id})
    assert response.status_code == 303 and response.headers["Location"] == f"/beheer/teams/{east.id}"
    assert active_membership(session, mover.id, east.id) is None
    assert active_membership(session, mover.id, west.id).role == "income_consultant"
    assert "zit nu in Team West" in client.get(f"/beheer/teams/{east.id}").text


def test_move_with_a_chosen_role_and_the_votes_stay_where_they_were_cast(client, session, world, login_as):
    decisions, east, west, coordinator = world
    request = decisions.open(east, 10_000)
    decisions.vote(east, request, "w1")
    decisions.vote(east, request, "w2")
    mover = decisions.members[(east.id, "w1")]
    login_as(coordinator)
    response = client.post(f"/beheer/teams/{east.id}/leden/{decisions.membership(east, 'w1').id}/verhuizen",
                           data={"to_team_id": west.id, "role": "programme_manager"})
    assert response.status_code == 303
    assert active_membership(session, mover.id, west.id).role == "programme_manager"
    decisions.vote(east, request, "w3")
    assert request.status == "open"  # w1's approval is still on the request but counts no longer
    decisions.vote(east, request, "w4")
    assert request.status == "granted"


@pytest.mark.parametrize("form, message", [
    ({}, "Kies een ander team."),
    ({"to_team_id": "x"}, "Kies een ander team."),
    ({"to_team_id": "99999"}, "Kies een ander team."),
    ({"to_team_id": "{east}"}, "Kies een ander team."),
    ({"to_team_id": "{west}", "role": "coordinator"}, "Kies een rol in het team."),
])
def test_move_refusals_stand_beside_the_member(client, session, world, login_as, form, message):
    decisions, east, west, coordinator = world
    membership = decisions.membership(east, "w1")
    data = {name: value.format(east=east.id, west=west.id) for name, value in form.items()}
    login_as(coordinator)
    response = client.post(f"/beheer/teams/{east.id}/leden/{membership.id}/verhuizen", data=data)
    assert response.status_code == 422 and message in response.text
    assert f'id="move_{membership.id}-error"' in response.text and "<details class=\"move-member\" open" in response.text
    assert decisions.membership(east, "w1") is not None and active_membership(session, membership.member_id, west.id) is None


def test_move_to_a_team_of_another_municipality_is_refused(client, session, world, make_team, login_as):
    decisions, east, _west, coordinator = world
    elsewhere = make_team("Team Elders")
    membership = decisions.membership(east, "w1")
    login_as(coordinator)
    response = client.post(f"/beheer/teams/{east.id}/leden/{membership.id}/verhuizen", data={"to_team_id": elsewhere.id})
    assert response.status_code == 422 and "Team Elders" not in response.text


# --- searching and paging ----------------------------------------------------------------------------------------

@pytest.fixture
def crowd(session, make_team, make_member):
    """A municipality with 120 members called Lid 001 … Lid 120, and its coordinator."""
    team = make_team("Team Groot")
    municipality_id = _municipality(session, team).id
    for number in range(1, 121):
        create_member(session, municipality_id=municipality_id, display_name=f"Lid {number:03d}")
    session.commit()
    return team, make_member(team, "coordinator", name="Cora")


def _names(html):
    """The members listed: the titles of the member list, the choices of the team page's add form."""
    return re.findall(r'(?:class="card__title">|<option value="\d+"(?: selected)?>)\s*(Lid \d{3})', html)


def test_member_list_pages_50_at_a_time(client, crowd, login_as):
    _team, coordinator = crowd
    login_as(coordinator)
    first = client.get("/beheer/leden", query_string={"zoek": "lid"}).text
    assert len(_names(first)) == 50 and "1–50 van 120" in first
    assert 'rel="next" href="/beheer/leden?zoek=lid&amp;pagina=2"' in first and 'rel="prev"' not in first
    third = client.get("/beheer/leden", query_string={"zoek": "lid", "pagina": "3"}).text
    assert _names(third) == [f"Lid {n:03d}" for n in range(101, 121)] and "101–120 van 120" in third
    assert 'rel="prev" href="/beheer/leden?zoek=lid&amp;pagina=2"' in third and 'rel="next"' not in third
    assert "Pagina 3 van 3" in third
    for beyond in ["4", "99999999999999999999", "-1", "0", "x"]:
        response = client.get("/beheer/leden", query_string={"zoek": "lid", "pagina": beyond})
        assert response.status_code == 200 and len(_names(response.text)) in (20, 50)


@pytest.mark.parametrize("query", ["%", "_", "%%%", "\\", "Lid_", "x" * 100_000, "a\x00b", "\x1b[31m",
                                   "' OR 1=1 --", "<script>alert(1)</script>", "😀" * 500, "\u202e"])
def test_hostile_searches_find_nobody_and_never_fail(client, crowd, login_as, query):
    team, coordinator = crowd
    login_as(coordinator)
    for url in ["/beheer/leden", f"/beheer/teams/{team.id}"]:
        response = client.get(url, query_string={"zoek": query})
        assert response.status_code == 200 and _names(response.text) == [], url
        assert "<script>alert" not in response.text


@pytest.mark.parametrize("query, everyone", [("%00", True), ("%01%02%7F", True), ("+%09+", True),
                                             ("%ED%A0%80", False), ("%FF%FE", False)])  # invalid UTF-8: "\ufffd"
def test_control_characters_are_dropped_and_invalid_bytes_find_nobody(client, crowd, login_as, query, everyone):
    team, coordinator = crowd
    login_as(coordinator)
    listing = client.get(f"/beheer/leden?zoek={query}")
    assert listing.status_code == 200 and ("1–50 van 121" in listing.text) == everyone  # the coordinator too
    assert len(_names(client.get(f"/beheer/teams/{team.id}?zoek={query}").text)) == (20 if everyone else 0)


def test_search_is_case_insensitive_and_finds_a_part_of_the_name(client, crowd, login_as):
    _team, coordinator = crowd
    login_as(coordinator)
    assert _names(client.get("/beheer/leden", query_string={"zoek": "LID 11"}).text) == [
        f"Lid {n}" for n in range(110, 120)]
    page = client.get("/beheer/leden", query_string={"zoek": "d 0"}).text
    assert _names(page)[-1] == "Lid 050" and "1–50 van 99" in page


def test_add_member_offers_at_most_20_and_htmx_gets_only_that_part(client, crowd, login_as):
    team, coordinator = crowd
    login_as(coordinator)
    page = client.get(f"/beheer/teams/{team.id}").text
    assert len(_names(page)) == 20 and "20 van 120 gevonden" in page
    part = client.get(f"/beheer/teams/{team.id}", query_string={"zoek": "12"},
                      headers={"HX-Request": "true", "HX-Request-Type": "partial"}).text
    assert part.lstrip().startswith('<div id="add-member-choice">') and "<h1" not in part
    assert _names(part) == ["Lid 012", "Lid 112", "Lid 120"]


def test_searched_member_is_added(client, session, crowd, login_as):
    team, coordinator = crowd
    login_as(coordinator)
    lid = session.exec(select(Member).where(Member.display_name == "Lid 077")).one()
    page = client.get(f"/beheer/teams/{team.id}", query_string={"zoek": "077"}).text
    assert re.search(rf'<option value="{lid.id}" selected>\s*Lid 077', page)  # the one match is chosen already
    response = client.post(f"/beheer/teams/{team.id}/leden", data={"member_id": lid.id, "role": "worker", "zoek": "077"})
    assert response.status_code == 303 and active_membership(session, lid.id, team.id).role == "worker"


def test_member_list_reads_a_constant_number_of_queries(app, client, crowd, login_as):
    """Teams and passkeys of a page of members come in one query each, not one per member."""
    team, coordinator = crowd
    login_as(coordinator)
    seen = []
    listener = lambda *_args: seen.append(1)  # noqa: E731
    event.listen(app.extensions["engine"], "before_cursor_execute", listener)
    client.get("/beheer/leden")
    event.remove(app.extensions["engine"], "before_cursor_execute", listener)
    assert len(seen) < 15


# --- team composition ----------------------------------------------------------------------------------------------

def test_team_page_and_team_home_warn_about_the_composition(client, session, make_team, make_member, login_as):
    team = make_team("Team Klein")
    worker = make_member(team, "worker", name="Wim")
    make_member(team, "team_leader", name="Tessa")
    login_as(make_member(team, "coordinator", name="Cora"))
    page = client.get(f"/beheer/teams/{team.id}").text
    assert "Er zit geen inkomensconsulent in het team" in page
    assert "Er is 1 lid dat mag stemmen; er zijn er minstens 4 nodig" in page
    login_as(worker)
    home = client.get(f"/teams/{team.id}").text
    assert "Er zit geen inkomensconsulent in dit team" in home and "In dit team mag 1 lid stemmen" in home


def test_a_complete_team_is_not_warned(client, session, make_team, make_member, login_as):
    team = make_team("Team Compleet")
    worker = make_member(team, "income_consultant", name="Ine")
    for name in ["A", "B", "C"]:
        make_member(team, "worker", name=name)
    login_as(make_member(team, "coordinator", name="Cora"))
    assert "samenstelling" not in client.get(f"/beheer/teams/{team.id}").text
    login_as(worker)
    assert "samenstelling" not in client.get(f"/teams/{team.id}").text


def test_a_team_of_16_is_told_it_is_large(client, session, make_team, make_member, login_as):
    team = make_team("Team Groot")
    consultant = make_member(team, "income_consultant", name="Ine")
    for number in range(15):
        make_member(team, "worker", name=f"W{number}")
    login_as(consultant)
    assert "Dit team heeft 16 leden" in client.get(f"/teams/{team.id}").text


def test_team_home_queries_do_not_grow_with_the_team(app, client, session, make_team, make_member, login_as):
    team = make_team("Team Oost")
    consultant = make_member(team, "income_consultant", name="Ine")
    login_as(consultant)
    counts = []
    for extra in (0, 12):
        for number in range(extra):
            make_member(team, "worker", name=f"W{extra}-{number}")
        seen = []
        listener = lambda *_args: seen.append(1)  # noqa: E731
        event.listen(app.extensions["engine"], "before_cursor_execute", listener)
        assert client.get(f"/teams/{team.id}").status_code == 200
        event.remove(app.extensions["engine"], "before_cursor_execute", listener)
        counts.append(len(seen))
    assert counts[0] == counts[1]


def test_programme_manager_can_be_invited_and_given_the_role(client, session, make_team, make_member, login_as):
    team = make_team()
    worker = make_member(team, "worker")
    login_as(make_member(team, "coordinator"))
    page = client.get(f"/beheer/teams/{team.id}").text
    assert '<option value="programme_manager">Programmamanager</option>' in page
    response = client.post(f"/beheer/teams/{team.id}/uitnodigen", data={"role": "programme_manager"})
    assert response.status_code == 200 and "als Programmamanager" in response.text
    membership = active_membership(session, worker.id, team.id)
    assert client.post(f"/beheer/teams/{team.id}/leden/{membership.id}/rol",
                       data={"role": "programme_manager"}).status_code == 303
    session.expire_all()
    assert session.get(Membership, membership.id).role == "programme_manager"
    assert session.exec(select(func.count(Invite.id)).where(Invite.role == "programme_manager")).one() == 1
