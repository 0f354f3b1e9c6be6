"""Ask an expert over HTTP: a member lists and unlists topics at /experts (coordinators 403, another member's
topic 404, personal data refused beside the field); the request page offers the municipality's experts to the
team (not the requester, not another municipality's); asking twice is a message; the asked expert of another
team reads the request page and joins its discussion, and nothing more; before being asked, and for anyone
else outside the team, it stays 404."""
import pytest
from sqlmodel import select

from models.experts import list_topic
from models.requests import Comment, SpendRequest
from models.teams import Municipality
from models.tips import ExpertQuestion, ExpertTopic
from models.votes import Vote
from tests.card_world import granted_request, municipality_id, with_categories


@pytest.fixture
def world(session, make_team, make_member):
    oost = make_team("Team Oost")
    with_categories(session, oost)
    west = make_team("Team West", municipality=session.get(Municipality, municipality_id(session, oost)))
    far = make_team("Team Ver")
    people = {"worker": make_member(oost, "worker", name="Wim"), "voter": make_member(oost, "worker", name="Vera"),
              "expert": make_member(west, "worker", name="Eva Expert"),
              "neighbour": make_member(west, "worker", name="Niels"),
              "coordinator": make_member(oost, "coordinator", name="Cora"),
              "far": make_member(far, "worker", name="Fee Ver")}
    for who in ("expert", "far", "worker"):
        list_topic(session, people[who], "schuldhulp")
    session.commit()
    earlier = granted_request(session, oost, people["worker"], people["voter"], 3_000, household="H-7")
    request = granted_request(session, oost, people["worker"], people["voter"], 4_500, household="H-7")
    request = session.get(SpendRequest, request.id)
    request.status, request.granted_amount_cents, request.decided_at = "open", None, None  # open again: voting
    session.add(request)
    session.commit()
    return {"oost": oost, "west": west, "request": request, "earlier": earlier, **people}


def _page(world):
    return f"/teams/{world['oost'].id}/aanvragen/{world['request'].id}"


def test_a_member_lists_and_unlists_topics(client, session, world, login_as):
    login_as(world["neighbour"])
    assert 'href="/experts"' in client.get(f"/teams/{world['west'].id}/tips").text  # the menu
    page = client.get("/experts")
    assert page.status_code == 200 and "Eva Expert" in page.text and "Fee Ver" not in page.text
    assert '<option value="jeugd">' in page.text and '<option value="schuldhulp">' in page.text
    refused = client.post("/experts/onderwerpen", data={"topic": "bel 0612345678"})
    assert refused.status_code == 422 and 'id="topic-error"' in refused.text
    assert client.post("/experts/onderwerpen", data={"topic": "Jeugd"}).status_code == 303
    listed = session.exec(select(ExpertTopic).where(ExpertTopic.member_id == world["neighbour"].id)).one()
    assert listed.topic == "Jeugd"
    twice = client.post("/experts/onderwerpen", data={"topic": "jeugd"})
    assert twice.status_code == 422 and "al als expert" in twice.text
    others = session.exec(select(ExpertTopic).where(ExpertTopic.member_id == world["expert"].id)).one()
    assert client.post(f"/experts/onderwerpen/{others.id}/weghalen").status_code == 404
    listed_id, others_id = listed.id, others.id
    assert client.post(f"/experts/onderwerpen/{listed_id}/weghalen").status_code == 303
    session.expunge_all()
    assert session.get(ExpertTopic, listed_id) is None and session.get(ExpertTopic, others_id) is not None
    login_as(world["coordinator"])
    assert client.get("/experts").status_code == 403


def test_the_team_asks_an_expert_once(client, session, world, login_as):
    login_as(world["voter"])
    page = client.get(_page(world)).text
    assert "Vraag een expert" in page and "Eva Expert" in page
    assert "Fee Ver" not in page  # another municipality
    assert 'name="expert_id" value="%d"' % world["worker"].id not in page  # not the requester
    url = f"{_page(world)}/experts"
    assert client.post(url, data={"expert_id": world["expert"].id, "topic": "schuldhulp"}).status_code == 303
    question = session.exec(select(ExpertQuestion)).one()
    assert (question.expert_id, question.asked_by_id) == (world["expert"].id, world["voter"].id)
    again = client.post(url, data={"expert_id": world["expert"].id, "topic": "schuldhulp"},
                        headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert again.status_code == 422 and "Eva Expert is al gevraagd" in again.text
    assert '<section id="experts"' in again.text
    assert "<html" not in again.text
    assert "data-expert-asked" in client.get(_page(world)).text
    assert client.post(url, data={"expert_id": world["far"].id, "topic": "schuldhulp"}).status_code == 422
    assert len(session.exec(select(ExpertQuestion)).all()) == 1


def test_the_asked_expert_reads_and_comments_but_never_votes(client, session, world, login_as):
    page, team_id, request_id = _page(world), world["oost"].id, world["request"].id
    login_as(world["expert"])
    assert client.get(page).status_code == 404
    assert client.get(f"{page}/live").status_code == 404
    assert client.post(f"{page}/reacties", data={"body": "Ik weet het"}).status_code == 404
    login_as(world["voter"])
    client.post(f"{page}/experts", data={"expert_id": world["expert"].id, "topic": "schuldhulp"})

    login_as(world["expert"])
    seen = client.get(page)
    assert seen.status_code == 200
    assert "Vader met twee kinderen." in seen.text and "Eerder dit budgetjaar" in seen.text  # household history
    assert "Je leest mee als expert" in seen.text and 'id="vote-title"' not in seen.text
    assert 'id="stop-title"' not in seen.text and 'id="experts"' not in seen.text
    assert client.get(f"{page}/live").status_code == 200
    assert client.post(f"{page}/reacties", data={"body": "Bel de schuldhulp van de gemeente."}).status_code == 303
    comment = session.exec(select(Comment).where(Comment.request_id == request_id)).one()
    assert comment.member_id == world["expert"].id
    for action, data in (("stem", {"choice": "approve"}), ("stop", {"stop_reason": "x"}),
                         ("stop-opheffen", {"stop_reason": "x"}), ("intrekken", {}),
                         ("experts", {"expert_id": world["far"].id, "topic": "schuldhulp"})):
        assert client.post(f"{page}/{action}", data=data).status_code == 404, action
    earlier = f"/teams/{team_id}/aanvragen/{world['earlier'].id}"
    for url in (earlier, f"/teams/{team_id}", f"/teams/{team_id}/tips", f"{page}/kaart/live"):
        assert client.get(url).status_code == 404, url
    assert session.exec(select(Vote).where(Vote.member_id == world["expert"].id)).all() == []
    assert page in client.get("/experts").text
    home = client.get(f"/teams/{world['west'].id}").text
    assert "Vragen aan jou" in home and page in home

    login_as(world["neighbour"])  # of the expert's team, not asked
    assert client.get(page).status_code == 404


def test_the_experts_are_read_only_where_the_offer_shows(app, client, session, world, login_as):
    """The page reads them; its live poll (every few seconds) and a draft's form do not, nor offer them."""
    from sqlalchemy import event

    from models.members import active_membership
    from models.requests import DraftInput, save_draft
    from tests.card_world import SECRET
    read = []

    def remember(_connection, _cursor, statement, *_args):
        if "FROM experttopic" in statement:
            read.append(statement)

    def reads_experts(url):
        read.clear()
        event.listen(app.extensions["engine"], "before_cursor_execute", remember)
        try:
            response = client.get(url)
        finally:
            event.remove(app.extensions["engine"], "before_cursor_execute", remember)
        assert response.status_code == 200
        return bool(read), response.text
    draft = save_draft(session, world["oost"], active_membership(session, world["worker"].id, world["oost"].id),
                       DraftInput(amount="20", situation="Nog niet af."), household_secret=SECRET)
    session.commit()
    login_as(world["worker"])
    page_read, page = reads_experts(_page(world))
    assert page_read and 'id="experts"' in page and "Eva Expert" in page
    assert reads_experts(f"{_page(world)}/live")[0] is False
    form_read, form = reads_experts(f"/teams/{world['oost'].id}/aanvragen/{draft.id}")
    assert form_read is False and 'id="experts"' not in form and "Nog niet af." in form
