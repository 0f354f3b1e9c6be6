"""Tips as rules: 10-500 characters without personal data, at least one category of the own municipality,
archived by the author or a coordinator only, searched case-insensitively within the municipality, and
suggested (at most 3) with the chosen category first, then by words shared with what was typed."""
import pytest
from sqlmodel import select

from models.rules import RuleViolation
from models.teams import CostCategory
from models.tips import Tip, TipCategory, archive_tip, search_tips, suggest_tips, write_tip
from tests.card_world import municipality_id, with_categories


@pytest.fixture
def world(session, make_team, make_member):
    team, far = make_team("Team Oost"), make_team("Team Ver")
    with_categories(session, team)
    with_categories(session, far)
    mid = municipality_id(session, team)
    categories = {c.code: c.id for c in session.exec(select(CostCategory).where(CostCategory.municipality_id == mid))}
    far_categories = {c.code: c.id for c in session.exec(
        select(CostCategory).where(CostCategory.municipality_id == municipality_id(session, far)))}
    return {"team": team, "far": far, "mid": mid, "cat": categories, "far_cat": far_categories,
            "author": make_member(team, "worker", name="Anna"), "other": make_member(team, "worker", name="Bo"),
            "coordinator": make_member(team, "coordinator", name="Co"),
            "far_author": make_member(far, "worker", name="Dirk")}


def _write(session, world, body, codes=("groceries",), author="author", far=False):
    tip = write_tip(session, municipality_id=municipality_id(session, world["far"]) if far else world["mid"],
                    team_id=(world["far"] if far else world["team"]).id, author_id=world[author].id, body=body,
                    category_ids=[(world["far_cat"] if far else world["cat"])[code] for code in codes])
    session.commit()
    return tip


def test_write_tags_and_checks(session, world):
    tip = _write(session, world, "Vraag eerst de voedselbank om een pakket.", codes=("groceries", "energy"))
    tags = set(session.exec(select(TipCategory.category_id).where(TipCategory.tip_id == tip.id)))
    assert tags == {world["cat"]["groceries"], world["cat"]["energy"]}
    for body in ("Te kort", "x" * 501):
        with pytest.raises(RuleViolation) as refused:
            _write(session, world, body)
        assert refused.value.field == "body"
    session.rollback()
    with pytest.raises(RuleViolation) as refused:
        _write(session, world, "Bel mevrouw op 0612345678 voor een afspraak.")
    assert refused.value.field == "body" and "0612345678" in str(refused.value.message)
    session.rollback()
    with pytest.raises(RuleViolation) as refused:
        write_tip(session, municipality_id=world["mid"], team_id=world["team"].id, author_id=world["author"].id,
                  body="Een goede tip zonder kostensoort.", category_ids=[])
    assert refused.value.field == "category_ids"
    session.rollback()
    with pytest.raises(RuleViolation):  # another municipality's category
        write_tip(session, municipality_id=world["mid"], team_id=world["team"].id, author_id=world["author"].id,
                  body="Een goede tip met een vreemde kostensoort.", category_ids=[world["far_cat"]["groceries"]])
    session.rollback()
    assert session.exec(select(Tip)).all() == [tip]


def test_archive_by_author_or_coordinator_only(session, world):
    tip = _write(session, world, "Vraag eerst de voedselbank om een pakket.")
    with pytest.raises(RuleViolation):
        archive_tip(session, tip, world["other"])
    session.rollback()
    archive_tip(session, tip, world["coordinator"])
    session.commit()
    assert tip.archived_at is not None and search_tips(session, world["mid"]) == []
    second = _write(session, world, "De energiebank helpt bij een naheffing.")
    archive_tip(session, second, world["author"])
    assert second.archived_at is not None


def test_a_coordinator_of_another_municipality_does_not_archive(session, world, make_member):
    tip = _write(session, world, "Vraag eerst de voedselbank om een pakket.")
    far_coordinator = make_member(world["far"], "coordinator", name="Ver")
    with pytest.raises(RuleViolation):
        archive_tip(session, tip, far_coordinator)
    session.rollback()
    assert session.get(Tip, tip.id).archived_at is None


@pytest.mark.parametrize("case", ["granted", "other_team", "unknown"])
def test_a_tip_comes_only_from_the_teams_request_solved_otherwise(session, world, make_team, make_member, case):
    from models.clock import utcnow
    from models.requests import RequestStatus, SpendRequest

    team = world["team"] if case != "other_team" else make_team("Team Zuid")
    requester = world["author"] if case != "other_team" else make_member(team, "worker", name="Zoe")
    solved = SpendRequest(team_id=team.id, requester_id=requester.id, amount_cents=1_000, posted_at=utcnow(),
                          status=RequestStatus.GRANTED if case == "granted" else RequestStatus.SOLVED)
    mine = SpendRequest(team_id=world["team"].id, requester_id=world["author"].id, amount_cents=1_000,
                        status=RequestStatus.SOLVED, alternative_name="Energiebank", posted_at=utcnow())
    session.add_all([solved, mine])
    session.commit()
    source_id = solved.id if case != "unknown" else mine.id + 1000
    with pytest.raises(RuleViolation) as refused:
        write_tip(session, municipality_id=world["mid"], team_id=world["team"].id, author_id=world["author"].id,
                  body="Opgelost met de Energiebank.", category_ids=[world["cat"]["energy"]],
                  source_request_id=source_id)
    assert refused.value.field == "form"
    session.rollback()
    tip = write_tip(session, municipality_id=world["mid"], team_id=world["team"].id, author_id=world["author"].id,
                    body="Opgelost met de Energiebank.", category_ids=[world["cat"]["energy"]],
                    source_request_id=mine.id)
    session.commit()
    assert session.exec(select(Tip.source_request_id)).all() == [mine.id] == [tip.source_request_id]


def test_search_is_case_insensitive_within_the_municipality_and_by_category(session, world):
    food = _write(session, world, "Vraag eerst de Voedselbank om een pakket.")
    energy = _write(session, world, "De energiebank helpt bij een naheffing.", codes=("energy",))
    _write(session, world, "Ook daar: de voedselbank in de buurt.", author="far_author", far=True)
    assert search_tips(session, world["mid"], text="VOEDSELBANK") == [food]
    assert search_tips(session, world["mid"], text="bank") == [energy, food]
    assert search_tips(session, world["mid"], category_id=world["cat"]["energy"]) == [energy]
    assert search_tips(session, world["mid"], text="100%") == []  # a wildcard typed is a plain character


def test_suggestions_category_first_then_shared_words_at_most_three(session, world):
    words = _write(session, world, "Bij een naheffing van energie helpt de energiebank.", codes=("energy",))
    tagged = [_write(session, world, f"Voedselbank tip nummer {n} voor de boodschappen.") for n in range(3)]
    nothing = _write(session, world, "Iets heel anders over fietsen en vervoer.", codes=("transport",))
    assert suggest_tips(session, world["mid"], None, "Een naheffing van de energie") == [words]
    suggested = suggest_tips(session, world["mid"], world["cat"]["groceries"], "naheffing energie")
    assert len(suggested) == 3 and {t.id for t in suggested} == {t.id for t in tagged} and nothing not in suggested
    tagged_and_shared = _write(session, world, "Voedselbank ook bij een naheffing van energie.")
    assert suggest_tips(session, world["mid"], world["cat"]["groceries"], "naheffing energie")[0] == tagged_and_shared
    assert suggest_tips(session, world["mid"], None, "") == []
