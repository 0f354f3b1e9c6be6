"""The accountant's exports: the ledger journal of a budget year (models/exports.py).

URL table (signed in as coordinator; a budget year of another municipality is 404):
  GET  /beheer/budgetjaren/<budget_year_id>/journaal.csv    the journal as CSV, one row per posting
  GET  /beheer/budgetjaren/<budget_year_id>/journaal.xlsx   the same as an Excel workbook

Downloads only: nothing is written, and the answer is never stored by a browser or proxy (no-store).
"""
import re

from flask import Blueprint, Response, g

from models.exports import journal_csv, journal_rows, journal_xlsx
from models.teams import BudgetYear, Municipality
from web.access import load_of_municipality, signed_in_coordinator
from web.database import db

bp = Blueprint("exports", __name__, url_prefix="/beheer/budgetjaren")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.url_value_preprocessor
def load_for_coordinator(_endpoint, values):
    """Only coordinators; the budget year in the URL must be of their municipality."""
    signed_in_coordinator()
    load_of_municipality(values if values is not None else {}, "budget_year_id", BudgetYear, "budget_year")


def _file_name(extension: str) -> str:
    """journaal-<municipality>-<year>.<extension>, in letters, digits and hyphens only."""
    name = db().get(Municipality, g.budget_year.municipality_id).name
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "gemeente"
    return f"journaal-{slug}-{g.budget_year.year}.{extension}"


def _download(body: bytes, mimetype: str, extension: str) -> Response:
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{_file_name(extension)}"', "Cache-Control": "no-store"})


@bp.get("/<int:budget_year_id>/journaal.csv")
def journal_csv_file():
    """The journal of the year as CSV."""
    return _download(journal_csv(journal_rows(db(), g.budget_year)), "text/csv; charset=utf-8", "csv")


@bp.get("/<int:budget_year_id>/journaal.xlsx")
def journal_xlsx_file():
    """The journal of the year as an XLSX workbook."""
    title = f"Journaal {g.budget_year.year}"
    return _download(journal_xlsx(journal_rows(db(), g.budget_year), title), XLSX, "xlsx")
