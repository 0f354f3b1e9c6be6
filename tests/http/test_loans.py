"""Loans over HTTP: the loan part of the request page (lent, repaid, outstanding, the agreed repayment), its
two forms (plain, htmx-free, and from the outbox exactly once), hostile amounts and dates beside their field,
who may use them, and the team page's overdue loans."""
import re
import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from models.clock import today
from models.ledger import AccountKind, Entry, balance_cents
from models.loans import Repayment, agree_repayment
from models.requests import SpendRequest
from tests.card_world import SEPA_CONFIG
from tests.loan_world import granted_loan, lent_out


@pytest.fixture
def app(make_app):
    """The app with the foundation's and the card bank's accounts configured."""
    return make_app(**SEPA_CONFIG)


@pytest.fixture
def world(session, make_team, make_member):
    """A loan of EUR 200 whose card the client has, in a team with every kind of member."""
    team = make_team("Team Lening")
    people = {"worker": make_member(team, "worker", name="Wim Werker"), "voter": make_member(team, "worker", name="Vera"),
              "leader": make_member(team, "team_leader", name="Tom"), "observer": make_member(team, "observer", name="Olga"),
              "coordinator": make_member(team, "coordinator", name="Cora")}
    loan = granted_loan(session, team, people["worker"], people["voter"], 20_000)
    lent_out(session, team, loan, people["coordinator"])
    return {"team": team, "loan": loan, **people}


def _url(world, tail):
    return f"/teams/{world['team'].id}/aanvragen/{world['loan'].id}/lening/{tail}"


def _page(client, world):
    return client.get(f"/teams/{world['team'].id}/aanvragen/{world['loan'].id}")


def _figure(page, name):
    return re.search(rf'data-loan-figure="{name}">([^<]*)<', page.text).group(1)


def _repayments(session):
    session.expire_all()
    return session.exec(select(Repayment)).all()


def test_the_request_page_shows_lent_repaid_and_outstanding(client, world, login_as):
    login_as(world["voter"])
    page = _page(client, world)
    assert page.status_code == 200
    assert (_figure(page, "lent"), _figure(page, "repaid"), _figure(page, "outstanding")) == ("€\u00a0200,00", "€\u00a00,00", "€\u00a0200,00")
    assert "Er is nog geen afspraak" in page.text
    assert 'name="repaid_amount"' not in page.text and 'name="repayment_amount"' not in page.text  # not the requester


def test_a_gift_has_no_loan_part(client, session, world, login_as):
    from tests.card_world import granted_request
    gift = granted_request(session, world["team"], world["worker"], world["voter"], 3_000, household="G-1")
    login_as(world["worker"])
    page = client.get(f"/teams/{world['team'].id}/aanvragen/{gift.id}")
    assert page.status_code == 200 and 'id="loan"' not in page.text


def test_the_requester_agrees_and_changes_the_repayment(client, session, world, login_as):
    login_as(world["worker"])
    due = today() + timedelta(days=60)
    response = client.post(_url(world, "afspraak"), data={"repayment_amount": "150", "repayment_due_on": due.isoformat()})
    assert response.status_code == 303 and response.headers["Location"].endswith("#loan")
    session.expire_all()
    loan = session.get(SpendRequest, world["loan"].id)
    assert (loan.repayment_amount_cents, loan.repayment_due_on) == (15_000, due)
    page = _page(client, world)
    assert "Afgesproken: €\u00a0150,00 terugbetalen" in page.text and "Afspraak wijzigen" in page.text
    client.post(_url(world, "afspraak"), data={"repayment_amount": "200", "repayment_due_on": due.strftime("%d-%m-%Y")})
    session.expire_all()
    assert session.get(SpendRequest, world["loan"].id).repayment_amount_cents == 20_000


def test_the_requester_registers_a_repayment(client, session, world, login_as):
    login_as(world["worker"])
    before = balance_cents(session, world["team"].id, world["loan"].budget_year_id, AccountKind.AVAILABLE)
    response = client.post(_url(world, "terugbetalingen"), data={"repaid_amount": "75,50", "received_on": today().isoformat()})
    assert response.status_code == 303
    [repayment] = _repayments(session)
    assert repayment.amount_cents == 7_550 and repayment.recorded_by_id == world["worker"].id
    assert balance_cents(session, world["team"].id, world["loan"].budget_year_id, AccountKind.AVAILABLE) == before + 7_550
    page = _page(client, world)
    assert (_figure(page, "repaid"), _figure(page, "outstanding")) == ("€\u00a075,50", "€\u00a0124,50")
    assert "terugbetaling ontvangen" in page.text  # the timeline


def test_the_form_defaults_to_today(client, world, login_as):
    login_as(world["worker"])
    page = _page(client, world)
    assert f'name="received_on" max="{today().isoformat()}"' in page.text
    assert f'value="{today().isoformat()}"' in page.text


def test_a_repayment_from_the_outbox_is_booked_once(client, session, world, login_as):
    login_as(world["worker"])
    operation = {"Teambudget-Operation": str(uuid.uuid4()), "Accept": "application/json"}
    data = {"repaid_amount": "20", "received_on": today().isoformat()}
    first = client.post(_url(world, "terugbetalingen"), data=data, headers=operation)
    again = client.post(_url(world, "terugbetalingen"), data=data, headers=operation)
    assert first.status_code == again.status_code == 200
    assert first.json == again.json and first.json["redirect"] == f"/teams/{world['team'].id}/aanvragen/{world['loan'].id}"
    assert again.headers.get("Teambudget-Operation-Replayed") == "true"
    assert len(_repayments(session)) == 1


def test_a_refusal_from_the_outbox_names_its_field(client, session, world, login_as):
    login_as(world["worker"])
    response = client.post(_url(world, "terugbetalingen"), data={"repaid_amount": "500", "received_on": today().isoformat()},
                           headers={"Teambudget-Operation": str(uuid.uuid4()), "Accept": "application/json"})
    assert response.status_code == 422 and response.json["field"] == "repaid_amount"
    assert _repayments(session) == []


@pytest.mark.parametrize("field, value, other", [
    ("repaid_amount", "", "received_on"), ("repaid_amount", "-5", "received_on"), ("repaid_amount", "0", "received_on"),
    ("repaid_amount", "200,01", "received_on"), ("repaid_amount", "1e3", "received_on"),
    ("repaid_amount", "9" * 40, "received_on"), ("repaid_amount", "12,345", "received_on"),
    ("received_on", "", "repaid_amount"), ("received_on", "2026-02-30", "repaid_amount"),
    ("received_on", "morgen", "repaid_amount"), ("received_on", "1999-01-01", "repaid_amount"),
    ("received_on", "99999-01-01", "repaid_amount"), ("received_on", "\x00", "repaid_amount"),
    ("received_on", "tomorrow", "repaid_amount")])
def test_hostile_repayments_are_refused_beside_the_field(client, session, world, login_as, field, value, other):
    login_as(world["worker"])
    data = {"repaid_amount": "10", "received_on": today().isoformat(), field: value}
    entries = len(session.exec(select(Entry)).all())
    response = client.post(_url(world, "terugbetalingen"), data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text and f'id="{other}-error"' not in response.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', response.text)
    assert _repayments(session) == [] and len(session.exec(select(Entry)).all()) == entries


def test_a_repayment_dated_tomorrow_is_refused(client, session, world, login_as):
    login_as(world["worker"])
    tomorrow = (today() + timedelta(days=1)).isoformat()
    response = client.post(_url(world, "terugbetalingen"), data={"repaid_amount": "10", "received_on": tomorrow})
    assert response.status_code == 422 and 'id="received_on-error"' in response.text
    assert 'value="10"' in response.text  # what was typed stays
    assert _repayments(session) == []


@pytest.mark.parametrize("field, value", [
    ("repayment_amount", "200,01"), ("repayment_amount", "abc"), ("repayment_amount", ""),
    ("repayment_due_on", "2000-01-01"), ("repayment_due_on", "31-02-2027"), ("repayment_due_on", "")])
def test_hostile_agreements_are_refused_beside_the_field(client, session, world, login_as, field, value):
    login_as(world["worker"])
    data = {"repayment_amount": "100", "repayment_due_on": (today() + timedelta(days=5)).isoformat(), field: value}
    response = client.post(_url(world, "afspraak"), data=data)
    assert response.status_code == 422 and f'id="{field}-error"' in response.text
    session.expire_all()
    assert session.get(SpendRequest, world["loan"].id).repayment_amount_cents is None


@pytest.mark.parametrize("who", ["voter", "leader", "observer"])
def test_only_the_requester_uses_the_forms(client, session, world, login_as, who):
    login_as(world[who])
    repay = client.post(_url(world, "terugbetalingen"), data={"repaid_amount": "10", "received_on": today().isoformat()})
    agree = client.post(_url(world, "afspraak"), data={"repayment_amount": "10", "repayment_due_on": today().isoformat()})
    assert repay.status_code == agree.status_code == 422
    assert 'id="loan-error"' in repay.text
    session.expire_all()
    assert _repayments(session) == [] and session.get(SpendRequest, world["loan"].id).repayment_due_on is None


def test_a_member_of_another_team_gets_404(client, session, world, login_as, make_team, make_member):
    stranger = make_member(make_team("Team Elders"), "worker")
    login_as(stranger)
    for tail, data in [("terugbetalingen", {"repaid_amount": "10", "received_on": today().isoformat()}),
                       ("afspraak", {"repayment_amount": "10", "repayment_due_on": today().isoformat()})]:
        assert client.post(_url(world, tail), data=data).status_code == 404
    assert _repayments(session) == []


def test_the_coordinator_is_no_team_member(client, world, login_as):
    login_as(world["coordinator"])
    response = client.post(_url(world, "terugbetalingen"), data={"repaid_amount": "10", "received_on": today().isoformat()})
    assert response.status_code == 404


def test_the_team_page_lists_overdue_loans(client, session, world, login_as):
    agree_repayment(session, world["loan"], 20_000, today(), world["worker"].id)
    session.commit()
    login_as(world["observer"])
    home = client.get(f"/teams/{world['team'].id}")
    assert "Leningen over tijd" not in home.text
    loan = session.get(SpendRequest, world["loan"].id)
    loan.repayment_due_on = today() - timedelta(days=1)  # agreed earlier, for a day now past
    session.add(loan)
    session.commit()
    home = client.get(f"/teams/{world['team'].id}")
    assert "Leningen over tijd" in home.text
    row = re.search(rf'<tr data-overdue-loan="{world["loan"].id}">(.*?)</tr>', home.text, re.S).group(1)
    assert "€\u00a0200,00" in row and f"Aanvraag {world['loan'].id}" in row
    assert "Koelkast" not in home.text.split("Leningen over tijd")[1].split("</section>")[0]  # no situation
    page = _page(client, world)
    assert "data-loan-overdue" in page.text


def test_the_loan_part_speaks_english(client, world, login_as):
    login_as(world["worker"])
    client.set_cookie("lang", "en")
    page = _page(client, world)
    assert "Lent" in page.text and "Register a repayment" in page.text
