"""Ask an expert: the asked expert, and nobody else, gets a push (team, amount, cost category, a link to the
request; never the situation), sent only once the question is committed; asking twice sends nothing more."""
from models.experts import list_topic
from models.teams import Municipality
from tests.card_world import granted_request, municipality_id, with_categories
from tests.http.test_push import Device, app, sent, stub, subscribe  # noqa: F401 (app, stub: fixtures)


def test_the_asked_expert_is_pushed_once(app, client, session, make_team, make_member, login_as, stub):
    oost = make_team("Team Oost")
    with_categories(session, oost)
    west = make_team("Team West", municipality=session.get(Municipality, municipality_id(session, oost)))
    worker, voter = make_member(oost, "worker", name="Wim"), make_member(oost, "worker", name="Vera")
    expert, other = make_member(west, "worker", name="Eva"), make_member(west, "worker", name="Olga")
    for member in (expert, other):
        list_topic(session, member, "schuldhulp")
    session.commit()
    request = granted_request(session, oost, worker, voter, 4_500)
    expert_device, other_device, worker_device = Device(stub, "expert"), Device(stub, "other"), Device(stub, "worker")
    subscribe(client, login_as, expert, expert_device)
    subscribe(client, login_as, other, other_device)
    subscribe(client, login_as, worker, worker_device)
    login_as(voter)
    url = f"/teams/{oost.id}/aanvragen/{request.id}/experts"
    assert client.post(url, data={"expert_id": expert.id, "topic": "schuldhulp"}).status_code == 303
    sent(app)
    assert [message["path"] for message in stub.received] == ["/push/expert"]
    payload = expert_device.decrypt(stub.received[0])
    assert payload["title"] == "Een team vraagt je als expert"
    assert "Team Oost" in payload["body"] and "€\xa045,00" in payload["body"]
    assert "Vader" not in payload["body"]
    assert payload["url"] == f"/teams/{oost.id}/aanvragen/{request.id}"
    assert client.post(url, data={"expert_id": expert.id, "topic": "schuldhulp"}).status_code == 422
    sent(app)
    assert len(stub.received) == 1
