"""Bounds on numbers and texts from outside (issue 9 §6): ids, amounts, team settings, control characters, JSON.

Every refusal is a 4xx with a message, the same on SQLite and PostgreSQL; nothing reaches the database that
overflows a column or a date.
"""
from datetime import timedelta

import pytest
from sqlmodel import select

from models.cards import Card, CardState
from models.clock import utcnow
from models.members import active_membership
from models.subscriptions import PushReminder
from models.receipts import Receipt
from models.requests import DraftInput, SpendRequest, post_request, save_draft
from models.teams import CostCategory, Team
from tests.card_world import SECRET, granted_request, municipality_id, with_categories

HUGE = ["2147483648", "9223372036854775808", "18446744073709551616", "99999999999999999999"]


@pytest.fixture
def world(session, make_team, make_member):
    """A team with its categories, a worker with a granted request, its card handed over and a receipt, a voter
    and a coordinator."""
    team = make_team("Team Grens")
    with_categories(session, team)
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    request = granted_request(session, team, worker, voter, 6_000)
    receipt = Receipt(request_id=request.id, team_id=team.id, added_by_id=worker.id, file_name="f" * 32,
                      width=10, height=10)
    session.add_all([receipt, Card(team_id=team.id, reference="K-1", last_four="1234", request_id=request.id,
                                   state=CardState.HANDED_OVER, loaded_amount_cents=6_000, loaded_at=utcnow(),
                                   handed_over_at=utcnow())])
    session.commit()
    category = session.exec(select(CostCategory).where(CostCategory.code == "groceries")).first()
    return {"team": team, "worker": worker, "voter": voter, "coordinator": coordinator, "request": request,
            "receipt": receipt, "category": category}


def _settings(**changes):
    values = {"quorum": "1", "household_cap_cents": "500", "account_cap_cents": "500",
              "escalation_threshold_cents": "250", "request_expiry_hours": "72", "reminder_after_hours": "4"}
    return {**values, **changes}


@pytest.mark.parametrize("huge", HUGE)
@pytest.mark.parametrize("path", ["/teams/{}", "/teams/{}/aanvragen/1", "/beheer/teams/{}", "/beheer/kaarten/{}"])
def test_an_id_in_the_url_beyond_any_column_is_not_found(client, login_as, world, path, huge):
    login_as(world["coordinator"] if path.startswith("/beheer") else world["worker"])
    response = client.get(path.format(huge)) if "kaarten" not in path else client.post(path.format(huge))
    assert response.status_code in (404, 405)


@pytest.mark.parametrize("huge", HUGE)
def test_an_id_in_a_form_beyond_any_column_is_refused_beside_its_field(client, session, login_as, world, huge):
    team = world["team"]
    login_as(world["worker"])
    draft = client.post(f"/teams/{team.id}/aanvragen", data={"amount": "10", "cost_category_id": huge})
    assert draft.status_code == 422 and 'id="cost_category_id-error"' in draft.text
    card = client.post(f"/teams/{team.id}/aanvragen/{world['request'].id}/kaart", data={"card_id": huge})
    assert card.status_code == 422 and "Kies een kaart." in card.text
    login_as(world["coordinator"])
    member = client.post(f"/beheer/teams/{team.id}/leden", data={"member_id": huge, "role": "worker"})
    assert member.status_code == 422 and "Kies een lid." in member.text
    batch = client.post("/beheer/kaarten/opdrachten", data={"card_id": huge})
    assert batch.status_code == 422 and "Die kaart bestaat niet." in batch.text


@pytest.mark.parametrize("amount", ["100000,01", "21474836,48", "92233720368547758,08", "9" * 40, "1" + "0" * 400])
def test_an_amount_above_the_maximum_is_refused_beside_its_field(client, session, login_as, world, amount):
    team, request = world["team"], world["request"]
    login_as(world["worker"])
    receipt = client.post(f"/teams/{team.id}/aanvragen/{request.id}/bonnetjes/{world['receipt'].id}/bedrag",
                          data={"amount": amount}, headers={"HX-Request": "true"})
    assert receipt.status_code == 422 and "hoogstens € 100.000,00" in receipt.text
    login_as(world["coordinator"])
    top_up = client.post("/beheer/kaarten/opdrachten", data={f"top_up_{team.id}": amount})
    assert top_up.status_code == 422 and "hoogstens € 100.000,00" in top_up.text
    settings = client.post(f"/beheer/teams/{team.id}/instellingen", data=_settings(account_cap_cents=amount))
    assert settings.status_code == 422 and 'id="account_cap_cents-error"' in settings.text


@pytest.mark.parametrize("field, value, message", [
    ("request_expiry_hours", "20000000", "van 1 tot en met 720"),
    ("request_expiry_hours", "721", "van 1 tot en met 720"),
    ("reminder_after_hours", "2147483647", "van 1 tot en met 720"),
    ("reminder_after_hours", "9223372036854775808", "van 1 tot en met 720"),
    ("reminder_after_hours", "73", "voordat de aanvraag verloopt"),
    ("quorum", "99999999999999999999", "van 1 tot en met 15"),
    ("quorum", "1_0", "heel getal"), ("quorum", "0x1", "heel getal"), ("quorum", "١٢", "heel getal"),
])
def test_team_settings_stay_within_their_ranges(client, session, login_as, world, field, value, message):
    team = world["team"]
    login_as(world["coordinator"])
    response = client.post(f"/beheer/teams/{team.id}/instellingen", data=_settings(**{field: value}))
    assert response.status_code == 422 and message in response.text and f'id="{field}-error"' in response.text
    session.expire_all()
    assert session.get(Team, team.id).request_expiry_hours == 72
    login_as(world["worker"])
    assert client.get(f"/teams/{team.id}").status_code == 200


def test_the_longest_settings_are_accepted_and_the_team_pages_work(client, session, login_as, world):
    team = world["team"]
    login_as(world["coordinator"])
    response = client.post(f"/beheer/teams/{team.id}/instellingen", data=_settings(
        request_expiry_hours="720", reminder_after_hours="720", household_cap_cents="100.000,00"))
    assert response.status_code == 303
    login_as(world["worker"])
    assert client.get(f"/teams/{team.id}").status_code == 200


def test_reminders_go_on_for_other_teams_when_one_team_fails(app, session, make_team, make_member, world):
    broken = make_team("Team Kapot")
    with_categories(session, broken)
    asker, voter = make_member(broken, "worker", name="Ad"), make_member(broken, "worker", name="Bo")
    for team, requester in [(broken, asker), (world["team"], world["worker"])]:
        category_id = session.exec(select(CostCategory.id).where(
            CostCategory.code == "groceries", CostCategory.municipality_id == municipality_id(session, team))).one()
        draft = save_draft(session, team, active_membership(session, requester.id, team.id), DraftInput(
            amount="10", cost_category_id=category_id, situation="Situatie.", prevents="Afsluiting.",
            household_reference=f"H-{team.id}"), household_secret=SECRET)
        post_request(session, draft, team, requester.id)
        draft.posted_at = utcnow() - timedelta(days=2)
        session.add(draft)
    team = session.get(Team, world["team"].id)
    team.quorum = 3  # the granted request stays granted; the new one waits for the voter
    broken.reminder_after_hours = 2147483647  # written before the ranges existed: now + that overflows
    session.add_all([team, broken])
    session.commit()
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert "1 reminder(s) sent." in result.output
    assert f"team {broken.id} failed (OverflowError)" in result.output and result.exit_code == 1
    session.expire_all()
    reminded = session.exec(select(PushReminder.member_id)).all()
    assert reminded == [world["voter"].id] and voter.id not in reminded


def test_control_characters_are_removed_from_every_form_field(client, session, login_as, world):
    login_as(world["worker"])
    text = "Vader\x00 met\x01 twee\x1f kinderen\x7f\tvraagt\r\nhulp"
    response = client.post(f"/teams/{world['team'].id}/aanvragen", data={
        "amount": "1\x000", "situation": text, "prevents": "\x00" * 1000, "cost_category_id": world["category"].id})
    assert response.status_code == 303
    session.expire_all()
    draft = session.exec(select(SpendRequest).where(SpendRequest.status == "draft")).one()
    assert (draft.situation, draft.prevents, draft.amount_cents) == ("Vader met twee kinderen\tvraagt\r\nhulp", "", 1000)


@pytest.mark.parametrize("path", ["/meldingen/aanmelden", "/meldingen/afmelden", "/inloggen/controle"])
@pytest.mark.parametrize("body", ['"een tekst"', "42", "[1, 2]", "null", "[" * 100_000 + "]" * 100_000,
                                  '{"endpoint": "https://fcm.googleapis.com/x\\u0000"}', '{"x": "\\ud800"}',
                                  '{"credential": {"id": "\\u0000"}}', "{", "\xff"])
def test_malformed_json_is_a_bad_request(client, login_as, world, path, body):
    if path.startswith("/meldingen"):
        login_as(world["worker"])
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
