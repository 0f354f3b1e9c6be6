"""chain backfill and balanced-entry trigger: link the audit events and ledger entries written before the
hash chain (models/audit_chain.py), and on PostgreSQL refuse at commit an entry whose postings do not balance

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 17:00:00.000000

The backfill is self-contained: it holds its own copy of the hashing rule of models/audit_chain.py as it
was when this migration was written (a migration must not change when the app's code does later).
tests/unit/test_audit_chain.py checks that rows it links verify with the app's code.
Since migration 0018 an audit event may have no team (a change of the municipality's setup); the app's
rule appends such an event's municipality_id to its content. None existed when this ran, and every event
it links has a team, whose content is the list below, unchanged.
"""
import hashlib
import heapq
import json
from datetime import UTC

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

PAGE = 1000

municipality = sa.table('municipality', sa.column('id', sa.Integer))
district = sa.table('district', sa.column('id', sa.Integer), sa.column('municipality_id', sa.Integer))
team = sa.table('team', sa.column('id', sa.Integer), sa.column('district_id', sa.Integer))
auditevent = sa.table(
    'auditevent', sa.column('id', sa.Integer), sa.column('team_id', sa.Integer), sa.column('request_id', sa.Integer),
    sa.column('actor_id', sa.Integer), sa.column('action', sa.String), sa.column('detail', sa.JSON),
    sa.column('created_at', sqlmodel.sql.sqltypes.UTCDateTime()), sa.column('chain_seq', sa.Integer),
    sa.column('chain_hash', sa.String))
entry = sa.table(
    'entry', sa.column('id', sa.Integer), sa.column('team_id', sa.Integer),
    sa.column('created_at', sqlmodel.sql.sqltypes.UTCDateTime()), sa.column('memo', sa.String),
    sa.column('request_id', sa.Integer), sa.column('actor_id', sa.Integer), sa.column('reverses_entry_id', sa.Integer),
    sa.column('chain_seq', sa.Integer), sa.column('chain_hash', sa.String))
posting = sa.table('posting', sa.column('id', sa.Integer), sa.column('entry_id', sa.Integer),
                   sa.column('account_id', sa.Integer), sa.column('amount_cents', sa.Integer))
chainhead = sa.table('chainhead', sa.column('municipality_id', sa.Integer), sa.column('seq', sa.Integer),
                     sa.column('hash', sa.String))


# a copy of the hashing rule in models/audit_chain.py (see its module docstring)

def _moment(value):
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _sha256(value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _link_hash(previous, seq, kind, content_hash):
    return hashlib.sha256(f"{previous}|{seq}|{kind}|{content_hash}".encode()).hexdigest()


def _rows(connection, table, municipality_id):
    """(created_at, kind, id, content hash) of the municipality's unlinked rows of `table` in id order, a page at
    a time (paged by id: moments written by different code need not compare exactly)."""
    after = 0
    while True:
        statement = (sa.select(table).join(team, team.c.id == table.c.team_id)
                     .join(district, district.c.id == team.c.district_id)
                     .where(district.c.municipality_id == municipality_id, table.c.chain_seq.is_(None),
                            table.c.id > after)
                     .order_by(table.c.id).limit(PAGE))
        page = connection.execute(statement).mappings().all()
        postings = {}
        if table is entry and page:
            for row in connection.execute(sa.select(posting).where(posting.c.entry_id.in_([r["id"] for r in page]))):
                postings.setdefault(row.entry_id, []).append([row.account_id, row.amount_cents, row.id])
        for row in page:
            if table is auditevent:
                content = _sha256(["audit", row["id"], row["team_id"], row["request_id"], row["actor_id"],
                                   row["action"], row["detail"], _moment(row["created_at"])])
            else:
                content = _sha256(["entry", row["id"], row["team_id"], _moment(row["created_at"]), row["memo"],
                                   row["request_id"], row["actor_id"], row["reverses_entry_id"],
                                   sorted(postings.get(row["id"], []))])
            yield row["created_at"], "audit" if table is auditevent else "entry", row["id"], content
        if len(page) < PAGE:
            return
        after = page[-1]["id"]


def backfill(connection):
    """Link every unlinked audit event and entry at the end of its municipality's chain, and give every
    municipality its chain head. The order: each table's rows in id order, the two merged by moment (audit
    events before entries of the same moment); any stable order would do, as `verify` follows chain_seq."""
    for (municipality_id,) in connection.execute(sa.select(municipality.c.id).order_by(municipality.c.id)).all():
        head = connection.execute(sa.select(chainhead.c.seq, chainhead.c.hash)
                                  .where(chainhead.c.municipality_id == municipality_id)).first()
        if head is None:
            connection.execute(sa.insert(chainhead).values(municipality_id=municipality_id, seq=0, hash=""))
            seq, previous = 0, ""
        else:
            seq, previous = head
        updates = {"audit": [], "entry": []}

        def write():
            for kind, table in (("audit", auditevent), ("entry", entry)):
                if updates[kind]:
                    connection.execute(sa.update(table).where(table.c.id == sa.bindparam("row_id"))
                                       .values(chain_seq=sa.bindparam("seq"), chain_hash=sa.bindparam("hash")),
                                       updates[kind])
                    updates[kind] = []

        # each page is read whole before anything is written, and later pages start after its last id
        for _created_at, kind, row_id, content in heapq.merge(
                _rows(connection, auditevent, municipality_id), _rows(connection, entry, municipality_id),
                key=lambda row: (row[0], row[1], row[2])):
            seq += 1
            previous = _link_hash(previous, seq, kind, content)
            updates[kind].append({"row_id": row_id, "seq": seq, "hash": previous})
            if len(updates[kind]) >= PAGE:
                write()
        write()
        connection.execute(sa.update(chainhead).where(chainhead.c.municipality_id == municipality_id)
                           .values(seq=seq, hash=previous))


BALANCED_FUNCTION = """
CREATE FUNCTION posting_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked integer;
    postings integer;
    total bigint;
BEGIN
    FOREACH checked IN ARRAY (CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.entry_id]
                                         WHEN 'DELETE' THEN ARRAY[OLD.entry_id]
                                         ELSE ARRAY[OLD.entry_id, NEW.entry_id] END) LOOP
        -- an entry deleted as a whole in this transaction has nothing left to balance
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM entry WHERE id = checked);
        SELECT count(*), coalesce(sum(amount_cents), 0) INTO postings, total FROM posting WHERE entry_id = checked;
        IF postings < 2 OR total <> 0 THEN
            RAISE EXCEPTION 'ledger entry % does not balance: % posting(s) summing to % cents', checked, postings, total
                USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
    RETURN NULL;
END
$$
"""
BALANCED_TRIGGER = """
CREATE CONSTRAINT TRIGGER posting_entry_balanced AFTER INSERT OR UPDATE OR DELETE ON posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION posting_entry_balanced()
"""


def upgrade():
    backfill(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BALANCED_FUNCTION)
        op.execute(BALANCED_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS posting_entry_balanced ON posting")
        op.execute("DROP FUNCTION IF EXISTS posting_entry_balanced()")
    op.execute("UPDATE auditevent SET chain_seq = NULL, chain_hash = NULL")
    op.execute("UPDATE entry SET chain_seq = NULL, chain_hash = NULL")
    op.execute("DELETE FROM chainhead")
