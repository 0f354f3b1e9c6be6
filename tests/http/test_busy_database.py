"""No request fails because the database is busy: several processes, sessions older than the touch interval.

Gunicorn's workers are separate processes on one SQLite file. Once a minute a request also writes its login
session's last-seen time; on SQLite a transaction that read first and writes afterwards cannot get the write
lock once another process committed in between (WAL: SQLITE_BUSY_SNAPSHOT, which busy_timeout does not wait
out), so that write must start a transaction of its own. Here every login session is older than the touch
interval, and the processes vote and poll the live regions at the same time: no answer may be a 5xx, and no
request may raise. On PostgreSQL the same test checks the same promise.
"""
import time
import traceback
from datetime import date, timedelta

from sqlalchemy import event
from sqlmodel import select

from models.clock import utcnow
from models.requests import RequestStatus, SpendRequest, household_key
from models.sign_in import TOUCH_INTERVAL, LoginSession, start_login_session
from models.teams import BudgetYear, District
from tests.racing import race

PROCESSES = 4
SESSIONS_PER_PROCESS = 10
REQUESTS = 8
SECRET = "test-household-secret"
#: a slow network or a slow disk keeps a read open a little longer: that widens the window the touch raced in
SLOW_READ_SECONDS = 0.005


def vote_and_poll(database_url, jobs, start, results):
    """One process, as one gunicorn worker: each aged session votes on a request and polls live regions."""
    from web import create_app

    errors = []
    try:
        app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key",
                          "HOUSEHOLD_KEY_SECRET": SECRET, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})

        @event.listens_for(app.extensions["engine"], "after_cursor_execute")
        def _slow_reads(_connection, _cursor, statement, *_args):
            if statement.lstrip().upper().startswith("SELECT"):
                time.sleep(SLOW_READ_SECONDS)

        start.wait()
        for member_id, login_key, team_id, request_ids in jobs:
            client = app.test_client()
            with client.session_transaction() as cookie:
                cookie.update({"_user_id": str(member_id), "_fresh": True, "login_key": login_key})
            answers = []
            for request_id in request_ids:
                base = f"/teams/{team_id}/aanvragen/{request_id}"
                answers.append(("live", client.get(f"{base}/live")))
                answers.append(("vote", client.post(f"{base}/stem", data={"choice": "approve"})))
                answers.append(("team live", client.get(f"/teams/{team_id}/live")))
            errors += [f"{what}: {answer.status_code}" for what, answer in answers
                       if answer.status_code >= 500 or answer.status_code in (302, 401)]
        app.extensions["push"].close()
        app.extensions["engine"].dispose()
    except Exception:  # noqa: BLE001 -- whatever the kind, a busy database must never surface
        errors.append(traceback.format_exc())
    results.put(errors)


def _open_requests(session, team, requester, count):
    municipality_id = session.get(District, team.district_id).municipality_id
    year = session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality_id,
                                                 BudgetYear.year == date.today().year)).one()
    requests = []
    for n in range(count):
        spend_request = SpendRequest(team_id=team.id, requester_id=requester.id, status=RequestStatus.OPEN,
                                     amount_cents=2_500, situation="Moeder met een uitkering.", prevents="Schulden.",
                                     household_key=household_key(SECRET, f"DOSSIER-{n}"), budget_year_id=year.id)
        spend_request.posted_at = spend_request.created_at
        session.add(spend_request)
        requests.append(spend_request)
    session.flush()
    return [r.id for r in requests]


def _aged_session(session, member_id):
    login = start_login_session(session, member_id)
    login.created_at = login.last_seen_at = utcnow() - TOUCH_INTERVAL - timedelta(seconds=30)
    session.add(login)
    return login.key


def test_aged_sessions_voting_and_polling_in_several_processes_never_fail(session, make_team, make_member,
                                                                           database_url):
    team = make_team("Oost", annual_budget_cents=500_000)
    team.quorum = 15  # every vote stays a vote: the requests stay open while all sessions vote on them
    session.add(team)
    requester = make_member(team, "worker", name="Aanvrager")
    voters = [make_member(team, "worker", name=f"Lid {n}") for n in range(PROCESSES * SESSIONS_PER_PROCESS)]
    request_ids = _open_requests(session, team, requester, REQUESTS)
    jobs = [(voter.id, _aged_session(session, voter.id), team.id, request_ids[n % REQUESTS::3][:2])
            for n, voter in enumerate(voters)]
    session.commit()
    session.close()

    errors, exit_codes = race(vote_and_poll, [(database_url, jobs[n::PROCESSES]) for n in range(PROCESSES)],
                              timeout=120)
    assert errors == [] and exit_codes == [0] * PROCESSES

    # every session was touched once, and every vote counted
    logins = session.exec(select(LoginSession).where(LoginSession.member_id.in_([v.id for v in voters]))).all()
    assert all(utcnow() - login.last_seen_at < TOUCH_INTERVAL for login in logins)
    assert all(login.ended_at is None for login in logins)
