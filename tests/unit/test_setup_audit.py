"""Every change of a municipality's setup is an audit event of the municipality, without a team (models/catalogue.py,
models/avoided_costs.py, models/municipalities.py, models/audit.py `record_in_municipality`)."""
import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from models.audit import EVENT_LABELS, AuditEvent, setup_changes
from models.avoided_costs import ScenarioInput, add_scenario, edit_scenario, move_scenario, set_scenario_active
from models.catalogue import (
    ProvisionInput, add_cost_category, add_provision, cost_categories_of, edit_provision, move_cost_category,
    rename_cost_category, set_cost_category_active, set_provision_active)
from models.members import create_member, new_user_handle
from models.municipalities import (
    add_district, archive_district, create_municipality, rename_district, rename_municipality, restore_district)


@pytest.fixture
def town(session):
    municipality = create_municipality(session, "Gemeente Inrichting")
    coordinator = create_member(session, display_name="Cora", user_handle=new_user_handle(),
                                municipality_id=municipality.id)
    session.commit()
    return {"municipality": municipality, "actor": coordinator.id}


def _events(session, municipality_id):
    return [(event.action, event.actor_id, event.detail) for event in session.exec(
        select(AuditEvent).where(AuditEvent.municipality_id == municipality_id).order_by(AuditEvent.id))]


def test_a_new_municipality_starts_without_setup_events(session, town):
    assert _events(session, town["municipality"].id) == []


def test_cost_category_verbs_record_their_events(session, town):
    mid, actor = town["municipality"].id, town["actor"]
    pets = add_cost_category(session, mid, "Huisdieren", "Pets", actor_id=actor)
    rename_cost_category(session, pets, "Dieren", "Animals", actor_id=actor)
    rename_cost_category(session, pets, "Dieren", "Animals", actor_id=actor)  # nothing changed: nothing recorded
    move_cost_category(session, pets, to=1, actor_id=actor)
    set_cost_category_active(session, pets, False, actor_id=actor)
    set_cost_category_active(session, pets, True, actor_id=actor)
    session.commit()
    last = len(cost_categories_of(session, mid))
    common = {"category_id": pets.id, "name_nl": "Dieren", "name_en": "Animals"}
    assert _events(session, mid) == [
        ("category_added", actor, {"category_id": pets.id, "name_nl": "Huisdieren", "name_en": "Pets", "code": "pets"}),
        ("category_renamed", actor, common | {"changed": {"name_nl": {"old": "Huisdieren", "new": "Dieren"},
                                                          "name_en": {"old": "Pets", "new": "Animals"}}}),
        ("category_moved", actor, common | {"changed": {"position": {"old": last, "new": 1}}}),
        ("category_archived", actor, common),
        ("category_restored", actor, common)]


def test_provision_verbs_record_their_events(session, town):
    mid, actor = town["municipality"].id, town["actor"]
    groceries = next(c for c in cost_categories_of(session, mid) if c.code == "groceries")
    fund = add_provision(session, mid, ProvisionInput(name="Buurtfonds"), actor_id=actor)
    edit_provision(session, fund, ProvisionInput(name="Wijkfonds", description="Elke dinsdag.",
                                                 category_ids=[str(groceries.id)]), actor_id=actor)
    set_provision_active(session, fund, False, actor_id=actor)
    set_provision_active(session, fund, False, actor_id=actor)  # already archived
    set_provision_active(session, fund, True, actor_id=actor)
    session.commit()
    common = {"provision_id": fund.id, "name": "Wijkfonds"}
    assert _events(session, mid) == [
        ("provision_added", actor, {"provision_id": fund.id, "name": "Buurtfonds"}),
        ("provision_changed", actor, common | {"changed": {
            "name": {"old": "Buurtfonds", "new": "Wijkfonds"}, "description": {"old": "", "new": "Elke dinsdag."},
            "categories": {"old": [], "new": [groceries.id]}}}),
        ("provision_archived", actor, common),
        ("provision_restored", actor, common)]


def test_scenario_verbs_record_their_events(session, town):
    mid, actor = town["municipality"].id, town["actor"]
    first = add_scenario(session, mid, ScenarioInput("Afsluiting", "Disconnection", "1500", ""), actor_id=actor)
    eviction = add_scenario(session, mid, ScenarioInput("Huisuitzetting", "Eviction", "10000", ""), actor_id=actor)
    edit_scenario(session, eviction, ScenarioInput("Huisuitzetting", "Eviction", "12000", "CBS"), actor_id=actor)
    move_scenario(session, eviction, -1, actor_id=actor)
    move_scenario(session, eviction, -1, actor_id=actor)  # already first
    set_scenario_active(session, eviction, False, actor_id=actor)
    set_scenario_active(session, eviction, True, actor_id=actor)
    session.commit()
    common = {"scenario_id": eviction.id, "name_nl": "Huisuitzetting", "name_en": "Eviction"}
    assert _events(session, mid) == [
        ("scenario_added", actor, {"scenario_id": first.id, "name_nl": "Afsluiting", "name_en": "Disconnection",
                                   "reference_cost_cents": 150_000}),
        ("scenario_added", actor, common | {"reference_cost_cents": 1_000_000}),
        ("scenario_changed", actor, common | {"changed": {
            "reference_cost_cents": {"old": 1_000_000, "new": 1_200_000}, "source": {"old": "", "new": "CBS"}}}),
        ("scenario_moved", actor, common | {"changed": {"position": {"old": 2, "new": 1}}}),
        ("scenario_archived", actor, common),
        ("scenario_restored", actor, common)]


def test_district_and_municipality_verbs_record_their_events(session, town):
    municipality, actor = town["municipality"], town["actor"]
    north = add_district(session, municipality.id, "Noord", actor_id=actor)
    rename_district(session, north, "Noord-Oost", actor_id=actor)
    archive_district(session, north, actor_id=actor)
    restore_district(session, north, actor_id=actor)
    rename_municipality(session, municipality, "Gemeente Nieuw", actor_id=actor)
    rename_municipality(session, municipality, "Gemeente Nieuw", actor_id=actor)  # the same name
    session.commit()
    common = {"district_id": north.id, "name": "Noord-Oost"}
    assert _events(session, municipality.id) == [
        ("district_added", actor, {"district_id": north.id, "name": "Noord"}),
        ("district_renamed", actor, common | {"changed": {"name": {"old": "Noord", "new": "Noord-Oost"}}}),
        ("district_archived", actor, common),
        ("district_restored", actor, common),
        ("municipality_renamed", actor, {"name": "Gemeente Nieuw",
                                         "changed": {"name": {"old": "Gemeente Inrichting", "new": "Gemeente Nieuw"}}})]


def test_every_setup_action_has_a_label(session, town):
    mid, actor = town["municipality"].id, town["actor"]
    north = add_district(session, mid, "Noord", actor_id=actor)
    archive_district(session, north, actor_id=actor)
    add_cost_category(session, mid, "Huisdieren", "Pets")
    session.commit()
    changes = setup_changes(session, mid)
    # newest first, with the actor's name (none: written by no one, as the demo's seed does)
    assert [(event.action, name) for event, name in changes] == [
        ("category_added", None), ("district_archived", "Cora"), ("district_added", "Cora")]
    assert all(event.action in EVENT_LABELS for event, _name in changes)
    assert len(setup_changes(session, mid, limit=2)) == 2


def test_an_event_of_neither_a_team_nor_a_municipality_is_refused(session, town):
    session.add(AuditEvent(action="comment"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
