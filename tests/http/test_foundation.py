"""Administrators (foundation staff), their municipalities, and each municipality's districts and teams."""
import re

import pytest
from sqlmodel import func, select

from models.invites import Invite, hash_token, invite_administrator, redeem_invite
from models.members import Member, new_user_handle
from models.requests import RequestStatus, SpendRequest
from models.teams import District, Municipality, Team, municipality_of_team

IBAN = "NL91ABNA0417164300"


def _token_from(html):
    return re.search(r"/uitnodiging/([A-Za-z0-9_-]+)", html).group(1)


def _error_beside(html, field):
    """The message shown beside the field whose id is `field`, or None."""
    found = re.search(rf'<p class="field__error" id="{field}-error">([^<]*)</p>', html)
    return found and found.group(1)


@pytest.fixture
def make_administrator(session):
    """An administrator, made as `flask --app web invite-administrator` and the invite page make one."""
    def factory(name="Bea Beheerder"):
        invite, _token = invite_administrator(session, None)
        administrator = redeem_invite(session, invite, display_name=name, user_handle=new_user_handle())
        session.commit()
        return administrator
    return factory


@pytest.fixture
def two_municipalities(make_team, make_member):
    """Our team with a coordinator and a worker, and another municipality's team."""
    ours = make_team("Team Ons")
    return {"ours": ours, "theirs": make_team("Team Ander"), "coordinator": make_member(ours, "coordinator"),
            "worker": make_member(ours, "worker")}


def _choose(client, session, team):
    municipality_id = municipality_of_team(session, team).id
    response = client.post(f"/beheer/gemeenten/{municipality_id}/kiezen")
    assert response.status_code == 303 and response.headers["Location"] == "/beheer"
    return municipality_id


def test_cli_prints_a_one_time_administrator_invite(app, client, session):
    output = app.test_cli_runner().invoke(args=["invite-administrator", "Bea Beheerder"]).output
    assert "Bea Beheerder" in output and output.count("/uitnodiging/") == 1
    token = _token_from(output)
    invite = session.exec(select(Invite).where(Invite.token_hash == hash_token(token))).one()
    assert (invite.kind, invite.role, invite.municipality_id, invite.team_id, invite.created_by_id) == (
        "join", "administrator", None, None, None)
    page = client.get(f"/uitnodiging/{token}")
    assert page.status_code == 200
    assert "om het beheer te doen" in page.text and "Je naam voor het team" not in page.text  # no team to name
    administrator = redeem_invite(session, invite, display_name="Bea", user_handle=new_user_handle())
    session.commit()
    assert administrator.is_administrator and administrator.municipality_id is None


def test_administrator_chooses_a_municipality_first(client, session, two_municipalities, make_administrator,
                                                    login_as):
    login_as(make_administrator())
    assert client.get("/").headers["Location"] == "/beheer/gemeenten"
    for url in ["/beheer", "/beheer/kaarten", "/beheer/leden", "/beheer/inrichting"]:
        response = client.get(url)
        assert response.status_code == 303 and response.headers["Location"] == "/beheer/gemeenten", url
    page = client.get("/beheer/gemeenten").text
    assert "Gemeente Team Ons" in page and "Gemeente Team Ander" in page
    assert 'href="/beheer"' in page  # the layout's "Beheer" link


def test_administrator_works_in_the_chosen_municipality_only(client, session, two_municipalities,
                                                           make_administrator, login_as):
    ours, theirs = two_municipalities["ours"], two_municipalities["theirs"]
    login_as(make_administrator())
    _choose(client, session, ours)
    assert client.get("/").headers["Location"] == "/beheer"
    overview = client.get("/beheer").text
    assert "Team Ons" in overview and "Team Ander" not in overview
    assert "je werkt in Gemeente Team Ons" in overview
    for url in ["/beheer/kaarten", "/beheer/leden", "/beheer/inrichting", f"/beheer/teams/{ours.id}",
                f"/beheer/teams/{ours.id}/instellingen", f"/beheer/inrichting/teams/{ours.id}",
                f"/beheer/inrichting/stadsdelen/{ours.district_id}"]:
        assert client.get(url).status_code == 200, url
    for url in [f"/beheer/teams/{theirs.id}", f"/beheer/teams/{theirs.id}/instellingen",
                f"/beheer/inrichting/teams/{theirs.id}", f"/beheer/inrichting/stadsdelen/{theirs.district_id}"]:
        assert client.get(url).status_code == 404, url
    # the coordinator's verbs take the administrator as coordinator of the chosen municipality
    response = client.post(f"/beheer/teams/{ours.id}/uitnodigen", data={"role": "worker"})
    assert response.status_code == 200 and "<svg" in response.text
    response = client.post("/beheer/coordinatoren/uitnodigen")
    assert response.status_code == 200
    invite = session.exec(select(Invite).where(Invite.token_hash == hash_token(_token_from(response.text)))).one()
    assert (invite.role, invite.municipality_id) == ("coordinator", municipality_of_team(session, ours).id)
    # another choice: the other municipality's objects now, ours 404
    _choose(client, session, theirs)
    assert client.get(f"/beheer/teams/{theirs.id}").status_code == 200
    assert client.get(f"/beheer/teams/{ours.id}").status_code == 404


def test_a_chosen_municipality_that_is_gone_asks_again(client, make_administrator, login_as):
    login_as(make_administrator())
    with client.session_transaction() as cookie_session:
        cookie_session["municipality_id"] = 999_999
    assert client.get("/beheer").headers["Location"] == "/beheer/gemeenten"
    with client.session_transaction() as cookie_session:
        cookie_session["municipality_id"] = "x' OR 1=1"
    assert client.get("/beheer").headers["Location"] == "/beheer/gemeenten"


@pytest.mark.parametrize("who", ["coordinator", "worker"])
def test_only_administrators_see_the_municipalities(client, session, two_municipalities, login_as, who):
    login_as(two_municipalities[who])
    own = municipality_of_team(session, two_municipalities["ours"]).id
    before = session.exec(select(func.count(Municipality.id))).one()
    assert client.get("/beheer/gemeenten").status_code == 403
    assert client.get(f"/beheer/gemeenten/{own}").status_code == 403
    assert client.post("/beheer/gemeenten", data={"name": "Gemeente Nieuw"}).status_code == 403
    assert client.post(f"/beheer/gemeenten/{own}/naam", data={"name": "Anders"}).status_code == 403
    assert client.post(f"/beheer/gemeenten/{own}/coordinator").status_code == 403
    assert client.post("/beheer/gemeenten/beheerders/uitnodigen").status_code == 403
    assert session.exec(select(func.count(Municipality.id))).one() == before
    assert session.exec(select(func.count(Invite.id))).one() == 0


def test_administrator_creates_a_municipality_and_invites_its_first_coordinator(client, session,
                                                                                make_administrator, login_as):
    login_as(make_administrator())
    response = client.post("/beheer/gemeenten", data={"name": "  Gemeente   Nieuwdam "})
    municipality = session.exec(select(Municipality).where(Municipality.name == "Gemeente Nieuwdam")).one()
    assert response.status_code == 303 and response.headers["Location"] == f"/beheer/gemeenten/{municipality.id}"
    page = client.get(f"/beheer/gemeenten/{municipality.id}").text
    assert "nog geen coördinator" in page
    response = client.post(f"/beheer/gemeenten/{municipality.id}/coordinator")
    assert response.status_code == 200 and "<svg" in response.text and "Voor een nieuwe coördinator." in response.text
    invite = session.exec(select(Invite).where(Invite.token_hash == hash_token(_token_from(response.text)))).one()
    assert (invite.role, invite.municipality_id, invite.team_id) == ("coordinator", municipality.id, None)
    coordinator = redeem_invite(session, invite, display_name="Cora", user_handle=new_user_handle())
    session.commit()
    assert coordinator.is_coordinator and coordinator.municipality_id == municipality.id
    assert "Cora" in client.get(f"/beheer/gemeenten/{municipality.id}").text
    # inviting the coordinator also chose the municipality to work in
    assert "Gemeente Nieuwdam" in client.get("/beheer").text
    response = client.post(f"/beheer/gemeenten/{municipality.id}/naam", data={"name": "Gemeente Oudedam"})
    assert response.status_code == 303
    session.refresh(municipality)
    assert municipality.name == "Gemeente Oudedam"


@pytest.mark.parametrize("name, message", [
    ("", "Vul een naam in."), ("x" * 101, "Gebruik hoogstens 100 tekens."), ("Gemeente\x1bX", None),
    ("\u202eGemeente", "Gebruik alleen letters, cijfers en leestekens."),
    ("gemeente team ons", "Er is al een gemeente met deze naam.")])
def test_a_bad_municipality_name_is_refused_beside_the_field(client, session, two_municipalities,
                                                             make_administrator, login_as, name, message):
    login_as(make_administrator())
    before = session.exec(select(func.count(Municipality.id))).one()
    response = client.post("/beheer/gemeenten", data={"name": name})
    if message is None:  # the app removes control characters from every form field (web/bounds.py)
        assert response.status_code == 303
        assert session.exec(select(Municipality).where(Municipality.name == "GemeenteX")).one()
        return
    assert response.status_code == 422 and _error_beside(response.text, "municipality_name") == message
    assert session.exec(select(func.count(Municipality.id))).one() == before
    own = municipality_of_team(session, two_municipalities["theirs"])
    response = client.post(f"/beheer/gemeenten/{own.id}/naam", data={"name": name})
    assert response.status_code == 422 and _error_beside(response.text, "name") == message
    session.refresh(own)
    assert own.name == "Gemeente Team Ander"


def test_administrator_invites_another_administrator(client, session, make_administrator, login_as):
    login_as(make_administrator())
    response = client.post("/beheer/gemeenten/beheerders/uitnodigen")
    assert response.status_code == 200 and "Voor een nieuwe beheerder." in response.text
    invite = session.exec(select(Invite).where(Invite.token_hash == hash_token(_token_from(response.text)))).one()
    assert (invite.role, invite.municipality_id) == ("administrator", None)


def test_coordinator_adds_renames_and_archives_districts(client, session, two_municipalities, login_as):
    login_as(two_municipalities["coordinator"])
    municipality_id = municipality_of_team(session, two_municipalities["ours"]).id
    assert client.post("/beheer/inrichting/stadsdelen", data={"name": "Centrum"}).status_code == 303
    centrum = session.exec(select(District).where(District.name == "Centrum")).one()
    assert centrum.municipality_id == municipality_id
    response = client.post("/beheer/inrichting/stadsdelen", data={"name": "centrum"})
    assert response.status_code == 422
    assert _error_beside(response.text, "district_name") == "Deze gemeente heeft al een stadsdeel met deze naam."
    assert 'value="centrum"' in response.text  # what was typed stays
    response = client.post(f"/beheer/inrichting/stadsdelen/{centrum.id}/naam", data={"name": " "})
    assert response.status_code == 422 and _error_beside(response.text, "name") == "Vul een naam in."
    assert client.post(f"/beheer/inrichting/stadsdelen/{centrum.id}/naam", data={"name": "Oud-Centrum"}).status_code == 303
    response = client.post(f"/beheer/inrichting/stadsdelen/{two_municipalities['ours'].district_id}/archiveren")
    assert response.status_code == 422 and "actieve teams" in response.text
    assert client.post(f"/beheer/inrichting/stadsdelen/{centrum.id}/archiveren").status_code == 303
    session.refresh(centrum)
    assert centrum.name == "Oud-Centrum" and centrum.archived_at is not None
    assert session.exec(select(func.count(District.id)).where(District.municipality_id == municipality_id)).one() == 2
    # an archived district offers no place for a new team
    response = client.post("/beheer/inrichting/teams", data={"name": "T", "district_id": centrum.id, "iban": IBAN})
    assert response.status_code == 422 and _error_beside(response.text, "team_district_id") == "Kies een stadsdeel."


def test_the_setup_changes_page_shows_who_changed_what_newest_first(client, session, two_municipalities, login_as,
                                                                    make_administrator):
    """The district's and the municipality's changes are recorded with the coordinator or administrator who made
    them, and /beheer/inrichting/wijzigingen lists them newest first, linked from the setup page."""
    coordinator = two_municipalities["coordinator"]
    login_as(coordinator)
    assert "/beheer/inrichting/wijzigingen" in client.get("/beheer/inrichting").text
    assert client.post("/beheer/inrichting/stadsdelen", data={"name": "Centrum"}).status_code == 303
    centrum = session.exec(select(District).where(District.name == "Centrum")).one()
    assert client.post(f"/beheer/inrichting/stadsdelen/{centrum.id}/naam", data={"name": "Oud-Centrum"}).status_code == 303
    administrator = make_administrator()
    login_as(administrator)
    municipality_id = _choose(client, session, two_municipalities["ours"])
    assert client.post(f"/beheer/gemeenten/{municipality_id}/naam", data={"name": "Gemeente Nieuw"}).status_code == 303
    page = client.get("/beheer/inrichting/wijzigingen").text
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)[1:]  # after the head
    assert len(rows) == 3
    assert "Bea Beheerder" in rows[0] and "naam van de gemeente gewijzigd" in rows[0] and "Gemeente Nieuw" in rows[0]
    assert coordinator.display_name in rows[1] and "stadsdeel hernoemd" in rows[1]
    assert "naam: Centrum → Oud-Centrum" in rows[1]
    assert coordinator.display_name in rows[2] and "stadsdeel toegevoegd" in rows[2] and "Centrum" in rows[2]


def _team_named(session, name):
    return session.exec(select(Team).where(Team.name == name)).first()


@pytest.mark.parametrize("values, field, message", [
    ({"iban": "NL92ABNA0417164300"}, "team_iban", "Het controlegetal van dit IBAN klopt niet."),
    ({"iban": ""}, "team_iban", "Vul het IBAN van de teamrekening in."),
    ({"iban": "NL91ABNA04171643"}, "team_iban", "Dit IBAN heeft niet het juiste aantal tekens voor zijn land."),
    ({"iban": "<script>"}, "team_iban", "Dit is geen geldig IBAN."),
    ({"name": ""}, "team_name", "Vul een naam in."),
    ({"name": "team ons"}, "team_name", "Deze gemeente heeft al een team met deze naam."),
    ({"name": "😀" * 101}, "team_name", "Gebruik hoogstens 100 tekens."),
    ({"district_id": ""}, "team_district_id", "Kies een stadsdeel."),
    ({"district_id": "99999999999999999999"}, "team_district_id", "Kies een stadsdeel.")])
def test_a_bad_team_is_refused_beside_the_field(client, session, two_municipalities, login_as, values, field, message):
    login_as(two_municipalities["coordinator"])
    posted = {"name": "Team Nieuw", "district_id": two_municipalities["ours"].district_id, "iban": IBAN, **values}
    response = client.post("/beheer/inrichting/teams", data=posted)
    assert response.status_code == 422 and _error_beside(response.text, field).startswith(message)
    assert f'id="{field}"' in response.text and 'aria-invalid="true"' in response.text
    assert session.exec(select(func.count(Team.id))).one() == 2


def test_another_municipalitys_district_is_no_choice(client, session, two_municipalities, login_as):
    login_as(two_municipalities["coordinator"])
    response = client.post("/beheer/inrichting/teams", data={
        "name": "Team Nieuw", "district_id": two_municipalities["theirs"].district_id, "iban": IBAN})
    assert response.status_code == 422 and _error_beside(response.text, "team_district_id") == "Kies een stadsdeel."
    assert _team_named(session, "Team Nieuw") is None


def test_coordinator_creates_edits_and_archives_a_team(client, session, two_municipalities, login_as):
    ours = two_municipalities["ours"]
    login_as(two_municipalities["coordinator"])
    response = client.post("/beheer/inrichting/teams", data={
        "name": "Team Nieuw", "district_id": ours.district_id, "iban": "nl91 abna 0417 1643 00"})
    team = _team_named(session, "Team Nieuw")
    assert response.status_code == 303 and response.headers["Location"] == f"/beheer/teams/{team.id}"
    assert team.iban == IBAN and team.quorum == 3
    assert "NL91 ABNA 0417 1643 00" in client.get("/beheer/inrichting").text
    assert 'value="NL91 ABNA 0417 1643 00"' in client.get(f"/beheer/inrichting/teams/{team.id}").text

    response = client.post(f"/beheer/inrichting/teams/{team.id}", data={
        "name": "Team Nieuw", "district_id": ours.district_id, "iban": "NL91ABNA0417164301"})
    assert response.status_code == 422 and _error_beside(response.text, "iban").startswith("Het controlegetal")
    response = client.post(f"/beheer/inrichting/teams/{team.id}", data={
        "name": "Team Hernoemd", "district_id": ours.district_id, "iban": "NL20INGB0001234567"})
    assert response.status_code == 303
    session.refresh(team)
    assert (team.name, team.iban) == ("Team Hernoemd", "NL20INGB0001234567")

    assert "Team Hernoemd" in client.get("/beheer").text
    assert client.post(f"/beheer/inrichting/teams/{team.id}/archiveren").status_code == 303
    session.refresh(team)
    assert team.archived_at is not None
    assert "Team Hernoemd is gearchiveerd." in client.get("/beheer/inrichting").text
    assert "Team Hernoemd" not in client.get("/beheer").text  # it leaves the overview
    assert "Gearchiveerd op" in client.get(f"/beheer/inrichting/teams/{team.id}").text  # history stays reachable


def test_a_team_with_an_open_request_is_not_archived(client, session, two_municipalities, login_as):
    ours, worker = two_municipalities["ours"], two_municipalities["worker"]
    session.add(SpendRequest(team_id=ours.id, requester_id=worker.id, status=RequestStatus.OPEN, amount_cents=100))
    session.commit()
    login_as(two_municipalities["coordinator"])
    response = client.post(f"/beheer/inrichting/teams/{ours.id}/archiveren")
    assert response.status_code == 422 and "nog 1 open aanvragen" in response.text and 'role="alert"' in response.text
    session.refresh(ours)
    assert ours.archived_at is None


def test_an_archived_team_keeps_its_page_and_the_draft(client, session, two_municipalities, login_as):
    from tests.card_world import with_categories
    ours, worker = two_municipalities["ours"], two_municipalities["worker"]
    with_categories(session, ours)
    login_as(two_municipalities["coordinator"])
    assert client.post(f"/beheer/inrichting/teams/{ours.id}/archiveren").status_code == 303
    login_as(worker)
    home = client.get(f"/teams/{ours.id}")
    assert home.status_code == 200
    assert "Dit team is gearchiveerd" in home.text and "Nieuwe aanvraag" not in home.text
    response = client.post(f"/teams/{ours.id}/aanvragen", data={
        "amount": "50", "cost_category_id": "1", "situation": "Vader met twee kinderen.", "prevents": "Afsluiting.",
        "household_reference": "H-1", "kind": "gift", "action": "post"})
    assert response.status_code == 422 and "gearchiveerd" in response.text
    assert session.exec(select(func.count(SpendRequest.id)).where(SpendRequest.status == "open")).one() == 0


def test_the_members_list_has_no_administrator(client, session, two_municipalities, make_administrator, login_as):
    administrator = make_administrator("Bea Beheerder")
    login_as(two_municipalities["coordinator"])
    assert "Bea Beheerder" not in client.get("/beheer/leden").text
    assert session.get(Member, administrator.id).municipality_id is None
