"""Ask an expert (issue 13 §3): members offer their knowledge of a topic; a team asks them about a request.

URL table (signed in; an active member of a team of their own municipality, anyone else 403; another
member's topic 404):
  GET  /experts                                          the questions put to me, my topics (add, remove),
                                                         and the municipality's experts per topic
  POST /experts/onderwerpen                              list myself for a topic (topic)
  POST /experts/onderwerpen/<topic_id>/weghalen          no longer list myself for it
(signed in, active member of the team; anyone else 404; a draft 404:)
  POST /teams/<team_id>/aanvragen/<request_id>/experts   ask an expert about the request (expert_id, topic);
                                                         the request page's panel "Vraag een expert"

The asked expert then reads the request page and joins its discussion (web/requests.py EXPERT_READS,
web/access.py load_request_for_reader); the push that tells them is web/push_texts.py's.
"""
from flask import Blueprint, abort, g, render_template, request, url_for
from flask_babel import gettext as _

from models.db import begin_write
from models.experts import (ask_expert, experts_of, is_active_in_municipality, list_topic, questions_to,
                            topics_of, topics_to_pick, unlist_topic)
from models.tips import ExpertTopic
from web.access import load_posted_request, signed_in_member
from web.database import db
from web.request_page import request_page
from web.respond import refusal_shows, respond

bp = Blueprint("experts", __name__)


@bp.url_value_preprocessor
def load(_endpoint, values):
    """For asking: the team, membership and posted request. Otherwise a member of a team of their own
    municipality, and their own topic in the URL; POSTs hold the write lock."""
    if "request_id" in values:
        load_posted_request(values)
        return
    member = signed_in_member()
    if request.method == "POST":
        begin_write(db())
    if not is_active_in_municipality(db(), member, member.municipality_id):
        abort(403)
    g.member = member
    if "topic_id" in values:
        g.topic = db().get(ExpertTopic, values.pop("topic_id"))
        if g.topic is None or g.topic.member_id != member.id:
            abort(404)


def _page(status=200, errors=None, topic=""):
    municipality_id = g.member.municipality_id
    return render_template("experts/index.html", questions=questions_to(db(), g.member),
                           mine=topics_of(db(), g.member.id), experts=experts_of(db(), municipality_id),
                           to_pick=topics_to_pick(db(), municipality_id), errors=errors or {}, topic=topic), status


@bp.get("/experts")
def index():
    """The questions put to me, my topics, and the municipality's experts."""
    return _page()


@bp.post("/experts/onderwerpen")
@refusal_shows(lambda violation: _page(422, {violation.field or "topic": violation.message},
                                       topic=request.form.get("topic", "")[:100]))
def add_topic():
    """List myself as an expert on a topic."""
    list_topic(db(), g.member, request.form.get("topic", ""))
    return respond(json={"ok": True}, back=url_for("experts.index", bewaard=1))


@bp.post("/experts/onderwerpen/<int:topic_id>/weghalen")
@refusal_shows(lambda violation: _page(403, {"form": violation.message}))
def remove_topic():
    """No longer list myself on a topic."""
    unlist_topic(db(), g.topic, g.member)
    return respond(json={"ok": True}, back=url_for("experts.index"))


def _panel(status=200, **extra):
    page = url_for("requests.show", team_id=g.team.id, request_id=g.spend_request.id)
    return request_page("experts/_ask.html", status, json={"redirect": page}, back=page + "#experts", **extra)


@bp.post("/teams/<int:team_id>/aanvragen/<int:request_id>/experts")
@refusal_shows(lambda violation: _panel(422, ask_error=violation.message))
def ask():
    """Ask an expert about the request: they are told, and may read it and join its discussion."""
    question = ask_expert(db(), g.spend_request, g.membership, request.form.get("expert_id"),
                          request.form.get("topic", "")[:100])
    return _panel(ask_notice=_("%(topic)s: gevraagd. De expert krijgt een bericht en kan de aanvraag nu lezen.",
                               topic=question.topic))
