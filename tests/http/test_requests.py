"""Requests over HTTP: drafting, posting, the guard, voting to a decision, stops, comments, access."""
import re

import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.ledger import AccountKind, accounts_out_of_balance, balance_cents
from models.requests import RequestStatus, SpendRequest
from models.teams import CostCategory, District, Municipality, add_default_cost_categories

GOOD = {"amount": "€ 75,50", "situation": "Moeder van drie kinderen met een uitkering, wacht op bezwaar.",
        "prevents": "Dat de kinderen zonder eten zitten.", "kind": "gift", "household_reference": "DOSSIER-123"}


@pytest.fixture
def team_world(session, make_team, make_member):
    """A team with categories and one member per role, plus two extra workers."""
    team = make_team("Team Oost", annual_budget_cents=50_000)
    municipality = session.get(Municipality, session.get(District, team.district_id).municipality_id)
    add_default_cost_categories(session, municipality)
    session.commit()
    members = {role: make_member(team, role, name=role) for role in
               ["worker", "income_consultant", "provisions_expert", "client_manager", "team_leader", "observer"]}
    members["worker2"] = make_member(team, "worker", name="worker2")
    members["worker3"] = make_member(team, "worker", name="worker3")
    groceries = session.exec(select(CostCategory).where(CostCategory.code == "groceries")).one()
    return {"team": team, "members": members, "groceries": groceries}


def _post_request(client, login_as, world, **changes):
    login_as(world["members"]["worker"])
    data = {**GOOD, "cost_category_id": world["groceries"].id, "action": "post", **changes}
    return client.post(f"/teams/{world['team'].id}/aanvragen", data=data)


def _request(session):
    session.expire_all()
    return session.exec(select(SpendRequest)).one()


@pytest.mark.parametrize("amount, cents", [("75", 7_500), ("75,50", 7_550), ("€ 75,50", 7_550), ("75.50", 7_550)])
def test_amounts_in_dutch_and_plain_notation(client, session, login_as, team_world, amount, cents):
    response = _post_request(client, login_as, team_world, amount=amount)
    assert response.status_code == 303
    assert _request(session).amount_cents == cents


@pytest.mark.parametrize("amount, message", [
    ("0", "groter zijn dan nul"), ("-5", "groter zijn dan nul"), ("75,505", "twee cijfers achter de komma"),
    ("501", "maximum per huishouden"), ("veel", "bijvoorbeeld 75"), ("", "Vul een bedrag in")])
def test_bad_amounts_are_refused_beside_the_field(client, session, login_as, team_world, amount, message):
    response = _post_request(client, login_as, team_world, amount=amount)
    assert response.status_code == 422
    assert 'id="amount-error"' in response.text and message in response.text
    assert session.exec(select(SpendRequest).where(SpendRequest.status != RequestStatus.DRAFT)).first() is None


def test_personal_data_is_refused_naming_the_fragment(client, session, login_as, team_world):
    response = _post_request(client, login_as, team_world, situation="Bel haar op 06-12345678 voor de afspraak.")
    assert response.status_code == 422
    assert "06-12345678" in response.text and 'id="situation-error"' in response.text
    assert "DOSSIER-123" not in response.text  # the case reference is never sent back
    kept = _request(session)  # kept as a draft, so nothing typed is lost; the team sees nothing
    assert kept.status == RequestStatus.DRAFT and kept.household_key
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "posted")).first() is None
    login_as(team_world["members"]["worker2"])
    assert "Bel haar" not in client.get(f"/teams/{team_world['team'].id}").text


def test_household_reference_is_only_stored_as_a_keyed_hash(client, session, login_as, team_world):
    _post_request(client, login_as, team_world)
    stored = _request(session)
    assert stored.household_key and len(stored.household_key) == 64
    assert "DOSSIER" not in repr(session.exec(select(SpendRequest)).all())


def test_draft_is_saved_incomplete_and_seen_only_by_its_requester(client, session, login_as, team_world):
    login_as(team_world["members"]["worker"])
    team_id = team_world["team"].id
    response = client.post(f"/teams/{team_id}/aanvragen", data={"amount": "40", "action": "save"})
    assert response.status_code == 303
    draft = _request(session)
    assert draft.status == RequestStatus.DRAFT and draft.amount_cents == 4_000
    assert client.get(f"/teams/{team_id}/aanvragen/{draft.id}").status_code == 200
    response = client.post(f"/teams/{team_id}/aanvragen/{draft.id}",
                           data={**GOOD, "cost_category_id": team_world["groceries"].id, "action": "post"})
    assert response.status_code == 303 and _request(session).status == RequestStatus.OPEN
    login_as(team_world["members"]["worker2"])
    assert client.get(f"/teams/{team_id}/aanvragen/{draft.id}").status_code == 200
    client.post(f"/teams/{team_id}/aanvragen", data={"amount": "10", "action": "save"})
    other_draft = session.exec(select(SpendRequest).where(SpendRequest.status == RequestStatus.DRAFT)).one()
    login_as(team_world["members"]["worker"])
    assert client.get(f"/teams/{team_id}/aanvragen/{other_draft.id}").status_code == 404


def _vote(client, login_as, world, member, choice="approve", **fields):
    login_as(world["members"][member])
    request_id = world["request_id"]
    return client.post(f"/teams/{world['team'].id}/aanvragen/{request_id}/stem", data={"choice": choice, **fields})


def test_three_approvals_grant_the_highest_amount_a_quorum_approved(client, session, login_as, team_world):
    _post_request(client, login_as, team_world)
    team_world["request_id"] = _request(session).id
    assert _vote(client, login_as, team_world, "worker2").status_code == 303
    assert _vote(client, login_as, team_world, "worker3").status_code == 303
    assert _request(session).status == RequestStatus.OPEN
    _vote(client, login_as, team_world, "provisions_expert", "approve_lower", amount="60")
    granted = _request(session)
    assert granted.status == RequestStatus.GRANTED and granted.granted_amount_cents == 6_000
    team = team_world["team"]
    assert balance_cents(session, team.id, granted.budget_year_id, AccountKind.RESERVED) == 6_000
    assert balance_cents(session, team.id, granted.budget_year_id, AccountKind.AVAILABLE) == 44_000
    assert accounts_out_of_balance(session) == []  # running totals equal the sums of the postings
    home = client.get(f"/teams/{team.id}").text  # the balance card: available, granted, and the year's budget
    assert re.search(r'data-balance="available">€\xa0440,00<', home) and "€\xa060,00" in home
    assert re.search(r"Jaarbudget \d{4}</dt><dd>€\xa0500,00<", home)
    actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["posted", "vote", "vote", "vote", "granted"]
    response = _vote(client, login_as, team_world, "client_manager")
    assert response.status_code == 422 and "al besloten" in response.text


@pytest.mark.parametrize("member", ["worker", "team_leader", "observer"])
def test_requester_team_leader_and_observer_cannot_vote(client, session, login_as, team_world, member):
    _post_request(client, login_as, team_world)
    team_world["request_id"] = _request(session).id
    response = _vote(client, login_as, team_world, member)
    assert response.status_code == 422 and "Je kunt niet stemmen" in response.text
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "vote")).first() is None


def test_stop_blocks_the_grant_until_lifted(client, session, login_as, team_world):
    _post_request(client, login_as, team_world)
    team = team_world["team"]
    team_world["request_id"] = request_id = _request(session).id
    login_as(team_world["members"]["worker2"])
    assert client.post(f"/teams/{team.id}/aanvragen/{request_id}/stop", data={"stop_reason": "x"}).status_code == 422
    login_as(team_world["members"]["income_consultant"])
    response = client.post(f"/teams/{team.id}/aanvragen/{request_id}/stop", data={"stop_reason": ""})
    assert response.status_code == 422 and "reden" in response.text
    assert client.post(f"/teams/{team.id}/aanvragen/{request_id}/stop",
                       data={"stop_reason": "Valt onder bijzondere bijstand"}).status_code == 303
    for member in ["worker2", "worker3", "provisions_expert"]:
        _vote(client, login_as, team_world, member)
    assert _request(session).status == RequestStatus.OPEN
    login_as(team_world["members"]["income_consultant"])
    client.post(f"/teams/{team.id}/aanvragen/{request_id}/stop-opheffen", data={"stop_reason": "Toch niet"})
    assert _request(session).status == RequestStatus.GRANTED


def test_comments_are_checked_for_personal_data(client, session, login_as, team_world):
    _post_request(client, login_as, team_world)
    team = team_world["team"]
    request_id = _request(session).id
    login_as(team_world["members"]["provisions_expert"])
    url = f"/teams/{team.id}/aanvragen/{request_id}/reacties"
    response = client.post(url, data={"body": "Mail haar op moeder@example.nl"})
    assert response.status_code == 422 and "moeder@example.nl" in response.text
    assert client.post(url, data={"body": "Past de voedselbank niet?"}).status_code == 303
    page = client.get(f"/teams/{team.id}/aanvragen/{request_id}").text
    assert "Past de voedselbank niet?" in page


def test_inbox_shows_open_requests_and_what_waits_for_me(client, session, login_as, team_world):
    _post_request(client, login_as, team_world)
    login_as(team_world["members"]["worker2"])
    page = client.get(f"/teams/{team_world['team'].id}").text
    assert "1 aanvraag wacht op jouw stem." in page and "€\xa075,50" in page
    assert 'data-swipe-card' in page


def test_live_region_answers_304_until_something_changes(client, session, login_as, team_world):
    _post_request(client, login_as, team_world)
    team = team_world["team"]
    login_as(team_world["members"]["worker2"])
    first = client.get(f"/teams/{team.id}/live")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and 'id="team-live"' in first.text and "<html" not in first.text
    assert client.get(f"/teams/{team.id}/live", headers={"If-None-Match": etag}).status_code == 304
    team_world["request_id"] = _request(session).id
    _vote(client, login_as, team_world, "worker3")
    login_as(team_world["members"]["worker2"])
    changed = client.get(f"/teams/{team.id}/live", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert re.search(r"1 voor, 0 tegen", changed.text)


@pytest.mark.parametrize("page", ["", "/live"])
def test_a_request_past_the_expiry_time_expires_when_the_team_is_opened(client, session, login_as, team_world, page):
    from datetime import timedelta
    _post_request(client, login_as, team_world)
    waiting = _request(session)
    waiting.posted_at -= timedelta(hours=team_world["team"].request_expiry_hours, minutes=1)
    session.add(waiting)
    session.commit()
    login_as(team_world["members"]["worker2"])
    shown = client.get(f"/teams/{team_world['team'].id}{page}").text
    session.expire_all()
    assert _request(session).status == RequestStatus.EXPIRED
    assert "data-swipe-card" not in shown and "Er zijn geen open aanvragen." in shown
    assert "verlopen" in shown  # among the latest decisions
    assert [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))] == ["posted", "expired"]


def _settings(team, **changes):
    values = {"quorum": str(team.quorum), "household_cap_cents": "500", "account_cap_cents": "500",
              "escalation_threshold_cents": "500", "request_expiry_hours": "72", "reminder_after_hours": "4"}
    return {**values, **changes}


def test_coordinator_lowers_the_quorum_and_the_waiting_request_is_granted(
        client, session, login_as, team_world, make_member):
    _post_request(client, login_as, team_world)
    team = team_world["team"]
    team_world["request_id"] = _request(session).id
    _vote(client, login_as, team_world, "worker2")
    _vote(client, login_as, team_world, "worker3")
    login_as(make_member(team, "coordinator"))
    assert client.get(f"/beheer/teams/{team.id}/instellingen").status_code == 200
    response = client.post(f"/beheer/teams/{team.id}/instellingen", data=_settings(team, quorum="2"))
    assert response.status_code == 303
    assert _request(session).status == RequestStatus.GRANTED
    changes = session.exec(select(AuditEvent).where(AuditEvent.action == "setting_changed")).all()
    assert [(e.detail["setting"], e.detail["old"], e.detail["new"]) for e in changes] == [("quorum", 3, 2)]


@pytest.mark.parametrize("field, value, message", [
    ("quorum", "0", "van 1 tot en met 15"), ("quorum", "twee", "heel getal"), ("household_cap_cents", "-1", "groter zijn dan nul"),
    ("escalation_threshold_cents", "1,234", "twee cijfers"), ("request_expiry_hours", "", "heel getal")])
def test_bad_settings_are_refused_and_nothing_changes(client, session, login_as, team_world, make_member, field, value, message):
    team = team_world["team"]
    login_as(make_member(team, "coordinator"))
    response = client.post(f"/beheer/teams/{team.id}/instellingen", data=_settings(team, **{"quorum": "2", field: value}))
    assert response.status_code == 422 and message in response.text and f'id="{field}-error"' in response.text
    session.expire_all()
    assert session.get(type(team), team.id).quorum == 3
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "setting_changed")).first() is None


def test_reminder_shows_on_the_home_page_after_the_set_time(client, session, login_as, team_world):
    from datetime import timedelta

    from models.clock import utcnow

    _post_request(client, login_as, team_world)
    login_as(team_world["members"]["worker2"])
    assert "langer dan" not in client.get(f"/teams/{team_world['team'].id}").text
    stored = _request(session)
    stored.posted_at = utcnow() - timedelta(hours=5)
    session.add(stored)
    session.commit()
    assert "1 aanvraag wacht al langer dan 4 uur op jouw stem." in client.get(f"/teams/{team_world['team'].id}").text
    login_as(team_world["members"]["team_leader"])
    assert "langer dan" not in client.get(f"/teams/{team_world['team'].id}").text


def test_swipe_votes_get_a_small_json_answer(client, session, login_as, team_world):
    _post_request(client, login_as, team_world)
    team_world["request_id"] = _request(session).id
    login_as(team_world["members"]["worker2"])
    url = f"/teams/{team_world['team'].id}/aanvragen/{team_world['request_id']}/stem"
    answer = client.post(url, data={"choice": "approve"}, headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.get_json() == {"status": "open", "error": None}
    refused = client.post(url, data={"choice": "maybe"}, headers={"Accept": "application/json"})
    assert refused.status_code == 422 and refused.get_json()["error"] == "Kies een stem."
