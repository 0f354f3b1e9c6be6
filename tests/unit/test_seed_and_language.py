"""The demo municipality, the command-line tasks, the English catalog and the money filter."""
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlmodel import func, select

from models.members import TEAM_ROLES, Member, team_roster
from models.passkeys import Passkey
from models.seed import DEMO_COORDINATOR, DEMO_WORKER, demo_sign_in_invites, seed_demo
from models.clock import today
from models.ledger import AccountKind, account, accounts_out_of_balance, post_entry
from models.rules import RuleViolation
from models.teams import DEFAULT_COST_CATEGORIES, BudgetYear, CostCategory, District, Team, TeamBudget
from models.year_close import year_statement
from web.i18n import format_cents

ROOT = Path(__file__).resolve().parents[2]


def test_demo_municipality_covers_every_role(session):
    assert seed_demo(session) is True
    assert session.exec(select(func.count(District.id))).one() == 2
    teams = session.exec(select(Team)).all()
    assert len(teams) == 3
    for team in teams:
        roster = team_roster(session, team.id)
        assert 10 <= len(roster) <= 15
        assert {membership.role for _member, membership in roster} == {role.value for role in TEAM_ROLES}
    this_year, last_year = session.exec(select(BudgetYear).order_by(BudgetYear.year.desc())).all()
    assert (this_year.year, last_year.year) == (today().year, today().year - 1)
    assert session.exec(select(func.count(TeamBudget.id)).where(TeamBudget.budget_year_id == this_year.id)).one() == 3
    assert session.exec(select(func.count(CostCategory.id))).one() == len(DEFAULT_COST_CATEGORIES)
    assert session.exec(select(Member).where(Member.display_name == DEMO_COORDINATOR)).one().is_coordinator
    assert seed_demo(session) is False


def test_demo_has_a_closed_last_year_that_adds_up_and_an_open_current_one(session):
    seed_demo(session)
    this_year, last_year = session.exec(select(BudgetYear).order_by(BudgetYear.year.desc())).all()
    assert this_year.closed_at is None and last_year.closed_at is not None
    statement = year_statement(session, this_year.municipality_id, last_year)
    row = statement.total
    assert row.balanced and row.budget == 750_000
    assert (row.spent, row.lent, row.repaid, row.outstanding) == (48_750, 60_000, 15_000, 45_000)
    assert row.to_municipality == row.budget + row.repaid - row.spent - row.lent
    assert {outcome: count for outcome, count in row.counts.items() if count} == {
        "granted_full": 3, "granted_lower": 3, "loan": 3, "alternative": 3, "rejected": 3, "cancelled": 3}
    assert accounts_out_of_balance(session) == []
    # nothing can be booked into the closed year any more
    team = session.exec(select(Team)).first()
    with pytest.raises(RuleViolation):
        post_entry(session, team.id, [(account(session, team.id, last_year.id, AccountKind.AVAILABLE), 1),
                                      (account(session, team.id, last_year.id, AccountKind.FUNDING), -1)], memo="x")


def test_demo_links_only_for_members_without_passkey(session):
    seed_demo(session)
    assert [label for label, _token in demo_sign_in_invites(session)] == [
        "Demo coordinator", "Demo worker", "Demo administrator"]  # foundation: the demo administrator too
    worker = session.exec(select(Member).where(Member.display_name == DEMO_WORKER)).one()
    session.add(Passkey(member_id=worker.id, credential_id=b"w", public_key=b"k", name="Telefoon"))
    session.flush()
    assert [label for label, _token in demo_sign_in_invites(session)] == ["Demo coordinator", "Demo administrator"]
    assert len(demo_sign_in_invites(session, force=True)) == 3


def test_cli_migrates_seeds_and_prints_links(app):
    runner = app.test_cli_runner()
    assert "up to date" in runner.invoke(args=["migrate"]).output
    assert "created" in runner.invoke(args=["seed-demo"]).output
    assert "already present" in runner.invoke(args=["seed-demo"]).output
    output = runner.invoke(args=["demo-links"]).output
    assert output.count("http://localhost:5000/uitnodiging/") == 3 and "/inloggen" in output  # foundation: + admin


def test_every_text_has_an_english_translation():
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    extracted = set()
    for folder in ("web", "models", "templates"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map=[(f"**.{'html' if folder == 'templates' else 'py'}",
                                            "jinja2" if folder == "templates" else "python")],
                keywords=keywords):
            extracted.add(message if isinstance(message, str) else message[0])
    with open(ROOT / "web/translations/en/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    missing = sorted(m for m in extracted if not (catalog.get(m) and catalog.get(m).string
                                                   and not catalog.get(m).fuzzy))
    assert missing == [], "run `make extract-messages` and translate these"


@pytest.mark.parametrize("locale, cents, shown", [
    ("nl", 7_550, "€\xa075,50"), ("nl", 250_000, "€\xa02.500,00"), ("en", 7_550, "€75.50"), ("nl", None, "—")])
def test_money_is_formatted_once_from_cents(app, locale, cents, shown):
    with app.test_request_context(headers={"Cookie": f"lang={locale}"}):
        assert format_cents(cents) == shown


@pytest.mark.parametrize("locale", ["nl", "en"])
def test_fast_money_format_matches_babel(app, locale):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from decimal import Decimal

    from babel.numbers import format_currency

    @settings(max_examples=300, deadline=None)
    @given(st.integers(min_value=-10**12, max_value=10**12))
    def same_text(cents):
        assert format_cents(cents) == format_currency(Decimal(cents) / 100, "EUR", locale=locale)

    with app.test_request_context(headers={"Cookie": f"lang={locale}"}):
        same_text()


TEMPLATE_TEXTS = ('{{ _("Stadsdeel %(district)s · jouw rol: %(role)s", district=district, role="x") }}|'
                  '{{ ngettext("%(num)d aanvraag wacht op jouw stem.", "%(num)d aanvragen wachten op jouw stem.", n) }}|'
                  '{{ _("100%% zeker") }}')


@pytest.mark.parametrize("locale, shown", [
    ("nl", "Stadsdeel &lt;b&gt;Oost · jouw rol: x|2 aanvragen wachten op jouw stem.|100% zeker"),
    ("en", "District &lt;b&gt;Oost · your role: x|2 requests are waiting for your vote.|100% zeker")])
def test_template_texts_use_the_requests_catalog_and_escape_like_jinja(app, locale, shown):
    """web.i18n.request_gettext replaces Flask-Babel's `_()` in templates: same words, same escaping."""
    from flask import render_template_string

    from web.i18n import request_gettext

    with app.test_request_context(headers={"Cookie": f"lang={locale}"}):
        assert render_template_string(TEMPLATE_TEXTS, district="<b>Oost", n=2) == shown
        # and it really is ours that the template calls, not Flask-Babel's global one
        assert set(request_gettext()) == {"gettext", "ngettext"}
        assert render_template_string("{{ gettext.__module__ }}") == "web.i18n"
