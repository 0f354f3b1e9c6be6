"""The personal-data refusal of a request (issue 14): every finding in every text at once, each marked where it
stands, beside every field it is in, so one edit fixes them all; a script is told every finding too."""
from tests.http.test_requests import team_world, _post_request  # noqa: F401  (team_world is a fixture)

BSN, PHONE, EMAIL = "111222333", "06-12345678", "hulp@voorbeeld.nl"


def test_every_finding_is_listed_and_marked_at_once(client, session, login_as, team_world):  # noqa: F811
    response = _post_request(client, login_as, team_world, situation=f"Moeder, BSN {BSN}, bel {PHONE}.",
                             prevents="Afsluiting van energie.", alternatives_note=f"Mail {EMAIL} van de bank.")
    assert response.status_code == 422
    html = response.text
    refusal = html.split('data-privacy-refusal', 1)[1].split("</section>", 1)[0]
    for fragment in (BSN, PHONE, EMAIL):
        assert f"<mark>{fragment}</mark>" in refusal  # in its text, where it stands
    assert refusal.count("data-privacy-finding=") == 3 and "Er staan 3 gegevens in" in refusal
    assert 'data-privacy-field="situation"' in refusal and 'data-privacy-field="alternatives_note"' in refusal
    assert 'data-privacy-field="prevents"' not in refusal
    # beside each field with a finding, and that field points to it
    for field in ("situation", "alternatives_note"):
        assert f'id="{field}-error"' in html and f'aria-describedby="{field}-error' in html
    assert 'id="prevents-error"' not in html
    assert "uitbak" not in refusal.lower()  # a refusal is no item waiting: no link to the outbox


def test_the_outbox_is_told_every_finding_with_its_place(client, session, login_as, team_world):  # noqa: F811
    login_as(team_world["members"]["worker"])
    response = client.post(f"/teams/{team_world['team'].id}/aanvragen",
                           data={"amount": "75", "cost_category_id": team_world["groceries"].id, "kind": "gift",
                                 "situation": f"BSN {BSN} en {PHONE}", "prevents": f"Mail {EMAIL}",
                                 "household_reference": "D-1", "action": "post"},
                           headers={"Teambudget-Operation": "5f0c7b6e-8d1a-4c1e-9a55-0d6f3b2a1c01"})
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["field"] == "situation" and BSN in answer["error"] and EMAIL in answer["error"]
    assert [(f["field"], f["fragment"]) for f in answer["findings"]] == [
        ("situation", BSN), ("situation", PHONE), ("prevents", EMAIL)]
    situation = f"BSN {BSN} en {PHONE}"
    assert all(situation[f["start"]:f["end"]] == f["fragment"] for f in answer["findings"][:2])
