"""Reports (models/reports.py): anonymised figures of a municipality's budget year, with charts and downloads;
the same report of one team for its team leader; and a team's participation.

URL table (signed in; the report pages as coordinator, or administrator in the municipality they chose):
  GET  /beheer/rapportage                        the figures per district, category, team or period (filters:
                                                 jaar, indeling, periode, stadsdeel, kostensoort, team), the
                                                 district × cost category table, underspend, avoided costs
  GET  /beheer/rapportage/grafiek.svg            the same requests per group as a bar chart (an image)
  GET  /beheer/rapportage/rapportage.csv         the figures as CSV; ?tabel=kruistabel the district × cost
                                                 category table, ?tabel=rendement the avoided costs
  GET  /beheer/rapportage/rapportage.xlsx        all three as sheets of one XLSX workbook
  GET  /teams/<team_id>/rapportage               the same report of this team only (period × cost category
                                                 table): its team leader, or a coordinator of its
                                                 municipality; other members of the team 403, others 404
  GET  /teams/<team_id>/rapportage/grafiek.svg   its chart
  GET  /teams/<team_id>/rapportage/rapportage.csv   its CSV (?tabel= as above)
  GET  /teams/<team_id>/rapportage/rapportage.xlsx  its XLSX workbook
  GET  /teams/<team_id>/deelname                 the team's participation: votes per member (counts only), time
                                                 to decision, unspent budget; the same people as its report

Reads only. Every figure passes models.reports.shown, cross_table_shown or avoided_shown, so a cell of
fewer than 5 requests shows "< 5" in the page, the chart and the downloads alike. Which team pages a member
may see is models.reports.may_see_team_figures.
"""
import csv
import io
from dataclasses import dataclass

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models.avoided_costs import AvoidedTotals, avoided_cost_totals
from models.bounds import parse_id
from models.budget_years import years_of
from models.catalogue import cost_categories_of
from models.clock import today
from models.exports import euros, safe_text
from models.members import active_membership
from models.municipalities import districts_of
from models.reports import (
    COLUMNS, DIMENSIONS, HIDDEN, PERIODS, SUPPRESSED, TOTAL, avoided_shown, cross_table,
    cross_table_shown, may_see_team_figures, report, report_table, report_year, underspend)
from models.reports import participation as team_participation
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
DIMENSION_LABELS = {"district": _l("Stadsdeel"), "category": _l("Soort uitgave"), "team": _l("Team"),
                    "period": _l("Periode")}
PERIOD_LABELS = {"month": _l("Maand"), "quarter": _l("Kwartaal")}
#: the avoided-cost columns after kind and name; the kinds as in models.reports.COLUMNS
AVOIDED_COLUMNS = ((_l("Toegekende aanvragen"), "count"), (_l("Toegekend"), "cents"),
                   (_l("Voorkomen kosten (verwacht)"), "cents"))
#: the filters a link to the chart or a download carries on
FILTERS = ("jaar", "indeling", "periode", "stadsdeel", "kostensoort", "team")
#: the downloadable tables (?tabel=): the figures, the cross table, the avoided costs
TABLES = ("cijfers", "kruistabel", "rendement")


@dataclass
class Scope:
    """Whose report: the municipality's (team None), or one team's only, with its own endpoints."""

    municipality_id: int
    team: Team | None = None

    def url(self, what: str, **args) -> str:
        """The URL of the page, chart, csv or xlsx of this scope, with `args`."""
        if self.team is None:
            endpoint = {"page": "overview", "chart": "chart", "csv": "download_csv", "xlsx": "download_xlsx"}[what]
            return url_for(f"reports.{endpoint}", **args)
        return url_for(f"reports.team_{what}", **args, team_id=self.team.id)


def _municipality_scope() -> Scope:
    signed_in_coordinator()
    return Scope(g.municipality_id)


def _team_scope(team_id: int) -> Scope:
    """The team in the URL for who may see its figures; 404 for anyone outside the team and its
    municipality's coordinators, 403 for the team's other members."""
    member = signed_in_member()
    team = db().get(Team, team_id)
    if team is None:
        abort(404)
    municipality = municipality_of_team(db(), team)
    membership = active_membership(db(), member.id, team.id)
    chosen = chosen_municipality() if member.is_administrator else None
    if not may_see_team_figures(member, membership, team, municipality.id, chosen.id if chosen else None):
        abort(403 if membership is not None else 404)
    g.team = team
    return Scope(municipality.id, team)


def _filters(scope: Scope) -> dict:
    """The GET form's choices, unknown values falling back to the defaults. A team's report is always of
    that team: it offers no district or team to choose, and ignores any in the URL."""
    args = request.args
    budget_years = years_of(db(), scope.municipality_id)
    years = [budget_year.year for budget_year in budget_years]
    year = report_year(years, parse_id(args.get("jaar", "")), today().year)  # the Dutch date's year, as posts use
    chosen_year = next((budget_year for budget_year in budget_years if budget_year.year == year), None)
    dimensions = DIMENSIONS if scope.team is None else ("category", "period")
    dimension = args.get("indeling") if args.get("indeling") in dimensions else dimensions[0]
    period = args.get("periode") if args.get("periode") in PERIODS else "month"
    districts = districts_of(db(), scope.municipality_id) if scope.team is None else []
    categories = cost_categories_of(db(), scope.municipality_id)
    teams = teams_of_municipality(db(), scope.municipality_id) if scope.team is None else []

    def chosen(name, rows):
        value = parse_id(args.get(name, ""))
        return value if value in {row.id for row in rows} else None
    return {"years": years, "year": year, "budget_year": chosen_year, "dimensions": dimensions,
            "dimension": dimension, "period": period, "districts": districts, "categories": categories, "teams": teams,
            "district_id": chosen("stadsdeel", districts), "category_id": chosen("kostensoort", categories),
            "team_id": scope.team.id if scope.team else chosen("team", teams)}


def _narrowed(choice) -> dict:
    return {"district_id": choice["district_id"], "category_id": choice["category_id"], "team_id": choice["team_id"]}


def _year(choice):
    """The budget year as _filters read it, once for every table of the page (its number when the
    municipality has no such year: the tables are empty)."""
    return choice["budget_year"] or choice["year"]


def _report(scope, choice):
    return report(db(), scope.municipality_id, _year(choice), choice["dimension"], choice["period"],
                  language=language(), **_narrowed(choice))


def _cross(scope, choice):
    """(rows dimension, column labels, lines): districts × cost categories, or a team's periods × categories."""
    rows_by = "district" if scope.team is None else "period"
    row_labels, column_labels, counts, hidden = cross_table(
        db(), scope.municipality_id, _year(choice), rows_by, "category", choice["period"], language=language(),
        **_narrowed(choice))
    return (rows_by, *cross_table_shown(row_labels, column_labels, counts, hidden))


def _avoided(scope, choice) -> AvoidedTotals:
    budget_year = choice["budget_year"]
    return avoided_cost_totals(db(), scope.municipality_id, budget_year.id if budget_year else None,
                               **_narrowed(choice))


def _label(label: str) -> str:
    return str(_("Totaal")) if label == TOTAL else label


def _render(scope: Scope):
    choice = _filters(scope)
    args = {name: request.args[name] for name in FILTERS if request.args.get(name)}
    urls = {"page": scope.url("page"), "chart": scope.url("chart", **args), "xlsx": scope.url("xlsx", **args),
            **{f"csv_{table}": scope.url("csv", **args, **({"tabel": table} if table != "cijfers" else {}))
               for table in TABLES}}
    rows_by, cross_columns, cross_lines = _cross(scope, choice)
    return render_template(
        "reports/overview.html", scope=scope, team=scope.team, choice=choice,
        table=report_table(_report(scope, choice)), columns=COLUMNS, column_labels=COLUMN_LABELS,
        dimension_labels=DIMENSION_LABELS, period_labels=PERIOD_LABELS, suppressed=SUPPRESSED, hidden=HIDDEN,
        total=TOTAL, urls=urls, cross_rows_by=rows_by, cross_columns=cross_columns, cross_lines=cross_lines,
        avoided=_avoided(scope, choice),
        underspend=underspend(db(), scope.municipality_id, _year(choice), choice["team_id"]))


def chart_svg(table: list, title: str) -> str:
    """The requests per group of a report_table as a horizontal bar chart (SVG); a suppressed group shows
    "< 5" and no bar."""
    bars = [(label, values[0]) for label, values in table if label != TOTAL]
    largest = max([value for _label, value in bars if isinstance(value, int)] or [1]) or 1
    return render_template("reports/chart.svg", bars=bars, largest=largest, title=title)


def _chart(scope: Scope):
    """The scope's requests per group as an SVG answer."""
    choice = _filters(scope)
    body = chart_svg(report_table(_report(scope, choice)),
                     _("Aanvragen per %(what)s", what=str(DIMENSION_LABELS[choice["dimension"]]).lower()))
    return Response(body, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


def _csv_cell(value, kind):
    """A CSV cell: text that a spreadsheet cannot read as a formula (models.exports.safe_text), cents as euros
    with two decimals (without a float), shares as fractions, none empty. (XLSX writes text as text.)"""
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    return euros(value) if kind == "cents" else value


def _tables(scope: Scope, choice, only: str | None = None) -> list[tuple[str, list, list[tuple[list, list]]]]:
    """The downloadable tables as (sheet name, header, rows), a row being (cells, kind of each cell): the
    figures, the cross table and the avoided costs; or only the one named."""
    found = []
    if only in (None, "cijfers"):
        rows = [([_label(label)] + values, ["text"] + [kind for _name, kind in COLUMNS])
                for label, values in report_table(_report(scope, choice))]
        found.append((_("Rapportage"), [str(DIMENSION_LABELS[choice["dimension"]])]
                      + [str(COLUMN_LABELS[name]) for name, _kind in COLUMNS], rows))
    if only in (None, "kruistabel"):
        rows_by, columns, lines = _cross(scope, choice)
        rows = [([_label(label)] + values, ["text"] + ["count"] * len(values)) for label, values in lines]
        found.append((_("Kruistabel"), [f"{DIMENSION_LABELS[rows_by]} / {DIMENSION_LABELS['category']}"]
                      + [_label(column) for column in columns], rows))
    if only in (None, "rendement"):
        result = _avoided(scope, choice)
        kinds = ["text", "text"] + [kind for _label_, kind in AVOIDED_COLUMNS]
        lines = [(str(_("Stadsdeel")), row) for row in (result.by_district if scope.team is None else [])]
        lines += [(str(_("Team")), row) for row in result.by_team]
        lines += [(str(_("Totaal")), result.total)] if scope.team is None else []
        rows = [([kind, row.name] + avoided_shown(row), kinds) for kind, row in lines]
        found.append((_("Voorkomen kosten"), [str(_("Soort")), str(_("Naam"))]
                      + [str(label) for label, _kind in AVOIDED_COLUMNS], rows))
    return found


def _download(body: bytes, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _csv(scope: Scope):
    """One table as CSV (semicolons, as Dutch spreadsheets expect; decimal points): the figures, or with
    ?tabel=kruistabel the cross table, ?tabel=rendement the avoided costs."""
    choice = _filters(scope)
    wanted = request.args.get("tabel") if request.args.get("tabel") in TABLES else "cijfers"
    [(_sheet, header, rows)] = _tables(scope, choice, wanted)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([safe_text(text) for text in header])
    for cells, kinds in rows:
        writer.writerow([_csv_cell(value, kind) for value, kind in zip(cells, kinds)])
    suffix = "" if wanted == "cijfers" else f"-{wanted}"
    name = f"rapportage-{scope.team.id}-{choice['year']}{suffix}.csv" if scope.team else \
        f"rapportage-{choice['year']}{suffix}.csv"
    return _download(out.getvalue().encode("utf-8-sig"), "text/csv; charset=utf-8", name)


def _xlsx(scope: Scope):
    """The three tables as sheets of one XLSX workbook: numbers as numbers, "< 5" as text."""
    import xlsxwriter
    choice = _filters(scope)
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_numbers": False,
                                         "strings_to_urls": False})
    workbook.set_properties({"title": f"{_('Rapportage')} {choice['year']}"})
    bold = workbook.add_format({"bold": True})
    formats = {"cents": workbook.add_format({"num_format": "#,##0.00"}),
               "share": workbook.add_format({"num_format": "0%"}), "hours": workbook.add_format({"num_format": "0.0"}),
               "count": None, "text": None}
    for name, header, rows in _tables(scope, choice):
        sheet = workbook.add_worksheet(str(name))
        for column, text in enumerate(header):
            sheet.write_string(0, column, text, bold)
        for row, (cells, kinds) in enumerate(rows, 1):
            for column, (value, kind) in enumerate(zip(cells, kinds)):
                if isinstance(value, str):
                    sheet.write_string(row, column, value)
                elif value is not None:
                    sheet.write_number(row, column, value / 100 if kind == "cents" else value, formats[kind])
    workbook.close()
    name = f"rapportage-{scope.team.id}-{choice['year']}.xlsx" if scope.team else f"rapportage-{choice['year']}.xlsx"
    return _download(out.getvalue(), XLSX, name)


@bp.get("/beheer/rapportage")
def overview():
    """The figures as a table, the chart of the requests beside it, the cross table, avoided costs, downloads."""
    return _render(_municipality_scope())


@bp.get("/beheer/rapportage/grafiek.svg")
def chart():
    """The municipality's requests per group as a bar chart."""
    return _chart(_municipality_scope())


@bp.get("/beheer/rapportage/rapportage.csv")
def download_csv():
    """The municipality's figures, cross table or avoided costs as CSV."""
    return _csv(_municipality_scope())


@bp.get("/beheer/rapportage/rapportage.xlsx")
def download_xlsx():
    """The municipality's tables as an XLSX workbook."""
    return _xlsx(_municipality_scope())


@bp.get("/teams/<int:team_id>/rapportage")
def team_page(team_id):
    """The report of one team only, for its team leader."""
    return _render(_team_scope(team_id))


@bp.get("/teams/<int:team_id>/rapportage/grafiek.svg")
def team_chart(team_id):
    """The team's requests per group as a bar chart."""
    return _chart(_team_scope(team_id))


@bp.get("/teams/<int:team_id>/rapportage/rapportage.csv")
def team_csv(team_id):
    """The team's figures, cross table or avoided costs as CSV."""
    return _csv(_team_scope(team_id))


@bp.get("/teams/<int:team_id>/rapportage/rapportage.xlsx")
def team_xlsx(team_id):
    """The team's tables as an XLSX workbook."""
    return _xlsx(_team_scope(team_id))


@bp.get("/teams/<int:team_id>/deelname")
def participation(team_id):
    """Votes per member (counts only), time to decision and unspent budget of the team's current year."""
    scope = _team_scope(team_id)
    year = today().year
    result = report(db(), scope.municipality_id, year, "team", team_id=scope.team.id)
    unspent = underspend(db(), scope.municipality_id, year, scope.team.id)
    return render_template("reports/participation.html", team=scope.team, year=year,
                           votes=team_participation(db(), scope.team, year, scope.municipality_id),
                           figures=result.total, unspent=unspent[0] if unspent else None)
