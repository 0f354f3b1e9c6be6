"""The coordinator's reconciliation queue (issue 12 §3): what the bank showed that needs a look, resolved one
by one with a note, and the municipality's own merchant rules per cost category.

URL table (signed in as coordinator, or administrator in the municipality they chose; objects of another
municipality are 404):
  GET  /beheer/bank/controle                         the open flags, newest first, each with its form; the last resolved
  POST /beheer/bank/controle/<flag_id>               resolve a flag: accepted, asked_worker or linked (+ note)
  GET  /beheer/bank/winkels                          per cost category: the default and our own shops (MCC, words)
  POST /beheer/bank/winkels                          add a rule (category_id, kind, value)
  POST /beheer/bank/winkels/<rule_id>/verwijderen    remove one of our own rules

The queue's GET only reads. Lines are matched as they are imported and again when a batch is marked executed;
transfers no statement showed in time are flagged by `flask --app web check-bank` (cron, daily), which also
matches again what is still unmatched (`models.reconciliation.reconcile`). Every POST holds the write lock and
the municipality's lock before it reads; a refusal draws the page again, 422, with the message beside the form it
belongs to, or on top when that form is gone (a flag resolved meanwhile) (web/respond.py).
"""
from datetime import date

from flask import Blueprint, flash, g, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from models.bank_review import NOTE_MAX, link_choices, parse_link, resolve_flag, resolved_flags
from models.bounds import parse_id
from models.catalogue import cost_categories_of
from models.db import begin_write
from models.ledger import lock_municipality
from models.reconciliation import (
    DEFAULT_KEYWORDS, DEFAULT_MCCS, BankFlag, MerchantRule, add_merchant_rule, merchant_rules, open_flags,
    remove_merchant_rule)
from web.access import load_of_municipality, signed_in_coordinator
from web.database import db
from web.i18n import category_name, format_cents, format_day
from web.respond import refusal_shows, respond

bp = Blueprint("reconciliation", __name__, url_prefix="/beheer/bank")

#: how many resolved flags the queue lists below the open ones
RESOLVED_SHOWN = 50
#: why a line was flagged, in plain words (models.reconciliation's reasons)
REASON_LABELS = {
    "cash": _l("Geld opgenomen bij een geldautomaat"),
    "purpose": _l("De winkel past niet bij de soort uitgave"),
    "overspent": _l("Meer uitgegeven dan toegekend"),
    "after_settled": _l("Uitgegeven nadat de kaart was afgerekend"),
    "unmatched": _l("De app herkent deze regel niet"),
    "not_seen": _l("Overboeking staat na 5 werkdagen nog niet op een afschrift"),
}
#: how a flag was resolved, in plain words
RESOLUTION_LABELS = {
    "accepted": _l("Goedgekeurd"),
    "asked_worker": _l("Vraag gesteld aan de medewerker"),
    "linked": _l("Zelf gekoppeld"),
}
#: what the check saw (BankFlag.detail, models.reconciliation), in plain words; other keys are not shown
DETAIL_LABELS = {
    "amount_cents": _l("Bedrag"),
    "mcc": _l("Soort winkel (MCC)"),
    "code": _l("Code van de bank"),
    "category": _l("Soort uitgave van de aanvraag"),
    "by": _l("Beoordeeld op"),
    "loaded_cents": _l("Op de kaart gezet"),
    "spent_cents": _l("Uitgegeven volgens de bank"),
    "settled_on": _l("Kaart afgerekend op"),
    "booked_on": _l("Geboekt op"),
    "batch_id": _l("Opdracht"),
    "kind": _l("Soort overboeking"),
    "executed_on": _l("Uitgevoerd op"),
    "due_on": _l("Verwacht uiterlijk"),
    "hint": _l("Let op"),
    "double_of": _l("Misschien dubbel betaald"),
}
#: values in a flag's detail that are codes, in plain words
DETAIL_VALUES = {
    ("by", "mcc"): _l("de soort winkel (MCC)"), ("by", "keywords"): _l("woorden in de naam van de winkel"),
    ("kind", "top_up"): _l("bijstorting op de teamrekening"), ("kind", "load"): _l("lading van een kaart"),
    ("hint", "bank_costs"): _l("kosten of rente van de bank"),
}
#: the kinds of a merchant rule
KIND_LABELS = {"mcc": _l("Soort winkel (MCC, vier cijfers)"), "keyword": _l("Woord in de naam of omschrijving")}


@bp.url_value_preprocessor
def load_for_coordinator(_endpoint, values):
    """Only coordinators (and administrators); a flag or rule in the URL must be of their municipality; POSTs
    hold the write lock and the municipality's lock before anything is read."""
    signed_in_coordinator()
    if request.method == "POST":
        begin_write(db())
        lock_municipality(db(), g.municipality_id)
    values = values if values is not None else {}
    load_of_municipality(values, "flag_id", BankFlag, "flag")
    load_of_municipality(values, "rule_id", MerchantRule, "rule")


@bp.app_template_filter("flag_details")
def flag_details(detail: dict, categories: dict) -> list[tuple[str, str]]:
    """(label, text) for what the check saw, in the order of DETAIL_LABELS, empty values left out;
    `categories` are the municipality's cost categories by code."""
    rows = []
    for key, label in DETAIL_LABELS.items():
        value = detail.get(key)
        if value in (None, ""):
            continue
        if key.endswith("_cents") and isinstance(value, int):
            text = format_cents(value)
        elif key.endswith("_on") and isinstance(value, str):
            text = _day(value)
        elif key == "category" and value in categories:
            text = category_name(categories[value])
        elif key == "double_of":
            text = _("ja")
        else:
            text = str(DETAIL_VALUES.get((key, value), value))
        rows.append((str(label), text[:80]))
    return rows


@bp.app_template_filter("resolution_note")
def resolution_note(flag: BankFlag) -> str:
    """What a resolved flag's note says: the coordinator's words, or for a flag that resolved itself
    (models.reconciliation) that the statement showed it, in the reader's language."""
    if flag.resolved_by_id is None and flag.detail.get("seen_on"):
        return _("Automatisch: het bankafschrift toont dit op %(day)s.", day=_day(flag.detail["seen_on"]))
    return flag.resolution_note


def _day(iso: str) -> str:
    try:
        return format_day(date.fromisoformat(iso))
    except ValueError:
        return iso


@bp.app_context_processor
def reconciliation_labels():
    """The queue's words, for its templates."""
    return {"flag_reason_labels": REASON_LABELS, "flag_resolution_labels": RESOLUTION_LABELS}


# --- the queue ---

def _render_queue(status=200, errors=None, failed_flag_id=None, values=None):
    items, errors = open_flags(db(), g.municipality_id), errors or {}
    # a refusal for a flag no longer open (resolved meanwhile) has no form to stand beside: it goes on top
    stray = next(iter(errors.values())) if errors and failed_flag_id not in {item.flag.id for item in items} else None
    return render_template(
        "reconciliation/queue.html", items=items, resolved=resolved_flags(db(), g.municipality_id, RESOLVED_SHOWN),
        choices=link_choices(db(), {item.flag.team_id for item in items}), errors=errors, stray_error=stray,
        categories={category.code: category for category in cost_categories_of(db(), g.municipality_id)},
        failed_flag_id=failed_flag_id, values=values or {}, note_max=NOTE_MAX), status


@bp.get("/controle")
def queue():
    """The open flags, newest first, each with what the bank showed and a form to resolve it."""
    return _render_queue()



@bp.post("/controle/<int:flag_id>")
@refusal_shows(lambda violation: _render_queue(422, {violation.field or "resolution": violation.message},
                                               g.flag.id, request.form))
def resolve():
    """Resolve one flag with a note: accepted, asked the worker, or linked by hand."""
    resolve_flag(db(), g.flag, request.form.get("resolution", ""), request.form.get("note"),
                 actor_id=g.current_member.id, link=parse_link(db(), request.form.get("link")))
    flash(_("De melding is afgehandeld."), "info")
    return respond(back=url_for("reconciliation.queue"))


# --- merchant rules ---

def _render_rules(status=200, errors=None, failed_category_id=None, values=None):
    categories = [category for category in cost_categories_of(db(), g.municipality_id) if category.active]
    errors = errors or {}
    # a refusal for no category of ours has no form to stand beside: it goes on top
    stray = next(iter(errors.values())) if errors and failed_category_id not in {c.id for c in categories} else None
    return render_template(
        "reconciliation/rules.html", categories=categories, own=_rules_by_category(),
        default_mccs=DEFAULT_MCCS, default_keywords=DEFAULT_KEYWORDS, kind_labels=KIND_LABELS, errors=errors,
        stray_error=stray, failed_category_id=failed_category_id, values=values or {}), status


def _rules_by_category() -> dict[int, list[MerchantRule]]:
    found = {}
    for rule in merchant_rules(db(), g.municipality_id):
        found.setdefault(rule.category_id, []).append(rule)
    return found


def _rules_refused():
    """A refusal draws the rules page again (422), the message beside the form of the category it was for."""
    return refusal_shows(lambda violation: _render_rules(
        422, {violation.field or "value": violation.message}, parse_id(request.form.get("category_id")),
        request.form))


@bp.get("/winkels")
def rules():
    """Per cost category: the shops that fit it by default and the municipality's own additions."""
    return _render_rules()


@bp.post("/winkels")
@_rules_refused()
def rule_add():
    """Add a merchant category code or a keyword to what fits a cost category."""
    category_id = parse_id(request.form.get("category_id")) or 0
    add_merchant_rule(db(), g.municipality_id, category_id, request.form.get("kind", ""), request.form.get("value"),
                      actor_id=g.current_member.id)
    flash(_("De regel is toegevoegd."), "info")
    return respond(back=url_for("reconciliation.rules") + f"#category-{category_id}")


@bp.post("/winkels/<int:rule_id>/verwijderen")
def rule_remove():
    """Remove one of the municipality's own rules (the defaults stay)."""
    category_id = g.rule.category_id
    remove_merchant_rule(db(), g.municipality_id, g.rule.id, actor_id=g.current_member.id)
    flash(_("De regel is verwijderd."), "info")
    return respond(back=url_for("reconciliation.rules") + f"#category-{category_id}")
