"""Command-line tasks: migrate, seed the demo municipality, print demo sign-in links, invite an administrator,
import bank statements, check the bank daily, verify the audit trail."""
import click
from flask import current_app, url_for
from flask.cli import with_appcontext

from models import migrate
from models.db import begin_write
from web.database import db


def init_app(app):
    """Register the commands on `flask --app web`."""
    app.cli.add_command(migrate_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(demo_links_command)
    app.cli.add_command(invite_administrator_command)  # foundation
    app.cli.add_command(budget_year_group)  # budget years
    app.cli.add_command(import_statement_command)  # bank statements
    app.cli.add_command(verify_command)  # the audit trail
    app.cli.add_command(check_bank_command)  # daily: bank lines matched again, transfers not seen flagged


@click.command("migrate")
@with_appcontext
def migrate_command():
    """Apply all database migrations."""
    migrate.upgrade(current_app.config["DATABASE_URL"])
    click.echo("Database is up to date.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the demo municipality once (does nothing when any municipality exists)."""
    from models.seed import seed_demo

    begin_write(db())  # it reads first: on SQLite the write lock is taken before (models/db.py)
    created = seed_demo(db())
    db().commit()
    click.echo("Demo municipality created." if created else "Demo data already present.")


@click.command("demo-links")
@with_appcontext
@click.option("--force", is_flag=True, help="Also for demo members who already have a passkey (revokes it).")
def demo_links_command(force):
    """Print one-time sign-in links for the demo coordinator and demo worker."""
    from models.seed import demo_sign_in_invites

    origin = current_app.config["WEBAUTHN_ORIGIN"]
    begin_write(db())
    with current_app.test_request_context():
        links = [(label, origin + url_for("auth.invite", token=token))
                 for label, token in demo_sign_in_invites(db(), force=force)]
        sign_in = origin + url_for("auth.sign_in")
    db().commit()
    click.echo("")
    if links:
        click.echo("Open one of these one-time links in Chromium to create a passkey (valid 72 hours):")
        for label, link in links:
            click.echo(f"  {label:<18} {link}")
    click.echo(f"Sign in later with your passkey at {sign_in}")
    if not force:
        click.echo("Lost the demo passkeys? `make demo-links` prints fresh links.")
    click.echo("")


@click.command("invite-administrator")
@with_appcontext
@click.argument("name")
def invite_administrator_command(name):
    """Print a one-time invite link for a new administrator (foundation staff): the way to the first one.

    NAME is only printed beside the link, to say whom it is for: the new administrator types their own
    name when they redeem it."""
    from models.invites import INVITE_TTL, invite_administrator

    begin_write(db())
    _invite, token = invite_administrator(db(), None)
    with current_app.test_request_context():
        link = current_app.config["WEBAUTHN_ORIGIN"] + url_for("auth.invite", token=token)
    db().commit()
    hours = int(INVITE_TTL.total_seconds() // 3600)
    click.echo(f"One-time invite link for administrator {name} (valid {hours} hours; open it in a browser that "
               "can make a passkey):")
    click.echo(f"  {link}")


@click.group("budget-year")
def budget_year_group():
    """Budget years of a municipality."""


@budget_year_group.command("open")
@with_appcontext
@click.option("--municipality", "municipality_name", required=True, help="The municipality's name, as in the app.")
@click.option("--year", required=True, type=int, help="The year to open (this year or the next).")
@click.option("--copy-from", "copy_from", type=int, help="Give each team its budget of this year (else 0).")
def open_budget_year_command(municipality_name, year, copy_from):
    """Open a budget year, each team's budget copied from another year (as the coordinator's page does)."""
    from models.budget_years import budgets_prefill, open_budget_year
    from models.exports import euros
    from models.municipalities import municipality_named
    from models.rules import RuleViolation

    begin_write(db())  # it reads first: on SQLite the write lock is taken before (models/db.py)
    municipality = municipality_named(db(), municipality_name)
    if municipality is None:
        raise click.ClickException(f"No municipality named {municipality_name!r}.")
    try:
        with current_app.test_request_context():  # a refusal's message is translated (into Dutch, the default)
            rows = budgets_prefill(db(), municipality.id, copy_from)
            open_budget_year(db(), municipality.id, year, {row["team"].id: row["budget_cents"] for row in rows},
                             None)
    except RuleViolation as refused:
        db().rollback()
        raise click.ClickException(str(refused)) from refused
    db().commit()
    click.echo(f"Opened budget year {year} for {municipality.name}"
               + (f", budgets copied from {copy_from}:" if copy_from else ", every budget 0:"))
    for row in rows:
        click.echo(f"  {row['team'].name:<30} EUR {euros(row['budget_cents']):>12}")
    click.echo(f"  {'Total':<30} EUR {euros(sum(row['budget_cents'] for row in rows)):>12}")


@click.command("import-statement")
@with_appcontext
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def import_statement_command(paths):
    """Import bank statement files (CAMT.053/.054, MT940) of team accounts and registered card accounts, each
    line once, its new lines matched and flagged (models.reconciliation).

    Prints one JSON object per file on stdout (models.bank_statements.ImportResult, with "matched": new lines
    matched and "flagged": flags created; or {"file", "error"} for a refused or unreadable file) and exits 1
    when any file was refused."""
    import json

    from models.bank_formats import MAX_FILE_BYTES
    from models.bank_statements import import_statement_file
    from models.rules import RuleViolation

    refused = False
    for path in paths:
        try:
            with open(path, "rb") as statement_file:
                data = statement_file.read(MAX_FILE_BYTES + 1)  # more is refused as too large
        except OSError as error:
            click.echo(json.dumps({"file": path, "error": f"Cannot read the file: {error.strerror or error}"}))
            refused = True
            continue
        begin_write(db())  # it reads first: on SQLite the write lock is taken before (models/db.py)
        try:
            with current_app.test_request_context():  # a refusal's message is translated (into Dutch, the default)
                result = import_statement_file(db(), data, path, municipality_id=None, actor_id=None)
                message = None
        except RuleViolation as error:
            db().rollback()
            message = str(error)  # rendered when it was raised, inside the request context
        if message is not None:
            click.echo(json.dumps({"file": path, "error": message}))
            refused = True
            continue
        db().commit()
        click.echo(json.dumps(result.as_json()))
    if refused:
        raise SystemExit(1)


@click.command("verify")
@with_appcontext
def verify_command():
    """Check the audit trail: each municipality's hash chain of audit events and ledger entries, and that
    every entry and account balances. Prints what it found (ids and kinds only) and each chain's head hash
    (note it down: a later run that shows another hash for the same place means a rewritten chain); exits 1
    on any edited, inserted or deleted row."""
    from models.audit_chain import record_verification, verify
    from models.db import begin_snapshot

    begin_snapshot(db())  # one consistent view of every chain, also while the app goes on writing
    report = verify(db())
    db().commit()  # ends the snapshot (on PostgreSQL a REPEATABLE READ write could fail on a concurrent commit)
    begin_write(db())
    record_verification(db(), report)
    db().commit()
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)


@click.command("check-bank")
@with_appcontext
def check_bank_command():
    """For every municipality: match again the bank lines still unmatched, and flag the transfers of executed
    batches that no statement showed within 5 working days. Run it daily from cron."""
    from models.clock import today
    from models.municipalities import municipality_ids
    from models.reconciliation import reconcile

    for municipality_id in municipality_ids(db()):
        begin_write(db())  # cron runs it beside the app: on SQLite it writes under the write lock from the start
        counts = reconcile(db(), municipality_id, today=today())
        db().commit()
        click.echo(f"municipality {municipality_id}: {counts['matched']} matched, {counts['flagged']} flagged, "
                   f"{counts['not_seen']} transfer(s) not seen on a statement")
