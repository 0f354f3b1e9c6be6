"""The benchmark's world: a municipality with three teams, a ledger history of a chosen size, and open
requests in the benchmarked team's inbox.

The base (municipality, teams, members, categories, budgets, open requests, their first votes, sign-in
sessions) is made with the models' own verbs, so it obeys every rule. The history (decided requests,
their votes, comments, audit events, ledger entries and postings) is bulk-inserted with SQLAlchemy
Core, in the shape those verbs would have left: every grant has a balanced entry (available ->
reserved), no household goes over its cap, no team over its budget.

The benchmarked team holds 90% of the history, all of it in the current budget year: the worst case
for anything that sums or sorts a team's history. The two other teams share the rest.

Vote plan (the vote POST must be legal and must never decide, with the default quorum of 3): every
open request gets exactly two approvers and two rejecters from the voting members, and only those
members vote on it, always with the same choice, so each POST is a vote change and no quorum forms.
"""
import importlib.util
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, text
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

import models  # noqa: F401  (registers every table)
import models.migrations
from models.audit import AuditEvent
from models.clock import utcnow
from models.db import make_engine as make_app_engine, make_session
from models.ledger import Account, AccountKind, Entry, Posting, account, allocate_annual_budget
from models.members import Member, Role, active_membership, add_membership, create_member
from models.catalogue import default_provision_names
from models.requests import (
    Comment, DraftInput, RequestStatus, SpendRequest, household_key, post_request, save_draft)
from models.sign_in import start_login_session
from models.teams import CostCategory, District, Team, create_municipality
from models.votes import Vote, cast_vote

#: share of the history that belongs to the benchmarked team
BENCH_TEAM_SHARE = 0.9
#: decided requests without a ledger entry, per granted request
OTHER_OUTCOMES = {RequestStatus.REJECTED: 0.15, RequestStatus.SOLVED: 0.07, RequestStatus.EXPIRED: 0.04,
                  RequestStatus.WITHDRAWN: 0.04}
COMMENT_SHARE = 0.25
OPEN_REQUESTS = 20
#: on top of every grant of the history: what the benchmark's own grants and the open requests need
BUDGET_MARGIN_CENTS = 2_000_000
CHUNK = 20_000

SITUATIONS = [
    "Huurachterstand van twee maanden doordat de uitkering later kwam.",
    "Koelkast kapot, gezin met twee jonge kinderen en geen spaargeld.",
    "Naheffing van de energieleverancier die nu niet te betalen is.",
    "Schoolreis van de oudste, de ouders wachten nog op de toeslag.",
    "Reiskosten naar het nieuwe werk tot het eerste salaris binnen is.",
    "Boodschappen voor een week, de bijstand is stopgezet tijdens het bezwaar.",
    "Winterjas en schoenen voor drie kinderen, de kledingbank heeft geen maten meer.",
    "Eigen risico van de zorgverzekering voor medicijnen die niet kunnen wachten.",
]
PREVENTS = [
    "Een huisuitzetting.", "Dat de kinderen zonder eten zitten.", "Afsluiting van gas en licht.",
    "Dat het kind als enige thuis moet blijven.", "Verlies van de nieuwe baan.", "Een nieuwe schuld met boete.",
]
REASONS = ["", "", "Voorliggende voorziening is al geprobeerd.", "Past binnen de afspraken van het team.",
           "Liever eerst bijzondere bijstand aanvragen."]
BENCH_ROLES = [Role.TEAM_LEADER, Role.OBSERVER, Role.INCOME_CONSULTANT, Role.PROVISIONS_EXPERT,
               Role.CLIENT_MANAGER] + [Role.WORKER] * 9
OTHER_ROLES = [Role.WORKER] * 7 + [Role.INCOME_CONSULTANT, Role.PROVISIONS_EXPERT, Role.CLIENT_MANAGER,
                                   Role.TEAM_LEADER, Role.OBSERVER]
VOTING_ROLES = {Role.WORKER, Role.INCOME_CONSULTANT, Role.PROVISIONS_EXPERT, Role.CLIENT_MANAGER}
REQUESTING_ROLES = VOTING_ROLES


@dataclass
class World:
    """What the benchmark needs to know about the data it made."""

    team_id: int
    budget_year_id: int
    #: every active member of the benchmarked team, by id (inbox and live clients sign in as these)
    member_ids: list[int]
    #: the two workers who posted the open requests (they never vote on them)
    requester_ids: list[int]
    #: voting members of the benchmarked team who are not requesters
    voter_ids: list[int]
    open_request_ids: list[int]
    #: member id -> [(request id, choice)]: the only votes the vote benchmark casts
    vote_plan: dict[int, list[tuple[int, str]]]
    counts: dict[str, int] = field(default_factory=dict)
    #: the municipality's coordinator (the report page's reader)
    coordinator_id: int | None = None


def make_engine(database_url: str):
    """An engine whose every transaction takes SQLite's write lock first: the dataset is written while the
    server may be serving, and none of its transactions may turn from reading to writing (models/db.py)."""
    return make_app_engine(database_url).execution_options(write_lock=True)


def reset_database(database_url: str) -> None:
    """Empty a PostgreSQL database given with --database-url (the public schema is dropped)."""
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def _amount_input(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def _members_of(session, team_id):
    from models.members import Membership
    return list(session.exec(select(Member, Membership).join(Membership, Membership.member_id == Member.id)
                             .where(Membership.team_id == team_id, Membership.ended_at.is_(None))
                             .order_by(Member.id)))


def build(database_url: str, ledger_entries: int, household_secret: str, seed: int = 2026) -> World:
    """Fill an empty, migrated database; returns the World to benchmark."""
    rng = random.Random(seed)
    engine = make_engine(database_url)
    try:
        with make_session(engine) as session:
            teams, budget_year, categories, coordinator_id = _base(session)
            session.commit()
        history_entries = max(ledger_entries - len(teams), 0)  # each team's annual budget is one entry
        shares = [round(history_entries * BENCH_TEAM_SHARE)]
        rest = history_entries - shares[0]
        shares += [rest // 2, rest - rest // 2]
        grant_totals = _history(engine, teams, shares, budget_year, categories, household_secret, rng)
        with make_session(engine) as session:
            for team, total in zip(teams, grant_totals):
                team = session.get(Team, team.id)
                allocate_annual_budget(session, team, budget_year.id, total + BUDGET_MARGIN_CENTS)
            session.commit()
            world = _inbox(session, teams[0], budget_year, categories, household_secret, rng)
            session.commit()
        world.coordinator_id = coordinator_id
        world.counts = count_rows(engine)
        if engine.dialect.name == "postgresql":
            # autovacuum would have done this on a live server: statistics for the planner, and the visibility
            # map, without which an index-only scan (the report's covering index) still reads every heap row
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        return world
    finally:
        engine.dispose()


def count_rows(engine) -> dict[str, int]:
    """Row counts of the tables that grow with history."""
    with engine.connect() as connection:
        return {name: connection.execute(sa_select(func.count()).select_from(model.__table__)).scalar_one()
                for name, model in [("ledger entries", Entry), ("postings", Posting), ("requests", SpendRequest),
                                    ("votes", Vote), ("comments", Comment), ("audit events", AuditEvent)]}


def _base(session):
    """Municipality, three teams with their members, the cost categories, this year's budget year and the
    coordinator's id."""
    municipality, budget_year = create_municipality(session, "Gemeente Benchdam")
    coordinator = create_member(session, municipality_id=municipality.id, display_name="Bench Coördinator",
                                is_coordinator=True)
    teams = []
    for district_name, team_name, roles in [("Centrum", "Team Bench", BENCH_ROLES),
                                            ("Centrum", "Team Oost", OTHER_ROLES), ("West", "Team West", OTHER_ROLES)]:
        district = session.exec(select(District).where(District.municipality_id == municipality.id,
                                                       District.name == district_name)).first()
        if district is None:
            district = District(municipality_id=municipality.id, name=district_name)
            session.add(district)
            session.flush()
        team = Team(district_id=district.id, name=team_name)
        session.add(team)
        session.flush()
        for position, role in enumerate(roles):
            member = create_member(session, municipality_id=municipality.id,
                                   display_name=f"{role.value.replace('_', ' ').title()} {position + 1} ({team_name})")
            add_membership(session, member, team, role)
        for kind in AccountKind:
            account(session, team.id, budget_year.id, kind)
        teams.append(team)
    session.flush()
    categories = list(session.exec(select(CostCategory).where(CostCategory.municipality_id == municipality.id)
                                   .order_by(CostCategory.position)))
    session.flush()
    return teams, budget_year, categories, coordinator.id


def _next_id(connection, model) -> int:
    return (connection.execute(sa_select(func.max(model.id))).scalar_one() or 0) + 1


REQUEST_COLUMNS = ("id", "team_id", "requester_id", "status", "kind", "amount_cents", "cost_category_id", "situation",
                   "prevents", "alternatives_checked", "alternatives_note", "household_key", "budget_year_id",
                   "created_at", "updated_at", "posted_at", "decided_at", "granted_amount_cents", "granted_kind",
                   "alternative_name")
VOTE_COLUMNS = ("request_id", "member_id", "choice", "amount_cents", "alternative_name", "reason", "created_at",
                "updated_at")
COMMENT_COLUMNS = ("request_id", "member_id", "body", "created_at")
EVENT_COLUMNS = ("team_id", "request_id", "actor_id", "action", "detail", "created_at")
ENTRY_COLUMNS = ("id", "team_id", "created_at", "memo", "request_id", "actor_id", "reverses_entry_id")
POSTING_COLUMNS = ("entry_id", "account_id", "amount_cents")
#: the votes each outcome leaves, before the occasional extra one
VOTES_FOR = {RequestStatus.GRANTED: ("approve",) * 3, RequestStatus.REJECTED: ("reject",) * 3,
             RequestStatus.SOLVED: ("alternative",) * 3, RequestStatus.EXPIRED: ("approve",),
             RequestStatus.WITHDRAWN: ()}
EXTRA_VOTE = {RequestStatus.GRANTED: ("reject", 0.2), RequestStatus.REJECTED: ("approve", 0.3)}


def _bulk_insert(connection, model, columns, rows) -> None:
    """executemany straight on the driver, each value converted by its column's own bind processor."""
    table, dialect = model.__table__, connection.dialect
    processors = [(index, processor) for index, name in enumerate(columns)
                  if (processor := table.c[name].type._cached_bind_processor(dialect)) is not None]
    if processors:
        converted = []
        for row in rows:
            row = list(row)
            for index, processor in processors:
                row[index] = processor(row[index])
            converted.append(tuple(row))
        rows = converted
    name = dialect.identifier_preparer.quote(table.name)
    if dialect.name == "postgresql":  # COPY: many times faster than INSERTs, in the same transaction
        with connection.connection.driver_connection.cursor() as cursor, \
                cursor.copy(f'COPY {name} ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    statement = f'INSERT INTO {name} ({", ".join(columns)}) VALUES ({", ".join(["?"] * len(columns))})'
    for start in range(0, len(rows), CHUNK):
        connection.exec_driver_sql(statement, rows[start:start + CHUNK])


def _history(engine, teams, shares, budget_year, categories, secret, rng) -> list[int]:
    """Bulk-insert each team's decided requests and everything they left behind; returns the granted totals."""
    now = utcnow()
    year_start = datetime(budget_year.year, 1, 1, tzinfo=timezone.utc)
    span = max((now - timedelta(days=1) - year_start).total_seconds(), 3600.0)
    requests, votes, comments, events, entries, postings = [], [], [], [], [], []
    totals = []
    with make_session(engine) as session:
        team_people = {}
        for team in teams:
            people = _members_of(session, team.id)
            team_people[team.id] = (
                [m.id for m, ms in people if ms.role in REQUESTING_ROLES],
                [m.id for m, ms in people if ms.role in VOTING_ROLES],
                {kind: session.exec(select(Account.id).where(Account.team_id == team.id, Account.kind == kind)).one()
                 for kind in AccountKind})
    with engine.connect() as connection:
        request_id, entry_id = _next_id(connection, SpendRequest), _next_id(connection, Entry)
    granted_count = other_count = 0
    random_ = rng.random
    for team, grants in zip(teams, shares):
        requesters, voters, accounts = team_people[team.id]
        available, reserved = accounts[AccountKind.AVAILABLE], accounts[AccountKind.RESERVED]
        outcomes = [RequestStatus.GRANTED] * grants
        for status, share in OTHER_OUTCOMES.items():
            outcomes += [status] * round(grants * share)
        rng.shuffle(outcomes)
        moments = sorted(year_start + timedelta(seconds=random_() * span) for _ in outcomes)
        granted_total = 0
        for status, posted_at in zip(outcomes, moments):
            category = categories[int(random_() * len(categories))]
            requester = requesters[int(random_() * len(requesters))]
            kind = "loan" if random_() < 0.1 else "gift"
            amount = 1_000 + 50 * int(random_() * 481)  # 10 to 250 euro
            if status == RequestStatus.GRANTED:  # two grants per household, at most 2 x 250 euro: within the cap
                reference, granted_count = f"BENCH-G{granted_count // 2}", granted_count + 1
            else:
                reference, other_count = f"BENCH-N{other_count}", other_count + 1
            hours = 72 if status == RequestStatus.EXPIRED else 0.2 + 30 * random_()
            decided_at = min(posted_at + timedelta(hours=hours), now - timedelta(minutes=5))
            alternatives = default_provision_names(category.code)  # create_municipality made them rows
            alternative = alternatives[int(random_() * len(alternatives))]
            granted = status == RequestStatus.GRANTED
            requests.append((
                request_id, team.id, requester, status.value, kind, amount, category.id,
                SITUATIONS[int(random_() * len(SITUATIONS))], PREVENTS[int(random_() * len(PREVENTS))],
                alternatives[:2], "", household_key(secret, reference), budget_year.id,
                posted_at - timedelta(minutes=2 + int(random_() * 90)), decided_at, posted_at, decided_at,
                amount if granted else None, kind if granted else None,
                alternative if status == RequestStatus.SOLVED else None))
            choices = VOTES_FOR[status]
            extra = EXTRA_VOTE.get(status)
            if extra and random_() < extra[1]:
                choices = (extra[0],) + choices  # the deciding vote stays last
            chosen = rng.sample(voters, len(choices) + 1)
            voting = [voter for voter in chosen if voter != requester][:len(choices)]
            step = (decided_at - posted_at) / (len(choices) + 1)
            events.append((posted_at, team.id, request_id, requester, "posted", {"amount_cents": amount, "kind": kind}))
            for position, (voter, choice) in enumerate(zip(voting, choices)):
                at = posted_at + step * (position + 1)
                vote_amount = amount if choice == "approve" else None
                name = alternative if choice == "alternative" else None
                reason = REASONS[int(random_() * len(REASONS))]
                votes.append((request_id, voter, choice, vote_amount, name, reason, at, at))
                if random_() < 0.1:  # changed their mind once: the audit keeps both versions
                    events.append((at - step / 2, team.id, request_id, voter, "vote",
                                   {"choice": "reject", "amount_cents": None, "alternative_name": None, "reason": ""}))
                events.append((at, team.id, request_id, voter, "vote",
                               {"choice": choice, "amount_cents": vote_amount, "alternative_name": name,
                                "reason": reason}))
            if random_() < COMMENT_SHARE:
                author = voting[0] if voting else requester
                at = posted_at + step / 2
                comments.append((request_id, author, "Is de voedselbank al gevraagd? Dan steun ik dit.", at))
                events.append((at, team.id, request_id, author, "comment", {}))
            decider = voting[-1] if voting else requester
            seconds = int((decided_at - posted_at).total_seconds())
            if granted:
                granted_total += amount
                entries.append((entry_id, team.id, decided_at, f"Toekenning aanvraag {request_id}", request_id,
                                decider, None))
                postings.append((entry_id, available, -amount))
                postings.append((entry_id, reserved, amount))
                entry_id += 1
                detail = {"decision_seconds": seconds, "amount_cents": amount, "kind": kind}
            elif status == RequestStatus.SOLVED:
                detail = {"decision_seconds": seconds, "alternative_name": alternative}
            elif status == RequestStatus.WITHDRAWN:
                detail = {}
            else:
                detail = {"decision_seconds": seconds}
            actor = None if status == RequestStatus.EXPIRED else requester if status == RequestStatus.WITHDRAWN \
                else decider
            events.append((decided_at, team.id, request_id, actor, status.value, detail))
            request_id += 1
        totals.append(granted_total)
    # Audit ids follow time, across teams, as they would in a live installation.
    events.sort(key=lambda event: event[0])
    events = [(team_id, req, actor, action, detail, at) for at, team_id, req, actor, action, detail in events]
    with engine.begin() as connection:
        for model, columns, rows in [(SpendRequest, REQUEST_COLUMNS, requests), (Vote, VOTE_COLUMNS, votes),
                                     (Comment, COMMENT_COLUMNS, comments), (AuditEvent, EVENT_COLUMNS, events),
                                     (Entry, ENTRY_COLUMNS, entries), (Posting, POSTING_COLUMNS, postings)]:
            _bulk_insert(connection, model, columns, rows)
        if connection.dialect.name == "postgresql":
            for table in ("spendrequest", "entry"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT MAX(id) FROM {table}))"))
        # the running totals post_entry keeps (models.ledger), for the postings inserted around it
        connection.execute(text("UPDATE account SET balance_cents = (SELECT COALESCE(SUM(amount_cents), 0) "
                                "FROM posting WHERE posting.account_id = account.id)"))
        # rows inserted around the ORM are not linked at commit: link them as the migration links old rows,
        # so `flask --app web verify` on a bench database finds a whole chain
        _chain_backfill()(connection)
    return totals


def _chain_backfill():
    """The hash chain's backfill of migration 0013 (its file name is no module name)."""
    path = Path(models.migrations.__file__).parent / "versions" / "0013_chain_backfill_and_balanced_trigger.py"
    spec = importlib.util.spec_from_file_location("chain_backfill_0013", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.backfill


def _post(session, team, membership, category, cents, reference, secret, rng):
    draft = DraftInput(amount=_amount_input(cents), cost_category_id=category.id,
                       situation=rng.choice(SITUATIONS), prevents=rng.choice(PREVENTS),
                       alternatives_checked=default_provision_names(category.code)[:2], kind="gift",
                       household_reference=reference)
    request = save_draft(session, team, membership, draft, household_secret=secret)
    post_request(session, request, team, membership.member_id)
    return request


def _inbox(session, team, budget_year, categories, secret, rng) -> World:
    """Open requests (with their first votes) and a draft per requester, through the verbs."""
    team = session.get(Team, team.id)
    people = _members_of(session, team.id)
    workers = [m.id for m, ms in people if ms.role == Role.WORKER]
    requesters = workers[:2]
    voters = [m.id for m, ms in people if ms.role in VOTING_ROLES and m.id not in requesters]
    approvers, rejecters = voters[0::2], voters[1::2]
    memberships = {m.id: ms for m, ms in people}
    open_ids, plan = [], {voter: [] for voter in voters}
    for number in range(OPEN_REQUESTS):
        requester = memberships[requesters[number % 2]]
        request = _post(session, team, requester, categories[number % len(categories)],
                        rng.randrange(2_000, 20_001, 50), f"OPEN-{number}", secret, rng)
        session.flush()
        # posted between five minutes and eight hours ago: some are past the reminder time
        request.posted_at = utcnow() - timedelta(minutes=rng.randint(5, 8 * 60))
        session.add(request)
        open_ids.append(request.id)
        chosen = [(approvers[(number + j) % len(approvers)], "approve") for j in range(2)] + \
                 [(rejecters[(number + j) % len(rejecters)], "reject") for j in range(2)]
        for voter, choice in chosen:
            plan[voter].append((request.id, choice))
        for voter, choice in chosen[::2]:  # one approval and one rejection are in already
            cast_vote(session, request, memberships[voter], choice)
    for requester in requesters:
        save_draft(session, team, memberships[requester],
                   DraftInput(amount="45", situation=SITUATIONS[0], cost_category_id=categories[0].id),
                   household_secret=secret)
    session.flush()
    return World(team_id=team.id, budget_year_id=budget_year.id, member_ids=[m.id for m, _ms in people],
                 requester_ids=requesters, voter_ids=voters, open_request_ids=open_ids, vote_plan=plan)


def still_open(database_url: str, request_ids: list[int]) -> int:
    """How many of these requests are still open."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa_select(func.count()).select_from(SpendRequest.__table__).where(
                SpendRequest.id.in_(request_ids), SpendRequest.status == RequestStatus.OPEN)).scalar_one()
    finally:
        engine.dispose()


def prepare_grants(database_url: str, world: World, count: int, secret: str, seed: int = 7) -> list[int]:
    """`count` open requests of 25 euro, each with two approvals already: the next approval grants it."""
    rng = random.Random(seed)
    engine = make_engine(database_url)
    try:
        with make_session(engine) as session:
            team = session.get(Team, world.team_id)
            category = session.exec(select(CostCategory).where(CostCategory.code == "groceries")).first()
            requester = active_membership(session, world.requester_ids[0], team.id)
            backers = [active_membership(session, member_id, team.id) for member_id in world.voter_ids[:2]]
            ids = []
            for number in range(count):
                request = _post(session, team, requester, category, 2_500, f"GRANT-{number}", secret, rng)
                session.flush()
                for backer in backers:
                    cast_vote(session, request, backer, "approve")
                ids.append(request.id)
            session.commit()
            return ids
    finally:
        engine.dispose()


def sign_in(database_url: str, member_ids: list[int], ago: timedelta = timedelta(0)) -> list[str]:
    """One open login session per entry of `member_ids` (a member may sign in on several phones), signed
    in `ago` (then the first request of each writes its last-seen time, as on a phone used all day)."""
    engine = make_engine(database_url)
    try:
        with make_session(engine) as session:
            logins = [start_login_session(session, member_id) for member_id in member_ids]
            for login in logins:
                login.created_at = login.last_seen_at = utcnow() - ago
            keys = [login.key for login in logins]
            session.commit()
            return keys
    finally:
        engine.dispose()


def schema_is_empty(database_url: str) -> bool:
    """Whether no table of the app exists yet."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            names = set(engine.dialect.get_table_names(connection))
        return not names & set(SQLModel.metadata.tables)
    finally:
        engine.dispose()
