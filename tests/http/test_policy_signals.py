"""The signals page and the lists behind it (coordinators and administrators of the municipality only, k ≥ 5 on
the page and on the list URL), and the "would have been solved if …" note on the request page."""
import pytest
from sqlmodel import select

from models.policy_signals import SolvedIfNote, add_solved_if_note
from tests.unit.test_policy_signals import LATER, YEAR, _requests, world  # noqa: F401 - districts and teams


@pytest.fixture
def signals(session, world):  # noqa: F811
    """Groceries rising in Oost and West; Voedselbank 6 times; clothing notes on 5 requests, energy on 4."""
    _requests(session, world, "oost", 6)
    _requests(session, world, "west", 5)
    _requests(session, world, "oost", 6, status="solved_alternative", alternative="Voedselbank", category="housing")
    clothing = _requests(session, world, "oost", 5, status="granted", category="clothing")
    energy = _requests(session, world, "west", 4, status="rejected", category="energy")
    for number, spend_request in enumerate(clothing):
        add_solved_if_note(session, spend_request, world["workers"]["oost"], f"Kledingbank in de wijk {number}")
    for number, spend_request in enumerate(energy):
        add_solved_if_note(session, spend_request, world["workers"]["west"], f"Energietoeslag geheim {number}")
    session.commit()
    return world


@pytest.fixture
def coordinator(world, make_member):  # noqa: F811
    return make_member(world["teams"]["oost"], "coordinator", name="Cora")


def _list(kind, **more):
    query = "&".join(f"{name}={value}" for name, value in {"soort": kind, "jaar": YEAR, **more}.items())
    return f"/beheer/signalen/aanvragen?{query}"


def test_the_coordinator_sees_the_signals_with_k_five(client, signals, coordinator, login_as):
    login_as(coordinator)
    html = client.get(f"/beheer/signalen?jaar={YEAR}&kwartaal={LATER}").text
    assert "Stijgende behoeften" in html and "minstens de helft meer" in html  # the rule, in plain Dutch
    cat = signals["cat"]
    assert f'data-signal="stijging-{cat["groceries"].id}"' in html
    assert _list("stijging", kwartaal=LATER, kostensoort=cat["groceries"].id).replace("&", "&amp;") in html
    assert "Voedselbank" in html and _list("voorziening", voorziening="Voedselbank").replace("&", "&amp;") in html
    assert "Kledingbank in de wijk 3" in html  # five requests: the texts are shown
    assert "Energietoeslag geheim" not in html and "&lt; 5 notities" in html  # four: only "< 5"
    assert _list("notities", kostensoort=cat["energy"].id).replace("&", "&amp;") not in html
    assert "Wim oost" not in html  # never who wrote them


def test_the_list_behind_a_signal_is_anonymised(client, session, signals, coordinator, login_as):
    login_as(coordinator)
    response = client.get(_list("stijging", kwartaal=LATER, kostensoort=signals["cat"]["groceries"].id))
    assert response.status_code == 200
    assert response.text.count("data-request-line=") == 11
    assert "Wim" not in response.text and ">s<" not in response.text  # no requester, no situation
    response = client.get(_list("notities", kostensoort=signals["cat"]["clothing"].id))
    assert response.status_code == 200 and response.text.count("data-request-line=") == 5
    assert "Kledingbank in de wijk" not in response.text


@pytest.mark.parametrize("url", [
    _list("notities", kostensoort="{energy}"),            # four requests
    _list("voorziening", voorziening="Bijzondere bijstand"),  # none
    _list("stijging", kwartaal=LATER, kostensoort="{energy}"),  # no rise
    _list("stijging", kostensoort="{groceries}"),  # no quarter
    _list("iets", kostensoort="{groceries}"), "/beheer/signalen/aanvragen"])
def test_a_list_under_five_or_of_no_signal_is_refused(client, signals, coordinator, login_as, url):
    login_as(coordinator)
    url = url.replace("{energy}", str(signals["cat"]["energy"].id)).replace(
        "{groceries}", str(signals["cat"]["groceries"].id))
    response = client.get(url)
    assert response.status_code == 403 and "minder dan 5 aanvragen" in response.text
    assert "data-request-line" not in response.text


def test_another_municipalitys_coordinator_sees_none_of_it(client, signals, make_team, make_member, login_as):
    far = make_team("Team Ver")
    login_as(make_member(far, "coordinator"))
    assert "Voedselbank" not in client.get(f"/beheer/signalen?jaar={YEAR}").text
    assert client.get(_list("voorziening", voorziening="Voedselbank")).status_code == 403


@pytest.mark.parametrize("role", ["worker", "team_leader", "observer"])
def test_team_members_may_not_see_the_signals(client, signals, make_member, login_as, role):
    login_as(make_member(signals["teams"]["oost"], role))
    assert client.get("/beheer/signalen").status_code == 403
    assert client.get(_list("voorziening", voorziening="Voedselbank")).status_code == 403


def test_the_page_is_in_english_too(client, signals, coordinator, login_as):
    login_as(coordinator)
    client.set_cookie("lang", "en")
    html = client.get(f"/beheer/signalen?jaar={YEAR}&kwartaal={LATER}").text
    assert "Policy signals" in html and "Rising needs" in html


def _page(world, spend_request):  # noqa: F811
    return f"/teams/{spend_request.team_id}/aanvragen/{spend_request.id}"


def test_a_member_adds_a_note_under_the_decision(client, session, world, login_as):  # noqa: F811
    decided = _requests(session, world, "oost", 1, status="rejected")[0]
    login_as(world["workers"]["oost"])
    page = client.get(_page(world, decided)).text
    assert 'id="solved-if"' in page and 'name="body"' in page.split('id="solved-if"')[1]
    response = client.post(_page(world, decided) + "/was-opgelost-als",
                           data={"body": "Was opgelost als de energietoeslag er nog was."})
    assert response.status_code == 303 and response.headers["Location"] == _page(world, decided) + "#solved-if"
    page = client.get(_page(world, decided)).text
    assert "Was opgelost als de energietoeslag er nog was." in page
    assert page.index('id="status-title"') < page.index('id="solved-if"')  # under the decision
    [note] = session.exec(select(SolvedIfNote)).all()
    assert note.author_id == world["workers"]["oost"].id


@pytest.mark.parametrize("body, message", [("Kort", "10 tot 500 tekens"),
                                           ("Bel haar op 0612345678 voor meer.", "0612345678")])
def test_a_refused_note_stands_beside_its_field(client, session, world, login_as, body, message):  # noqa: F811
    decided = _requests(session, world, "oost", 1, status="granted")[0]
    login_as(world["workers"]["oost"])
    response = client.post(_page(world, decided) + "/was-opgelost-als", data={"body": body})
    assert response.status_code == 422
    assert 'id="solved-if-body-error"' in response.text and message in response.text
    assert session.exec(select(SolvedIfNote)).all() == []


def test_an_open_request_takes_no_note(client, session, world, login_as):  # noqa: F811
    open_request = _requests(session, world, "oost", 1)[0]
    login_as(world["workers"]["oost"])
    assert 'id="solved-if"' not in client.get(_page(world, open_request)).text
    response = client.post(_page(world, open_request) + "/was-opgelost-als",
                           data={"body": "Een regel voor dit soort kosten."})
    assert response.status_code == 422
    assert session.exec(select(SolvedIfNote)).all() == []


def test_another_team_cannot_note(client, session, world, login_as):  # noqa: F811
    decided = _requests(session, world, "oost", 1, status="granted")[0]
    login_as(world["workers"]["west"])
    response = client.post(_page(world, decided) + "/was-opgelost-als", data={"body": "Een regel voor dit soort."})
    assert response.status_code == 404
    response = client.post(f"/teams/{world['teams']['west'].id}/aanvragen/{decided.id}/was-opgelost-als",
                           data={"body": "Een regel voor dit soort."})
    assert response.status_code == 404
    assert session.exec(select(SolvedIfNote)).all() == []
