"""The municipality's year report as a PDF (issue 13 §1): the report page's own figures, printed.

URL table (signed in as coordinator, or administrator in the municipality they chose; team roles 403):
  GET  /beheer/rapportage/jaarverslag.pdf?jaar=2026   the year's figures: the municipality's totals, per
                                                       district and per cost category, the district × cost
                                                       category table, underspend per team and the chart

Every figure comes from models.reports as the page reads it (report_table, cross_table_shown), so a cell of
fewer than 5 requests shows "< 5" and no amount here too. The PDF is rendered by WeasyPrint from
templates/reports/year_report.html, tagged for accessibility (PDF/UA-1: structure tags, the document's
language and title), with system fonts; it fetches nothing from outside (`_local_only`), and the chart is
embedded as a data: URL.
"""
import base64

from flask import Blueprint, Response, abort, g, render_template, request
from flask_babel import gettext as _

from models.bounds import parse_id
from models.budget_years import years_of
from models.clock import today
from models.reports import (
    COLUMNS, HIDDEN, SUPPRESSED, TOTAL, cross_table, cross_table_shown, report, report_table, report_year,
    underspend)
from models.teams import Municipality
from web.access import signed_in_coordinator
from web.database import db
from web.i18n import html_lang, language
from web.reports import COLUMN_LABELS, chart_svg

bp = Blueprint("year_report", __name__)


def _local_only():
    """WeasyPrint's URL fetcher for a year report: data: URLs (the chart) only, nothing from outside."""
    from weasyprint.urls import URLFetcher
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


def _year() -> int:
    """The asked ?jaar= if the municipality has that budget year, else this year's or its newest."""
    years = [budget_year.year for budget_year in years_of(db(), g.municipality_id)]
    return report_year(years, parse_id(request.args.get("jaar", "")), today().year)


def _chart(table: list, title: str) -> str:
    """The requests per district as the report page's SVG chart, as a data: URL."""
    return "data:image/svg+xml;base64," + base64.b64encode(chart_svg(table, title).encode()).decode()


@bp.get("/beheer/rapportage/jaarverslag.pdf")
def pdf():
    """The year report of the coordinator's municipality as a tagged PDF download."""
    from weasyprint import HTML
    signed_in_coordinator()
    year, lang = _year(), language()
    municipality = db().get(Municipality, g.municipality_id)
    districts = report_table(report(db(), g.municipality_id, year, "district", language=lang))
    title = _("Jaarverslag %(year)s van %(municipality)s", year=year, municipality=municipality.name)
    html = render_template(
        "reports/year_report.html", title=title, year=year, municipality=municipality, lang=html_lang(),
        districts=districts, categories=report_table(report(db(), g.municipality_id, year, "category", language=lang)),
        cross=cross_table_shown(*cross_table(db(), g.municipality_id, year, "district", "category", language=lang)),
        underspend=underspend(db(), g.municipality_id, year), columns=COLUMNS, column_labels=COLUMN_LABELS,
        chart=_chart(districts, _("Aanvragen per stadsdeel")), suppressed=SUPPRESSED, hidden=HIDDEN, total=TOTAL)
    body = HTML(string=html, url_fetcher=_local_only()).write_pdf(pdf_variant="pdf/ua-1")
    if not body:
        abort(500)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="jaarverslag-{year}.pdf"', "Cache-Control": "no-store"})
