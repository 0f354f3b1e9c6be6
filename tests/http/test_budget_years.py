"""Budget years over HTTP: opening next year, changing budgets, the banner, and the turn of the year.

The clock (models/clock.py, the `clock` fixture) is moved across 31 December; the teams' first year is the
one `make_team` opened (this calendar year), called Y below.
"""
import uuid
from datetime import datetime, timezone

import pytest
from sqlmodel import func, select

from models.audit import AuditEvent
from models.clock import utcnow
from models.ledger import AccountKind, accounts_out_of_balance, balance_cents
from models.outbox import ClientOperation
from models.requests import RequestStatus, SpendRequest
from models.teams import BudgetYear, CostCategory, District, Municipality, TeamBudget, add_default_cost_categories
from tests.http.test_requests import GOOD

NO_BUDGET = "Er is nog geen budget voor"


def moment(year, month, day, hour=9, minute=0):
    """An aware UTC datetime for the clock."""
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def years_world(session, make_team, make_member):
    """Two teams of one municipality (budgets € 2.500 and € 1.000) in year Y, a coordinator, three workers."""
    east = make_team("Team Oost", annual_budget_cents=250_000)
    municipality = session.get(Municipality, session.get(District, east.district_id).municipality_id)
    west = make_team("Team West", municipality=municipality, annual_budget_cents=100_000)
    add_default_cost_categories(session, municipality)
    east.quorum = 1
    session.add(east)
    session.commit()
    year = session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality.id)).one()
    return {"east": east, "west": west, "municipality": municipality, "year": year, "Y": year.year,
            "coordinator": make_member(east, "coordinator", name="Cora"),
            "worker": make_member(east, "worker", name="Wim"), "voter": make_member(east, "worker", name="Vera"),
            "groceries": session.exec(select(CostCategory).where(CostCategory.municipality_id == municipality.id,
                                                                 CostCategory.code == "groceries")).one()}


def _rows(world, east="2500", west="1000"):
    return {"team_id": [world["east"].id, world["west"].id], "budget": [east, west]}


def _open(client, world, year, **budgets):
    return client.post("/beheer/budgetjaren", data={"year": year, **_rows(world, **budgets)})


def _year(session, world, year):
    session.expire_all()
    return session.exec(select(BudgetYear).where(BudgetYear.municipality_id == world["municipality"].id,
                                                 BudgetYear.year == year)).first()


def _count(session, model, *where):
    session.expire_all()
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_coordinator_opens_next_year_prefilled_from_this_year(client, session, login_as, clock, years_world):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y, 12, 2))
    login_as(world["coordinator"])
    page = client.get("/beheer/budgetjaren").text
    assert f"Budgetjaar {Y + 1} openen" in page
    assert 'value="2500,00"' in page and 'value="1000,00"' in page  # this year's budgets, editable
    assert "€\xa03.500,00" in page  # the municipality's total

    response = _open(client, world, Y + 1, east="3.000,50")
    assert response.status_code == 303
    opened = _year(session, world, Y + 1)
    assert response.headers["Location"] == f"/beheer/budgetjaren/{opened.id}"
    assert (opened.starts_on.isoformat(), opened.ends_on.isoformat()) == (f"{Y + 1}-01-01", f"{Y + 1}-12-31")
    assert balance_cents(session, world["east"].id, opened.id, AccountKind.AVAILABLE) == 300_050
    assert balance_cents(session, world["west"].id, opened.id, AccountKind.AVAILABLE) == 100_000
    assert balance_cents(session, world["east"].id, world["year"].id, AccountKind.AVAILABLE) == 250_000
    assert accounts_out_of_balance(session) == []
    audited = session.exec(select(AuditEvent).where(AuditEvent.action == "annual_budget")).all()
    assert sorted(e.detail["new_cents"] for e in audited) == [100_000, 300_050]
    assert {e.detail["year"] for e in audited} == {Y + 1}

    page = client.get(response.headers["Location"]).text
    assert "€\xa04.000,50" in page and "Budgetten opslaan" in page  # the total as saved, and still editable
    assert f"Budgetjaar {Y + 1} is nog niet geopend" not in client.get("/beheer").text


def test_the_cli_opens_a_year_copied_from_another(app, session, clock, years_world):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y, 12, 2))
    runner = app.test_cli_runner()
    name = world["municipality"].name
    result = runner.invoke(args=["budget-year", "open", "--municipality", name, "--year", str(Y + 1),
                                 "--copy-from", str(Y)])
    assert result.exit_code == 0, result.output
    assert f"Opened budget year {Y + 1}" in result.output and "Team Oost" in result.output
    assert "3500.00" in result.output
    opened = _year(session, world, Y + 1)
    assert balance_cents(session, world["east"].id, opened.id, AccountKind.AVAILABLE) == 250_000

    for args, message in [
            (["--municipality", "Nergens", "--year", str(Y + 1)], "No municipality named 'Nergens'"),
            (["--municipality", name, "--year", str(Y + 1), "--copy-from", str(Y)], "is al geopend"),
            (["--municipality", name, "--year", str(Y), "--copy-from", str(Y - 5)], f"Budgetjaar {Y - 5} bestaat niet"),
            (["--municipality", name, "--year", str(Y - 1)], "Open dit jaar")]:
        result = runner.invoke(args=["budget-year", "open", *args])
        assert result.exit_code == 1 and message in result.output, result.output
    assert _count(session, BudgetYear) == 2


@pytest.mark.parametrize("change, field, message", [
    ({"east": "-5"}, "east", "groter zijn dan nul"),
    ({"east": "100000,01"}, "east", "hoogstens € 100.000,00"),
    ({"west": "veel"}, "west", "bijvoorbeeld 75"),
    ({"west": "1,005"}, "west", "twee cijfers achter de komma"),
])
def test_bad_amounts_are_refused_beside_their_team(client, session, login_as, clock, years_world, change, field,
                                                   message):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y, 12, 2))
    login_as(world["coordinator"])
    response = _open(client, world, Y + 1, **change)
    assert response.status_code == 422
    assert f'id="budget_{world[field].id}-error"' in response.text and message in response.text
    assert f'value="{change[field]}"' in response.text  # what was typed stays in the form
    assert _year(session, world, Y + 1) is None and _count(session, TeamBudget) == 2


def test_existing_past_and_foreign_years_and_teams_are_refused(client, session, login_as, clock, years_world,
                                                               make_team):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y, 12, 2))
    stranger = make_team("Team Elders")
    login_as(world["coordinator"])
    for year, message in [(Y, f"Budgetjaar {Y} is al geopend"), (Y - 1, "Open dit jaar"), (Y + 2, "Open dit jaar"),
                          ("", "Vul een heel getal in")]:
        response = _open(client, world, year)
        assert response.status_code == 422 and message in response.text, year
    foreign = client.post("/beheer/budgetjaren", data={"year": Y + 1, "team_id": [world["east"].id, stranger.id],
                                                       "budget": ["10", "10"]})
    assert foreign.status_code == 422 and "hoort niet bij deze gemeente" in foreign.text
    uneven = client.post("/beheer/budgetjaren", data={"year": Y + 1, "team_id": [world["east"].id], "budget": []})
    assert uneven.status_code == 422
    assert _count(session, BudgetYear) == 2 and _count(session, TeamBudget) == 3


def test_a_budget_is_changed_but_never_below_what_was_granted(client, session, login_as, clock, years_world):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y, 6, 1))
    _post(client, login_as, world, amount="400")
    _vote(client, login_as, world)
    login_as(world["coordinator"])
    url = f"/beheer/budgetjaren/{world['year'].id}"
    assert "€\xa0400,00" in client.get(url).text  # what Team Oost granted: the lowest its budget may become

    response = client.post(url, data=_rows(world, east="399,99"))
    assert response.status_code == 422
    assert f'id="budget_{world["east"].id}-error"' in response.text and "al is toegekend" in response.text
    assert balance_cents(session, world["east"].id, world["year"].id, AccountKind.AVAILABLE) == 210_000

    response = client.post(url, data=_rows(world, east="400", west="1200"))
    assert response.status_code == 303
    assert balance_cents(session, world["east"].id, world["year"].id, AccountKind.AVAILABLE) == 0
    assert balance_cents(session, world["west"].id, world["year"].id, AccountKind.AVAILABLE) == 120_000
    assert "€\xa01.600,00" in client.get(url).text
    assert accounts_out_of_balance(session) == []


def test_a_closed_year_cannot_be_changed(client, session, login_as, clock, years_world):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y + 1, 2, 1))
    year = session.get(BudgetYear, world["year"].id)
    year.closed_at = utcnow()
    session.add(year)
    session.commit()
    login_as(world["coordinator"])
    url = f"/beheer/budgetjaren/{year.id}"
    page = client.get(url).text
    assert "afgesloten" in page and 'name="budget"' not in page
    response = client.post(url, data=_rows(world, east="1"))
    assert response.status_code == 422 and "de budgetten liggen vast" in response.text
    assert balance_cents(session, world["east"].id, year.id, AccountKind.AVAILABLE) == 250_000


def test_another_municipalitys_year_is_not_found(client, session, login_as, years_world, make_team, make_member):
    other = make_team("Team Elders")
    login_as(make_member(other, "coordinator"))
    url = f"/beheer/budgetjaren/{years_world['year'].id}"
    assert client.get(url).status_code == 404
    assert client.post(url, data=_rows(years_world, east="1")).status_code == 404
    assert balance_cents(session, years_world["east"].id, years_world["year"].id, AccountKind.AVAILABLE) == 250_000


def test_team_members_may_not_open_a_year(client, session, login_as, clock, years_world):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y, 12, 2))
    login_as(world["worker"])
    assert client.get("/beheer/budgetjaren").status_code == 403
    assert _open(client, world, Y + 1).status_code == 403
    assert _year(session, world, Y + 1) is None


@pytest.mark.parametrize("when, banner", [
    ((11, 30), None),
    ((12, 1), "is nog niet geopend"),
    ((12, 31), "is nog niet geopend"),
])
def test_the_banner_shows_from_1_december_until_next_year_is_open(client, session, login_as, clock, years_world,
                                                                  when, banner):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y, *when))
    login_as(world["coordinator"])
    for url in ("/beheer", "/beheer/budgetjaren"):
        page = client.get(url).text
        if banner:
            assert f"Budgetjaar {Y + 1} {banner}" in page and 'href="/beheer/budgetjaren#openen"' in page
        else:
            assert "budget-year-banner" not in page
    if banner:
        assert _open(client, world, Y + 1).status_code == 303
        assert "budget-year-banner" not in client.get("/beheer").text


def test_without_a_year_today_the_banner_says_posting_is_refused(client, login_as, clock, years_world):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y + 1, 1, 3))
    login_as(world["coordinator"])
    page = client.get("/beheer").text
    assert f"Er is geen budgetjaar voor {Y + 1}: teams kunnen geen aanvragen versturen" in page
    page = client.get("/beheer/budgetjaren").text
    assert f"Budgetjaar {Y + 1} openen" in page  # this year, which is missing, is the one offered
    assert _open(client, world, Y + 1).status_code == 303
    assert "budget-year-banner" not in client.get("/beheer").text


def _post(client, login_as, world, headers=None, **changes):
    login_as(world["worker"])
    data = {**GOOD, "cost_category_id": world["groceries"].id, "action": "post", **changes}
    return client.post(f"/teams/{world['east'].id}/aanvragen", data=data, headers=headers or {})


def _vote(client, login_as, world):
    login_as(world["voter"])
    request_id = _newest(client, world).id
    return client.post(f"/teams/{world['east'].id}/aanvragen/{request_id}/stem", data={"choice": "approve"})


def _newest(client, world):
    from models.db import make_session
    with make_session(client.application.extensions["engine"]) as session:
        return session.exec(select(SpendRequest).order_by(SpendRequest.id.desc())).first()


def test_on_1_january_a_post_lands_in_the_new_year_when_it_was_opened(client, session, login_as, clock,
                                                                      years_world):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y, 12, 31, 22, 59))  # 23:59 in the Netherlands (UTC+1): still the old year
    assert _post(client, login_as, world).status_code == 303
    login_as(world["coordinator"])
    assert _open(client, world, Y + 1).status_code == 303
    clock(moment(Y, 12, 31, 23, 1))  # 00:01 on 1 January in the Netherlands, still 31 December in UTC
    assert _post(client, login_as, world).status_code == 303
    session.expire_all()
    old, new = session.exec(select(SpendRequest).order_by(SpendRequest.id)).all()
    assert old.budget_year_id == world["year"].id
    assert new.budget_year_id == _year(session, world, Y + 1).id and new.status == RequestStatus.OPEN


def test_without_next_year_a_post_is_refused_clearly_and_the_draft_is_kept(client, session, login_as, clock,
                                                                          years_world):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y + 1, 1, 1, 8))
    message = f"{NO_BUDGET} {Y + 1}. Je concept is bewaard"
    for headers in ({}, {"HX-Request": "true", "HX-Request-Type": "full"}):  # the plain form, and boosted by htmx
        response = _post(client, login_as, world, headers=headers)
        assert response.status_code == 422 and message in response.text
        assert 'role="alert"' in response.text and 'name="situation"' in response.text  # the form, to post later
    session.expire_all()
    drafts = session.exec(select(SpendRequest)).all()
    assert [d.status for d in drafts] == [RequestStatus.DRAFT] * 2 and drafts[0].situation == GOOD["situation"]
    assert all(d.budget_year_id is None for d in drafts)

    # the outbox replays the post of a saved draft: refused as JSON, the draft stays as it was
    operation = str(uuid.uuid4())
    replay = client.post(f"/teams/{world['east'].id}/aanvragen/{drafts[0].id}",
                         data={**GOOD, "cost_category_id": world["groceries"].id, "action": "post"},
                         headers={"Accept": "application/json", "Teambudget-Operation": operation})
    assert replay.status_code == 422 and message in replay.get_json()["error"]
    assert _count(session, ClientOperation) == 0  # nothing recorded: the phone keeps the item and sends it again
    assert _count(session, SpendRequest, SpendRequest.status == RequestStatus.DRAFT) == 2

    login_as(world["coordinator"])
    assert _open(client, world, Y + 1).status_code == 303
    login_as(world["worker"])
    again = client.post(f"/teams/{world['east'].id}/aanvragen/{drafts[0].id}",
                        data={**GOOD, "cost_category_id": world["groceries"].id, "action": "post"},
                        headers={"Accept": "application/json", "Teambudget-Operation": operation})
    assert again.status_code == 200 and again.get_json()["status"] == RequestStatus.OPEN


def test_a_request_open_at_the_turn_is_granted_from_the_year_it_was_posted_in(client, session, login_as, clock,
                                                                              years_world):
    world, Y = years_world, years_world["Y"]
    clock(moment(Y, 12, 30))
    login_as(world["coordinator"])
    assert _open(client, world, Y + 1, east="800").status_code == 303
    assert _post(client, login_as, world, amount="300").status_code == 303
    # after the turn and well within the team's 72 hours: 2 January 09:00 was exactly 72 hours after the post,
    # so the request expired or not by how long the post and the vote each took after their clock was set
    clock(moment(Y + 1, 1, 1))
    assert _vote(client, login_as, world).status_code == 303
    session.expire_all()
    granted = session.exec(select(SpendRequest)).one()
    assert granted.status == RequestStatus.GRANTED and granted.budget_year_id == world["year"].id
    new_year = _year(session, world, Y + 1)
    east = world["east"].id
    assert balance_cents(session, east, world["year"].id, AccountKind.RESERVED) == 30_000
    assert balance_cents(session, east, world["year"].id, AccountKind.AVAILABLE) == 220_000
    assert balance_cents(session, east, new_year.id, AccountKind.AVAILABLE) == 80_000
    assert balance_cents(session, east, new_year.id, AccountKind.RESERVED) == 0



def test_hostile_amounts_years_and_team_ids_are_refused_never_a_crash(client, session, login_as, clock, years_world):
    from tests.http.test_hostile_input import HOSTILE, _form_body

    world, Y = years_world, years_world["Y"]
    clock(moment(Y, 12, 2))
    login_as(world["coordinator"])
    east, edit = str(world["east"].id), f"/beheer/budgetjaren/{world['year'].id}"
    for value in HOSTILE:
        opening = [{"year": value, "team_id": east, "budget": "10"}, {"year": str(Y + 1), "team_id": value, "budget": "10"}]
        for fields in opening:
            response = client.post("/beheer/budgetjaren", data=_form_body(fields),
                                   content_type="application/x-www-form-urlencoded")
            assert response.status_code == 422, (fields, response.status_code)
        # as an amount some are fine ("0", "00000000000000000001", "€ 75,50"): changed, or refused beside the field
        response = client.post(edit, data=_form_body({"team_id": east, "budget": value}),
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code in (303, 422), (value, response.status_code)
        if response.status_code == 422:
            assert f'id="budget_{east}-error"' in response.text, value
    assert _year(session, world, Y + 1) is None and accounts_out_of_balance(session) == []
