"""The ledger journal of one budget year of a municipality, for the accountant, as CSV and as XLSX.

Invariants:
- One row per posting into an account of the year, in entry order, read with one SQL query (postings,
  accounts, entries, teams, districts, and the entry's request with its cost category). An entry that
  moves money between two years (a carried-over grant) shows its postings of this year only, which
  balance by themselves; so the debits of a year's journal always equal its credits.
- A posting into an account (positive amount) is a debit, one out of it a credit; amounts are euros with
  two decimals, computed from integer cents without a float (CSV) and written as numbers (XLSX).
- No cell is ever read as a formula: in XLSX every text is written with `write_string` (the workbook
  never turns strings into formulas, numbers or links), and in CSV a text that starts with = + - @, a
  tab or a carriage return gets a leading apostrophe (OWASP, CSV injection).
- The texts are Dutch whatever the coordinator's language: the journal is the foundation's books.
"""
import csv
import io
from datetime import datetime

import xlsxwriter
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models.clock import local_date
from models.batches import load_reference
from models.ledger import Account, AccountKind, Entry, Posting
from models.requests import SpendRequest
from models.teams import BudgetYear, CostCategory, District, Team

COLUMNS = ["Boeking", "Datum", "Team", "Stadsdeel", "Soort uitgave", "Aanvraag", "Rekening", "Debet", "Credit",
           "Omschrijving"]
#: the accounts in the words of the foundation's books (models/ledger.py AccountKind)
ACCOUNT_NAMES = {
    AccountKind.FUNDING: "Financiering gemeente",
    AccountKind.AVAILABLE: "Beschikbaar budget",
    AccountKind.RESERVED: "Toegekend, nog niet overgemaakt",
    AccountKind.BANK: "Teamrekening",
    AccountKind.CARDS: "Op betaalpassen",
    AccountKind.SPENT: "Besteed",
    AccountKind.LENT: "Uitgeleend",
    AccountKind.CARRIED: "Overgedragen tussen jaren",
    AccountKind.REPAYMENTS: "Terugbetalingen",
    AccountKind.TO_MUNICIPALITY: "Terug naar de gemeente",
}
#: what a spreadsheet may read as the start of a formula (OWASP CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def journal_rows(session: Session, budget_year: BudgetYear):
    """The journal's rows, in entry and posting order: (entry id, date, team, district, cost category,
    request reference, account, debit cents, credit cents, memo)."""
    category = aliased(CostCategory)
    statement = (
        select(Entry.id, Entry.created_at, Team.id, Team.name, District.name, category.name_nl, Entry.request_id,
               Account.kind, Posting.amount_cents, Entry.memo)
        .select_from(Posting)
        .join(Account, Account.id == Posting.account_id)
        .join(Entry, Entry.id == Posting.entry_id)
        .join(Team, Team.id == Account.team_id)
        .join(District, District.id == Team.district_id)
        .outerjoin(SpendRequest, SpendRequest.id == Entry.request_id)
        .outerjoin(category, category.id == SpendRequest.cost_category_id)
        .where(Account.budget_year_id == budget_year.id)
        .order_by(Entry.id, Posting.id)
        .execution_options(yield_per=2_000)  # rows are fetched in batches, not all at once
    )
    for (entry_id, created_at, team_id, team, district, category_name, request_id, kind, amount,
         memo) in session.execute(statement):
        yield (entry_id, local_date(created_at), team, district, category_name or "",
               load_reference(team_id, request_id) if request_id else "", ACCOUNT_NAMES.get(kind, kind),
               max(amount, 0), max(-amount, 0), memo)


def safe_text(value: str) -> str:
    """Text a spreadsheet shows as it is: one that could start a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def euros(cents: int) -> str:
    """Cents as euros with two decimals and a point ("1234.50"), without a float."""
    return f"{cents // 100}.{cents % 100:02d}"


def journal_csv(rows) -> bytes:
    """The journal as CSV: UTF-8 with a byte order mark (so Excel reads é), comma-separated, ISO dates."""
    out = io.BytesIO()
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry_id, on, team, district, category, reference, account, debit, credit, memo in rows:
        writer.writerow([entry_id, on.isoformat(), safe_text(team), safe_text(district), safe_text(category),
                         safe_text(reference), safe_text(account), euros(debit), euros(credit), safe_text(memo)])
    body = out.getvalue()
    text.detach()
    return body


def journal_xlsx(rows, title: str) -> bytes:
    """The journal as one XLSX sheet: numbers as numbers (euros, two decimals), dates as dates, text as text."""
    out = io.BytesIO()
    # constant_memory: rows go to a temporary file as they are written, so a year of postings stays small
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    workbook.set_properties({"title": title})
    sheet = workbook.add_worksheet("Journaal")
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for first, last, width in ((1, 1, 11), (2, 6, 22), (7, 8, 12), (9, 9, 40)):
        sheet.set_column(first, last, width)
    sheet.freeze_panes(1, 0)
    for column, name in enumerate(COLUMNS):
        sheet.write_string(0, column, name, bold)
    row = 0
    for row, (entry_id, on, team, district, category, reference, account, debit, credit, memo) in enumerate(rows, 1):
        sheet.write_number(row, 0, entry_id)
        sheet.write_datetime(row, 1, datetime(on.year, on.month, on.day), day)
        for column, text in enumerate((team, district, category, reference, account), 2):
            sheet.write_string(row, column, text)
        sheet.write_number(row, 7, debit / 100, money)  # the double nearest the euros, as Excel keeps any amount
        sheet.write_number(row, 8, credit / 100, money)
        sheet.write_string(row, 9, memo)
    sheet.autofilter(0, 0, row, len(COLUMNS) - 1)
    workbook.close()
    return out.getvalue()
