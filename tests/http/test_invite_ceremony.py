"""The invite endpoints refuse bad input clearly and leave the invite usable."""
import base64

from sqlmodel import func, select

from models.invites import invite_recovery, invite_to_team, usable_invite
from models.members import Member
from models.sign_in import WebAuthnChallenge


def _b64url_decode(value):
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def test_display_name_is_checked_before_any_passkey_is_made(client, session, make_team, make_member):
    team = make_team()
    _invite, token = invite_to_team(session, make_member(team, "coordinator"), team, "worker")
    session.commit()
    for name in ["", "   ", "x" * 61]:
        response = client.post(f"/uitnodiging/{token}/opties", data={"display_name": name})
        assert response.status_code == 422
        assert response.get_json()["field"] == "display_name"
    assert session.exec(select(func.count(WebAuthnChallenge.id))).one() == 0


def test_join_options_offer_a_fresh_random_user_handle(client, session, make_team, make_member):
    team = make_team()
    _invite, token = invite_to_team(session, make_member(team, "coordinator"), team, "worker")
    session.commit()
    options = client.post(f"/uitnodiging/{token}/opties", data={"display_name": "Noor"}).get_json()
    assert len(_b64url_decode(options["user"]["id"])) == 32
    assert options["user"]["name"] == "Noor" and options["excludeCredentials"] == []
    assert options["authenticatorSelection"]["userVerification"] == "required"
    challenge = session.exec(select(WebAuthnChallenge)).one()
    assert challenge.display_name == "Noor" and challenge.purpose == "register"


def test_recovery_options_use_the_members_own_handle(client, session, make_team, make_member):
    team = make_team()
    member = make_member(team, "worker", name="Rik")
    _invite, token = invite_recovery(session, make_member(team, "coordinator"), member)
    session.commit()
    options = client.post(f"/uitnodiging/{token}/opties").get_json()
    assert _b64url_decode(options["user"]["id"]) == member.user_handle


def test_a_bad_credential_leaves_the_invite_usable(client, session, make_team, make_member):
    team = make_team()
    _invite, token = invite_to_team(session, make_member(team, "coordinator"), team, "worker")
    session.commit()
    client.post(f"/uitnodiging/{token}/opties", data={"display_name": "Noor"})
    for body in [None, {"credential": []}, {"credential": {"id": "x", "response": {"clientDataJSON": "e30"}}}]:
        response = client.post(f"/uitnodiging/{token}/afronden", json=body)
        assert response.status_code == 400 and response.get_json()["error"]
    session.expire_all()
    assert usable_invite(session, token)
    assert session.exec(select(Member).where(Member.display_name == "Noor")).first() is None


def test_unusable_invite_endpoints_answer_410(client):
    assert client.post("/uitnodiging/nope/opties", data={"display_name": "X"}).status_code == 410
    assert client.post("/uitnodiging/nope/afronden", json={"credential": {}}).status_code == 410
