"""The coordinator's reconciliation queue (web/reconciliation.py, models/bank_review.py, issue 12 §3): open
flags with what the bank showed, resolved once each with a note (accepted, asked the worker, linked by
hand), audited; the worker sees the question on the request and gets a push; the request page shows the
bank lines matched to it; another municipality's flags are none of ours."""
from datetime import date

import pytest
from sqlmodel import select

from models.audit import AuditEvent
from models.bank_statements import BankLine, BankStatement
from models.batch_lines import BatchLine, LineKind
from models.reconciliation import BankFlag
from tests.card_world import SEPA_CONFIG, card_on, granted_request, loaded, municipality_id
from tests.http.test_push import STUB_CONFIG, Device, PushServiceStub, sent, subscribe

TEAM_IBAN = "NL20INGB0001234567"
QUEUE = "/beheer/bank/controle"


@pytest.fixture
def app(make_app):
    """The app with the card bank's accounts, allowed to push to a stub on loopback."""
    return make_app(**SEPA_CONFIG, **STUB_CONFIG, PUSH_TIMEOUT_SECONDS=3)


@pytest.fixture
def stub():
    service = PushServiceStub()
    yield service
    service.close()


def bank_line(session, statement, identity, amount_cents, name, **values):
    """A stored line of `statement` (as an import and the matching would leave it)."""
    line = BankLine(statement_id=statement.id, team_id=statement.team_id, identity=identity * 64,
                    amount_cents=amount_cents, booking_date=values.pop("booking_date", date(2026, 12, 3)),
                    counterparty_name=name, **values)
    session.add(line)
    session.flush()
    return line


def flag_on(session, team, line, reason, **detail):
    """An open flag on `line` (None: a transfer not seen) with what the check saw."""
    flag = BankFlag(municipality_id=municipality_id(session, team), team_id=team.id,
                    bank_line_id=line.id if line else None, reason=reason, detail=detail)
    session.add(flag)
    session.flush()
    return flag


@pytest.fixture
def world(session, make_team, make_member):
    """Team Oost's groceries grant, its card loaded; a statement with a pharmacy payment, a cash withdrawal and
    a line nobody recognises, each flagged."""
    team = make_team("Team Oost")
    team.iban = TEAM_IBAN
    session.add(team)
    session.commit()
    people = {"worker": make_member(team, "worker", name="Wim"), "voter": make_member(team, "worker", name="Vera"),
              "coordinator": make_member(team, "coordinator", name="Cora")}
    request = granted_request(session, team, people["worker"], people["voter"], 6_000)
    card = card_on(session, team, request, people["coordinator"])
    loaded(session, team, [card], people["coordinator"])
    statement = BankStatement(municipality_id=municipality_id(session, team), team_id=team.id, account_iban=TEAM_IBAN,
                              format="camt.053.001.02", statement_ref="S-1", currency="EUR", file_name="s.xml")
    session.add(statement)
    session.flush()
    pharmacy = bank_line(session, statement, "a", -3_820, "Apotheek De Roos", merchant_category_code="5912",
                         match="spending", card_id=card.id, request_id=request.id)
    cash = bank_line(session, statement, "b", -2_000, "Geldautomaat Centrum", transaction_code="GEA",
                     match="spending", card_id=card.id, request_id=request.id)
    unknown = bank_line(session, statement, "c", -1_500, "Winkel Zonder Naam")
    flags = {"purpose": flag_on(session, team, pharmacy, "purpose", mcc="5912", category="groceries"),
             "cash": flag_on(session, team, cash, "cash", amount_cents=2_000),
             "unmatched": flag_on(session, team, unknown, "unmatched")}
    session.commit()
    return {"team": team, "request": request, "card": card, "lines": {"pharmacy": pharmacy, "cash": cash,
                                                                       "unknown": unknown}, "flags": flags, **people}


def _resolve(client, flag, **form):
    return client.post(f"{QUEUE}/{flag.id}", data=form)


def _flag(session, flag):
    session.expire_all()
    return session.get(BankFlag, flag.id)


def test_the_queue_lists_each_open_flag_with_what_the_bank_showed(client, world, login_as):
    login_as(world["coordinator"])
    html = client.get(QUEUE).text
    assert "Controle van de bank" in html and "Nog te bekijken (3)" in html
    assert "De winkel past niet bij de soort uitgave" in html and "Geld opgenomen bij een geldautomaat" in html
    assert "De app herkent deze regel niet" in html
    assert "Apotheek De Roos" in html and "€\xa0-38,20" in html and "3 dec 2026" in html
    assert "Wat de bank liet zien" in html and "Soort winkel (MCC)" in html and "5912" in html
    assert f'value="request-{world["request"].id}"' in html  # the team's granted request, to link to
    assert "Nog niets afgehandeld." in html
    # newest first: the last flag raised stands on top
    assert html.index(f'data-flag="{world["flags"]["unmatched"].id}"') < html.index(
        f'data-flag="{world["flags"]["purpose"].id}"')


def test_accepting_needs_a_reason(client, session, world, login_as):
    login_as(world["coordinator"])
    response = _resolve(client, world["flags"]["purpose"], resolution="accepted", note="  ")
    assert response.status_code == 422
    assert 'id="note-error"' in response.text and "Schrijf op waarom." in response.text
    assert _flag(session, world["flags"]["purpose"]).resolved_at is None


def test_no_choice_is_refused_beside_the_choices(client, session, world, login_as):
    login_as(world["coordinator"])
    response = _resolve(client, world["flags"]["purpose"], resolution="delete", note="x")
    assert response.status_code == 422 and "Kies wat je met deze melding doet." in response.text
    assert _flag(session, world["flags"]["purpose"]).resolved_at is None


def test_an_accepted_flag_is_audited_listed_below_and_cannot_be_resolved_again(client, session, world, login_as):
    login_as(world["coordinator"])
    flag = world["flags"]["purpose"]
    response = _resolve(client, flag, resolution="accepted", note="Ook brood gekocht bij de apotheek.")
    assert response.status_code == 303 and response.headers["Location"] == QUEUE
    resolved = _flag(session, flag)
    assert (resolved.resolution, resolved.resolved_by_id) == ("accepted", world["coordinator"].id)
    assert resolved.resolution_note == "Ook brood gekocht bij de apotheek."
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "bank_flag_resolved")).one()
    assert event.team_id == world["team"].id and event.actor_id == world["coordinator"].id
    assert event.detail["resolution"] == "accepted" and event.detail["flag_id"] == flag.id

    html = client.get(QUEUE).text
    assert "Nog te bekijken (2)" in html and f'data-flag="{flag.id}"' not in html
    assert f'data-resolved-flag="{flag.id}"' in html and "Goedgekeurd" in html and "door Cora" in html
    assert "Ook brood gekocht bij de apotheek." in html

    again = _resolve(client, flag, resolution="asked_worker", note="Toch maar vragen.")
    assert again.status_code == 422 and "Deze melding is al afgehandeld." in again.text
    assert _flag(session, flag).resolution == "accepted"
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "bank_flag_resolved")).all()) == 1


def test_a_note_with_personal_data_is_refused_with_what_was_found(client, session, world, login_as):
    login_as(world["coordinator"])
    response = _resolve(client, world["flags"]["cash"], resolution="accepted", note="Bel de cliënt op 06-12345678")
    assert response.status_code == 422
    assert "Haal persoonsgegevens weg" in response.text and "06-12345678" in response.text
    assert _flag(session, world["flags"]["cash"]).resolved_at is None


def test_asking_the_worker_puts_the_question_on_the_request_and_pushes_the_requester(app, client, session, world,
                                                                                  login_as, stub):
    device = Device(stub, "wim")
    assert subscribe(client, login_as, world["worker"], device).status_code == 200
    login_as(world["coordinator"])
    response = _resolve(client, world["flags"]["cash"], resolution="asked_worker",
                        note="Waarom is er contant geld opgenomen? Bespreek het met de cliënt.")
    assert response.status_code == 303
    sent(app)
    payload = device.decrypt(stub.received[-1])
    assert payload["title"] == "Een vraag over de bank bij je aanvraag"
    assert payload["url"] == f"/teams/{world['team'].id}/aanvragen/{world['request'].id}"
    assert "Wim" not in payload["body"] and "contant" not in payload["body"]  # the note stays on the page

    question = session.exec(select(AuditEvent).where(AuditEvent.action == "bank_question")).one()
    assert question.request_id == world["request"].id and question.detail["amount_cents"] == 2_000
    login_as(world["worker"])
    page = client.get(f"/teams/{world['team'].id}/aanvragen/{world['request'].id}").text
    assert "vraag over de bank" in page and "Waarom is er contant geld opgenomen?" in page and "Cora" in page


def test_a_line_of_no_request_cannot_be_asked_about(client, session, world, login_as):
    login_as(world["coordinator"])
    response = _resolve(client, world["flags"]["unmatched"], resolution="asked_worker", note="Wat is dit?")
    assert response.status_code == 422 and "Deze regel hoort nog bij geen aanvraag." in response.text
    assert _flag(session, world["flags"]["unmatched"]).resolved_at is None
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "bank_question")).first() is None


def test_linking_by_hand_ties_the_line_to_the_request_its_card_and_its_load(client, session, world, login_as):
    login_as(world["coordinator"])
    flag, request = world["flags"]["unmatched"], world["request"]
    response = _resolve(client, flag, resolution="linked", link=f"request-{request.id}", note="")
    assert response.status_code == 303
    session.expire_all()
    line = session.get(BankLine, world["lines"]["unknown"].id)
    load = session.exec(select(BatchLine).where(BatchLine.request_id == request.id,
                                                BatchLine.kind == LineKind.LOAD)).one()
    assert (line.match, line.request_id, line.card_id) == ("by_hand", request.id, world["card"].id)
    assert (line.batch_line_id, line.entry_id) == (load.id, load.entry_id) and load.entry_id is not None
    assert _flag(session, flag).resolution == "linked"
    login_as(world["worker"])
    page = client.get(f"/teams/{world['team'].id}/aanvragen/{request.id}").text
    assert "bank: €\xa015,00 bij Winkel Zonder Naam, 3 dec 2026" in page


def test_linking_needs_a_request_of_the_flags_team(client, session, world, login_as, make_team, make_member):
    other = make_team("Team West")
    other_request = granted_request(session, other, make_member(other, "worker"), make_member(other, "worker"), 1_000)
    login_as(world["coordinator"])
    for link in ("", "request-999999", f"request-{other_request.id}", "batchline-x", "request-1e3"):
        response = _resolve(client, world["flags"]["unmatched"], resolution="linked", link=link, note="")
        assert response.status_code == 422, link
        assert "Kies een aanvraag of opdracht van dit team." in response.text
    session.expire_all()
    assert session.get(BankLine, world["lines"]["unknown"].id).match == ""


def test_the_request_page_shows_the_bank_lines_beside_the_receipts(client, world, login_as):
    login_as(world["voter"])  # the team sees them, not only the requester
    page = client.get(f"/teams/{world['team'].id}/aanvragen/{world['request'].id}").text
    assert "Volgens de bank" in page
    assert "bank: €\xa038,20 bij Apotheek De Roos, 3 dec 2026" in page
    assert "bank: €\xa020,00 bij Geldautomaat Centrum, 3 dec 2026" in page
    assert "Winkel Zonder Naam" not in page  # not matched to this request


def test_another_municipalitys_flags_are_not_ours(client, session, world, login_as, make_team, make_member):
    elsewhere = make_team("Team Elders")
    statement = BankStatement(municipality_id=municipality_id(session, elsewhere), team_id=elsewhere.id,
                              account_iban="NL91ABNA0417164300", format="mt940", statement_ref="E", currency="EUR",
                              file_name="e.sta")
    session.add(statement)
    session.flush()
    foreign = flag_on(session, elsewhere, bank_line(session, statement, "e", -999, "Buitenland"), "unmatched")
    session.commit()
    login_as(world["coordinator"])
    assert "Buitenland" not in client.get(QUEUE).text
    assert _resolve(client, foreign, resolution="accepted", note="Goed").status_code == 404
    assert _flag(session, foreign).resolved_at is None
    login_as(make_member(elsewhere, "coordinator"))
    html = client.get(QUEUE).text
    assert "Buitenland" in html and "Apotheek De Roos" not in html


def test_team_members_cannot_open_the_queue(client, world, login_as):
    login_as(world["worker"])
    assert client.get(QUEUE).status_code == 403
    assert _resolve(client, world["flags"]["cash"], resolution="accepted", note="Goed").status_code == 403


# --- merchant rules ---

RULES = "/beheer/bank/winkels"


def _category(session, team, code):
    from models.teams import CostCategory

    return session.exec(select(CostCategory).where(CostCategory.municipality_id == municipality_id(session, team),
                                                   CostCategory.code == code)).one()


def test_the_rules_page_shows_the_defaults_and_adds_and_removes_our_own(client, session, world, login_as):
    from models.reconciliation import MerchantRule

    login_as(world["coordinator"])
    html = client.get(RULES).text
    assert "Winkels per soort uitgave" in html and "Boodschappen en leefgeld" in html
    assert "5411" in html and "albert heijn" in html and "apotheek" in html  # the defaults, read-only
    medical = _category(session, world["team"], "medical")
    response = client.post(RULES, data={"category_id": medical.id, "kind": "mcc", "value": "5912"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#category-{medical.id}")
    rule = session.exec(select(MerchantRule)).one()
    assert (rule.category_id, rule.kind, rule.value, rule.created_by_id) == (medical.id, "mcc", "5912",
                                                                           world["coordinator"].id)
    assert f'data-rule="{rule.id}"' in client.get(RULES).text
    assert client.post(f"{RULES}/{rule.id}/verwijderen").status_code == 303
    session.expire_all()
    assert session.exec(select(MerchantRule)).first() is None


def test_a_bad_rule_is_refused_beside_its_categorys_form(client, session, world, login_as):
    from models.reconciliation import MerchantRule

    login_as(world["coordinator"])
    medical = _category(session, world["team"], "medical")
    response = client.post(RULES, data={"category_id": medical.id, "kind": "mcc", "value": "59a2"})
    assert response.status_code == 422
    assert 'id="value-error"' in response.text and 'value="59a2"' in response.text
    assert response.text.index('id="value-error"') > response.text.index(f'id="category-{medical.id}"')
    for data in ({"category_id": "999999", "kind": "mcc", "value": "5912"}, {"category_id": medical.id, "kind": "x"}):
        refused = client.post(RULES, data=data)
        assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert session.exec(select(MerchantRule)).first() is None


def test_another_municipalitys_rule_cannot_be_removed(client, session, world, login_as, make_team, make_member):
    from models.reconciliation import MerchantRule, add_merchant_rule
    from tests.card_world import with_categories

    elsewhere = make_team("Team Elders")
    with_categories(session, elsewhere)
    theirs = add_merchant_rule(session, municipality_id(session, elsewhere), _category(session, elsewhere, "medical"),
                               "keyword", "huisartsenpost", actor_id=None)
    session.commit()
    login_as(world["coordinator"])
    assert "huisartsenpost" not in client.get(RULES).text
    assert client.post(f"{RULES}/{theirs.id}/verwijderen").status_code == 404
    session.expire_all()
    assert session.get(MerchantRule, theirs.id) is not None


# --- a card's own account ---

def test_the_coordinator_registers_a_cards_own_account(client, session, world, login_as):
    from models.cards import Card

    login_as(world["coordinator"])
    url = f"/beheer/kaarten/{world['card'].id}/rekening"
    response = client.post(url, data={"account_iban": "nl44 rabo 0123 4567 89"})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Card, world["card"].id).account_iban == "NL44RABO0123456789"
    assert 'value="NL44 RABO 0123 4567 89"' in client.get("/beheer/kaarten").text

    refused = client.post(url, data={"account_iban": TEAM_IBAN})  # the team's own account
    assert refused.status_code == 422
    assert f'id="account_{world["card"].id}-error"' in refused.text and "teamrekening" in refused.text
    session.expire_all()
    assert session.get(Card, world["card"].id).account_iban == "NL44RABO0123456789"


def test_a_flag_that_resolved_itself_says_so_in_the_readers_language(client, session, world, login_as):
    from models.reconciliation import _resolve_automatically
    flag = world["flags"]["unmatched"]
    seen = bank_line(session, session.get(BankStatement, world["lines"]["unknown"].statement_id), "d", -1_500,
                     "Winkel Zonder Naam", booking_date=date(2026, 11, 30))
    _resolve_automatically(session, seen, select(BankFlag).where(BankFlag.id == flag.id))
    session.commit()
    login_as(world["coordinator"])
    assert "Automatisch: het bankafschrift toont dit op 30 nov 2026." in client.get(QUEUE).text
    client.set_cookie("lang", "en")
    html = client.get(QUEUE).text
    assert "Automatically: the bank statement shows this on 30 Nov 2026." in html and "30-11-2026" not in html
