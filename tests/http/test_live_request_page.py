"""The request page's live answer: the status-dependent parts come along, out of band, only when the status
differs from the one the page shows (`stand`); the page and the answer include the same partials."""
import re

from tests.card_world import granted_request


def _live(client, spend_request, stand):
    return client.get(f"/teams/{spend_request.team_id}/aanvragen/{spend_request.id}/live", query_string={"stand": stand},
                      headers={"HX-Request": "true", "HX-Request-Type": "partial"})


def test_live_answer_resends_card_receipts_and_actions_only_when_the_status_changed(
        client, session, login_as, make_team, make_member):
    team = make_team()
    wim, anna = make_member(team, "worker", name="Wim"), make_member(team, "worker", name="Anna")
    spend_request = granted_request(session, team, wim, anna, 7_500)
    login_as(wim)

    page = client.get(f"/teams/{team.id}/aanvragen/{spend_request.id}").text
    assert 'id="request-outcome"' in page and "hx-swap-oob" not in page
    assert re.search(r'hx-get="[^"]*/live\?stand=granted&amp;stap=[a-z_]*"', page)

    changed = _live(client, spend_request, "open")
    assert changed.status_code == 200
    assert re.search(r'<div id="request-outcome" hx-swap-oob="true">', changed.text)
    assert re.search(r'<div id="request-actions" hx-swap-oob="true">', changed.text)
    assert 'id="request-card"' in changed.text and 'id="receipts"' in changed.text
    assert "Aanvraag intrekken" not in changed.text
    assert re.search(r'id="body"[^>]* hx-preserve', changed.text)  # a half-typed message stays

    same = _live(client, spend_request, "granted")
    assert same.status_code == 200 and 'id="request-live"' in same.text
    assert "hx-swap-oob" not in same.text and 'id="request-card"' not in same.text
