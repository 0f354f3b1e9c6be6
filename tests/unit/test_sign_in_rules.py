"""Challenges (single use, bound, expiring) and login sessions, without Flask views."""
import json
from datetime import timedelta

import pytest
from webauthn.helpers import bytes_to_base64url

from models.clock import utcnow
from models.rules import RuleViolation
from models.sign_in import WebAuthnChallenge, consume_challenge, issue_challenge


def _credential_for(challenge: bytes) -> dict:
    client_data = json.dumps({"type": "webauthn.get", "challenge": bytes_to_base64url(challenge),
                              "origin": "http://localhost:5000"}).encode()
    return {"response": {"clientDataJSON": bytes_to_base64url(client_data)}}


def test_challenge_is_used_once(session):
    record = issue_challenge(session, session_key="browser-a", purpose="authenticate")
    credential = _credential_for(record.challenge)
    assert consume_challenge(session, session_key="browser-a", purpose="authenticate", credential=credential).id == record.id
    with pytest.raises(RuleViolation, match="al gebruikt"):
        consume_challenge(session, session_key="browser-a", purpose="authenticate", credential=credential)


@pytest.mark.parametrize("session_key, purpose", [("browser-b", "authenticate"), ("browser-a", "register")])
def test_challenge_is_bound_to_its_session_and_purpose(session, session_key, purpose):
    record = issue_challenge(session, session_key="browser-a", purpose="authenticate")
    with pytest.raises(RuleViolation):
        consume_challenge(session, session_key=session_key, purpose=purpose, credential=_credential_for(record.challenge))


def test_challenge_expires_after_five_minutes(session):
    record = issue_challenge(session, session_key="browser-a", purpose="authenticate")
    record.created_at = utcnow() - timedelta(minutes=5, seconds=1)
    session.add(record)
    session.flush()
    with pytest.raises(RuleViolation, match="verlopen"):
        consume_challenge(session, session_key="browser-a", purpose="authenticate",
                          credential=_credential_for(record.challenge))


def test_challenges_are_random_and_long(session):
    challenges = {issue_challenge(session, session_key="k", purpose="authenticate").challenge for _ in range(20)}
    assert len(challenges) == 20 and all(len(c) == 32 for c in challenges)
    assert session.get(WebAuthnChallenge, 1).used_at is None


@pytest.mark.parametrize("credential", [{}, {"response": {}}, {"response": {"clientDataJSON": "bm90IGpzb24"}}])
def test_unreadable_client_data_is_a_rule_violation(session, credential):
    with pytest.raises(RuleViolation, match="niet leesbaar"):
        consume_challenge(session, session_key="k", purpose="authenticate", credential=credential)
