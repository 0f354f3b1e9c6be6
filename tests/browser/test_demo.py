"""What a newcomer does after `make run`: open the printed link and land in the team."""
import re

from playwright.sync_api import expect


def test_printed_demo_link_creates_a_passkey_and_lands_in_the_team(live_server, phone):
    app, origin = live_server
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])
    output = runner.invoke(args=["demo-links"]).output
    worker_link = re.search(r"Demo worker\s+(\S+)", output).group(1)
    assert worker_link.startswith(f"{origin}/uitnodiging/")  # the configured public origin

    page, _authenticator = phone()
    page.goto(worker_link)
    expect(page.get_by_role("heading", name="Welkom terug, Wim Werker")).to_be_visible()
    page.get_by_role("button", name="Passkey maken").click()
    expect(page.get_by_role("heading", level=1, name="Team Noord-Oost")).to_be_visible()
    expect(page.get_by_text("jouw rol: Hulpverlener")).to_be_visible()
    expect(page.locator("#team-balance")).to_contain_text("€\xa02.500,00")

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en-GB")
    expect(page.get_by_text("your role: Social worker")).to_be_visible()
    expect(page.get_by_role("heading", name="Requests")).to_be_visible()
