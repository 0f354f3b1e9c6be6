"""Requests of a team: drafting and posting, the request page, votes, stops and the discussion.

URL table (signed in, active member of the team; a draft is visible to its requester only):
  GET  /teams/<team_id>/aanvragen/nieuw                      new request form
  GET  /teams/<team_id>/aanvragen/alternatieven              the other provisions of a cost category (partial)
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

An expert asked about a posted request (models.experts, web/experts.py) also reads its page and live part
and adds to its discussion (EXPERT_READS); nothing else here, and never a draft.

Every POST starts with the write lock (models.db.begin_write) and the money lock
(models.ledger.lock_for_money), so a vote, the decision it causes and the ledger entry land together
or not at all. Saving a draft, voting and commenting are also sent from the phone's outbox with a
UUID (web/outbox.py): then they answer JSON, are applied exactly once, and a draft is saved and
posted in one transaction, so a refused post leaves nothing half-done.
"""
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user

from models.audit import team_version
from models.avoided_costs import LIKELIHOODS, choose_scenarios, offered_scenarios, picks_of_request
from models.db import begin_write
from models.decisions import decide
from models.ledger import lock_for_money
from models.money import parse_amount
from models.catalogue import provisions_by_category, provisions_for_category
from models.privacy import PersonalDataFound
from models.request_page import category_of
from models.requests import (
    DraftInput, RequestStatus, add_comment, may_request, post_request,
    save_draft, withdraw_request)
from models.teams import active_cost_categories, municipality_of_team
from models.votes import cast_vote, is_voting_member, lift_stop, place_stop
from web.access import load_request_for_reader, load_request_of_team, load_team_of_member, signed_in_member
from web.database import db
from web.i18n import amount_input
from web.live import not_modified, with_etag
from web.outbox import client_operation, in_operation
from web.request_page import request_page, request_page_context
from web.respond import refusal_shows, respond

bp = Blueprint("requests", __name__, url_prefix="/teams/<int:team_id>/aanvragen")
#: what an expert asked about a request may do on its page: read it, follow it live, join the discussion
EXPERT_READS = {"requests.show", "requests.live", "requests.comment"}


@bp.url_value_preprocessor
def load_request(_endpoint, values):
    """The team and membership, the request in the URL (only in this team), and for POSTs the write lock
    and the money lock, taken before the request is read, so what is read is current."""
    signed_in_member()  # first: loading the member may commit its own session bookkeeping
    if request.method == "POST":
        begin_write(db())
        lock_for_money(db(), values["team_id"])  # a team that is not the member's is refused just below
    if _endpoint in EXPERT_READS:  # an asked expert of the municipality passes too (models.experts)
        load_request_for_reader(values)
        return
    load_team_of_member(values)
    if "request_id" in values:
        load_request_of_team(values, own_drafts=True)


@bp.url_defaults
def keep_ids(_endpoint, values):
    """Links on a request page stay on that team and request."""
    if "team" in g and "team_id" not in values:
        values["team_id"] = g.team.id


def _categories():
    return active_cost_categories(db(), g.team)


def _errors_of(violation) -> dict:
    """Where a refusal of the form stands: beside each field with personal data, else beside its one field."""
    if isinstance(violation, PersonalDataFound):
        return violation.messages()
    return {violation.field or "form": violation.message}


def _render_form(draft_input=None, spend_request=None, status=200, errors=None, violation=None):
    categories = _categories()
    chosen = (draft_input.cost_category_id if draft_input else None) or (spend_request and spend_request.cost_category_id)
    category = next((c for c in categories if str(c.id) == str(chosen)), None)
    if draft_input is None and spend_request is not None:
        draft_input = DraftInput(amount=amount_input(spend_request.amount_cents),
                                 cost_category_id=spend_request.cost_category_id, situation=spend_request.situation,
                                 prevents=spend_request.prevents, alternatives_checked=spend_request.alternatives_checked,
                                 alternatives_note=spend_request.alternatives_note, kind=spend_request.kind,
                                 legitimacy=spend_request.legitimacy, own_contribution=spend_request.own_contribution,
                                 scenarios=picks_of_request(db(), spend_request.id))
    by_category = provisions_by_category(db(), categories)  # every category's, for the form offline too
    provisions = by_category.get(category.id, []) if category else []
    # names ticked on this draft that are no longer offered (archived, renamed) stay visible until unticked
    kept = [name for name in (spend_request.alternatives_checked if spend_request and category
                              and spend_request.cost_category_id == category.id else [])
            if name not in {p.name for p in provisions}]
    return render_template("requests/form.html", team=g.team, form=draft_input or DraftInput(),
                           spend_request=spend_request, categories=categories, provisions=provisions,
                           kept_names=kept, scenarios=offered_scenarios(db(), g.team, spend_request),
                           likelihoods=LIKELIHOODS, errors=errors or {},
                           refusal=violation if isinstance(violation, PersonalDataFound) else None,
                           provisions_by_category={"": [], **by_category}), status


def _posted_draft():
    form = request.form
    return DraftInput(amount=form.get("amount", ""), cost_category_id=form.get("cost_category_id") or None,
                      situation=form.get("situation", ""), prevents=form.get("prevents", ""),
                      legitimacy=form.get("legitimacy", ""), own_contribution=form.get("own_contribution", ""),
                      scenarios={name.removeprefix("scenario_"): value for name, value in form.items()
                                 if name.startswith("scenario_")},
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
    """The municipality's other provisions to tick for the chosen cost category (swapped into the form)."""
    category = next((c for c in _categories() if str(c.id) == request.args.get("cost_category_id")), None)
    return render_template("requests/_alternatives.html", provisions=provisions_for_category(db(), category),
                           form=DraftInput(cost_category_id=category and category.id,
                                           alternatives_checked=request.args.getlist("alternatives_checked")))


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
    """Save the draft, then post it when asked. From a plain form the draft is kept whatever posting says
    next; from the outbox both land in one transaction with its record, so a refused post leaves nothing."""
    draft_input = _posted_draft()
    shown = DraftInput(**{**vars(draft_input), "household_reference": ""})  # the reference is never sent back
    g.refusal_view = lambda violation: _render_form(shown, g.get("saved_draft") or existing, 422,
                                                    _errors_of(violation), violation)
    saved = save_draft(db(), g.team, g.membership, draft_input, request=existing,
                       household_secret=current_app.config["HOUSEHOLD_KEY_SECRET"])
    # before g.saved_draft: a refused pick rolls a new draft back, and the form must not point at it
    choose_scenarios(db(), saved, municipality_of_team(db(), g.team).id, draft_input.scenarios)
    g.saved_draft = saved
    if not in_operation():
        db().commit()
    if request.form.get("action") == "post":
        post_request(db(), saved, g.team, current_user.id)
    back = url_for("requests.show", request_id=saved.id,
                   **({"opgeslagen": 1} if saved.status == RequestStatus.DRAFT else {"verstuurd": 1}))
    return respond(json={"status": saved.status, "redirect": back}, back=back)


@bp.get("/<int:request_id>")
def show():
    """The request page; a draft opens in its form."""
    if g.spend_request.status == RequestStatus.DRAFT:
        return _render_form(spend_request=g.spend_request)
    context = _with_provisions(request_page_context(g.spend_request))
    return with_etag(render_template("requests/detail.html", **context), context["version"])


@bp.get("/<int:request_id>/live")
def live():
    """The status, votes, stop and budget effect, re-rendered only when the team changed; when the status
    differs from the one the page shows (`stand`), also the card, the receipts and the actions; else when
    the next step differs from the one it shows (`stap`: someone else moved the card on), that step."""
    version = team_version(db(), g.team.id)
    if not_modified(version):
        return "", 304
    context = _with_provisions(request_page_context(g.spend_request))
    return with_etag(render_template("requests/_live_answer.html", **context,
                                     status_changed=request.args.get("stand") != g.spend_request.status,
                                     step_changed=_step_changed(request.args.get("stap"), context["next_step"])),
                     version)


def _step_changed(shown: str | None, step: str | None) -> bool:
    """Whether the next step differs from the one the page shows (`stap`, empty: none); a page that does not
    say (one from before the step followed the poll) keeps its own until it reloads."""
    return shown is not None and (shown or None) != step


def _vote_provisions(can_vote: bool, category) -> list:
    """The municipality's provisions for the request's category, which a voter may name ("another provision
    fits"; any other name counts too)."""
    return provisions_for_category(db(), category) if can_vote else []


def _with_provisions(context: dict) -> dict:
    """The request page's context with the provisions its vote form offers."""
    return {**context, "provisions": _vote_provisions(context["can_vote"], context["category"])}


def _actions(status=200, **errors):
    """The request page's actions after a vote, stop or comment: the swipe card and the outbox get the
    outcome as JSON, a plain form goes back to the page, htmx gets the actions (with the message)."""
    message = next(iter(errors.values()), None)
    if in_operation():
        json = {"status": g.spend_request.status, "redirect": url_for("requests.show", request_id=g.spend_request.id)}
    else:
        json = {"status": g.spend_request.status, "error": str(message) if message else None}
    can_vote = g.spend_request.is_open and is_voting_member(g.membership, g.spend_request)
    return request_page("requests/_actions.html", status, json=json,
                        back=url_for("requests.show", request_id=g.spend_request.id), errors=errors,
                        provisions=_vote_provisions(can_vote, can_vote and category_of(db(), g.spend_request)))


def _actions_refused(default_field: str):
    """Refusals of an action are shown beside its field (or `default_field`) in the actions."""
    return refusal_shows(lambda violation: _actions(422, **{violation.field or default_field: violation.message}))


def _decide_after(action):
    """Run `action`, then let the rules decide, all under the money lock (`load_request`), committed once."""
    action()
    decide(db(), g.spend_request, g.team, actor_id=current_user.id)
    return _actions()


@bp.post("/<int:request_id>/stem")
@client_operation("vote")
@_actions_refused("vote")
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
@_actions_refused("vote")
def stop():
    """Place a stop: the request cannot be granted while it stands."""
    return _decide_after(lambda: place_stop(db(), g.spend_request, g.membership, request.form.get("stop_reason", "")))


@bp.post("/<int:request_id>/stop-opheffen")
@_actions_refused("vote")
def lift():
    """Lift the stop; the votes may then complete a decision."""
    return _decide_after(lambda: lift_stop(db(), g.spend_request, g.membership, request.form.get("stop_reason", "")))


@bp.post("/<int:request_id>/reacties")
@client_operation("comment")
@_actions_refused("body")
def comment():
    """Add a message to the discussion."""
    add_comment(db(), g.spend_request, g.membership, request.form.get("body", ""))
    return _actions()


@bp.post("/<int:request_id>/intrekken")
@_actions_refused("withdraw")
def withdraw():
    """The requester withdraws the request (or throws away the draft)."""
    withdraw_request(db(), g.spend_request, current_user.id)
    db().commit()
    return redirect(url_for("teams.home"), code=303)
