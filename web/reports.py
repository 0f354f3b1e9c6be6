"""Reports (models/reports.py): anonymised figures of a municipality's budget year, with charts and downloads,
and a team's participation for its team leader.

URL table (signed in; the report pages as coordinator, or administrator in the municipality they chose):
  GET  /beheer/rapportage                        the figures per district, category, team or period (filters:
                                                 jaar, indeling, periode, stadsdeel, kostensoort, team)
  GET  /beheer/rapportage/grafiek.svg            the same requests per group as a bar chart (an image)
  GET  /beheer/rapportage/rapportage.csv         the same table as CSV
  GET  /beheer/rapportage/rapportage.xlsx        the same table as an XLSX workbook
  GET  /teams/<team_id>/deelname                 the team's participation: votes per member (counts only), time
                                                 to decision, unspent budget; team leader of the team or
                                                 coordinator of its municipality (other members 403)

Reads only. Every figure passes models.reports.shown, so a cell of fewer than 5 requests shows "< 5" in
the page, the chart and the downloads alike.
"""
import csv
import io

from flask import Blueprint, Response, abort, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models.bounds import parse_id
from models.budget_years import years_of
from models.catalogue import cost_categories_of
from models.clock import today
from models.exports import safe_text
from models.members import Role, active_membership
from models.reports import (
    COLUMNS, DIMENSIONS, HIDDEN, PERIODS, SUPPRESSED, TOTAL, report, report_table, underspend)
from models.reports import participation as team_participation
from models.municipalities import districts_of
from models.teams import Team, municipality_of_team, teams_of_municipality
from web.access import chosen_municipality, signed_in_coordinator, signed_in_member
from web.database import db
from web.i18n import language

bp = Blueprint("reports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMN_LABELS = {
    "requests": _l("Aanvragen"), "grants": _l("Toegekend (aantal)"), "granted_cents": _l("Toegekend (bedrag)"),
    "median_granted_cents": _l("Mediaan toegekend"), "lower": _l("Lager bedrag"), "loans": _l("Leningen"),
    "solved": _l("Opgelost met andere voorziening"), "solved_share": _l("Deel opgelost zonder geld"),
    "rejected": _l("Afgewezen"), "expired": _l("Verlopen"), "median_decision_hours": _l("Mediaan uren tot besluit"),
    "within_24h_share": _l("Deel besloten binnen 24 uur"), "median_card_hours": _l("Mediaan uren tot kaart"),
}
DIMENSION_LABELS = {"district": _l("Stadsdeel"), "category": _l("Kostensoort"), "team": _l("Team"),
                    "period": _l("Periode")}
PERIOD_LABELS = {"month": _l("Maand"), "quarter": _l("Kwartaal")}


def _filters() -> dict:
    """The GET form's choices, unknown values falling back to the defaults."""
    args = request.args
    years = [budget_year.year for budget_year in years_of(db(), g.municipality_id)]
    wanted, this_year = parse_id(args.get("jaar", "")), today().year  # the Dutch date's year, as posts use
    year = wanted if wanted in years else (this_year if this_year in years else (years[0] if years else this_year))
    dimension = args.get("indeling") if args.get("indeling") in DIMENSIONS else "district"
    period = args.get("periode") if args.get("periode") in PERIODS else "month"
    districts = districts_of(db(), g.municipality_id)
    categories = cost_categories_of(db(), g.municipality_id)
    teams = teams_of_municipality(db(), g.municipality_id)

    def chosen(name, rows):
        value = parse_id(args.get(name, ""))
        return value if value in {row.id for row in rows} else None
    return {"years": years, "year": year, "dimension": dimension, "period": period, "districts": districts,
            "categories": categories, "teams": teams, "district_id": chosen("stadsdeel", districts),
            "category_id": chosen("kostensoort", categories), "team_id": chosen("team", teams)}


def _report(choice):
    return report(db(), g.municipality_id, choice["year"], choice["dimension"], choice["period"],
                  language=language(), district_id=choice["district_id"],
                  category_id=choice["category_id"], team_id=choice["team_id"])


def _label(label: str) -> str:
    return str(_("Totaal")) if label == TOTAL else label


@bp.get("/beheer/rapportage")
def overview():
    """The figures as a table, the chart of the requests beside it, and the downloads."""
    signed_in_coordinator()
    choice = _filters()
    result = _report(choice)
    return render_template("reports/overview.html", choice=choice, table=report_table(result), columns=COLUMNS,
                           column_labels=COLUMN_LABELS, dimension_labels=DIMENSION_LABELS,
                           period_labels=PERIOD_LABELS, suppressed=SUPPRESSED, hidden=HIDDEN, total=TOTAL,
                           underspend=underspend(db(), g.municipality_id, choice["year"], choice["team_id"]),
                           query=request.args.to_dict())


@bp.get("/beheer/rapportage/grafiek.svg")
def chart():
    """Requests per group as a horizontal bar chart; a suppressed group shows "< 5" and no bar."""
    signed_in_coordinator()
    choice = _filters()
    bars = [(label, values[0]) for label, values in report_table(_report(choice)) if label != TOTAL]
    largest = max([value for _label, value in bars if isinstance(value, int)] or [1]) or 1
    body = render_template("reports/chart.svg", bars=bars, largest=largest,
                           title=_("Aanvragen per %(what)s", what=str(DIMENSION_LABELS[choice["dimension"]]).lower()))
    return Response(body, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


def _header() -> list[str]:
    return [str(DIMENSION_LABELS[_filters()["dimension"]])] + [str(COLUMN_LABELS[name]) for name, _kind in COLUMNS]


def _download(body: bytes, mimetype: str, extension: str, year: int) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="rapportage-{year}.{extension}"', "Cache-Control": "no-store"})


def _number(value, kind):
    """Cents as euros, shares as fractions, others as they are (a download keeps numbers as numbers)."""
    if isinstance(value, str) or value is None:
        return value
    return value / 100 if kind == "cents" else value


@bp.get("/beheer/rapportage/rapportage.csv")
def download_csv():
    """The page's table as CSV (semicolons, as Dutch spreadsheets expect; decimal points)."""
    signed_in_coordinator()
    choice = _filters()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(_header())
    for label, values in report_table(_report(choice)):
        writer.writerow([safe_text(_label(label))] + [
            "" if value is None else _number(value, kind) for value, (_name, kind) in zip(values, COLUMNS)])
    return _download(out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", "csv", choice["year"])


@bp.get("/beheer/rapportage/rapportage.xlsx")
def download_xlsx():
    """The page's table as one XLSX sheet: numbers as numbers, "< 5" as text."""
    import xlsxwriter
    signed_in_coordinator()
    choice = _filters()
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_numbers": False,
                                         "strings_to_urls": False})
    workbook.set_properties({"title": f"Rapportage {choice['year']}"})
    sheet = workbook.add_worksheet("Rapportage")
    bold = workbook.add_format({"bold": True})
    formats = {"cents": workbook.add_format({"num_format": "#,##0.00"}),
               "share": workbook.add_format({"num_format": "0%"}), "hours": workbook.add_format({"num_format": "0.0"}),
               "count": None}
    for column, name in enumerate(_header()):
        sheet.write_string(0, column, name, bold)
    for row, (label, values) in enumerate(report_table(_report(choice)), 1):
        sheet.write_string(row, 0, safe_text(_label(label)))
        for column, (value, (_name, kind)) in enumerate(zip(values, COLUMNS), 1):
            if isinstance(value, str):
                sheet.write_string(row, column, value)
            elif value is not None:
                sheet.write_number(row, column, _number(value, kind), formats[kind])
    workbook.close()
    return _download(out.getvalue(), XLSX, "xlsx", choice["year"])


@bp.get("/teams/<int:team_id>/deelname")
def participation(team_id):
    """Votes per member (counts only), time to decision and unspent budget of the team's current year."""
    member = signed_in_member()
    team = db().get(Team, team_id)
    if team is None:
        abort(404)
    municipality = municipality_of_team(db(), team)
    membership = active_membership(db(), member.id, team.id)
    if member.is_administrator:  # as coordinator of the municipality they chose
        chosen = chosen_municipality()
        is_coordinator = chosen is not None and chosen.id == municipality.id
    else:
        is_coordinator = member.is_coordinator and member.municipality_id == municipality.id
    if membership is None and not is_coordinator:
        abort(404)
    if not is_coordinator and membership.role != Role.TEAM_LEADER:
        abort(403)
    g.team = team
    year = today().year
    result = report(db(), municipality.id, year, "team", team_id=team.id)
    unspent = underspend(db(), municipality.id, year, team.id)
    return render_template("reports/participation.html", team=team, year=year,
                           votes=team_participation(db(), team, year, municipality.id),
                           figures=result.total, unspent=unspent[0] if unspent else None)
