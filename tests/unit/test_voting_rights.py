"""The voting-rights matrix: who may post, vote, stop and withdraw — enforced by the rules, not the pages."""
import pytest

from models.clock import utcnow
from models.members import active_membership
from models.requests import RequestStatus, SpendRequest, may_request, withdraw_request
from models.rules import RuleViolation
from models.votes import cast_vote, is_voting_member, may_stop, place_stop

#: actor → (may request, may vote, may stop); "requester" is a worker who posted the request
MATRIX = {
    "worker": (True, True, False),
    "income_consultant": (True, True, True),
    "provisions_expert": (True, True, False),
    "client_manager": (True, True, False),
    "team_leader": (False, False, False),
    "observer": (False, False, False),
    "requester": (True, False, False),
}


@pytest.fixture
def open_request(session, make_team, make_member):
    team = make_team()
    requester = make_member(team, "worker", name="requester")
    request = SpendRequest(team_id=team.id, requester_id=requester.id, amount_cents=5_000, situation="s",
                           prevents="p", status=RequestStatus.OPEN, posted_at=utcnow(), household_key="h" * 64)
    session.add(request)
    session.commit()
    return team, requester, request


def _membership(session, make_member, team, requester, actor):
    member = requester if actor == "requester" else make_member(team, actor, name=actor)
    return active_membership(session, member.id, team.id)


@pytest.mark.parametrize("actor", MATRIX)
def test_voting_rights_matrix(session, make_member, open_request, actor):
    team, requester, request = open_request
    membership = _membership(session, make_member, team, requester, actor)
    may_post, may_vote, may_brake = MATRIX[actor]
    assert (may_request(membership), is_voting_member(membership, request), may_stop(membership, request)) == \
        (may_post, may_vote, may_brake)
    if may_vote:
        assert cast_vote(session, request, membership, "approve").amount_cents == 5_000
    else:
        with pytest.raises(RuleViolation):
            cast_vote(session, request, membership, "approve")
    if may_brake:
        assert place_stop(session, request, membership, "Onrechtmatig").reason == "Onrechtmatig"
    else:
        with pytest.raises(RuleViolation):
            place_stop(session, request, membership, "Onrechtmatig")


@pytest.mark.parametrize("actor", [a for a in MATRIX if a != "requester"])
def test_only_the_requester_withdraws(session, make_member, open_request, actor):
    team, requester, request = open_request
    membership = _membership(session, make_member, team, requester, actor)
    with pytest.raises(RuleViolation):
        withdraw_request(session, request, membership.member_id)
    withdraw_request(session, request, requester.id)
    assert request.status == RequestStatus.WITHDRAWN


def test_a_member_of_another_team_has_no_vote(session, make_team, make_member, open_request):
    _team, _requester, request = open_request
    other = make_team("Elders")
    outsider = make_member(other, "worker")
    membership = active_membership(session, outsider.id, other.id)
    assert not is_voting_member(membership, request) and not may_stop(membership, request)
    with pytest.raises(RuleViolation):
        cast_vote(session, request, membership, "approve")
