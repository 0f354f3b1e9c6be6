"""Eight OS processes race to grant requests against a small budget and a shared household cap.

Each process does for each of its requests exactly what the vote view does (web/requests.py):
begin_write, load the request, team and membership, lock_for_money, refresh, cast the final approval,
decide, commit. Whatever the interleaving, no team overspends, no household passes the cap across the
municipality's teams, and no process sees an error — on SQLite (a file) and on PostgreSQL.
A second race: the team page expiring overdue requests while a vote grants one of them.
"""
import threading
import time
import traceback
from datetime import date, timedelta

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from models.audit import timeline
from models.clock import utcnow
from models.db import begin_write, make_engine, make_session
from models.decisions import decide, expire_overdue
from models.ledger import AccountKind, Entry, accounts_out_of_balance, balance_cents, lock_for_money
from models.members import active_membership
from models.requests import RequestStatus, SpendRequest, household_key
from models.teams import BudgetYear, District, Municipality, Team
from models.votes import Vote, cast_vote
from tests.racing import race

PROCESSES = 8
BUDGET_CENTS, AMOUNT_CENTS, REQUESTS = 10_000, 1_500, 16  # the budget team: room for 6 of its 16 requests
CAP_CENTS, CAPPED_AMOUNT_CENTS, CAPPED_REQUESTS = 50_000, 30_000, 4  # per capped team, one household: 1 in all
SECRET = "test-household-secret"
SLOW_COMMIT_SECONDS = 0.02
DEADLINE_IN = timedelta(seconds=1)  # the vote decides within this time after setting up the expiry race
RACE_MARGIN = timedelta(seconds=0.2)


def grant_share(database_url, request_ids, voter_ids, start, results):
    """One process: the final approval on each of its requests, as the vote view casts it."""
    errors, engine = [], make_engine(database_url)
    start.wait()
    for request_id in request_ids:
        with make_session(engine) as session:
            # a slow network would hold each transaction open longer: that widens every race window
            event.listen(session, "before_commit", lambda _session: time.sleep(SLOW_COMMIT_SECONDS))
            try:
                begin_write(session)
                request = session.get(SpendRequest, request_id)
                team = session.get(Team, request.team_id)
                membership = active_membership(session, voter_ids[team.id], team.id)
                lock_for_money(session, team.id)
                session.refresh(request)
                cast_vote(session, request, membership, "approve")
                decide(session, request, team, actor_id=membership.member_id)
                session.commit()
            except Exception:  # noqa: BLE001 -- any kind counts: a deadlock or a busy database fails too
                session.rollback()
                errors.append(traceback.format_exc())
    engine.dispose()
    results.put(errors)


def _open_request(session, team, requester, voters, amount_cents, household):
    """An open request with all approvals but the last, committed."""
    request = SpendRequest(team_id=team.id, requester_id=requester.id, status=RequestStatus.OPEN,
                           amount_cents=amount_cents, situation="Moeder met een uitkering.", prevents="Schulden.",
                           household_key=household_key(SECRET, household), budget_year_id=_year(session, team).id)
    request.posted_at = request.created_at
    session.add(request)
    session.flush()
    for voter in voters:
        cast_vote(session, request, active_membership(session, voter.id, team.id), "approve")
    decide(session, request, team)
    session.commit()
    assert request.status == RequestStatus.OPEN
    return request.id


def _year(session, team):
    municipality_id = session.get(District, team.district_id).municipality_id
    return session.exec(select(BudgetYear).where(BudgetYear.municipality_id == municipality_id,
                                                 BudgetYear.year == date.today().year)).one()


def _team(session, make_team, make_member, name, municipality, budget_cents):
    team = make_team(name, municipality=municipality, annual_budget_cents=budget_cents)
    members = [make_member(team, "worker", name=f"{name} {n}") for n in range(4)]
    team.quorum, team.household_cap_cents, team.escalation_threshold_cents = 3, CAP_CENTS, CAP_CENTS
    session.add(team)
    session.commit()
    return team, members[0], members[1:]


def test_racing_processes_never_overspend_nor_pass_the_household_cap(session, make_team, make_member, database_url):
    budget_team, requester, voters = _team(session, make_team, make_member, "Oost", None, BUDGET_CENTS)
    municipality = session.get(Municipality, session.get(District, budget_team.district_id).municipality_id)
    capped = [_team(session, make_team, make_member, name, municipality, 250_000) for name in ("West", "Noord")]
    # the shared household's requests come first, so all processes start on them at once
    request_ids = [_open_request(session, team, first, others[:2], CAPPED_AMOUNT_CENTS, "DOSSIER-GEDEELD")
                   for _n in range(CAPPED_REQUESTS) for team, first, others in capped]
    request_ids += [_open_request(session, budget_team, requester, voters[:2], AMOUNT_CENTS, f"DOSSIER-{n}")
                    for n in range(REQUESTS)]
    voter_ids = {team.id: others[2].id for team, _first, others in [(budget_team, requester, voters), *capped]}
    session.close()

    errors, exit_codes = race(grant_share, [(database_url, request_ids[n::PROCESSES], voter_ids)
                                            for n in range(PROCESSES)])
    assert errors == [] and exit_codes == [0] * PROCESSES

    session.expire_all()
    year_id = _year(session, budget_team).id
    granted = session.exec(select(SpendRequest).where(SpendRequest.status == RequestStatus.GRANTED)).all()
    in_budget_team = [r for r in granted if r.team_id == budget_team.id]
    available = balance_cents(session, budget_team.id, year_id, AccountKind.AVAILABLE)
    assert len(in_budget_team) == BUDGET_CENTS // AMOUNT_CENTS
    assert available == BUDGET_CENTS - len(in_budget_team) * AMOUNT_CENTS >= 0
    assert balance_cents(session, budget_team.id, year_id, AccountKind.RESERVED) == len(in_budget_team) * AMOUNT_CENTS
    assert accounts_out_of_balance(session) == []  # no running total lost an update
    overspend = max(0, sum(r.granted_amount_cents for r in in_budget_team) - BUDGET_CENTS)
    assert overspend == 0
    shared = [r for r in granted if r.team_id != budget_team.id]
    assert len(shared) == CAP_CENTS // CAPPED_AMOUNT_CENTS  # across both teams, one household
    assert sum(r.granted_amount_cents for r in shared) <= CAP_CENTS
    # every request got its final vote, and each grant has exactly one ledger entry
    assert session.exec(select(func.count()).select_from(Vote)).one() == 3 * len(request_ids)
    grant_entries = session.exec(select(Entry.request_id).where(Entry.request_id.is_not(None))).all()
    assert sorted(grant_entries) == sorted(r.id for r in granted)
    assert all(r.status in (RequestStatus.OPEN, RequestStatus.GRANTED) for r in session.exec(select(SpendRequest)))



def test_expiry_never_overwrites_a_grant_made_meanwhile(session, make_team, make_member, database_url):
    """The team page expires overdue requests (it does not begin_write) while a vote grants one of them.

    The grant is decided just before the deadline and committed just after the page looked; the page must
    not then mark the granted request expired (the reservation would belong to no grant).
    """
    team, requester, voters = _team(session, make_team, make_member, "Oost", None, BUDGET_CENTS)
    request_id = _open_request(session, team, requester, voters[:2], AMOUNT_CENTS, "DOSSIER-1")
    request = session.get(SpendRequest, request_id)
    deadline = utcnow() + DEADLINE_IN
    request.posted_at = deadline - timedelta(hours=team.request_expiry_hours)
    session.add(request)
    session.commit()
    session.close()
    engine = make_engine(database_url)
    decided, failures = threading.Event(), []

    def vote_view():
        with make_session(engine) as voting:
            begin_write(voting)
            lock_for_money(voting, team.id)  # as web/requests.py: the lock first, then what it guards
            spend_request = voting.get(SpendRequest, request_id)
            cast_vote(voting, spend_request, active_membership(voting, voters[2].id, team.id), "approve")
            decide(voting, spend_request, voting.get(Team, team.id))
            decided.set()
            _sleep_until(deadline + 3 * RACE_MARGIN)  # the page looks after the deadline, before this commit
            voting.commit()

    voter = threading.Thread(target=vote_view)
    voter.start()
    try:
        assert decided.wait(timeout=10) and utcnow() < deadline, "the vote came too late to race the expiry"
        _sleep_until(deadline + RACE_MARGIN)
        with make_session(engine) as page:
            try:
                expire_overdue(page, page.get(Team, team.id))
                page.commit()
            except OperationalError as refused:  # SQLite refuses a write from a snapshot older than the grant
                failures.append(refused)
    finally:
        voter.join(timeout=10)
        engine.dispose()

    session.expire_all()
    granted = session.get(SpendRequest, request_id)
    assert granted.status == RequestStatus.GRANTED
    assert balance_cents(session, team.id, _year(session, team).id, AccountKind.RESERVED) == AMOUNT_CENTS
    assert [e.action for e in timeline(session, request_id)][-1] == "granted"
    assert not failures or database_url.startswith("sqlite")


def _sleep_until(moment):
    time.sleep(max(0.0, (moment - utcnow()).total_seconds()))
