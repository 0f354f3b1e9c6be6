"""Tips and the household's history over HTTP: only members of the municipality's teams (another
municipality's tip 404), personal data refused beside the field, search, the suggestions partial, the offer
after a request solved with another provision, and the household's history on the request page (for voters)
and while drafting (a POST: the reference never in a URL)."""
import pytest
from sqlmodel import select

from models.requests import RequestStatus, SpendRequest
from models.teams import CostCategory, Municipality
from models.tips import Tip, write_tip
from tests.card_world import SECRET, granted_request, municipality_id, with_categories


@pytest.fixture
def world(session, make_team, make_member):
    team = make_team("Team Oost")
    with_categories(session, team)
    west = make_team("Team West", municipality=session.get(Municipality, municipality_id(session, team)))
    far = make_team("Team Ver")
    with_categories(session, far)
    mid = municipality_id(session, team)
    cat = {c.code: c.id for c in session.exec(select(CostCategory).where(CostCategory.municipality_id == mid))}
    world = {"team": team, "west": west, "far": far, "mid": mid, "cat": cat,
             "worker": make_member(team, "worker", name="Wim"), "voter": make_member(team, "worker", name="Vera"),
             "colleague": make_member(team, "worker", name="Cas"),
             "west_worker": make_member(west, "worker", name="Ria"), "west_voter": make_member(west, "worker"),
             "far_worker": make_member(far, "worker", name="Fee")}
    world["tip"] = write_tip(session, municipality_id=mid, team_id=west.id, author_id=world["west_worker"].id,
                             body="Bij een naheffing van energie helpt de Energiebank snel.",
                             category_ids=[cat["energy"]])
    far_mid = municipality_id(session, far)
    far_cat = session.exec(select(CostCategory.id).where(CostCategory.municipality_id == far_mid)).first()
    world["far_tip"] = write_tip(session, municipality_id=far_mid, team_id=far.id, author_id=world["far_worker"].id,
                                 body="Een tip die alleen het andere team ziet.", category_ids=[far_cat])
    session.commit()
    return world


def test_members_see_their_municipalitys_tips_only(client, world, login_as):
    login_as(world["worker"])
    page = client.get(f"/teams/{world['team'].id}/tips")
    assert page.status_code == 200 and "helpt de Energiebank snel" in page.text
    assert "alleen het andere team" not in page.text
    assert client.post(f"/teams/{world['team'].id}/tips/{world['far_tip'].id}/archiveren").status_code == 404
    assert client.get(f"/teams/{world['far'].id}/tips").status_code == 404
    assert f"/teams/{world['team'].id}/tips" in client.get(f"/teams/{world['team'].id}").text


def test_search_and_filter(client, session, world, login_as):
    login_as(world["worker"])
    base = f"/teams/{world['team'].id}/tips"
    assert "Energiebank" in client.get(base, query_string={"zoek": "ENERGIEBANK"}).text
    assert "Energiebank snel" not in client.get(base, query_string={"zoek": "voedselbank"}).text
    assert "Energiebank snel" in client.get(base, query_string={"kostensoort": world["cat"]["energy"]}).text
    assert "Energiebank snel" not in client.get(base, query_string={"kostensoort": world["cat"]["groceries"]}).text


def test_write_a_tip_and_personal_data_is_refused(client, session, world, login_as):
    login_as(world["worker"])
    base = f"/teams/{world['team'].id}/tips"
    refused = client.post(base, data={"body": "Bel mevrouw op 0612345678, zij weet het.",
                                      "category_ids": [world["cat"]["energy"]]})
    assert refused.status_code == 422 and 'id="body-error"' in refused.text and "0612345678" in refused.text
    assert client.post(base, data={"body": "Een tip zonder kostensoort erbij."}).status_code == 422
    done = client.post(base, data={"body": "De voedselbank helpt binnen een week.",
                                   "category_ids": [world["cat"]["groceries"]]})
    assert done.status_code == 303
    tip = session.exec(select(Tip).where(Tip.body == "De voedselbank helpt binnen een week.")).one()
    assert (tip.author_id, tip.team_id, tip.municipality_id) == (world["worker"].id, world["team"].id, world["mid"])
    assert client.post(f"{base}/{world['tip'].id}/archiveren").status_code == 403  # not the author
    assert client.post(f"{base}/{tip.id}/archiveren").status_code == 303
    session.expire_all()
    assert session.get(Tip, tip.id).archived_at is not None and session.get(Tip, world["tip"].id).archived_at is None


def test_suggestions_partial(client, world, login_as):
    login_as(world["worker"])
    url = f"/teams/{world['team'].id}/tips/suggesties"
    found = client.post(url, data={"situation": "Een naheffing van de energie", "cost_category_id": ""},
                        headers={"HX-Request": "true"})
    assert found.status_code == 200 and "helpt de Energiebank snel" in found.text and "<html" not in found.text
    assert "Energiebank" not in client.post(url, data={"situation": "fiets"}).text
    assert "Energiebank" in client.post(url, data={"cost_category_id": world["cat"]["energy"]}).text
    assert client.get(url).status_code == 405  # what is typed never travels in a URL
    form = client.get(f"/teams/{world['team'].id}/aanvragen/nieuw").text
    assert 'id="tip-suggestions"' in form and url in form and 'id="household-history"' in form


def test_the_household_history_for_the_voter_and_the_drafting_worker(client, session, world, login_as):
    granted_request(session, world["west"], world["west_worker"], world["west_voter"], 2_500, household="H-1")
    other = granted_request(session, world["team"], world["worker"], world["voter"], 7_500, household="H-2")
    open_request = granted_request(session, world["team"], world["worker"], world["voter"], 4_000, household="h-1")
    open_request.status, open_request.granted_amount_cents = RequestStatus.OPEN, None
    session.add(open_request)
    session.commit()
    login_as(world["colleague"])
    page = client.get(f"/teams/{world['team'].id}/aanvragen/{open_request.id}").text
    history = page.split('id="household-history-title"')[1].split("</section>")[0]
    assert "Team West" in history and "25,00" in history and "75,00" not in history  # H-2 is another household
    assert "40,00" not in history  # not the request itself
    assert "Ria" not in history and "Wim" not in history and "Vera" not in history
    page = client.get(f"/teams/{world['team'].id}/aanvragen/{other.id}").text
    assert "nog niets" in page.split('id="household-history-title"')[1].split("</section>")[0]
    # the drafting worker: the reference in a POST body, answered with the lines
    login_as(world["worker"])
    url = f"/teams/{world['team'].id}/huishouden"
    answer = client.post(url, data={"household_reference": " h-1"}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "Team West" in answer.text and "25,00" in answer.text
    assert "nog niets" in client.post(url, data={"household_reference": "H-9"}).text
    assert client.post(url, data={}).text.strip() == ""
    login_as(world["far_worker"])
    assert client.post(url, data={"household_reference": "H-1"}).status_code == 404


def test_observers_do_not_ask_for_a_households_history(client, session, world, make_member, login_as):
    observer = make_member(world["team"], "observer", name="Otto")
    login_as(observer)
    assert client.post(f"/teams/{world['team'].id}/huishouden", data={"household_reference": "H-1"}).status_code == 403


def test_a_request_solved_otherwise_is_offered_as_a_tip(client, session, world, login_as):
    solved = granted_request(session, world["team"], world["worker"], world["voter"], 4_000, household="H-3")
    solved.status, solved.granted_amount_cents, solved.alternative_name = RequestStatus.SOLVED, None, "Energiebank"
    session.add(solved)
    session.commit()
    login_as(world["voter"])
    page = client.get(f"/teams/{world['team'].id}/aanvragen/{solved.id}").text
    offer = f"/teams/{world['team'].id}/tips?aanvraag={solved.id}"
    assert offer in page.replace("&amp;", "&")
    form = client.get(offer).text
    assert "Opgelost met Energiebank." in form and f"tips?aanvraag={solved.id}" in form
    done = client.post(offer, data={"body": "Opgelost met Energiebank: eerst daar vragen.",
                                    "category_ids": [world["cat"]["groceries"]]})
    assert done.status_code == 303
    tip = session.exec(select(Tip).where(Tip.source_request_id == solved.id)).one()
    assert tip.author_id == world["voter"].id
