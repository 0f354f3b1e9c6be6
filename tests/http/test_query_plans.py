"""The pages every phone hits read only what they show, whatever the size of the team's history.

`make bench` measures the CPU; this checks the reason it stays flat from 1k to 100k ledger entries:
on SQLite no statement of the inbox, the live poll, a vote or a grant scans a table that grows with
history, and the household cap's sum uses the index made for it (SQLite, lacking statistics, would
otherwise walk every granted request of every year through the status index). PostgreSQL picks its
plans from statistics, which a test database this small does not have, so the check runs on SQLite.
"""
import pytest
from sqlalchemy import event
from sqlmodel import select

from models.requests import RequestStatus, SpendRequest
from models.teams import CostCategory, District, Municipality, add_default_cost_categories

GROWING_TABLES = {"spendrequest", "vote", "comment", "stop", "auditevent", "entry", "posting", "clientoperation",
                  "loginsession", "receipt", "card", "pushreminder"}
REQUEST = {"amount": "75", "situation": "Moeder van drie kinderen met een uitkering, wacht op bezwaar.",
           "prevents": "Dat de kinderen zonder eten zitten.", "kind": "gift", "household_reference": "DOSSIER-9",
           "action": "post"}


@pytest.fixture
def sqlite_only(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("query plans are checked on SQLite (PostgreSQL plans by statistics)")


@pytest.fixture
def statements(app):
    """Every SELECT the app sends while the test runs, with its parameters."""
    seen = []

    def remember(_connection, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))
    engine = app.extensions["engine"]
    event.listen(engine, "before_cursor_execute", remember)
    yield seen
    event.remove(engine, "before_cursor_execute", remember)


def plan(app, statement, parameters):
    with app.extensions["engine"].connect() as connection:
        return [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]


def full_scans(lines):
    """The growing tables a plan reads from start to end (`SCAN t`, not `SEARCH t USING INDEX`)."""
    return {line.split()[1] for line in lines if line.startswith("SCAN ") and line.split()[1] in GROWING_TABLES}


def test_inbox_live_vote_and_grant_read_no_history_table_whole(
        sqlite_only, app, client, session, make_team, make_member, login_as, statements):
    team = make_team("Team Oost")
    add_default_cost_categories(session, session.get(Municipality, session.get(District, team.district_id).municipality_id))
    session.commit()
    requester, *voters = [make_member(team, "worker", name=f"w{n}") for n in range(4)]
    groceries = session.exec(select(CostCategory).where(CostCategory.code == "groceries")).one()
    login_as(requester)
    assert client.post(f"/teams/{team.id}/aanvragen", data={**REQUEST, "cost_category_id": groceries.id}).status_code == 303
    request_id = session.exec(select(SpendRequest.id)).one()
    statements.clear()

    for voter in voters:
        login_as(voter)
        assert client.get(f"/teams/{team.id}").status_code == 200
        assert client.get(f"/teams/{team.id}/live", headers={"HX-Request": "true"}).status_code == 200
        assert client.post(f"/teams/{team.id}/aanvragen/{request_id}/stem", data={"choice": "approve"}).status_code == 303
    session.expire_all()
    assert session.get(SpendRequest, request_id).status == RequestStatus.GRANTED

    plans = {statement: plan(app, statement, parameters) for statement, parameters in statements}
    assert len(plans) > 15  # the pages really ran their queries
    scanning = {statement.split("FROM")[1][:80]: full_scans(lines) for statement, lines in plans.items() if full_scans(lines)}
    assert scanning == {}
    [household_sum] = [s for s in plans if "sum(spendrequest.granted_amount_cents)" in s]
    assert any("ix_spendrequest_household_year_status" in line for line in plans[household_sum]), plans[household_sum]

    # the inbox's overdue loans: through the loans' own index, not every grant of the team's history
    [overdue] = {s for s in plans if "spendrequest.repayment_due_on <" in s}
    assert any("ix_spendrequest_team_loans_due" in line for line in plans[overdue]), plans[overdue]
