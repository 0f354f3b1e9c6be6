"""Taking an archived team or district into use again (/beheer/inrichting/.../terugzetten), and the
administrators' list of open invites for coordinators and administrators, with revoking (/beheer/gemeenten)."""
import re

import pytest
from sqlmodel import func, select

from models.invites import Invite, hash_token, invite_administrator, invite_coordinator, redeem_invite
from models.members import new_user_handle
from models.municipalities import archive_district, archive_team, create_team
from models.requests import SpendRequest
from models.teams import District, municipality_of_team

OTHER_IBAN = "NL20INGB0001234567"


@pytest.fixture
def make_administrator(session):
    """An administrator, made as `flask --app web invite-administrator` and the invite page make one."""
    def factory(name="Bea Beheerder"):
        administrator = redeem_invite(session, invite_administrator(session, None)[0], display_name=name,
                                      user_handle=new_user_handle())
        session.commit()
        return administrator
    return factory


@pytest.fixture
def world(session, make_team, make_member):
    """Our team, archived, with a coordinator and a worker; another municipality's team, archived too."""
    ours, theirs = make_team("Team Ons"), make_team("Team Ander")
    coordinator, worker = make_member(ours, "coordinator"), make_member(ours, "worker")
    foreign_coordinator = make_member(theirs, "coordinator")
    for team in (ours, theirs):
        team.iban = "NL91ABNA0417164300" if team is ours else "NL02ABNA0123456789"
        archive_team(session, team, actor_id=None)
    session.commit()
    return {"ours": ours, "theirs": theirs, "coordinator": coordinator, "worker": worker,
            "foreign_coordinator": foreign_coordinator}


def _restore(client, team):
    return client.post(f"/beheer/inrichting/teams/{team.id}/terugzetten")


def test_the_archived_teams_page_offers_restore_instead_of_archive(client, world, login_as):
    login_as(world["coordinator"])
    page = client.get(f"/beheer/inrichting/teams/{world['ours'].id}").text
    assert f'action="/beheer/inrichting/teams/{world["ours"].id}/terugzetten"' in page
    assert "Weer in gebruik nemen" in page and "Team archiveren" not in page


def test_coordinator_restores_a_team_that_then_takes_requests(client, session, world, login_as):
    from tests.card_world import with_categories
    ours = world["ours"]
    with_categories(session, ours)
    login_as(world["coordinator"])
    response = _restore(client, ours)
    assert response.status_code == 303 and response.headers["Location"] == f"/beheer/inrichting/teams/{ours.id}"
    session.refresh(ours)
    assert ours.archived_at is None
    page = client.get(f"/beheer/inrichting/teams/{ours.id}").text
    assert "Team Ons is weer in gebruik." in page and "Team archiveren" in page
    assert "Team Ons" in client.get("/beheer").text  # back in the overview
    login_as(world["worker"])
    assert "Nieuwe aanvraag" in client.get(f"/teams/{ours.id}").text
    response = client.post(f"/teams/{ours.id}/aanvragen", data={
        "amount": "50", "cost_category_id": "1", "situation": "Vader met twee kinderen.", "prevents": "Afsluiting.",
        "household_reference": "H-1", "kind": "gift", "action": "post"})
    assert response.status_code == 303
    assert session.exec(select(func.count(SpendRequest.id)).where(SpendRequest.team_id == ours.id,
                                                                  SpendRequest.status == "open")).one() == 1


def test_a_team_in_an_archived_district_is_refused_on_its_page(client, session, world, login_as):
    ours = world["ours"]
    archive_district(session, session.get(District, ours.district_id))
    session.commit()
    login_as(world["coordinator"])
    response = _restore(client, ours)
    assert response.status_code == 422 and 'role="alert"' in response.text
    assert "Stadsdeel Stadsdeel Team Ons is gearchiveerd. Neem eerst het stadsdeel weer in gebruik" in response.text
    session.refresh(ours)
    assert ours.archived_at is not None


def test_a_team_whose_account_was_taken_is_refused_on_its_page(client, session, world, login_as):
    ours = world["ours"]
    municipality_id = municipality_of_team(session, ours).id
    create_team(session, municipality_id, name="Team Nieuw", district_id=ours.district_id, iban=ours.iban, actor_id=None)
    session.commit()
    login_as(world["coordinator"])
    response = _restore(client, ours)
    assert response.status_code == 422
    assert "De rekening NL91 ABNA 0417 1643 00 hoort nu bij een ander team." in response.text
    session.refresh(ours)
    assert ours.archived_at is not None


def test_coordinator_restores_a_district_but_not_its_teams(client, session, world, login_as):
    ours = world["ours"]
    district = session.get(District, ours.district_id)
    archive_district(session, district)
    session.commit()
    login_as(world["coordinator"])
    page = client.get(f"/beheer/inrichting/stadsdelen/{district.id}").text
    assert "Weer in gebruik nemen" in page and "Stadsdeel archiveren" not in page
    response = client.post(f"/beheer/inrichting/stadsdelen/{district.id}/terugzetten")
    assert response.status_code == 303
    assert "Stadsdeel Stadsdeel Team Ons is weer in gebruik." in client.get(response.headers["Location"]).text
    session.refresh(district), session.refresh(ours)
    assert district.archived_at is None and ours.archived_at is not None
    response = client.post(f"/beheer/inrichting/stadsdelen/{district.id}/terugzetten")
    assert response.status_code == 422 and "Dit stadsdeel is al in gebruik." in response.text


def test_another_municipalitys_coordinator_cannot_restore(client, session, world, login_as):
    theirs = world["theirs"]
    archive_district(session, session.get(District, theirs.district_id))
    session.commit()
    login_as(world["coordinator"])
    assert _restore(client, theirs).status_code == 404
    assert client.post(f"/beheer/inrichting/stadsdelen/{theirs.district_id}/terugzetten").status_code == 404
    login_as(world["worker"])
    assert _restore(client, world["ours"]).status_code == 403
    for team in (theirs, world["ours"]):
        session.refresh(team)
        assert team.archived_at is not None
    assert session.get(District, theirs.district_id).archived_at is not None


def test_an_administrator_restores_in_the_municipality_they_chose(client, session, world, make_administrator,
                                                                   login_as):
    theirs = world["theirs"]
    login_as(make_administrator())
    municipality_id = municipality_of_team(session, theirs).id
    assert client.post(f"/beheer/gemeenten/{municipality_id}/kiezen").status_code == 303
    assert _restore(client, world["ours"]).status_code == 404  # not the chosen one
    assert _restore(client, theirs).status_code == 303
    session.refresh(theirs)
    assert theirs.archived_at is None


# the administrators' list of open invites

def _token_from(html):
    return re.search(r"/uitnodiging/([A-Za-z0-9_-]+)", html).group(1)


def _invite_rows(html):
    """The rows of the open invites' table, as text."""
    section = html.split('id="foundation-invites"', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1] if "<tbody>" in section else ""
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_administrators_see_open_invites_but_never_their_links(client, session, world, make_administrator, login_as):
    administrator = make_administrator("Bea Beheerder")
    municipality_id = municipality_of_team(session, world["ours"]).id
    login_as(administrator)
    assert "Geen open uitnodigingen." in client.get("/beheer/gemeenten").text
    response = client.post(f"/beheer/gemeenten/{municipality_id}/coordinator")
    token = _token_from(response.text)
    used, _used_token = invite_administrator(session, administrator)
    redeem_invite(session, used, display_name="Ben", user_handle=new_user_handle())
    invite_coordinator(session, world["coordinator"])  # a coordinator's own invite is on /beheer/leden
    session.commit()
    page = client.get("/beheer/gemeenten").text
    rows = _invite_rows(page)
    assert len(rows) == 1
    assert rows[0].startswith("Coördinator van Gemeente Team Ons") and "door Bea Beheerder" in rows[0]
    assert token not in page and "/uitnodiging/" not in page

    invite = session.exec(select(Invite).where(Invite.token_hash == hash_token(token))).one()
    response = client.post(f"/beheer/gemeenten/uitnodigingen/{invite.id}/intrekken")
    assert response.status_code == 303 and response.headers["Location"] == "/beheer/gemeenten"
    page = client.get("/beheer/gemeenten").text
    assert "De uitnodiging is ingetrokken. De link werkt niet meer." in page and _invite_rows(page) == []
    assert "Deze link is ingetrokken." in client.get(f"/uitnodiging/{token}").text
    # revoking it again changes nothing
    session.refresh(invite)
    revoked_at = invite.revoked_at
    assert revoked_at is not None
    response = client.post(f"/beheer/gemeenten/uitnodigingen/{invite.id}/intrekken", follow_redirects=True)
    assert "Deze uitnodiging was al gebruikt, ingetrokken of verlopen." in response.text
    session.expire_all()
    assert session.get(Invite, invite.id).revoked_at == revoked_at


def test_the_command_lines_invite_is_listed_and_revoked(app, client, session, make_administrator, login_as):
    administrator = make_administrator()
    output = app.test_cli_runner().invoke(args=["invite-administrator", "Carla"]).output
    login_as(administrator)
    rows = _invite_rows(client.get("/beheer/gemeenten").text)
    assert len(rows) == 1 and rows[0].startswith("Beheerder") and "op de opdrachtregel" in rows[0]
    invite = session.exec(select(Invite).where(Invite.token_hash == hash_token(_token_from(output)))).one()
    assert client.post(f"/beheer/gemeenten/uitnodigingen/{invite.id}/intrekken").status_code == 303
    assert "Deze link is ingetrokken." in client.get(f"/uitnodiging/{_token_from(output)}").text


@pytest.mark.parametrize("who", ["coordinator", "worker"])
def test_only_administrators_see_and_revoke_the_foundations_invites(client, session, world, make_administrator,
                                                                     login_as, who):
    invite, _token = invite_administrator(session, make_administrator())
    session.commit()
    login_as(world[who])
    assert client.get("/beheer/gemeenten").status_code == 403
    assert client.post(f"/beheer/gemeenten/uitnodigingen/{invite.id}/intrekken").status_code == 403
    session.refresh(invite)
    assert invite.revoked_at is None


def test_a_team_invite_is_not_revoked_through_the_foundations_list(client, session, world, make_administrator,
                                                                    login_as):
    from models.invites import invite_to_team
    invite, _token = invite_to_team(session, world["coordinator"], world["ours"], "worker")
    session.commit()
    login_as(make_administrator())
    assert client.post(f"/beheer/gemeenten/uitnodigingen/{invite.id}/intrekken").status_code == 404
    session.refresh(invite)
    assert invite.revoked_at is None
