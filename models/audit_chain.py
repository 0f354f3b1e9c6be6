"""The tamper-evident trail: audit events and ledger entries chained by hash, per municipality.

Invariants:
- Every audit event and every ledger entry has a place in its municipality's chain (the municipality of
  its team's district; for an audit event without a team, a change of the municipality's setup, its
  `municipality_id`): `chain_seq` runs 1, 2, 3 … without gaps over both kinds together, and
  `chain_hash` is the hash of the chain up to and including the row. ChainHead holds the newest seq and
  hash, so deleting the newest rows shows as well as deleting one in the middle.
- Rows are linked when their transaction commits, in that transaction (`_link_on_commit`, a listener on
  every SQLAlchemy session; not when a savepoint is released): nobody calls anything, and no row is
  committed unlinked. A row written
  around the ORM (raw SQL) stays unlinked, and `verify` reports it.
- On PostgreSQL the ChainHead row is locked (FOR UPDATE) at commit, as the last lock the transaction
  takes, so chains grow in commit order without deadlocking with the money lock (models.ledger
  .lock_for_money, which is always taken earlier) or any row lock of a request. On SQLite every writer
  already holds the database's write lock (models.db).
- Audit events and entries are append-only (models.audit, models.ledger): nothing updates a hashed
  column after commit, so the hash of a row never changes unless someone edits the database by hand.

The hashing rule (migration 0013 holds a copy to backfill existing rows; change both or neither):
- A value is serialised as canonical JSON: `json.dumps(value, sort_keys=True, separators=(",", ":"),
  ensure_ascii=False)`, UTF-8; a moment as ISO 8601 in UTC with microseconds ("2026-11-30T16:51:44.842850
  +00:00" without the space), a naive moment taken as UTC.
- content hash of an audit event = SHA-256 hex of the JSON list
  ["audit", id, team_id, request_id, actor_id, action, detail, created_at]
  and of an audit event without a team (team_id null) the same list with its municipality_id appended:
  ["audit", id, null, request_id, actor_id, action, detail, created_at, municipality_id], so moving one to
  another municipality's chain breaks its link (a team's event leaves municipality_id out, so the hashes
  of the events written before the column existed stay as they were).
- content hash of an entry = SHA-256 hex of the JSON list
  ["entry", id, team_id, created_at, memo, request_id, actor_id, reverses_entry_id, postings],
  postings being [[account_id, amount_cents, posting_id], …] sorted; so an edited, added or deleted
  posting breaks its entry's link.
- chain_hash = SHA-256 hex of f"{previous chain_hash}|{chain_seq}|{kind}|{content hash}", kind "audit" or
  "entry", the previous chain_hash of the first row being "" (so is ChainHead.hash of an empty chain).
- Hashes are computed from the values as read back from the database, never from objects in memory, so
  the commit hook, `verify` and the migration see the same values.

What the chain cannot do: the hash has no secret, so someone who can write the database and recompute
every hash after an edit leaves a chain that verifies. `flask --app web verify` prints each chain's head
hash; noted down elsewhere (or compared with an earlier run), it shows such a rewrite too.

`verify` reads a consistent snapshot (`models.db.begin_snapshot`) and writes nothing;
`record_verification` writes its outcome on ChainHead, which the administrators' overview shows.
"""
import hashlib
import heapq
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import event, inspect, union_all, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, Session, SQLModel, func, select

from models.audit import AuditEvent
from models.clock import utcnow
from models.ledger import Account, Entry, Posting, accounts_out_of_balance
from models.teams import District, Municipality, Team


class ChainHead(SQLModel, table=True):
    """The newest link of a municipality's chain, and the last verification of it."""

    municipality_id: int = Field(foreign_key="municipality.id", primary_key=True)
    seq: int = 0
    hash: str = Field(default="", max_length=64)
    last_verified_at: datetime | None = None
    last_verified_ok: bool | None = None


AUDIT, ENTRY = "audit", "entry"
_PAGE = 1000  # rows fetched at a time while verifying: a long chain is streamed, never loaded at once
_IN_BATCH = 500  # ids per IN (…) while linking (SQLite limits the number of parameters)
_PENDING = "audit_chain_pending"  # session.info key: new audit events and entries of this transaction


# the hashing rule (see the module docstring)

def _moment(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _sha256(value) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def audit_content_hash(row) -> str:
    """The content hash of an audit event, from a row of `_AUDIT_COLUMNS`."""
    event_id, team_id, request_id, actor_id, action, detail, created_at, municipality_id = row[:8]
    content = [AUDIT, event_id, team_id, request_id, actor_id, action, detail, _moment(created_at)]
    if team_id is None:
        content.append(municipality_id)
    return _sha256(content)


def entry_content_hash(row, postings) -> str:
    """The content hash of an entry, from a row of `_ENTRY_COLUMNS` and its (account_id, amount_cents, id)."""
    entry_id, team_id, created_at, memo, request_id, actor_id, reverses_entry_id = row[:7]
    return _sha256([ENTRY, entry_id, team_id, _moment(created_at), memo, request_id, actor_id, reverses_entry_id,
                    sorted([list(p) for p in postings])])


def link_hash(previous: str, seq: int, kind: str, content_hash: str) -> str:
    """The chain hash of the row at `seq`, after the row whose chain hash is `previous`."""
    return hashlib.sha256(f"{previous}|{seq}|{kind}|{content_hash}".encode()).hexdigest()


_AUDIT_COLUMNS = (AuditEvent.id, AuditEvent.team_id, AuditEvent.request_id, AuditEvent.actor_id, AuditEvent.action,
                  AuditEvent.detail, AuditEvent.created_at, AuditEvent.municipality_id)
_ENTRY_COLUMNS = (Entry.id, Entry.team_id, Entry.created_at, Entry.memo, Entry.request_id, Entry.actor_id,
                  Entry.reverses_entry_id)


def _postings_of(session, entry_ids) -> dict[int, list[tuple[int, int, int]]]:
    found = {entry_id: [] for entry_id in entry_ids}
    if entry_ids:
        for entry_id, account_id, amount, posting_id in session.execute(
                select(Posting.entry_id, Posting.account_id, Posting.amount_cents, Posting.id)
                .where(Posting.entry_id.in_(entry_ids))):
            found[entry_id].append((account_id, amount, posting_id))
    return found


def _with_municipality(statement, team_column):
    return (statement.add_columns(District.municipality_id).join(Team, Team.id == team_column)
            .join(District, District.id == Team.district_id))


#: the municipality whose chain an audit event is in: its team's, or for an event without a team its own
_AUDIT_OWNER = func.coalesce(District.municipality_id, AuditEvent.municipality_id)


def _audit_with_municipality(statement):
    """`_with_municipality` for audit events, which may have no team (the owner is then the last column too)."""
    return (statement.add_columns(_AUDIT_OWNER).outerjoin(Team, Team.id == AuditEvent.team_id)
            .outerjoin(District, District.id == Team.district_id))


def _audit_of_municipality(columns, municipality_id: int, *conditions):
    """The audit events of one municipality's chain, as one SELECT of `columns`: its teams' events (through
    the team index, as before events without a team existed) and its setup's own, united. Not one query on
    coalesce(team's municipality, own municipality): no index answers that, and each chain's check would
    read every municipality's events."""
    of_teams = _with_municipality(select(*columns), AuditEvent.team_id).where(
        District.municipality_id == municipality_id, *conditions)
    of_setup = select(*columns, AuditEvent.municipality_id).where(
        AuditEvent.team_id.is_(None), AuditEvent.municipality_id == municipality_id, *conditions)
    return union_all(of_teams, of_setup).subquery()


# linking at commit

@event.listens_for(OrmSession, "after_flush")
def _collect_new_rows(session, _flush_context):
    # session.new still lists what this flush inserted
    new = [row for row in session.new if isinstance(row, (AuditEvent, Entry))]
    if new:
        session.info.setdefault(_PENDING, []).extend(new)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_new_rows(session, transaction):
    # the end of the whole transaction, not of a savepoint: a row from before the savepoint is still to link
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


@event.listens_for(OrmSession, "before_commit")
def _link_on_commit(session):
    """Give this transaction's new audit events and entries their place in their municipality's chain."""
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction goes on, and the chain head must be its last lock
    if not session.info.get(_PENDING) and not any(isinstance(row, (AuditEvent, Entry)) for row in session.new):
        return
    session.flush()
    # a row of a rolled-back savepoint is no longer persistent; one linked by an earlier commit is skipped
    rows = [row for row in session.info.pop(_PENDING, []) if inspect(row).persistent and row.chain_seq is None]
    if rows:
        link_rows(session, [row for row in rows if isinstance(row, AuditEvent)],
                  [row for row in rows if isinstance(row, Entry)])


def link_rows(session, audit_events: list[AuditEvent], entries: list[Entry]) -> None:
    """Link flushed, unlinked rows at the end of their municipality's chain (audit events, then entries, each
    in id order), and move the chain heads. Called at commit; takes the ChainHead locks last."""
    by_id = {(AUDIT, row.id): row for row in audit_events} | {(ENTRY, row.id): row for row in entries}
    links: dict[int, list[tuple[str, int, str]]] = {}  # municipality → [(kind, id, content hash)]
    audit_ids = sorted(row.id for row in audit_events)
    for start in range(0, len(audit_ids), _IN_BATCH):
        batch = audit_ids[start:start + _IN_BATCH]
        for row in session.execute(_audit_with_municipality(select(*_AUDIT_COLUMNS))
                                   .where(AuditEvent.id.in_(batch)).order_by(AuditEvent.id)):
            links.setdefault(row[-1], []).append((AUDIT, row[0], audit_content_hash(row)))
    entry_ids = sorted(row.id for row in entries)
    for start in range(0, len(entry_ids), _IN_BATCH):
        batch = entry_ids[start:start + _IN_BATCH]
        postings = _postings_of(session, batch)
        for row in session.execute(_with_municipality(select(*_ENTRY_COLUMNS), Entry.team_id)
                                   .where(Entry.id.in_(batch)).order_by(Entry.id)):
            links.setdefault(row[-1], []).append((ENTRY, row[0], entry_content_hash(row, postings[row[0]])))
    heads = _lock_heads(session, sorted(links))
    for municipality_id in sorted(links):
        seq, previous = heads[municipality_id]
        for kind, row_id, content_hash in links[municipality_id]:
            seq += 1
            previous = link_hash(previous, seq, kind, content_hash)
            row = by_id[(kind, row_id)]
            row.chain_seq, row.chain_hash = seq, previous  # written by the commit's own flush
        session.execute(update(ChainHead).where(ChainHead.municipality_id == municipality_id)
                        .values(seq=seq, hash=previous).execution_options(synchronize_session=False))


def _lock_heads(session, municipality_ids: list[int]) -> dict[int, tuple[int, str]]:
    """The (seq, hash) of each municipality's chain head, locked until commit (created when missing)."""
    def locked():
        return {municipality_id: (seq, chain_hash) for municipality_id, seq, chain_hash in session.execute(
            select(ChainHead.municipality_id, ChainHead.seq, ChainHead.hash)
            .where(ChainHead.municipality_id.in_(municipality_ids))
            .order_by(ChainHead.municipality_id).with_for_update())}

    heads = locked()
    missing = [municipality_id for municipality_id in municipality_ids if municipality_id not in heads]
    if missing:
        postgresql = session.get_bind().dialect.name == "postgresql"
        if postgresql:
            # inserting a head checks its foreign key with a share lock on the municipality row, which a
            # money-changing transaction may hold while it waits for this head: take the municipality
            # first, in the same order as the money lock does (only a new municipality's first commit)
            session.execute(select(Municipality.id).where(Municipality.id.in_(missing))
                            .order_by(Municipality.id).with_for_update())
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(ChainHead).values([{"municipality_id": municipality_id, "seq": 0, "hash": ""}
                                                  for municipality_id in missing]).on_conflict_do_nothing())
        heads = locked()
    return heads


# verifying

@dataclass
class Problem:
    """One thing wrong in a chain: what kind of row (audit, entry, account, chain), its id, and what."""

    row_kind: str
    row_id: int | None
    what: str


@dataclass
class ChainReport:
    """What `verify` found in one municipality's chain."""

    municipality_id: int
    audit_events: int = 0
    entries: int = 0
    head_seq: int = 0
    head_hash: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class VerifyReport:
    """What `verify` found, per municipality."""

    chains: list[ChainReport]
    checked_at: datetime

    @property
    def ok(self) -> bool:
        return all(chain.ok for chain in self.chains)

    @property
    def problems(self) -> list[Problem]:
        return [problem for chain in self.chains for problem in chain.problems]

    def lines(self) -> list[str]:
        """A readable summary: ids and kinds only, never what a row says."""
        out = []
        for chain in self.chains:
            out.append(f"Municipality {chain.municipality_id}: {chain.audit_events} audit events, "
                       f"{chain.entries} ledger entries, chain head {chain.head_seq} {chain.head_hash or '-'}: "
                       + ("ok" if chain.ok else f"{len(chain.problems)} problem(s)"))
            out.extend(f"  {problem.row_kind} {problem.row_id if problem.row_id is not None else '-'}: "
                       f"{problem.what}" for problem in chain.problems)
        problems = len(self.problems)
        out.append(f"Checked {len(self.chains)} municipalities: "
                   + ("no problems." if not problems else f"{problems} problem(s) found."))
        return out


def verify(session: Session) -> VerifyReport:
    """Check every municipality's chain and that every ledger entry and account balances. Writes nothing.

    Call it in a transaction with a consistent snapshot (models.db.begin_snapshot): at READ COMMITTED a
    commit during the walk would look like a broken head."""
    checked_at = utcnow()
    heads = {head.municipality_id: head for head in session.exec(
        select(ChainHead).execution_options(populate_existing=True))}
    chains = [ChainReport(municipality_id) for municipality_id in
              session.exec(select(Municipality.id).order_by(Municipality.id))]
    for chain in chains:
        _check_chain(session, chain, heads.get(chain.municipality_id))
        _check_entries_balance(session, chain)
    for municipality_id in {head for head in heads} - {chain.municipality_id for chain in chains}:
        chains.append(ChainReport(municipality_id, problems=[Problem("chain", None, "head of a missing municipality")]))
    out_of_balance = accounts_out_of_balance(session)
    if out_of_balance:
        owners = dict(session.execute(select(Account.id, District.municipality_id)
                                      .join(Team, Team.id == Account.team_id)
                                      .join(District, District.id == Team.district_id)
                                      .where(Account.id.in_(out_of_balance))).all())
        for chain in chains:
            chain.problems.extend(Problem("account", account_id, "running total differs from the sum of its postings")
                                  for account_id in out_of_balance if owners.get(account_id) == chain.municipality_id)
    return VerifyReport(chains, checked_at)


def _chain_rows(session, municipality_id: int):
    """(seq, kind, id, chain_hash, content hash) of the municipality's linked rows in seq order, streamed: one
    sorted query per kind (chain_seq has no index; a sort of each table once beats a page query per 1,000
    rows), read `_PAGE` rows at a time (a server-side cursor on PostgreSQL)."""
    linked = _audit_of_municipality((*_AUDIT_COLUMNS, AuditEvent.chain_seq, AuditEvent.chain_hash), municipality_id,
                                    AuditEvent.chain_seq.is_not(None))
    audits = session.execute(select(linked).order_by(linked.c.chain_seq, linked.c.id).execution_options(yield_per=_PAGE))
    entries = session.execute(
        _with_municipality(select(*_ENTRY_COLUMNS, Entry.chain_seq, Entry.chain_hash, Posting.account_id,
                                  Posting.amount_cents, Posting.id), Entry.team_id)
        .join(Posting, Posting.entry_id == Entry.id, isouter=True)
        .where(District.municipality_id == municipality_id, Entry.chain_seq.is_not(None))
        .order_by(Entry.chain_seq, Entry.id, Posting.id).execution_options(yield_per=_PAGE))

    def audit_rows():
        for row in audits:
            yield row[8], AUDIT, row[0], row[9], audit_content_hash(row)

    def entry_rows():
        # one row per posting (or one with no posting), the entry's columns repeated: group them back
        for _entry_id, group in itertools.groupby(entries, key=lambda row: row[0]):
            group = list(group)
            row = group[0]
            postings = [(p[9], p[10], p[11]) for p in group if p[11] is not None]
            yield row[7], ENTRY, row[0], row[8], entry_content_hash(row, postings)

    return heapq.merge(audit_rows(), entry_rows(), key=lambda row: (row[0], row[1], row[2]))


def _check_chain(session, chain: ChainReport, head: ChainHead | None) -> None:
    problems = chain.problems
    not_linked = AuditEvent.chain_seq.is_(None) | AuditEvent.chain_hash.is_(None)
    audits = _audit_of_municipality((AuditEvent.id,), chain.municipality_id, not_linked)
    unlinked_audits = session.execute(select(audits.c.id).order_by(audits.c.id)).scalars().all()
    unlinked_entries = session.execute(
        _with_municipality(select(Entry.id), Entry.team_id)
        .where(District.municipality_id == chain.municipality_id, Entry.chain_seq.is_(None) | Entry.chain_hash.is_(None))
        .order_by(Entry.id)).scalars().all()
    for kind, unlinked in ((AUDIT, unlinked_audits), (ENTRY, unlinked_entries)):
        problems.extend(Problem(kind, row_id, "not in the chain (written around the application?)")
                        for row_id in unlinked)
    expected, previous, last_seq = 1, "", 0
    for seq, kind, row_id, stored_hash, content_hash in _chain_rows(session, chain.municipality_id):
        if kind == AUDIT:
            chain.audit_events += 1
        else:
            chain.entries += 1
        if seq < expected:
            problems.append(Problem(kind, row_id, f"second row at chain place {seq} (inserted?)"))
            continue
        if seq > expected:
            problems.append(Problem("chain", None, f"places {expected} to {seq - 1} are missing (deleted?)"
                                    if seq - 1 > expected else f"place {expected} is missing (deleted?)"))
        elif stored_hash != link_hash(previous, seq, kind, content_hash):
            problems.append(Problem(kind, row_id, f"hash at chain place {seq} does not match (changed?)"))
        previous, expected, last_seq = stored_hash, seq + 1, seq
    chain.head_seq, chain.head_hash = (head.seq, head.hash) if head else (0, "")
    if head is None:
        if last_seq:
            problems.append(Problem("chain", None, "the chain head is missing"))
    elif head.seq > last_seq:
        problems.append(Problem("chain", None, f"the newest rows, places {last_seq + 1} to {head.seq}, are missing "
                                               "(deleted?)" if head.seq > last_seq + 1
                                else f"the newest row, place {head.seq}, is missing (deleted?)"))
    elif head.seq < last_seq:
        problems.append(Problem("chain", None, f"rows beyond the chain head ({head.seq}) up to place {last_seq} "
                                               "(inserted?)"))
    elif head.hash != previous:
        problems.append(Problem("chain", None, "the chain head's hash does not match its newest row"))


def _check_entries_balance(session, chain: ChainReport) -> None:
    """Every entry of the municipality has at least two postings, none zero, summing to zero."""
    statement = (select(Entry.id, func.count(Posting.id), func.coalesce(func.sum(Posting.amount_cents), 0))
                 .join(Posting, Posting.entry_id == Entry.id, isouter=True))
    statement = (_with_municipality(statement, Entry.team_id)
                 .where(District.municipality_id == chain.municipality_id).group_by(Entry.id, District.municipality_id)
                 .having((func.count(Posting.id) < 2) | (func.coalesce(func.sum(Posting.amount_cents), 0) != 0)
                         | (func.min(func.abs(Posting.amount_cents)) == 0))
                 .order_by(Entry.id))
    for entry_id, postings, total, _municipality_id in session.execute(statement):
        what = (f"{postings} posting(s), fewer than two" if postings < 2
                else f"postings sum to {total} cents, not zero" if total else "a posting of zero")
        chain.problems.append(Problem(ENTRY, entry_id, what))


def record_verification(session: Session, report: VerifyReport) -> None:
    """Write when each chain was verified and whether it was sound (a write: models.db.begin_write first)."""
    heads = {head.municipality_id: head for head in session.exec(
        select(ChainHead).execution_options(populate_existing=True))}
    for chain in report.chains:
        head = heads.get(chain.municipality_id)
        if head is None:
            if session.get(Municipality, chain.municipality_id) is None:
                continue
            head = ChainHead(municipality_id=chain.municipality_id)
            session.add(head)
        head.last_verified_at, head.last_verified_ok = report.checked_at, chain.ok
    session.flush()


def last_verifications(session: Session) -> dict[int, ChainHead]:
    """Each municipality's chain head, with when it was last verified (none: never)."""
    return {head.municipality_id: head for head in session.exec(select(ChainHead))}
