"""The catalogue's rules: cost categories and other provisions per municipality (models/catalogue.py)."""
import importlib.util
from pathlib import Path

import pytest
from sqlmodel import func, select

from models.catalogue import (
    DEFAULT_PROVISIONS, ProvisionInput, add_cost_category, add_provision, check_link, cost_categories_of,
    default_provision_names, edit_provision, move_cost_category, provisions_for_category, provisions_of,
    rename_cost_category, set_cost_category_active, set_provision_active)
from models.members import add_membership, create_member, active_membership
from models.requests import DraftInput, post_request, save_draft
from models.rules import RuleViolation
from models.teams import DEFAULT_COST_CATEGORIES, CostCategory, District, Provision, Team, create_municipality
from models.votes import cast_vote

MIGRATION = Path(__file__).parents[2] / "models" / "migrations" / "versions" / "0010_foundation.py"


def _migration_list() -> dict[str, list[str]]:
    spec = importlib.util.spec_from_file_location("migration_0010", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PROVISIONS_IN_CODE


@pytest.fixture
def town(session):
    """A new municipality (with the default catalogue) and its categories by code."""
    municipality, _year = create_municipality(session, "Gemeente Catalogus")
    session.commit()
    return {"id": municipality.id, **{c.code: c for c in cost_categories_of(session, municipality.id)}}


def _names(provisions):
    return [p.name for p in provisions]


def test_default_provisions_are_the_list_the_migration_gave_every_municipality():
    in_migration = _migration_list()
    assert {code: set(default_provision_names(code)) for code, *_names in DEFAULT_COST_CATEGORIES} == {
        code: set(names) for code, names in in_migration.items()}
    # one order for all, as the migration numbered them: first appearance, category by category
    first_seen = list(dict.fromkeys(name for code, *_n in DEFAULT_COST_CATEGORIES for name in in_migration[code]))
    assert [name for name, _codes in DEFAULT_PROVISIONS] == first_seen


def test_a_new_municipality_starts_with_the_default_provisions_as_rows(session, town):
    for code, *_names_of_category in DEFAULT_COST_CATEGORIES:
        assert _names(provisions_for_category(session, town[code])) == default_provision_names(code)
    assert session.exec(select(func.count(Provision.id))).one() == len(DEFAULT_PROVISIONS)


def test_without_cost_categories_a_municipality_gets_no_provisions(session):
    create_municipality(session, "Gemeente Leeg", cost_categories=False)
    assert session.exec(select(func.count(Provision.id))).one() == 0


def test_a_provision_without_categories_fits_every_category(session, town):
    add_provision(session, town["id"], ProvisionInput(name="Buurtfonds", description="Voor iedereen in de buurt."))
    for code, *_rest in DEFAULT_COST_CATEGORIES:
        assert "Buurtfonds" in _names(provisions_for_category(session, town[code]))


def test_a_provision_is_offered_for_its_categories_only_and_not_once_archived(session, town):
    provision = add_provision(session, town["id"], ProvisionInput(
        name="Witgoedfonds", link="https://witgoed.example.nl/aanvragen", category_ids=[str(town["furnishing"].id)]))
    assert _names(provisions_for_category(session, town["furnishing"]))[-1] == "Witgoedfonds"
    assert "Witgoedfonds" not in _names(provisions_for_category(session, town["groceries"]))
    set_provision_active(session, provision, False)
    assert "Witgoedfonds" not in _names(provisions_for_category(session, town["furnishing"]))
    set_provision_active(session, provision, True)
    assert "Witgoedfonds" in _names(provisions_for_category(session, town["furnishing"]))


def test_another_municipalitys_provisions_are_never_offered(session, town):
    other, _year = create_municipality(session, "Gemeente Elders")
    add_provision(session, other.id, ProvisionInput(name="Alleen elders"))
    assert "Alleen elders" not in _names(provisions_for_category(session, town["groceries"]))


def test_editing_a_provision_changes_its_name_and_categories(session, town):
    [voedselbank] = [p for p in provisions_for_category(session, town["groceries"]) if p.name == "Voedselbank"]
    edit_provision(session, voedselbank, ProvisionInput(name="Voedselbank Oost", description="Elke dinsdag.",
                                                        category_ids=[str(town["children"].id)]))
    assert "Voedselbank Oost" not in _names(provisions_for_category(session, town["groceries"]))
    assert "Voedselbank Oost" in _names(provisions_for_category(session, town["children"]))
    row = next(r for r in provisions_of(session, town["id"]) if r.provision.id == voedselbank.id)
    assert row.category_ids == {town["children"].id} and row.provision.description == "Elke dinsdag."


@pytest.mark.parametrize("changes, field", [
    ({"name": ""}, "name"), ({"name": "   "}, "name"), ({"name": "x" * 101}, "name"),
    ({"name": "Voedselbank"}, "name"), ({"name": "VOEDSELBANK"}, "name"), ({"name": "Fonds\u202e"}, "name"),
    ({"name": "Fonds\u200b"}, "name"), ({"name": "Fonds\x00"}, "name"),
    ({"description": "x" * 201}, "description"), ({"description": "regel\x1b"}, "description"),
    ({"link": "javascript:alert(1)"}, "link"), ({"link": "http://www.amsterdam.nl"}, "link"),
    ({"category_ids": ["999999"]}, "category_ids"), ({"category_ids": ["x"]}, "category_ids"),
])
def test_a_provision_with_a_bad_field_is_refused_beside_it(session, town, changes, field):
    data = ProvisionInput(**{"name": "Nieuw fonds", **changes})
    with pytest.raises(RuleViolation) as refused:
        add_provision(session, town["id"], data)
    assert refused.value.field == field


def test_a_provision_may_not_take_a_category_of_another_municipality(session, town):
    other, _year = create_municipality(session, "Gemeente Elders")
    foreign = cost_categories_of(session, other.id)[0]
    with pytest.raises(RuleViolation):
        add_provision(session, town["id"], ProvisionInput(name="Nieuw", category_ids=[str(foreign.id)]))


def test_a_provision_keeps_its_own_name_when_saved_unchanged(session, town):
    [voedselbank] = [p for p in provisions_for_category(session, town["groceries"]) if p.name == "Voedselbank"]
    edit_provision(session, voedselbank, ProvisionInput(name="voedselbank"))  # only the case: its own name
    assert voedselbank.name == "voedselbank"


@pytest.mark.parametrize("link", ["https://www.amsterdam.nl/stadspas", "HTTPS://Example.NL/a?b=c#d",
                                  "https://www.jeugdfonds.nl:443/", "https://bücher.example/", ""])
def test_links_that_are_accepted(link):
    assert check_link(link) == link.strip()


@pytest.mark.parametrize("link", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "http://www.amsterdam.nl", "data:text/html,<script>",
    "//www.amsterdam.nl", "www.amsterdam.nl", "https://", "https:///pad", "https://localhost/",
    "https://user:secret@www.amsterdam.nl/", "https://www.amsterdam.nl\\@evil.example", "https://exa mple.nl",
    "https://www.amsterdam.nl/\u202e", "https://www.amsterdam.nl:poort/", "https://" + "a" * 300 + ".nl",
    "https://-x.nl", "https://x..nl"])
def test_links_that_are_refused(link):
    with pytest.raises(RuleViolation) as refused:
        check_link(link)
    assert refused.value.field == "link"


def test_a_cost_category_gets_a_code_from_its_name_unique_in_the_municipality(session, town):
    pets = add_cost_category(session, town["id"], "Huisdieren", "Pets")
    assert (pets.code, pets.name_nl, pets.name_en, pets.active) == ("pets", "Huisdieren", "Pets", True)
    assert cost_categories_of(session, town["id"])[-1].id == pets.id
    again = add_cost_category(session, town["id"], "Overig (oud)", "Other.")
    assert again.code == "other_2"  # "other" is taken
    dutch_only = add_cost_category(session, town["id"], "Zorg & welzijn", "")
    assert (dutch_only.code, dutch_only.name_en) == ("zorg_welzijn", "Zorg & welzijn")
    unreadable = add_cost_category(session, town["id"], "Ünïcödé ✓", "✓✓")
    assert unreadable.code == "category"


@pytest.mark.parametrize("name_nl, name_en, field", [
    ("", "Pets", "name_nl"), ("x" * 101, "Pets", "name_nl"), ("Energie", "Power", "name_nl"),
    ("energie", "Power", "name_nl"), ("Stroom", "Energy", "name_en"), ("Stroom", "x" * 101, "name_en"),
    ("Stroom\u200b", "Power", "name_nl"), ("Stroom", "Power\ufeff", "name_en")])
def test_a_cost_category_with_a_bad_name_is_refused(session, town, name_nl, name_en, field):
    with pytest.raises(RuleViolation) as refused:
        add_cost_category(session, town["id"], name_nl, name_en)
    assert refused.value.field == field


def test_renaming_a_cost_category_changes_both_names_and_keeps_the_code(session, town):
    groceries = town["groceries"]
    rename_cost_category(session, groceries, "  Eten   en drinken ", "Food and drink")
    assert (groceries.code, groceries.name_nl, groceries.name_en) == ("groceries", "Eten en drinken", "Food and drink")
    rename_cost_category(session, groceries, "Eten en drinken", "food AND drink")  # its own names may stay
    with pytest.raises(RuleViolation):
        rename_cost_category(session, groceries, "Energie", "Food")


def test_an_archived_category_is_not_offered_and_the_last_active_one_stays(session, town):
    team = _team(session, town)
    set_cost_category_active(session, town["energy"], False)
    from models.teams import active_cost_categories
    assert town["energy"].id not in {c.id for c in active_cost_categories(session, team)}
    for code, *_rest in DEFAULT_COST_CATEGORIES[1:]:
        set_cost_category_active(session, town[code], False)
    with pytest.raises(RuleViolation) as refused:
        set_cost_category_active(session, town["groceries"], False)
    assert refused.value.field == "active" and town["groceries"].active
    set_cost_category_active(session, town["energy"], True)
    set_cost_category_active(session, town["groceries"], False)  # now another one is left


def test_moving_a_cost_category_renumbers_the_list(session, town):
    codes = [code for code, *_rest in DEFAULT_COST_CATEGORIES]

    def order():
        return [c.code for c in cost_categories_of(session, town["id"])]
    move_cost_category(session, town["energy"], by=-1)
    assert order()[:3] == ["groceries", "energy", "housing"]
    move_cost_category(session, town["groceries"], by=-1)  # already first: stays
    move_cost_category(session, town["other"], by=1)  # already last: stays
    move_cost_category(session, town["other"], to=1)
    assert order()[:2] == ["other", "groceries"] and sorted(order()) == sorted(codes)
    assert [c.position for c in cost_categories_of(session, town["id"])] == list(range(len(codes)))
    for place in (0, len(codes) + 1):
        with pytest.raises(RuleViolation) as refused:
            move_cost_category(session, town["other"], to=place)
        assert refused.value.field == "position"


def _team(session, town):
    district = District(municipality_id=town["id"], name="Centrum")
    session.add(district)
    session.flush()
    team = Team(district_id=district.id, name="Team Centrum")
    session.add(team)
    session.flush()
    return team


def _member(session, town, team, role="worker", name="Wim"):
    member = create_member(session, municipality_id=town["id"], display_name=name)
    add_membership(session, member, team, role)
    session.flush()
    return active_membership(session, member.id, team.id)


def test_a_draft_keeps_only_names_offered_for_its_category(session, town):
    team = _team(session, town)
    worker = _member(session, town, team)
    draft = save_draft(session, team, worker, DraftInput(
        cost_category_id=town["groceries"].id, alternatives_checked=["Voedselbank", "Verzonnen", "Kledingbank",
                                                                      "Voedselbank"]), household_secret="s")
    assert draft.alternatives_checked == ["Voedselbank"]  # nothing refused: unknown names are dropped
    [voedselbank] = [p for p in provisions_for_category(session, town["groceries"]) if p.name == "Voedselbank"]
    set_provision_active(session, voedselbank, False)
    save_draft(session, team, worker, DraftInput(cost_category_id=town["groceries"].id,
                                                 alternatives_checked=["Voedselbank", "Bijzondere bijstand"]),
               household_secret="s", request=draft)
    assert draft.alternatives_checked == ["Voedselbank", "Bijzondere bijstand"]  # ticked before it was archived
    save_draft(session, team, worker, DraftInput(cost_category_id=town["groceries"].id, alternatives_checked=[]),
               household_secret="s", request=draft)
    save_draft(session, team, worker, DraftInput(cost_category_id=town["groceries"].id,
                                                 alternatives_checked=["Voedselbank"]),
               household_secret="s", request=draft)
    assert draft.alternatives_checked == []  # unticked once: archived, so no longer offered


def test_a_posted_request_keeps_the_provision_names_it_stored(session, town):
    team = _team(session, town)
    worker = _member(session, town, team)
    draft = save_draft(session, team, worker, DraftInput(
        amount="50", cost_category_id=town["groceries"].id, situation="Vader met twee kinderen.",
        prevents="Afsluiting.", household_reference="H-1", alternatives_checked=["Voedselbank"]),
        household_secret="s")
    post_request(session, draft, team, worker.member_id)
    [voedselbank] = [p for p in provisions_for_category(session, town["groceries"]) if p.name == "Voedselbank"]
    edit_provision(session, voedselbank, ProvisionInput(name="Voedselbank Oost"))
    set_provision_active(session, voedselbank, False)
    session.commit()
    session.expire_all()
    assert draft.alternatives_checked == ["Voedselbank"]


def test_a_vote_names_any_provision_and_is_written_as_the_municipality_writes_it(session, town):
    team = _team(session, town)
    worker = _member(session, town, team)
    voters = [_member(session, town, team, name=f"Stemmer {n}") for n in range(2)]
    draft = save_draft(session, team, worker, DraftInput(
        amount="50", cost_category_id=town["groceries"].id, situation="Vader met twee kinderen.",
        prevents="Afsluiting.", household_reference="H-1"), household_secret="s")
    post_request(session, draft, team, worker.member_id)
    known = cast_vote(session, draft, voters[0], "alternative", alternative_name="  voedselBANK ")
    other = cast_vote(session, draft, voters[1], "alternative", alternative_name="Buurthuis de Pijp")
    assert (known.alternative_name, other.alternative_name) == ("Voedselbank", "Buurthuis de Pijp")
    with pytest.raises(RuleViolation) as refused:
        cast_vote(session, draft, voters[1], "alternative", alternative_name="  ")
    assert refused.value.field == "alternative_name"


def test_the_catalogue_is_read_in_few_queries(session, town):
    from sqlalchemy import event
    seen = []

    def count(*_args):
        seen.append(1)
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        provisions_for_category(session, town["groceries"])
        assert len(seen) == 1
        seen.clear()
        provisions_of(session, town["id"])
        assert len(seen) == 2
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_categories_are_per_municipality(session, town):
    other, _year = create_municipality(session, "Gemeente Elders")
    add_cost_category(session, other.id, "Huisdieren", "Pets")
    add_cost_category(session, town["id"], "Huisdieren", "Pets")  # the same name in another municipality
    assert session.exec(select(func.count(CostCategory.id)).where(CostCategory.code == "pets")).one() == 2
