"""`flask --app web verify`: checks every municipality's hash chain and balances, prints ids and kinds only,
exits 1 on any row edited, inserted or deleted by hand; the administrators' overview shows the last check."""
import pytest
from sqlalchemy import text
from sqlmodel import select

from models.audit import AuditEvent, record
from models.audit_chain import ChainHead
from models.ledger import Entry, Posting
from tests.http.test_foundation import make_administrator  # noqa: F401 -- a fixture

SECRET_WORDS = "Mevrouw Jansen"


@pytest.fixture
def world(session, make_team):
    team = make_team()
    for number in range(3):
        record(session, team_id=team.id, action="comment", text=f"{SECRET_WORDS} {number}")
        session.commit()
    return team


def _tamper(session, statement, **values):
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))  # around the balance trigger too
    session.execute(text(statement), values)
    session.commit()


def _verify(app):
    return app.test_cli_runner().invoke(args=["verify"])


def test_a_clean_world_verifies(app, world):
    result = _verify(app)
    assert result.exit_code == 0, result.output
    head, summary = result.output.splitlines()
    assert head.startswith("Municipality 1: 3 audit events, 1 ledger entries, chain head 4 ") and head.endswith(": ok")
    assert summary == "Checked 1 municipalities: no problems."


def _second_audit_event(session):
    return session.exec(select(AuditEvent.id).order_by(AuditEvent.id)).all()[1]


def _only_entry(session):
    return session.exec(select(Entry.id)).one()


TAMPERING = {
    "audit detail edited": ("UPDATE auditevent SET detail = '{}' WHERE id = :id", _second_audit_event,
                            "audit {}: hash at chain place"),
    "entry memo edited": ("UPDATE entry SET memo = 'Anders' WHERE id = :id", _only_entry, "entry {}: hash at chain"),
    "audit event deleted": ("DELETE FROM auditevent WHERE id = :id", _second_audit_event,
                            "chain -: place 3 is missing"),
    "posting deleted": ("DELETE FROM posting WHERE id = (SELECT MIN(id) FROM posting WHERE entry_id = :id)",
                        _only_entry, "entry {}: 1 posting(s), fewer than two"),
    "audit event inserted": ("INSERT INTO auditevent (team_id, action, detail, created_at) "
                             "SELECT team_id, action, detail, created_at FROM auditevent WHERE id = :id",
                             _second_audit_event, "audit 4: not in the chain"),
}


@pytest.mark.parametrize("tampering", TAMPERING)
def test_verify_catches_tampering_and_exits_non_zero(app, session, world, tampering):
    statement, row, expected = TAMPERING[tampering]
    row_id = row(session)
    _tamper(session, statement, id=row_id)
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert f"  {expected.format(row_id)}" in result.output, result.output
    assert result.output.splitlines()[-1].startswith("Checked 1 municipalities: ")
    assert SECRET_WORDS not in result.output and "Anders" not in result.output  # ids and kinds only


def test_the_newest_row_deleted_is_caught(app, session, world):
    newest = session.exec(select(AuditEvent.id).order_by(AuditEvent.id.desc())).first()
    _tamper(session, "DELETE FROM auditevent WHERE id = :id", id=newest)
    result = _verify(app)
    assert result.exit_code == 1 and "the newest row, place 4, is missing" in result.output, result.output


def test_the_overview_shows_when_each_chain_was_last_verified(app, client, session, world, make_team,
                                                              make_administrator, login_as):  # noqa: F811
    login_as(make_administrator())
    assert client.get("/beheer/gemeenten").text.count("nog nooit") == 1
    assert _verify(app).exit_code == 0
    heads = session.exec(select(ChainHead)).all()
    assert [(head.last_verified_ok, head.last_verified_at is not None) for head in heads] == [(True, True)]
    page = client.get("/beheer/gemeenten").text
    assert "nog nooit" not in page and "in orde" in page and "fouten gevonden" not in page

    make_team("Team Later")  # a municipality verified never since
    _tamper(session, "UPDATE posting SET amount_cents = amount_cents + 1 WHERE id = :id",
            id=session.exec(select(Posting.id).order_by(Posting.id)).first())
    assert _verify(app).exit_code == 1
    page = client.get("/beheer/gemeenten").text
    assert "fouten gevonden" in page and "in orde" in page and "nog nooit" not in page
