"""Who hears of a committed outcome, and what the push message says to each device.

Invariants:
- A new request is told to every active member of its team but the requester; a decision, a
  coordinator's question about the bank (models.bank_review) and the question how a grant went
  (models.outcome_reviews), to the requester; a question to an expert (models.experts), to that expert; a
  reminder to the members
  the reminder was recorded for (models.subscriptions). Nobody else, and nothing when there is no one to tell.
- A message names the team, the amount and the cost category and links to the request; never the
  situation, a household or anyone's name. It is written in the language the device subscribed in.
"""
import json
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, gettext as _

from models.events import BankQuestion, ExpertAsked, RemindersDue, RequestDecided, RequestPosted, ReviewAsked
from models.members import colleagues_of
from models.requests import RequestStatus, SpendRequest
from models.subscriptions import subscriptions_of
from models.request_page import category_of
from models.teams import Team
from web.database import db
from web.i18n import LOCALES, category_name, format_cents


class NoticeKind:
    """What a notice is about."""

    POSTED = RequestPosted.kind      # a new request in my team
    REMINDER = RemindersDue.kind     # a request still waiting for my vote
    DECIDED = RequestDecided.kind    # the decision on my own request
    BANK_QUESTION = BankQuestion.kind  # the coordinator asks about what the bank showed for my request
    REVIEW = ReviewAsked.kind        # 30 days after a grant: how did it go?
    EXPERT = ExpertAsked.kind        # a team asks me, as an expert, about one of its requests


@dataclass(frozen=True)
class Notice:
    """A message to send about a request to these members."""

    kind: str
    request_id: int
    member_ids: tuple[int, ...]


def notices(session, outcomes) -> list[Notice]:
    """The notices that committed `outcomes` call for; an outcome with no one to tell gives none."""
    found = []
    for outcome in outcomes:
        if isinstance(outcome, RequestPosted):
            member_ids = colleagues_of(session, outcome.team_id, outcome.requester_id)
        elif isinstance(outcome, (RequestDecided, BankQuestion, ReviewAsked)):
            member_ids = [outcome.requester_id]
        elif isinstance(outcome, RemindersDue):
            member_ids = outcome.member_ids
        elif isinstance(outcome, ExpertAsked):
            member_ids = [outcome.expert_id]
        else:
            continue  # an outcome that no one is told about
        member_ids = tuple(sorted(set(member_ids)))
        if member_ids:
            found.append(Notice(outcome.kind, outcome.request_id, member_ids))
    return found


def messages(notice: Notice):
    """(subscription, JSON payload) for each device that should hear about `notice`."""
    devices = subscriptions_of(db(), notice.member_ids)
    spend_request = db().get(SpendRequest, notice.request_id) if devices else None
    if spend_request is None:  # most members have no device that wants pushes: nothing more to read
        return []
    team = db().get(Team, spend_request.team_id)
    category = category_of(db(), spend_request)
    # a path: the worker opens it on its own origin (there is no request to build a full URL from)
    url = current_app.url_map.bind("localhost").build("requests.show", {"team_id": team.id,
                                                                       "request_id": spend_request.id})
    out = []
    for subscription in devices:
        with force_locale(LOCALES.get(subscription.locale, "nl")):  # English with en-GB formats
            title, body = _text(notice.kind, spend_request, team, category)
        out.append((subscription, json.dumps({"title": title, "body": body, "url": url,
                                              "tag": f"request-{spend_request.id}"}, ensure_ascii=False)))
    return out


def _text(kind, spend_request, team, category):
    """Title and body in the device's language: team, amount, cost category; nothing about people."""
    what = category_name(category).lower()
    if kind == NoticeKind.POSTED:
        return (_("Nieuwe aanvraag in %(team)s", team=team.name),
                _("%(amount)s voor %(category)s. Tik om te stemmen.", amount=format_cents(spend_request.amount_cents),
                  category=what))
    if kind == NoticeKind.REMINDER:
        return (_("Een aanvraag wacht op je stem"),
                _("%(team)s: %(amount)s voor %(category)s.", team=team.name,
                  amount=format_cents(spend_request.amount_cents), category=what))
    if kind == NoticeKind.BANK_QUESTION:
        return (_("Een vraag over de bank bij je aanvraag"),
                _("%(team)s: de coördinator heeft een vraag over je aanvraag voor %(category)s. Tik om te lezen.",
                  team=team.name, category=what))
    if kind == NoticeKind.EXPERT:
        return (_("Een team vraagt je als expert"),
                _("%(team)s: %(amount)s voor %(category)s. Tik om mee te lezen en te reageren.", team=team.name,
                  amount=format_cents(spend_request.amount_cents), category=what))
    if kind == NoticeKind.REVIEW:
        return (_("Hoe ging het met %(amount)s voor %(category)s?",
                  amount=format_cents(spend_request.granted_amount_cents or spend_request.amount_cents), category=what),
                _("%(team)s: vertel hoe het ging en wat het team ervan kan leren. Tik om terug te blikken.",
                  team=team.name))
    titles = {RequestStatus.GRANTED: _("Je aanvraag is toegekend"), RequestStatus.REJECTED: _("Je aanvraag is afgewezen"),
              RequestStatus.SOLVED: _("Je aanvraag is opgelost met een andere voorziening"),
              RequestStatus.EXPIRED: _("Je aanvraag is verlopen"),
              RequestStatus.CANCELLED: _("De toekenning van je aanvraag is geannuleerd")}
    amount = spend_request.granted_amount_cents or spend_request.amount_cents
    return (titles.get(spend_request.status, _("Er is besloten over je aanvraag")),
            _("%(team)s: %(amount)s voor %(category)s.", team=team.name, amount=format_cents(amount), category=what))
