"""Every writing endpoint, fed hostile values in every field it reads: never a 5xx (issue 9 §6).

WRITING_ENDPOINTS lists each POST rule of the app with who may reach it and the fields it reads; a test
checks that the table covers app.url_map, so a new endpoint without fuzzing fails the suite. Each group of
endpoints shares one world (one database setup), and the values go through the Flask test client, so the
whole run stays far under a minute per database. Error handlers answer a crash with 500, which is what is
counted.
"""
import io
import json
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter

from sqlmodel import select

from models.batches import create_batch
from models.cards import Card, CardState, register_card
from models.clock import utcnow
from models.invites import invite_administrator, invite_to_team, redeem_invite
from models.members import Membership, new_user_handle
from models.passkeys import Passkey
from models.receipts import Receipt
from models.requests import SpendRequest
from models.teams import Municipality, Team
from tests.card_world import SEPA_CONFIG, granted_request, municipality_id, with_categories

#: ≥ 40 values no form field should crash on; bytes are sent as they are (invalid UTF-8, lone surrogates)
HOSTILE = [
    str(2**31 - 1), str(2**31), str(2**63 - 1), str(2**63), str(2**64), "-1", "-2147483649", "0", "-0", "+1",
    "00000000000000000001", "9" * 400, "1e309", "-1e309", "1e-400", "NaN", "Infinity", "-Infinity", "0x10",
    "1_000", "1 000", "١٢٣", "１２", "Ⅻ", "75,505", "1.000.000,00", "€ 75,50", "75.50.1", ",", ".",
    "", " ", "\t", "\r\n", "\u00a0", "\x00", "a\x00b", "\x01\x02\x1b[31m\x1f\x7f", "\u202e\u200b\ufeff", "😀" * 500,
    "x" * 100_000, "€" * 30_000, "' OR 1=1 --", '"); DROP TABLE team; --', "<script>alert(1)</script>",
    "{{ 7*7 }}{% raw %}", "%s%n%x", "%00%2F%2F", "//evil.example", "javascript:alert(1)", "../../etc/passwd",
    "true", "null", "[]", "{}", "\U0010ffff", "\ud800", b"\xff\xfe\xed\xa0\x80",
]
#: JSON bodies that are no object, or that no parser should be made to follow
HOSTILE_BODIES = ['"tekst"', "42", "1e309", "NaN", "[1]", "null", "true", "[" * 100_000 + "]" * 100_000,
                  '{"a":' * 50_000 + "1" + "}" * 50_000, "{", "", "\xff", '{"x": "\\ud800"}', '{"x": "\\u0000"}']

#: endpoint: (who is signed in, "form" or "json", the fields it reads). Ids in the URL come from the world.
WRITING_ENDPOINTS = {
    # the team's members
    "requests.create": ("worker", "form", ["amount", "cost_category_id", "situation", "prevents",
                                           "alternatives_checked", "alternatives_note", "kind",
                                           "household_reference", "action",
                                           "legitimacy", "own_contribution", "scenario_1"]),  # avoided costs
    "requests.update": ("worker", "form", ["amount", "cost_category_id", "situation", "kind", "action"]),
    "requests.vote": ("voter", "form", ["choice", "amount", "alternative_name", "reason"]),
    "requests.comment": ("voter", "form", ["body"]),
    "requests.stop": ("consultant", "form", ["stop_reason"]),
    "requests.lift": ("consultant", "form", ["stop_reason"]),
    "receipts.upload": ("worker", "form", ["photo"]),
    "receipts.amount": ("worker", "form", ["amount"]),
    "receipts.no_receipt": ("worker", "form", ["no_receipt_reason"]),
    "cards.reserve": ("worker", "form", ["card_id"]),
    "cards.hand_over": ("worker", "form", ["x"]),
    "account.rename": ("worker", "form", ["name"]),
    "account.organisation": ("worker", "form", ["organisation"]),
    "account.remove": ("worker", "form", ["x"]),
    "account.add_begin": ("worker", "json", ["x"]),
    "account.add_finish": ("worker", "json", ["credential", "name"]),
    "push.add": ("worker", "json", ["endpoint", "keys", "expirationTime"]),
    "push.remove": ("worker", "json", ["endpoint"]),
    "requests.withdraw": ("worker", "form", ["x"]),
    # the coordinator
    "admin.team_settings_save": ("coordinator", "form", ["quorum", "household_cap_cents", "account_cap_cents",
                                                          "escalation_threshold_cents", "request_expiry_hours",
                                                          "reminder_after_hours"]),
    "admin.team_invite": ("coordinator", "form", ["role"]),
    "admin.coordinator_invite": ("coordinator", "form", ["x"]),
    "admin.team_add_member": ("coordinator", "form", ["member_id", "role"]),
    "admin.team_change_role": ("coordinator", "form", ["role"]),
    "admin.member_recovery": ("coordinator", "form", ["x"]),
    "admin.invite_mail": ("coordinator", "form", ["token", "back", "address"]),
    "admin.invite_revoke": ("coordinator", "form", ["back"]),
    "card_admin.register": ("coordinator", "form", ["reference", "last_four"]),
    "card_admin.card_action": ("coordinator", "form", ["action", "remaining"]),
    "card_admin.batch_create": ("coordinator", "form", ["card_id", "top_up"]),
    "card_admin.batch_download": ("coordinator", "form", ["x"]),
    "card_admin.batch_execute": ("coordinator", "form", ["x"]),
    "card_admin.batch_cancel": ("coordinator", "form", ["x"]),
    "admin.team_remove_member": ("coordinator", "form", ["x"]),
    # foundation: municipalities, districts, teams, administrators
    "foundation.municipality_create": ("administrator", "form", ["name"]),
    "foundation.administrator_invite": ("administrator", "form", ["x"]),
    "foundation.municipality_rename": ("administrator", "form", ["name"]),
    "foundation.municipality_choose": ("administrator", "form", ["x"]),
    "foundation.municipality_coordinator_invite": ("administrator", "form", ["x"]),
    "foundation.administrator_invite_revoke": ("administrator", "form", ["x"]),  # a team's invite: 404
    "foundation.district_add": ("coordinator", "form", ["name"]),
    "foundation.district_rename": ("coordinator", "form", ["name"]),
    "foundation.district_archive": ("coordinator", "form", ["x"]),
    "foundation.district_restore": ("coordinator", "form", ["x"]),
    "foundation.team_create": ("coordinator", "form", ["name", "district_id", "iban"]),
    "foundation.team_save": ("coordinator", "form", ["name", "district_id", "iban"]),
    "foundation.team_archive": ("coordinator", "form", ["x"]),
    "foundation.team_restore": ("coordinator", "form", ["x"]),
    # catalogue: cost categories, other provisions
    "catalogue.category_add": ("coordinator", "form", ["name_nl", "name_en"]),
    "catalogue.category_rename": ("coordinator", "form", ["name_nl", "name_en"]),
    "catalogue.category_move": ("coordinator", "form", ["by", "position"]),
    "catalogue.category_archive": ("coordinator", "form", ["x"]),
    "catalogue.category_restore": ("coordinator", "form", ["x"]),
    "catalogue.provision_add": ("coordinator", "form", ["name", "description", "link", "category_ids"]),
    "catalogue.provision_save": ("coordinator", "form", ["name", "description", "link", "category_ids"]),
    "catalogue.provision_archive": ("coordinator", "form", ["x"]),
    "catalogue.provision_restore": ("coordinator", "form", ["x"]),
    # members over time
    "admin.team_move_member": ("coordinator", "form", ["to_team_id", "role"]),
    "admin.member_deactivate": ("coordinator", "form", ["zoek", "pagina"]),  # Olaf: once, then refused
    # budget years
    "budget_years.open_year": ("coordinator", "form", ["year", "team_id", "budget"]),
    "budget_years.save": ("coordinator", "form", ["team_id", "budget"]),
    # year close, cancelled grants
    "grants.cancel": ("worker", "form", ["reason"]),
    "year_close.cancel": ("coordinator", "form", ["reason"]),
    "year_close.carry": ("coordinator", "form", ["x"]),
    "year_close.close": ("coordinator", "form", ["x"]),
    # loans
    "loans.agree": ("worker", "form", ["repayment_amount", "repayment_due_on"]),
    "loans.repay": ("worker", "form", ["repaid_amount", "received_on"]),
    # outcome reviews
    "outcome_reviews.answer": ("worker", "form", ["outcome", "lesson"]),
    "policy_signals.add_note": ("worker", "form", ["body"]),  # policy signals: on a decided request
    # exports
    # avoided costs
    "avoided_costs.scenario_add": ("coordinator", "form", ["name_nl", "name_en", "reference_cost", "source",
                                                           "is_example"]),
    "avoided_costs.scenario_save": ("coordinator", "form", ["name_nl", "name_en", "reference_cost", "source",
                                                            "is_example"]),
    "avoided_costs.scenario_move": ("coordinator", "form", ["by"]),
    "avoided_costs.scenario_archive": ("coordinator", "form", ["x"]),
    "avoided_costs.scenario_restore": ("coordinator", "form", ["x"]),
    # shared knowledge: tips, the household's history while drafting
    "tips.create": ("worker", "form", ["body", "category_ids"]),
    "tips.archive": ("worker", "form", ["x"]),
    "tips.household": ("worker", "form", ["household_reference"]),
    "tips.suggestions": ("worker", "form", ["situation", "cost_category_id"]),
    "tip_admin.archive": ("coordinator", "form", ["x"]),
    # ask an expert
    "experts.add_topic": ("worker", "form", ["topic"]),
    "experts.remove_topic": ("worker", "form", ["x"]),
    "experts.ask": ("voter", "form", ["expert_id", "topic"]),
    # bank statements
    "bank.upload": ("coordinator", "form", ["statement"]),
    "reconciliation.resolve": ("coordinator", "form", ["resolution", "note", "link"]),
    "reconciliation.rule_add": ("coordinator", "form", ["category_id", "kind", "value"]),
    "reconciliation.rule_remove": ("coordinator", "form", ["x"]),
    "card_admin.card_account": ("coordinator", "form", ["account_iban"]),
    # no one signed in
    "shell.switch_language": ("anyone", "form", ["lang", "next"]),
    "auth.sign_in_begin": ("anyone", "json", ["x"]),
    "auth.sign_in_finish": ("anyone", "json", ["credential", "next"]),
    "auth.invite_begin": ("anyone", "form", ["display_name", "token"]),
    "auth.invite_finish": ("anyone", "json", ["credential", "token"]),
    "handover.show": ("anyone", "form", ["token"]),
    "auth.sign_out": ("worker", "form", ["x"]),
}
#: the field posted to an endpoint that reads none: a few values show it ignores it, all of them would only cost time
UNREAD = "x"


@pytest.fixture
def app(make_app):
    """Rate limits far away (they would answer 429 before the fields are read), with the bank's accounts."""
    lifted = "100000 per minute"
    return make_app(RATELIMIT_SIGN_IN=lifted, RATELIMIT_INVITE=lifted, RATELIMIT_HANDOVER=lifted, **SEPA_CONFIG)


@pytest.fixture
def world(session, make_team, make_member):
    """One team with every thing an endpoint can act on: an open request, a draft, a granted one with a card
    handed over and a receipt, a granted one without a card, a card in stock, an open batch, an invite."""
    team = make_team("Team Fuzz", annual_budget_cents=1_000_000)
    with_categories(session, team)
    people = {"worker": make_member(team, "worker", name="Wim"), "voter": make_member(team, "worker", name="Vera"),
              "consultant": make_member(team, "income_consultant", name="Ine"),
              "coordinator": make_member(team, "coordinator", name="Cora"),
              "administrator": redeem_invite(session, invite_administrator(session, None)[0],  # foundation
                                             display_name="Bea", user_handle=new_user_handle())}
    neighbours = make_team("Team Buren", municipality=session.get(Municipality, municipality_id(session, team)))
    outsider = make_member(neighbours, "worker", name="Olaf")  # of the municipality, not yet of the team
    spent = granted_request(session, team, people["worker"], people["voter"], 6_000, household="H-1")
    waiting = granted_request(session, team, people["worker"], people["voter"], 5_000, household="H-2")
    now = utcnow()
    session.add(Card(team_id=team.id, reference="K-spent", last_four="1111", request_id=spent.id,
                     state=CardState.HANDED_OVER, loaded_amount_cents=6_000, loaded_at=now, handed_over_at=now))
    receipt = Receipt(request_id=spent.id, team_id=team.id, added_by_id=people["worker"].id, file_name="f" * 32,
                      width=10, height=10)
    session.add(receipt)
    stock = register_card(session, team, "K-stock", "2222", actor_id=people["coordinator"].id)
    open_request = SpendRequest(team_id=team.id, requester_id=people["worker"].id, status="open", amount_cents=4_000,
                                situation="s", prevents="p", posted_at=now - timedelta(hours=1))
    draft = SpendRequest(team_id=team.id, requester_id=people["worker"].id, status="draft", amount_cents=1_000)
    passkey = Passkey(member_id=people["worker"].id, credential_id=b"fuzz", public_key=b"key", name="Telefoon")
    session.add_all([open_request, draft, passkey])
    loan = SpendRequest(team_id=team.id, requester_id=people["worker"].id, status="granted", kind="loan",  # loans
                        granted_kind="loan", amount_cents=5_000, granted_amount_cents=5_000, situation="s",
                        prevents="p", budget_year_id=spent.budget_year_id, posted_at=now, decided_at=now)
    session.add(loan)
    session.flush()
    session.add(Card(team_id=team.id, reference="K-loan", last_four="3333", request_id=loan.id,  # loans: handed over
                     state=CardState.HANDED_OVER, loaded_amount_cents=5_000, loaded_at=now, handed_over_at=now))
    team = session.get(Team, team.id)
    team.quorum = 15  # nothing the fuzzing votes can complete
    session.add(team)
    invite, token = invite_to_team(session, people["coordinator"], team, "worker")
    session.commit()
    batch = create_batch(session, municipality_id(session, team), card_ids=[], top_ups={team.id: 1_000},
                         actor_id=people["coordinator"].id)
    session.commit()
    membership_id = session.exec(select(Membership.id).where(Membership.member_id == people["voter"].id)).one()
    return {**people, "team": team, "ids": {
        "team_id": team.id, "request_id": open_request.id, "receipt_id": receipt.id, "card_id": stock.id,
        "batch_id": batch.id, "membership_id": membership_id, "member_id": outsider.id, "invite_id": invite.id,
        "passkey_id": passkey.id, "token": token,
        **_catalogue_ids(session, team),  # catalogue
        "municipality_id": municipality_id(session, team), "district_id": team.district_id,  # foundation
        "budget_year_id": spent.budget_year_id,  # budget years, year close
        **_reconciliation_ids(session, team),  # the bank's queue, merchant rules
        **_scenario_ids(session, team),  # avoided costs
        **_tip_ids(session, team, people["worker"]),  # shared knowledge
        **_expert_ids(session, people["worker"], outsider)},  # ask an expert
        "request_for": {"requests.update": draft.id, "receipts.upload": spent.id, "receipts.amount": spent.id,
                        "receipts.no_receipt": spent.id, "cards.reserve": waiting.id, "cards.hand_over": waiting.id,
                        "grants.cancel": spent.id,
                        "loans.agree": loan.id, "loans.repay": loan.id,  # loans
                        "policy_signals.add_note": spent.id,  # policy signals: a granted request
                        "outcome_reviews.answer": _asked(session, spent)}}


def _asked(session, spend_request):
    """The outcome review of `spend_request`, asked (its id is the request's, for the URL)."""
    from models.outcome_reviews import OutcomeReview

    session.add(OutcomeReview(request_id=spend_request.id, team_id=spend_request.team_id, asked_at=utcnow()))
    session.commit()
    return spend_request.id


def _catalogue_ids(session, team):
    """A cost category and a provision of the team's municipality (catalogue)."""
    from models.catalogue import ProvisionInput, add_provision, cost_categories_of

    category = cost_categories_of(session, municipality_id(session, team))[0]
    provision = add_provision(session, municipality_id(session, team), ProvisionInput(
        name="Voedselbank", category_ids=[str(category.id)]))
    session.commit()
    return {"category_id": category.id, "provision_id": provision.id}


def _scenario_ids(session, team):
    """An avoided-cost scenario of the team's municipality."""
    from models.avoided_costs import ScenarioInput, add_scenario

    scenario = add_scenario(session, municipality_id(session, team), ScenarioInput("Huisuitzetting", "", "10000", ""))
    session.commit()
    return {"scenario_id": scenario.id}


def _tip_ids(session, team, author):
    """A tip of the team's municipality by `author` (shared knowledge)."""
    from models.catalogue import cost_categories_of
    from models.tips import write_tip

    category = cost_categories_of(session, municipality_id(session, team))[0]
    tip = write_tip(session, municipality_id=municipality_id(session, team), team_id=team.id, author_id=author.id,
                    body="Vraag eerst de voedselbank.", category_ids=[category.id])
    session.commit()
    return {"tip_id": tip.id}


def _expert_ids(session, member, expert):
    """A topic `member` offers, and `expert` (of another team of the municipality) offering one too."""
    from models.experts import list_topic

    topic = list_topic(session, member, "schuldhulp")
    list_topic(session, expert, "jeugd")
    session.commit()
    return {"topic_id": topic.id}


def _reconciliation_ids(session, team):
    """An open flag (a transfer the bank did not show) and a merchant rule of the team's municipality."""
    from models.catalogue import cost_categories_of
    from models.reconciliation import BankFlag, MerchantRule

    flag = BankFlag(municipality_id=municipality_id(session, team), team_id=team.id, reason="not_seen")
    rule = MerchantRule(municipality_id=municipality_id(session, team), kind="mcc", value="5912",
                        category_id=cost_categories_of(session, municipality_id(session, team))[0].id)
    session.add_all([flag, rule])
    session.commit()
    return {"flag_id": flag.id, "rule_id": rule.id}


def _url(app, world, endpoint):
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    values = {name: world["ids"][name] for name in rule.arguments}
    if "request_id" in values:
        values["request_id"] = world["request_for"].get(endpoint, values["request_id"])
    with app.test_request_context():
        return url_for(endpoint, **values)


def _form_body(fields: dict) -> bytes:
    pairs = [(name, value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass"))
             for name, value in fields.items()]
    return urlencode(pairs).encode()


def _post_form(client, url, field, value, world):
    if field == "photo":
        data = {"photo": (io.BytesIO(value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")),
                          "bonnetje.jpg")}
        return client.post(url, data=data, content_type="multipart/form-data")
    name = f"top_up_{world['team'].id}" if field == "top_up" else field
    return client.post(url, data=_form_body({name: value}), content_type="application/x-www-form-urlencoded")


def _post_json(client, url, field, value):
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    return client.post(url, data=json.dumps({field: text}), content_type="application/json")


def test_every_writing_endpoint_is_in_the_table(app):
    posting = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    assert posting == set(WRITING_ENDPOINTS), "add the new endpoint and its fields to WRITING_ENDPOINTS"


def test_there_are_enough_hostile_values():
    assert len(HOSTILE) >= 40 and len(set(HOSTILE)) == len(HOSTILE)


@pytest.mark.parametrize("endpoint", list(WRITING_ENDPOINTS))
def test_hostile_values_in_every_field_never_crash_the_server(app, client, session, login_as, world, endpoint):
    """One endpoint per test, each in a world of its own: a group of them in one test took minutes (near the
    5-minute timeout on a busy machine) and ran on one worker only."""
    crashes = []
    who, kind, fields = WRITING_ENDPOINTS[endpoint]
    url = _url(app, world, endpoint)
    if who != "anyone":
        login_as(world[who])
    for field in fields:
        for value in HOSTILE if field != UNREAD else HOSTILE[::6]:
            if field == "token" and "<token>" in next(
                    r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint):
                text = value.decode("latin-1") if isinstance(value, bytes) else value
                target = url.replace(quote(world["ids"]["token"]), quote(text.encode("utf-8", "surrogatepass"),
                                                                       safe=""))
                response = client.post(target)
            elif kind == "json":
                response = _post_json(client, url, field, value)
            else:
                response = _post_form(client, url, field, value, world)
            if response.status_code >= 500:
                crashes.append((endpoint, field, repr(value)[:40], response.status_code))
    if kind == "json":
        for body in HOSTILE_BODIES:
            response = client.post(url, data=body, content_type="application/json")
            if response.status_code >= 500:
                crashes.append((endpoint, "body", repr(body)[:40], response.status_code))
    assert crashes == []


def test_ids_beyond_any_column_in_every_url_are_not_found(app, client, login_as, world):
    login_as(world["coordinator"])
    crashes = []
    for rule in app.url_map.iter_rules():
        numeric = [name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)]
        for name in numeric:
            for huge in (2**31, 2**63, 2**64, 10**30):
                values = {arg: world["ids"].get(arg, "x") for arg in rule.arguments}
                path = rule.rule
                for arg, value in values.items():
                    path = path.replace(f"<int:{arg}>", str(huge if arg == name else value)).replace(
                        f"<{arg}>", str(value))
                for method in rule.methods & {"GET", "POST"}:
                    status = client.open(path, method=method).status_code
                    if status not in (404, 405):  # 405: the same path has a rule for another method
                        crashes.append((rule.rule, name, huge, method, status))
    assert crashes == []
