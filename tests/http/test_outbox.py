"""Exactly-once replays from the phone's outbox: the same UUID is applied once and answered the same.

The phone sends every queued draft, vote and comment with a UUID in the Teambudget-Operation header
(static/js/outbox.js); web/outbox.py and models/outbox.py keep the first answer per member and UUID.
"""
import json
import uuid

from sqlalchemy import func
from sqlmodel import select

from models.members import active_membership, end_membership
from models.outbox import ClientOperation, body_digest
from models.requests import Comment, RequestStatus, SpendRequest
from models.votes import Vote
from tests.http.test_requests import GOOD, team_world  # noqa: F401  (a fixture)

JSON = {"Accept": "application/json"}


def _send(client, url, data, client_uuid=None):
    """POST as the outbox does: JSON wanted, the operation's UUID in the header."""
    headers = {**JSON, "Teambudget-Operation": str(client_uuid or uuid.uuid4())}
    return client.post(url, data=data, headers=headers)


def _count(session, model, *where):
    session.expire_all()
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def _draft(world, **changes):
    return {**GOOD, "cost_category_id": str(world["groceries"].id), "action": "post", **changes}


def _open_request(client, login_as, world):
    login_as(world["members"]["worker"])
    response = client.post(f"/teams/{world['team'].id}/aanvragen", data=_draft(world))
    assert response.status_code == 303
    return int(response.headers["Location"].split("?")[0].rsplit("/", 1)[1])


def test_same_request_uuid_twice_posts_one_request_and_answers_the_same(client, session, login_as, team_world):
    login_as(team_world["members"]["worker"])
    operation, url = uuid.uuid4(), f"/teams/{team_world['team'].id}/aanvragen"
    first = _send(client, url, _draft(team_world), operation)
    second = _send(client, url, _draft(team_world), operation)
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert first.get_json()["status"] == RequestStatus.OPEN
    assert second.headers["Teambudget-Operation-Replayed"] == "true"
    assert _count(session, SpendRequest) == 1
    assert _count(session, ClientOperation) == 1


def test_same_uuid_with_another_body_is_refused_with_409(client, session, login_as, team_world):
    login_as(team_world["members"]["worker"])
    operation, url = uuid.uuid4(), f"/teams/{team_world['team'].id}/aanvragen"
    assert _send(client, url, _draft(team_world), operation).status_code == 200
    reused = _send(client, url, _draft(team_world, amount="80"), operation)
    assert reused.status_code == 409
    assert "al eerder verstuurd" in reused.get_json()["error"]
    assert _count(session, SpendRequest) == 1
    assert _request_amount(session) == 7_550


def _request_amount(session):
    session.expire_all()
    return session.exec(select(SpendRequest)).one().amount_cents


def test_field_order_and_csrf_token_do_not_change_the_body(client, session, login_as, team_world):
    login_as(team_world["members"]["worker"])
    operation, url = uuid.uuid4(), f"/teams/{team_world['team'].id}/aanvragen"
    assert _send(client, url, _draft(team_world), operation).status_code == 200
    reordered = dict(reversed(list(_draft(team_world, csrf_token="another").items())))
    assert _send(client, url, reordered, operation).status_code == 200
    assert _count(session, SpendRequest) == 1


def test_refused_post_applies_nothing_and_the_edited_item_goes_through_under_the_same_uuid(
        client, session, login_as, team_world):
    login_as(team_world["members"]["worker"])
    operation, url = uuid.uuid4(), f"/teams/{team_world['team'].id}/aanvragen"
    refused = _send(client, url, _draft(team_world, situation="Bel haar op 06-12345678."), operation)
    assert refused.status_code == 422
    assert refused.get_json()["field"] == "situation" and "06-12345678" in refused.get_json()["error"]
    # unlike a form post, a refused outbox post leaves no half-saved draft behind: the phone keeps it
    assert _count(session, SpendRequest) == 0 and _count(session, ClientOperation) == 0
    assert _send(client, url, _draft(team_world), operation).status_code == 200
    assert _count(session, SpendRequest, SpendRequest.status == RequestStatus.OPEN) == 1


def test_saved_draft_from_the_outbox_is_applied_once(client, session, login_as, team_world):
    login_as(team_world["members"]["worker"])
    operation, url = uuid.uuid4(), f"/teams/{team_world['team'].id}/aanvragen"
    answers = [_send(client, url, {"amount": "12", "action": "save"}, operation) for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert answers[0].get_json()["status"] == RequestStatus.DRAFT
    assert _count(session, SpendRequest, SpendRequest.status == RequestStatus.DRAFT) == 1


def test_same_vote_uuid_twice_counts_once_and_answers_the_same(client, session, login_as, team_world):
    request_id = _open_request(client, login_as, team_world)
    login_as(team_world["members"]["worker2"])
    url, operation = f"/teams/{team_world['team'].id}/aanvragen/{request_id}/stem", uuid.uuid4()
    first = _send(client, url, {"choice": "approve"}, operation)
    second = _send(client, url, {"choice": "approve"}, operation)
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json() == {"status": "open", "redirect": f"/teams/{team_world['team'].id}/aanvragen/{request_id}"}
    assert _count(session, Vote) == 1
    assert _send(client, url, {"choice": "reject"}, operation).status_code == 409


def test_same_comment_uuid_twice_adds_one_comment(client, session, login_as, team_world):
    request_id = _open_request(client, login_as, team_world)
    login_as(team_world["members"]["worker2"])
    url, operation = f"/teams/{team_world['team'].id}/aanvragen/{request_id}/reacties", uuid.uuid4()
    for _ in range(2):
        assert _send(client, url, {"body": "Heeft ze de voedselbank al gebeld?"}, operation).status_code == 200
    assert _count(session, Comment) == 1


def test_vote_on_a_request_decided_meanwhile_is_a_conflict_with_a_message(client, session, login_as, team_world):
    request_id = _open_request(client, login_as, team_world)
    url = f"/teams/{team_world['team'].id}/aanvragen/{request_id}/stem"
    for name in ("worker2", "worker3", "provisions_expert"):
        login_as(team_world["members"][name])
        assert _send(client, url, {"choice": "approve"}).status_code == 200
    login_as(team_world["members"]["income_consultant"])
    late = _send(client, url, {"choice": "reject"})
    assert late.status_code == 422
    assert late.get_json()["error"] == "Over deze aanvraag is al besloten."
    assert _count(session, Vote) == 3 and _count(session, ClientOperation) == 3


def test_vote_after_membership_ended_is_refused_and_nothing_is_recorded(client, session, login_as, team_world):
    request_id = _open_request(client, login_as, team_world)
    voter = team_world["members"]["worker2"]
    end_membership(session, active_membership(session, voter.id, team_world["team"].id))
    session.commit()
    login_as(voter)
    refused = _send(client, f"/teams/{team_world['team'].id}/aanvragen/{request_id}/stem", {"choice": "approve"})
    assert refused.status_code in (403, 404)
    assert refused.get_json()["error"]
    assert _count(session, Vote) == 0 and _count(session, ClientOperation) == 0


def test_each_member_has_their_own_uuids(client, session, login_as, team_world):
    request_id = _open_request(client, login_as, team_world)
    url, operation = f"/teams/{team_world['team'].id}/aanvragen/{request_id}/stem", uuid.uuid4()
    for name in ("worker2", "worker3"):
        login_as(team_world["members"][name])
        assert _send(client, url, {"choice": "approve"}, operation).status_code == 200
    assert _count(session, Vote) == 2 and _count(session, ClientOperation) == 2


def test_signed_out_replay_is_not_applied(client, session, team_world):
    response = _send(client, f"/teams/{team_world['team'].id}/aanvragen", _draft(team_world))
    assert response.status_code == 302 and "/inloggen" in response.headers["Location"]
    assert _count(session, SpendRequest) == 0


def test_a_header_that_is_no_uuid_is_refused(client, session, login_as, team_world):
    login_as(team_world["members"]["worker"])
    response = _send(client, f"/teams/{team_world['team'].id}/aanvragen", _draft(team_world), "not-a-uuid")
    assert response.status_code == 400
    assert _count(session, SpendRequest) == 0


def test_the_case_reference_is_not_in_the_operations_table(client, session, login_as, team_world):
    login_as(team_world["members"]["worker"])
    assert _send(client, f"/teams/{team_world['team'].id}/aanvragen", _draft(team_world)).status_code == 200
    session.expire_all()
    stored = session.exec(select(ClientOperation)).one()
    assert "DOSSIER" not in json.dumps(stored.model_dump(mode="json"))
    plain = {key: [value] for key, value in _draft(team_world).items()}
    assert stored.body_sha256 != body_digest("request", plain)  # the reference was hashed before hashing


def test_token_endpoint_gives_a_csrf_token_or_401(client, login_as, team_world):
    assert client.get("/uitbak/sleutel").status_code == 401
    login_as(team_world["members"]["worker"])
    answer = client.get("/uitbak/sleutel")
    assert answer.status_code == 200 and answer.get_json()["csrf_token"]
    assert answer.headers["Cache-Control"] == "no-store"


def test_outbox_page_holds_nothing_of_the_member_and_is_in_the_shell(client, login_as, team_world):
    login_as(team_world["members"]["worker"])
    page = client.get("/uitbak")
    assert page.status_code == 200 and "Nog te versturen" in page.text
    assert "worker" not in page.text.split("<main", 1)[1].split("</main>")[0]
    assert "Uitloggen" not in page.text
    assert "/uitbak" in client.get("/sw.js").text



def _owner_meta(html):
    import re
    found = re.search(r'<meta name="outbox-owner" content="([0-9a-f]*)">', html)
    return found and found.group(1)


def test_the_owner_tag_names_the_member_opaquely_and_stays_the_same_across_sessions(client, login_as, team_world):
    worker, worker2 = team_world["members"]["worker"], team_world["members"]["worker2"]
    login_as(worker)
    first = client.get("/uitbak/sleutel").get_json()["owner"]
    page = client.get(f"/teams/{team_world['team'].id}")
    assert _owner_meta(page.text) == first  # what the page tags its items with is what the sync compares to
    login_as(worker)  # a new session of the same member (the old one timed out)
    assert client.get("/uitbak/sleutel").get_json()["owner"] == first
    login_as(worker2)
    other = client.get("/uitbak/sleutel").get_json()["owner"]
    assert other != first and len(first) == len(other) == 32
    for tag in (first, other):
        assert str(worker.id) not in (tag[:2], tag) and worker.display_name.lower() not in tag


def test_no_owner_tag_on_shell_pages_or_when_signed_out(client, login_as, team_world):
    assert _owner_meta(client.get("/inloggen").text) is None
    login_as(team_world["members"]["worker"])
    assert _owner_meta(client.get("/uitbak").text) is None  # any phone may keep this page
    assert _owner_meta(client.get("/offline").text) is None
