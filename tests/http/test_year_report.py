"""The year report as a PDF (web/year_report.py), downloaded and read back: the figures are in it, a small
cell shows "< 5" and never its amount, it is tagged and titled in the reader's language, and only the
municipality's coordinators get it."""
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from models.reports import SUPPRESSED, report
from models.requests import SpendRequest
from tests.unit.test_reports import YEAR, world  # noqa: F401 - the year of requests, as a fixture

#: granted twice in a cost category of its own: 2 requests, so that category is suppressed
SMALL_CENTS = 123_457


@pytest.fixture
def coordinator(world, make_member):  # noqa: F811
    return make_member(world["teams"][0], "coordinator")


@pytest.fixture
def small_category(session, world):  # noqa: F811
    """Two grants of SMALL_CENTS in a cost category no other request has."""
    from sqlmodel import select

    from models.teams import CostCategory
    category = session.exec(select(CostCategory).where(
        CostCategory.municipality_id == world["municipality"].id,
        CostCategory.id.not_in(world["categories"]))).first()
    budget_year_id = world["requests"][0].budget_year_id
    for day in (3, 4):
        posted = datetime(YEAR, 2, day, 9, tzinfo=timezone.utc)
        session.add(SpendRequest(team_id=world["teams"][0].id, requester_id=world["voter"].id, status="granted",
                                 amount_cents=SMALL_CENTS, cost_category_id=category.id, budget_year_id=budget_year_id,
                                 posted_at=posted, decided_at=posted + timedelta(hours=2),
                                 granted_amount_cents=SMALL_CENTS, granted_kind="gift"))
    session.commit()
    return category


def text_of(pdf: bytes) -> str:
    """The PDF's text, whitespace (also non-breaking) made single spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages).replace("\xa0", " "))


def digits(cents: int) -> str:
    """An amount as the PDF prints it in Dutch, without the euro sign: 1.234,57."""
    whole, rest = divmod(cents, 100)
    return f"{whole:,}".replace(",", ".") + f",{rest:02d}"


def test_the_year_report_holds_the_figures_and_hides_a_small_cell(client, session, world, coordinator,  # noqa: F811
                                                                  small_category, login_as):
    login_as(coordinator)
    assert f"/beheer/rapportage/jaarverslag.pdf?jaar={YEAR}" in client.get(f"/beheer/rapportage?jaar={YEAR}").get_data(
        as_text=True)
    response = client.get(f"/beheer/rapportage/jaarverslag.pdf?jaar={YEAR}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="jaarverslag-{YEAR}.pdf"'
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.metadata.title == f"Jaarverslag {YEAR} van {world['municipality'].name}"
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "nl" and "/StructTreeRoot" in catalog and catalog["/MarkInfo"]["/Marked"]
    text = text_of(response.data)
    figures = report(session, world["municipality"].id, YEAR, "district")
    assert figures.total.requests == 162 and not figures.total.suppressed
    assert "162" in text and digits(figures.total.granted_cents) in text
    for district, cell in figures.cells.items():
        assert digits(cell.granted_cents) in text, district
    assert "Team Oost" in text and "Team West" in text  # underspend per team
    by_category = report(session, world["municipality"].id, YEAR, "category")
    assert by_category.cells[small_category.id].suppressed
    assert SUPPRESSED in text
    assert digits(SMALL_CENTS) not in text and digits(2 * SMALL_CENTS) not in text


def test_the_year_report_follows_the_language(client, world, coordinator, login_as):  # noqa: F811
    login_as(coordinator)
    client.post("/taal", data={"lang": "en", "next": "/"})
    response = client.get(f"/beheer/rapportage/jaarverslag.pdf?jaar={YEAR}")
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.trailer["/Root"]["/Lang"].startswith("en")
    assert reader.metadata.title == f"Year report {YEAR} of {world['municipality'].name}"
    assert "Requests per district" in text_of(response.data)


def test_an_unknown_year_gives_this_years_report(client, world, coordinator, login_as):  # noqa: F811
    login_as(coordinator)
    response = client.get("/beheer/rapportage/jaarverslag.pdf?jaar=1999")
    assert PdfReader(io.BytesIO(response.data)).metadata.title.startswith(f"Jaarverslag {YEAR} ")


def test_only_the_municipalitys_coordinators_get_the_year_report(client, world, make_member, make_team,  # noqa: F811
                                                                 login_as):
    login_as(make_member(world["teams"][0], "team_leader"))
    assert client.get(f"/beheer/rapportage/jaarverslag.pdf?jaar={YEAR}").status_code == 403
    elsewhere = make_member(make_team("Team Elders"), "coordinator")
    login_as(elsewhere)
    response = client.get(f"/beheer/rapportage/jaarverslag.pdf?jaar={YEAR}")
    assert response.status_code == 200  # their own municipality's report: none of our requests
    text = text_of(response.data)
    assert "Gemeente Team Elders" in text and "Team Oost" not in text and "162" not in text


def test_a_request_without_a_cost_category_is_named_so_as_on_the_page(client, session, world, coordinator,  # noqa: F811
                                                                      login_as):
    posted = datetime(YEAR, 2, 5, 9, tzinfo=timezone.utc)
    session.add(SpendRequest(team_id=world["teams"][0].id, requester_id=world["voter"].id, status="open",
                             amount_cents=1_000, budget_year_id=world["requests"][0].budget_year_id, posted_at=posted))
    session.commit()
    login_as(coordinator)
    assert "Geen soort uitgave" in client.get(f"/beheer/rapportage?jaar={YEAR}").get_data(as_text=True)
    assert "Geen soort uitgave" in text_of(client.get(f"/beheer/rapportage/jaarverslag.pdf?jaar={YEAR}").data)
