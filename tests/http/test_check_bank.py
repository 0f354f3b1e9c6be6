"""`flask --app web check-bank` flags what the statements did not show; the coordinator's queue only reads.

Before, opening the queue ran the check itself, a write on a read path under the write lock on every view."""
from datetime import datetime, timezone

from sqlmodel import select

from models.reconciliation import BankFlag
from tests.card_world import card_on, granted_request, loaded


def _not_seen(session):
    session.expire_all()
    return session.exec(select(BankFlag).where(BankFlag.reason == "not_seen")).all()


def test_the_daily_check_flags_transfers_not_seen_and_the_queue_only_shows_them(
        app, client, session, make_team, make_member, login_as, clock):
    clock(datetime(2026, 12, 18, 10, tzinfo=timezone.utc))  # a Friday
    team = make_team("Team Bank")
    worker, voter = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator")
    request = granted_request(session, team, worker, voter, 4000)
    loaded(session, team, [card_on(session, team, request, coordinator, "1234")], coordinator)
    session.commit()

    clock(datetime(2026, 12, 29, 9, tzinfo=timezone.utc))  # past the fifth working day (Christmas closed)
    login_as(coordinator)
    assert client.get("/beheer/bank/controle").status_code == 200
    assert _not_seen(session) == []  # the GET wrote nothing

    result = app.test_cli_runner().invoke(args=["check-bank"])
    assert result.exit_code == 0, result.output
    assert "2 transfer(s) not seen on a statement" in result.output  # the top-up and the card load
    flags = _not_seen(session)
    assert len(flags) == 2
    queue = client.get("/beheer/bank/controle").text
    assert all(f'data-flag="{flag.id}"' in queue for flag in flags)

    again = app.test_cli_runner().invoke(args=["check-bank"])  # daily: each transfer is flagged once
    assert again.exit_code == 0 and "0 transfer(s) not seen" in again.output
    assert len(_not_seen(session)) == 2
