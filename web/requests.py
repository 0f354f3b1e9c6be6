"""Requests of a team: drafting and posting, the request page, votes, stops and the discussion.

URL table (signed in, active member of the team; a draft is visible to its requester only):
  GET  /teams/<team_id>/aanvragen/nieuw                      new request form
  GET  /teams/<team_id>/aanvragen/alternatieven              the alternatives of a cost category (partial)
  POST /teams/<team_id>/aanvragen                            save a new draft, or post it at once
  GET  /teams/<team_id>/aanvragen/<request_id>               the request page (a draft opens its form)
  POST /teams/<team_id>/aanvragen/<request_id>               save or post a draft
  GET  /teams/<team_id>/aanvragen/<request_id>/live          the live part of the request page (polled; ?stand=
                                                             the status shown, to resend what depends on it)
  POST /teams/<team_id>/aanvragen/<request_id>/stem          vote (or change the vote)
  POST /teams/<team_id>/aanvragen/<request_id>/stop          place a stop (income consultant)
  POST /teams/<team_id>/aanvragen/<request_id>/stop-opheffen lift the stop (income consultant)
  POST /teams/<team_id>/aanvragen/<request_id>/reacties      add to the discussion
  POST /teams/<team_id>/aanvragen/<request_id>/intrekken     withdraw (requester)

Every POST starts with the write lock (models.db.begin_write) and the money lock
(models.ledger.lock_for_money), so a vote, the decision it causes and the ledger entry land together
or not at all. Saving a draft, voting and commenting are also sent from the phone's outbox with a
UUID (web/outbox.py): then they answer JSON, are applied exactly once, and a draft is saved and
posted in one transaction, so a refused post leaves nothing half-done.
"""
from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import select

from models.audit import team_version, timeline
from models.db import begin_write
from models.decisions import decide
from models.inbox import balances
from models.ledger import lock_for_money
from models.members import Member
from models.money import cents_to_input, parse_amount
from models.requests import (
    ALTERNATIVES, DraftInput, RequestStatus, add_comment, comments_of, may_request, post_request,
    save_draft, withdraw_request)
from models.rules import RuleViolation
from models.teams import CostCategory, District
from models.votes import VoteChoice, cast_vote, is_voting_member, lift_stop, may_stop, place_stop, standing_stop, votes_on
from web.access import load_request_of_team, load_team_of_member, signed_in_member
from web.database import db
from web.htmx import render_page_or_partial, wants_partial
from web.live import not_modified, with_etag
from web.outbox import applied, client_operation, in_operation, refused

bp = Blueprint("requests", __name__, url_prefix="/teams/<int:team_id>/aanvragen")


@bp.url_value_preprocessor
def load_request(_endpoint, values):
    """The team and membership, the request in the URL (only in this team), and for POSTs the write lock
    and the money lock, taken before the request is read, so what is read is current."""
    signed_in_member()  # first: loading the member may commit its own session bookkeeping
    if request.method == "POST":
        begin_write(db())
        lock_for_money(db(), values["team_id"])  # a team that is not the member's is refused just below
    load_team_of_member(values)
    if "request_id" in values:
        load_request_of_team(values, own_drafts=True)


@bp.url_defaults
def keep_ids(_endpoint, values):
    """Links on a request page stay on that team and request."""
    if "team" in g and "team_id" not in values:
        values["team_id"] = g.team.id


def _categories():
    municipality_id = db().get(District, g.team.district_id).municipality_id
    return list(db().exec(select(CostCategory).where(CostCategory.municipality_id == municipality_id,
                                                     CostCategory.active).order_by(CostCategory.position)))


def _render_form(draft_input=None, spend_request=None, status=200, errors=None):
    categories = _categories()
    chosen = (draft_input.cost_category_id if draft_input else None) or (spend_request and spend_request.cost_category_id)
    category = next((c for c in categories if str(c.id) == str(chosen)), None)
    if draft_input is None and spend_request is not None:
        draft_input = DraftInput(amount=cents_to_input(spend_request.amount_cents),
                                 cost_category_id=spend_request.cost_category_id, situation=spend_request.situation,
                                 prevents=spend_request.prevents, alternatives_checked=spend_request.alternatives_checked,
                                 alternatives_note=spend_request.alternatives_note, kind=spend_request.kind)
    return render_template("requests/form.html", team=g.team, form=draft_input or DraftInput(),
                           spend_request=spend_request, categories=categories,
                           alternatives=ALTERNATIVES.get(category.code, []) if category else [],
                           errors=errors or {}), status


def _posted_draft():
    form = request.form
    return DraftInput(amount=form.get("amount", ""), cost_category_id=form.get("cost_category_id") or None,
                      situation=form.get("situation", ""), prevents=form.get("prevents", ""),
                      alternatives_checked=form.getlist("alternatives_checked"),
                      alternatives_note=form.get("alternatives_note", ""), kind=form.get("kind", "gift"),
                      household_reference=form.get("household_reference", ""))


@bp.get("/nieuw")
def new():
    """An empty request form."""
    if not may_request(g.membership):
        abort(403)
    return _render_form()


@bp.get("/alternatieven")
def alternatives():
    """The alternatives to tick for the chosen cost category (swapped into the form)."""
    category = next((c for c in _categories() if str(c.id) == request.args.get("cost_category_id")), None)
    return render_template("requests/_alternatives.html", alternatives=ALTERNATIVES.get(category.code, []) if category else [],
                           form=DraftInput(alternatives_checked=request.args.getlist("alternatives_checked")))


@bp.post("")
@client_operation("request")
def create():
    """Save a new draft, or post it straight away."""
    return _save(None)


@bp.post("/<int:request_id>")
@client_operation("request")
def update():
    """Save or post an existing draft."""
    return _save(g.spend_request)


def _save(existing):
    if in_operation():
        return _save_from_outbox(existing)
    draft_input = _posted_draft()
    draft_input.household_reference, reference = "", draft_input.household_reference  # never sent back
    try:
        saved = save_draft(db(), g.team, g.membership, DraftInput(**{**vars(draft_input), "household_reference": reference}),
                           request=existing, household_secret=current_app.config["HOUSEHOLD_KEY_SECRET"])
    except RuleViolation as violation:
        db().rollback()
        return _render_form(draft_input, existing, 422, {violation.field or "form": violation.message})
    db().commit()  # the draft is kept, whatever posting says next
    if request.form.get("action") == "post":
        try:
            post_request(db(), saved, g.team, current_user.id)
        except RuleViolation as violation:
            db().rollback()
            return _render_form(draft_input, saved, 422, {violation.field or "form": violation.message})
        db().commit()
        return redirect(url_for("requests.show", request_id=saved.id), code=303)
    return redirect(url_for("requests.show", request_id=saved.id, opgeslagen=1), code=303)


def _save_from_outbox(existing):
    """A draft from the outbox: saved, and posted when asked, in one transaction with its record."""
    try:
        saved = save_draft(db(), g.team, g.membership, _posted_draft(), request=existing,
                           household_secret=current_app.config["HOUSEHOLD_KEY_SECRET"])
        if request.form.get("action") == "post":
            post_request(db(), saved, g.team, current_user.id)
    except RuleViolation as violation:
        return refused(violation)
    saved_only = {"opgeslagen": 1} if saved.status == RequestStatus.DRAFT else {}
    return applied({"status": saved.status, "redirect": url_for("requests.show", request_id=saved.id, **saved_only)})


def request_page_context(spend_request):
    """What templates/requests/detail.html shows of a request (also re-rendered by web/receipts.py)."""
    money = balances(db(), g.team.id, spend_request.budget_year_id) if spend_request.budget_year_id else None
    votes = votes_on(db(), spend_request.id)
    comments = comments_of(db(), spend_request.id)
    events = timeline(db(), spend_request.id)
    member_ids = {spend_request.requester_id} | {v.member_id for v in votes} | {c.member_id for c in comments} \
        | {e.actor_id for e in events if e.actor_id}
    names = dict(db().exec(select(Member.id, Member.display_name).where(Member.id.in_(member_ids))).all())
    return {"team": g.team, "req": spend_request, "category": db().get(CostCategory, spend_request.cost_category_id)
            if spend_request.cost_category_id else None, "money": money, "votes": votes, "comments": comments,
            "events": events, "names": names, "stop": standing_stop(db(), spend_request.id),
            "can_vote": spend_request.is_open and is_voting_member(g.membership, spend_request),
            "can_stop": spend_request.is_open and may_stop(g.membership, spend_request),
            "my_vote": next((v for v in votes if v.member_id == current_user.id), None),
            "version": team_version(db(), g.team.id), "choices": VoteChoice}


@bp.get("/<int:request_id>")
def show():
    """The request page; a draft opens in its form."""
    if g.spend_request.status == RequestStatus.DRAFT:
        return _render_form(spend_request=g.spend_request)
    context = request_page_context(g.spend_request)
    return with_etag(render_template("requests/detail.html", **context), context["version"])


@bp.get("/<int:request_id>/live")
def live():
    """The status, votes, stop and budget effect, re-rendered only when the team changed; when the status
    differs from the one the page shows (`stand`), also the card, the receipts and the actions."""
    version = team_version(db(), g.team.id)
    if not_modified(version):
        return "", 304
    return with_etag(render_template("requests/_live_answer.html", **request_page_context(g.spend_request),
                                     status_changed=request.args.get("stand") != g.spend_request.status), version)


def request_page_or_part(part: str, status: int, **extra):
    """An htmx swap gets only `part` of the request page (a part that needs only `req`); a plain form the
    whole page, with `extra` (a message beside its field) in it."""
    context = {"req": g.spend_request} if wants_partial() else request_page_context(g.spend_request)
    return render_page_or_partial("requests/detail.html", part, status, **context, **extra)


def _after_action(status=200, **errors):
    if request.accept_mimetypes.best == "application/json":  # the swipe card only needs the outcome
        message = next(iter(errors.values()), None)
        return jsonify(status=g.spend_request.status, error=str(message) if message else None), status
    if status == 200 and not wants_partial():
        return redirect(url_for("requests.show", request_id=g.spend_request.id), code=303)
    return render_page_or_partial("requests/detail.html", "requests/_actions.html", status, errors=errors,
                                  **request_page_context(g.spend_request))


def _decide_after(action):
    """Run `action`, then let the rules decide, all under the money lock (`load_request`), committed once."""
    try:
        action()
        decide(db(), g.spend_request, g.team, actor_id=current_user.id)
    except RuleViolation as violation:
        if in_operation():
            return refused(violation)
        db().rollback()
        db().refresh(g.spend_request)
        return _after_action(422, **{violation.field or "vote": violation.message})
    if in_operation():
        return applied(_outcome())
    db().commit()
    return _after_action()


def _outcome():
    """What the outbox is told after a vote or comment took effect."""
    return {"status": g.spend_request.status, "redirect": url_for("requests.show", request_id=g.spend_request.id)}


@bp.post("/<int:request_id>/stem")
@client_operation("vote")
def vote():
    """Vote, or change the vote, and decide if that completes a quorum."""
    form = request.form

    def cast():
        amount = parse_amount(form.get("amount")) if form.get("choice") in ("approve_lower", "loan") \
            and (form.get("amount") or "").strip() else None
        cast_vote(db(), g.spend_request, g.membership, form.get("choice", ""), amount_cents=amount,
                  alternative_name=form.get("alternative_name"), reason=form.get("reason", ""))
    return _decide_after(cast)


@bp.post("/<int:request_id>/stop")
def stop():
    """Place a stop: the request cannot be granted while it stands."""
    return _decide_after(lambda: place_stop(db(), g.spend_request, g.membership, request.form.get("stop_reason", "")))


@bp.post("/<int:request_id>/stop-opheffen")
def lift():
    """Lift the stop; the votes may then complete a decision."""
    return _decide_after(lambda: lift_stop(db(), g.spend_request, g.membership, request.form.get("stop_reason", "")))


@bp.post("/<int:request_id>/reacties")
@client_operation("comment")
def comment():
    """Add a message to the discussion."""
    try:
        add_comment(db(), g.spend_request, g.membership, request.form.get("body", ""))
    except RuleViolation as violation:
        if in_operation():
            return refused(violation)
        db().rollback()
        return _after_action(422, body=violation.message)
    if in_operation():
        return applied(_outcome())
    db().commit()
    return _after_action()


@bp.post("/<int:request_id>/intrekken")
def withdraw():
    """The requester withdraws the request (or throws away the draft)."""
    try:
        withdraw_request(db(), g.spend_request, current_user.id)
    except RuleViolation as violation:
        db().rollback()
        return _after_action(422, withdraw=violation.message)
    db().commit()
    return redirect(url_for("teams.home"), code=303)
