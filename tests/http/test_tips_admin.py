"""Tips for coordinators: /beheer/tips lists every tip of their municipality (not another's), searched and
filtered, and archives any of them; an administrator in the municipality they chose does the same; team
roles get 403; another municipality's tip 404."""
import pytest
from sqlmodel import select

from models.invites import invite_administrator, redeem_invite
from models.members import new_user_handle
from models.teams import CostCategory, Municipality
from models.tips import Tip, write_tip
from tests.card_world import municipality_id, with_categories


@pytest.fixture
def world(session, make_team, make_member):
    oost, far = make_team("Team Oost"), make_team("Team Ver")
    with_categories(session, oost)
    with_categories(session, far)
    west = make_team("Team West", municipality=session.get(Municipality, municipality_id(session, oost)))
    mid, far_mid = municipality_id(session, oost), municipality_id(session, far)
    cat = {c.code: c.id for c in session.exec(select(CostCategory).where(CostCategory.municipality_id == mid))}
    far_cat = session.exec(select(CostCategory.id).where(CostCategory.municipality_id == far_mid)).first()
    worker, west_worker = make_member(oost, "worker", name="Wim"), make_member(west, "worker", name="Ria")
    far_worker = make_member(far, "worker", name="Fee")
    tips = {
        "energy": write_tip(session, municipality_id=mid, team_id=west.id, author_id=west_worker.id,
                            body="Bij een naheffing van energie helpt de Energiebank snel.", category_ids=[cat["energy"]]),
        "food": write_tip(session, municipality_id=mid, team_id=oost.id, author_id=worker.id,
                          body="De voedselbank helpt binnen een week.", category_ids=[cat["groceries"]]),
        "far": write_tip(session, municipality_id=far_mid, team_id=far.id, author_id=far_worker.id,
                         body="Een tip die alleen de andere gemeente ziet.", category_ids=[far_cat]),
    }
    session.commit()
    administrator = redeem_invite(session, invite_administrator(session, None)[0], display_name="Bea",
                                  user_handle=new_user_handle())
    return {"mid": mid, "cat": cat, "tips": tips, "worker": worker, "administrator": administrator,
            "coordinator": make_member(oost, "coordinator", name="Cora")}


def test_a_coordinator_lists_searches_and_archives_every_tip(client, session, world, login_as):
    login_as(world["coordinator"])
    assert "/beheer/tips" in client.get("/beheer").text
    page = client.get("/beheer/tips").text
    assert "Energiebank snel" in page and "voedselbank helpt" in page and "andere gemeente" not in page
    assert "Team West" in page
    assert "voedselbank helpt" not in client.get("/beheer/tips", query_string={"zoek": "ENERGIEBANK"}).text
    assert "Energiebank snel" not in client.get("/beheer/tips",
                                                query_string={"kostensoort": world["cat"]["groceries"]}).text
    energy_id, far_id = world["tips"]["energy"].id, world["tips"]["far"].id
    assert client.post(f"/beheer/tips/{far_id}/archiveren").status_code == 404
    done = client.post(f"/beheer/tips/{energy_id}/archiveren")
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Tip, energy_id).archived_at is not None and session.get(Tip, far_id).archived_at is None
    assert "Energiebank snel" not in client.get("/beheer/tips").text
    assert client.post(f"/beheer/tips/{energy_id}/archiveren").status_code == 404  # already archived


def test_an_administrator_archives_in_the_chosen_municipality_and_team_roles_are_refused(client, session, world,
                                                                                         login_as):
    food_id = world["tips"]["food"].id
    login_as(world["worker"])
    assert client.get("/beheer/tips").status_code == 403
    assert client.post(f"/beheer/tips/{food_id}/archiveren").status_code == 403
    login_as(world["administrator"])
    with client.session_transaction() as cookie_session:
        cookie_session["municipality_id"] = world["mid"]
    assert "voedselbank helpt" in client.get("/beheer/tips").text
    assert client.post(f"/beheer/tips/{food_id}/archiveren").status_code == 303
    session.expire_all()
    assert session.get(Tip, food_id).archived_at is not None
