"""The client's handover page (issue 14): it follows the phone's language until one is chosen, names whom to
ask (the worker's first name and organisation only), keeps showing what was confirmed, and says plainly that
a used link was confirmed already. English pages use British formats.
"""
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from models.handover import CardHandover
from tests.card_world import SEPA_CONFIG, card_on, granted_request, loaded


@pytest.fixture
def app(make_app):
    """The app with the foundation's and the card bank's accounts configured."""
    return make_app(**SEPA_CONFIG)


@pytest.fixture
def token(client, session, make_team, make_member, login_as):
    """A fresh handover link for a loaded card of Wim Werker (of Buurtteam Oost), opened by a client without account."""
    team = make_team("Team Kaart")
    worker, voter = make_member(team, "worker", name="Wim Werker"), make_member(team, "worker", name="Vera")
    coordinator = make_member(team, "coordinator", name="Cora")
    worker.organisation = "Buurtteam Oost"
    session.add(worker)
    request = granted_request(session, team, worker, voter, 7_235, household="D-2026-0042")
    loaded(session, team, [card_on(session, team, request, coordinator)], coordinator)
    login_as(worker)
    page = client.post(f"/teams/{team.id}/aanvragen/{request.id}/kaart/overhandigen")
    with client.session_transaction() as cookie:
        cookie.clear()  # the client has no account
    return page.text.split('id="handover-link" type="text" value="')[1].split('"')[0].split("/kaart/")[1]


def _lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def test_the_page_follows_the_phones_language(client, token):
    page = client.get(f"/kaart/{token}", headers={"Accept-Language": "en-GB,en;q=0.9,nl;q=0.8"})
    assert _lang(page.text) == "en-GB" and "I have received the card" in page.text
    assert "€72.35" in page.text and "Ask Wim from Buurtteam Oost" in page.text
    dutch = client.get(f"/kaart/{token}", headers={"Accept-Language": "nl-NL,en;q=0.5"})
    assert _lang(dutch.text) == "nl" and "Ik heb de kaart gekregen" in dutch.text and "€\xa072,35" in dutch.text


def test_a_language_we_do_not_have_falls_back_to_dutch(client, token):
    page = client.get(f"/kaart/{token}", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert _lang(page.text) == "nl" and "Ik heb de kaart gekregen" in page.text


def test_the_switch_is_first_and_the_choice_wins_over_the_phone(client, token):
    page = client.get(f"/kaart/{token}", headers={"Accept-Language": "en-US"})
    main = page.text.split('<main', 1)[1]
    assert main.index('class="client-language"') < main.index("<h1")  # at the top of the page
    assert 'aria-pressed="true">English' in page.text
    switched = client.post("/taal", data={"lang": "nl", "next": f"/kaart/{token}"})
    assert switched.status_code == 303 and switched.headers["Location"].endswith(f"/kaart/{token}")
    chosen = client.get(f"/kaart/{token}", headers={"Accept-Language": "en-US"})
    assert _lang(chosen.text) == "nl" and 'aria-pressed="true">Nederlands' in chosen.text


def test_the_page_names_whom_to_ask_by_first_name_and_organisation_only(client, token):
    page = client.get(f"/kaart/{token}")
    assert "Vraag het aan Wim van Buurtteam Oost" in page.text
    for hidden in ("Werker", "Team Kaart", "D-2026-0042", "Vera", "Cora"):
        assert hidden not in page.text
    assert page.text.count('class="client-rules__icon"') == 3  # shop, no cash, keep the receipt


def test_after_confirming_the_page_keeps_the_amount_purpose_and_contact(client, session, token):
    thanks = client.post(f"/kaart/{token}")
    assert thanks.status_code == 200 and "Je hebt bevestigd" in thanks.text
    assert "€\xa072,35" in thanks.text and "Boodschappen" in thanks.text and "Wim van Buurtteam Oost" in thanks.text
    again = client.get(f"/kaart/{token}", headers={"Accept-Language": "en"})
    assert again.status_code == 200 and "You have already confirmed" in again.text and "€72.35" in again.text
    assert "I have received the card" not in again.text


def test_a_confirmed_link_that_expired_only_says_it_was_confirmed(client, session, token):
    client.post(f"/kaart/{token}")
    handover = session.exec(select(CardHandover)).one()
    handover.expires_at -= timedelta(hours=24, seconds=1)
    session.add(handover)
    session.commit()
    page = client.get(f"/kaart/{token}")
    assert page.status_code == 410 and "al bevestigd" in page.text and "72,35" not in page.text


def test_english_dates_times_and_amounts_are_british(app):
    from datetime import datetime

    from web.i18n import amount_input, format_cents
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        render = app.jinja_env.from_string("{{ moment|datetime }}|{{ 7235|cents }}|{{ 125000|cents }}|{{ 7235|amount_input }}")
        assert render.render(moment=datetime(2026, 11, 30, 9, 7)) == "30/11/2026, 09:07|€72.35|€1,250.00|72.35"
        assert amount_input(7235) == "72.35" and format_cents(-500) == "-€5.00"
    with app.test_request_context("/"):
        assert amount_input(7235) == "72,35" and format_cents(7235) == "€\xa072,35"


@pytest.mark.parametrize("typed, cents", [("€72.35", 7_235), ("72.35", 7_235), ("€1,250.00", 125_000),
                                          ("1,250.00", 125_000), ("€ 72,35", 7_235), ("1.250,00", 125_000)])
def test_an_amount_field_accepts_the_format_it_shows_in_either_language(typed, cents):
    from models.money import parse_amount
    assert parse_amount(typed) == cents


def test_a_member_sets_the_organisation_a_client_sees(client, session, make_team, make_member, login_as):
    from models.members import Member
    worker = make_member(make_team("Team Oost"), "worker", name="Wim Werker")
    login_as(worker)
    assert 'id="organisation"' in client.get("/mijn-passkeys").text
    saved = client.post("/mijn-passkeys/organisatie", data={"organisation": "  Buurtteam   Oost "})
    assert saved.status_code == 303
    session.expire_all()
    assert session.get(Member, worker.id).organisation == "Buurtteam Oost"
    refused = client.post("/mijn-passkeys/organisatie", data={"organisation": "Bel 06-12345678"})
    assert refused.status_code == 422 and 'id="organisation-error"' in refused.text and "06-12345678" in refused.text
    field = refused.text.split('id="organisation"', 1)[1].split(">", 1)[0]
    assert 'value="Bel 06-12345678"' in field and 'aria-invalid="true"' in field  # kept to mend, marked
    too_long = client.post("/mijn-passkeys/organisatie", data={"organisation": "x" * 101})
    assert too_long.status_code == 422
    session.expire_all()
    assert session.get(Member, worker.id).organisation == "Buurtteam Oost"
