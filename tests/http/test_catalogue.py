"""The catalogue over HTTP: the coordinator's cost categories and other provisions, and what the request form
and the vote offer from them."""
import re

import pytest
from sqlmodel import func, select

from models.catalogue import DEFAULT_PROVISIONS, ProvisionInput, add_provision
from models.requests import SpendRequest
from models.teams import CostCategory, Provision, ProvisionCategory, create_municipality
from models.votes import Vote

REQUEST = {"amount": "75", "situation": "Moeder van drie kinderen met een uitkering.",
           "prevents": "Dat de kinderen zonder eten zitten.", "kind": "gift", "household_reference": "DOSSIER-1"}


@pytest.fixture
def town(session, make_team, make_member):
    """A municipality made as a new one is (with the default catalogue), a team, its people and a coordinator."""
    municipality, _year = create_municipality(session, "Gemeente Catalogus")
    session.commit()
    team = make_team("Team Oost", municipality=municipality)
    people = {name: make_member(team, role, name=name) for name, role in [
        ("worker", "worker"), ("voter", "worker"), ("voter2", "provisions_expert"), ("coordinator", "coordinator")]}
    categories = {c.code: c for c in session.exec(select(CostCategory).where(
        CostCategory.municipality_id == municipality.id))}
    return {"team": team, "municipality": municipality, "categories": categories, **people}


def _provision(session, town, name):
    return session.exec(select(Provision).where(Provision.municipality_id == town["municipality"].id,
                                                Provision.name == name)).one()


def _offered(client, town, code):
    """The names the request form offers for the category (the partial htmx swaps in)."""
    html = client.get(f"/teams/{town['team'].id}/aanvragen/alternatieven",
                      query_string={"cost_category_id": town["categories"][code].id}).text
    return re.findall(r'name="alternatives_checked" value="([^"]*)"', html), html


def test_the_coordinators_catalogue_changes_are_in_the_audit_trail(client, session, town, login_as):
    from models.audit import AuditEvent

    login_as(town["coordinator"])
    assert client.post("/beheer/kostensoorten", data={"name_nl": "Huisdieren", "name_en": "Pets"}).status_code == 303
    pets = session.exec(select(CostCategory).where(CostCategory.name_nl == "Huisdieren")).one()
    assert client.post(f"/beheer/kostensoorten/{pets.id}", data={"name_nl": "Dieren", "name_en": "Animals"}).status_code == 303
    assert client.post(f"/beheer/kostensoorten/{pets.id}/volgorde", data={"by": "-1"}).status_code == 303
    assert client.post(f"/beheer/kostensoorten/{pets.id}/archiveren").status_code == 303
    assert client.post(f"/beheer/kostensoorten/{pets.id}/terugzetten").status_code == 303
    assert client.post("/beheer/voorzieningen", data={"name": "Buurtfonds"}).status_code == 303
    fund = _provision(session, town, "Buurtfonds")
    assert client.post(f"/beheer/voorzieningen/{fund.id}", data={"name": "Wijkfonds"}).status_code == 303
    assert client.post(f"/beheer/voorzieningen/{fund.id}/archiveren").status_code == 303
    assert client.post(f"/beheer/voorzieningen/{fund.id}/terugzetten").status_code == 303
    assert session.exec(select(AuditEvent.action).where(AuditEvent.actor_id == town["coordinator"].id,
                                                        AuditEvent.municipality_id == town["municipality"].id)
                        .order_by(AuditEvent.id)).all() == [
        "category_added", "category_renamed", "category_moved", "category_archived", "category_restored",
        "provision_added", "provision_changed", "provision_archived", "provision_restored"]
    page = client.get("/beheer/inrichting/wijzigingen").text
    assert "Nederlandse naam: Huisdieren → Dieren" in page and "plaats: 11 → 10" in page


def test_a_new_municipality_lists_the_default_provisions(client, town, login_as):
    login_as(town["coordinator"])
    html = client.get("/beheer/voorzieningen").text
    for name, _codes in DEFAULT_PROVISIONS:
        assert name.replace("&", "&amp;") in html
    assert "25 voorzieningen" in html


def test_the_request_form_offers_the_municipalitys_own_provisions(client, session, town, login_as):
    login_as(town["coordinator"])
    response = client.post("/beheer/voorzieningen", data={
        "name": "Buurtfonds Oost", "description": "Kleine giften voor bewoners van Oost.",
        "link": "https://buurtfonds.example.nl/aanvragen", "category_ids": [town["categories"]["groceries"].id]})
    assert response.status_code == 303 and response.headers["Location"] == "/beheer/voorzieningen"
    voedselbank = _provision(session, town, "Voedselbank")
    assert client.post(f"/beheer/voorzieningen/{voedselbank.id}/archiveren").status_code == 303

    login_as(town["worker"])
    names, html = _offered(client, town, "groceries")
    assert "Buurtfonds Oost" in names and "Voedselbank" not in names and "Bijzondere bijstand" in names
    assert "Kleine giften voor bewoners van Oost." in html
    assert 'href="https://buurtfonds.example.nl/aanvragen"' in html and 'target=' not in html
    assert "Buurtfonds Oost" not in _offered(client, town, "energy")[0]

    login_as(town["coordinator"])
    assert client.post(f"/beheer/voorzieningen/{voedselbank.id}/terugzetten").status_code == 303
    login_as(town["worker"])
    assert "Voedselbank" in _offered(client, town, "groceries")[0]


def test_a_renamed_cost_category_shows_its_new_name_in_both_languages(client, session, town, login_as):
    groceries = town["categories"]["groceries"]
    login_as(town["coordinator"])
    response = client.post(f"/beheer/kostensoorten/{groceries.id}",
                           data={"name_nl": "Eten en drinken", "name_en": "Food and drink"})
    assert response.status_code == 303
    login_as(town["worker"])
    form = client.get(f"/teams/{town['team'].id}/aanvragen/nieuw").text
    assert "Eten en drinken" in form and "Boodschappen en leefgeld" not in form
    client.post("/taal", data={"lang": "en", "next": "/"})
    form = client.get(f"/teams/{town['team'].id}/aanvragen/nieuw").text
    assert "Food and drink" in form and "Groceries" not in form


def test_an_added_category_is_offered_and_an_archived_one_is_not(client, session, town, login_as):
    login_as(town["coordinator"])
    assert client.post("/beheer/kostensoorten", data={"name_nl": "Huisdieren", "name_en": "Pets"}).status_code == 303
    energy = town["categories"]["energy"]
    assert client.post(f"/beheer/kostensoorten/{energy.id}/archiveren").status_code == 303
    login_as(town["worker"])
    form = client.get(f"/teams/{town['team'].id}/aanvragen/nieuw").text
    assert "Huisdieren" in form and ">Energie<" not in form
    pets = session.exec(select(CostCategory).where(CostCategory.code == "pets")).one()
    assert _offered(client, town, "groceries")[0]  # the new category has no provisions but those for every one
    html = client.get(f"/teams/{town['team'].id}/aanvragen/alternatieven",
                      query_string={"cost_category_id": pets.id}).text
    assert "geen voorzieningen in de lijst" in html


def test_saving_a_draft_keeps_only_the_offered_names_and_refuses_nothing(client, session, town, login_as):
    login_as(town["worker"])
    response = client.post(f"/teams/{town['team'].id}/aanvragen", data={
        **REQUEST, "cost_category_id": town["categories"]["groceries"].id, "action": "save",
        "alternatives_checked": ["Voedselbank", "Verzonnen fonds", "Kledingbank"]})
    assert response.status_code == 303
    assert session.exec(select(SpendRequest)).one().alternatives_checked == ["Voedselbank"]


def test_a_posted_request_keeps_its_names_when_the_provision_changes(client, session, town, login_as):
    login_as(town["worker"])
    client.post(f"/teams/{town['team'].id}/aanvragen", data={
        **REQUEST, "cost_category_id": town["categories"]["groceries"].id, "action": "post",
        "alternatives_checked": ["Voedselbank"]})
    request_id = session.exec(select(SpendRequest.id)).one()
    login_as(town["coordinator"])
    voedselbank = _provision(session, town, "Voedselbank")
    client.post(f"/beheer/voorzieningen/{voedselbank.id}", data={"name": "Voedselbank Oost"})
    client.post(f"/beheer/voorzieningen/{voedselbank.id}/archiveren")
    login_as(town["voter"])
    page = client.get(f"/teams/{town['team'].id}/aanvragen/{request_id}").text
    assert "<li>Voedselbank</li>" in page


def test_the_vote_offers_the_provisions_and_accepts_them_and_others(client, session, town, login_as):
    add_provision(session, town["municipality"].id, ProvisionInput(
        name="Buurtfonds Oost", description="Kleine giften.", link="https://buurtfonds.example.nl",
        category_ids=[str(town["categories"]["groceries"].id)]))
    session.commit()
    login_as(town["worker"])
    client.post(f"/teams/{town['team'].id}/aanvragen", data={
        **REQUEST, "cost_category_id": town["categories"]["groceries"].id, "action": "post"})
    request_id = session.exec(select(SpendRequest.id)).one()
    url = f"/teams/{town['team'].id}/aanvragen/{request_id}"

    login_as(town["voter"])
    page = client.get(url).text
    datalist = page.split('<datalist id="provision-options">')[1].split("</datalist>")[0]
    options = re.findall(r'<option value="([^"]*)">', datalist)
    assert "Buurtfonds Oost" in options and "Voedselbank" in options and "Energietoeslag" not in options
    assert 'list="provision-options"' in page and "Kleine giften." in page
    vote = {"choice": "alternative", "alternative_name": "buurtfonds oost"}
    assert client.post(f"{url}/stem", data=vote).status_code == 303
    login_as(town["voter2"])
    assert client.post(f"{url}/stem", data={**vote, "alternative_name": "Buurthuis"}).status_code == 303
    votes = {v.alternative_name for v in session.exec(select(Vote))}
    assert votes == {"Buurtfonds Oost", "Buurthuis"}
    response = client.post(f"{url}/stem", data={"choice": "alternative", "alternative_name": ""},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422 and 'id="alternative_name-error"' in response.text
    assert 'list="provision-options"' in response.text  # the part drawn again still offers them


@pytest.mark.parametrize("fields, field", [
    ({"name": ""}, "name"), ({"name": "x" * 101}, "name"), ({"name": "Voedselbank"}, "name"),
    ({"name": "voedselbank "}, "name"), ({"name": "Fonds\u202e"}, "name"), ({"name": "\x00\x01"}, "name"),
    ({"description": "x" * 201}, "description"), ({"description": "Lees\u200b"}, "description"),
    ({"link": "javascript:alert(1)"}, "link"), ({"link": "http://www.amsterdam.nl"}, "link"),
    ({"link": "https://"}, "link"), ({"category_ids": "123456"}, "category_ids"),
])
def test_a_bad_provision_is_refused_beside_its_field_and_nothing_saved(client, session, town, login_as, fields, field):
    login_as(town["coordinator"])
    before = session.exec(select(func.count(Provision.id))).one()
    response = client.post("/beheer/voorzieningen", data={"name": "Nieuw fonds", **fields})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert session.exec(select(func.count(Provision.id))).one() == before
    voedselbank = _provision(session, town, "Voedselbank")
    if fields.get("name") not in ("Voedselbank", "voedselbank "):  # its own name it may keep
        response = client.post(f"/beheer/voorzieningen/{voedselbank.id}", data={"name": "Voedselbank", **fields})
        assert response.status_code == 422 and f'id="{field}-error"' in response.text
    session.expire_all()
    assert _provision(session, town, "Voedselbank").link == ""


@pytest.mark.parametrize("fields, field", [
    ({"name_nl": ""}, "name_nl"), ({"name_nl": "x" * 101}, "name_nl"), ({"name_nl": "Energie"}, "name_nl"),
    ({"name_nl": "Stroom", "name_en": "energy"}, "name_en"), ({"name_nl": "Stroom\u200b"}, "name_nl"),
    ({"name_nl": "Stroom", "name_en": "x" * 101}, "name_en")])
def test_a_bad_cost_category_is_refused_beside_its_field(client, session, town, login_as, fields, field):
    login_as(town["coordinator"])
    before = session.exec(select(func.count(CostCategory.id))).one()
    response = client.post("/beheer/kostensoorten", data=fields)
    assert response.status_code == 422 and f'id="{field}-error"' in response.text
    assert session.exec(select(func.count(CostCategory.id))).one() == before
    housing = town["categories"]["housing"]
    response = client.post(f"/beheer/kostensoorten/{housing.id}", data={"name_nl": "Huur", "name_en": "Rent", **fields})
    assert response.status_code == 422 and f'id="{field}-error"' in response.text
    session.expire_all()
    assert session.get(CostCategory, housing.id).name_nl == "Huur en wonen"


def test_categories_move_up_down_and_to_a_place(client, session, town, login_as):
    login_as(town["coordinator"])
    energy = town["categories"]["energy"]
    assert client.post(f"/beheer/kostensoorten/{energy.id}/volgorde", data={"by": "-1"}).status_code == 303
    assert client.post(f"/beheer/kostensoorten/{energy.id}/volgorde", data={"position": "1"}).status_code == 303
    response = client.post(f"/beheer/kostensoorten/{energy.id}/volgorde", data={"position": "11"})
    assert response.status_code == 422 and 'id="position-error"' in response.text
    session.expire_all()
    order = session.exec(select(CostCategory.code).where(CostCategory.municipality_id == town["municipality"].id)
                         .order_by(CostCategory.position)).all()
    assert order[:3] == ["energy", "groceries", "housing"]
    page = client.get("/beheer/kostensoorten").text
    assert page.index("Energie") < page.index("Boodschappen en leefgeld")


def test_the_last_active_category_cannot_be_archived(client, session, town, login_as):
    login_as(town["coordinator"])
    *others, last = town["categories"].values()
    for category in others:
        assert client.post(f"/beheer/kostensoorten/{category.id}/archiveren").status_code == 303
    response = client.post(f"/beheer/kostensoorten/{last.id}/archiveren")
    assert response.status_code == 422 and 'id="active-error"' in response.text
    session.expire_all()
    assert session.get(CostCategory, last.id).active


def test_another_municipalitys_catalogue_is_not_found(client, session, town, login_as, make_team):
    elsewhere, _year = create_municipality(session, "Gemeente Elders")
    session.commit()
    category = session.exec(select(CostCategory).where(CostCategory.municipality_id == elsewhere.id)).first()
    provision = session.exec(select(Provision).where(Provision.municipality_id == elsewhere.id)).first()
    login_as(town["coordinator"])
    for url in [f"/beheer/kostensoorten/{category.id}", f"/beheer/voorzieningen/{provision.id}"]:
        assert client.get(url).status_code == 404
        for action in ("", "/archiveren", "/terugzetten"):
            assert client.post(url + action, data={"name": "x", "name_nl": "x"}).status_code == 404
    assert client.post(f"/beheer/kostensoorten/{category.id}/volgorde", data={"by": "1"}).status_code == 404
    page = client.get("/beheer/voorzieningen").text
    assert f"/beheer/voorzieningen/{provision.id}\"" not in page
    # a provision may not be linked to another municipality's category either
    links = select(func.count(ProvisionCategory.provision_id)).where(ProvisionCategory.cost_category_id == category.id)
    before = session.exec(links).one()
    response = client.post("/beheer/voorzieningen", data={"name": "Nieuw", "category_ids": category.id})
    assert response.status_code == 422 and 'id="category_ids-error"' in response.text
    assert session.exec(links).one() == before


@pytest.mark.parametrize("url", ["/beheer/kostensoorten", "/beheer/voorzieningen"])
def test_team_roles_may_not_use_the_catalogue(client, town, login_as, url):
    login_as(town["worker"])
    assert client.get(url).status_code == 403
    assert client.post(url, data={"name": "x", "name_nl": "x"}).status_code == 403


def test_the_coordinators_pages_link_to_the_catalogue(client, town, login_as):
    login_as(town["coordinator"])
    overview = client.get("/beheer").text
    assert 'href="/beheer/kostensoorten"' in overview and 'href="/beheer/voorzieningen"' in overview
    page = client.get(f"/beheer/kostensoorten/{town['categories']['groceries'].id}").text
    assert "groceries" in page and 'value="Boodschappen en leefgeld"' in page
    voedselbank_page = client.get("/beheer/voorzieningen").text
    assert "<td>elke soort uitgave</td>" not in voedselbank_page  # every default provision names its categories
