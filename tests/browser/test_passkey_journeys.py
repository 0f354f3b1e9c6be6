"""Real passkey ceremonies on phones: invite, sign-in, second passkey, recovery, refusals."""
from datetime import timedelta

from playwright.sync_api import Error as PlaywrightError, expect
from sqlmodel import select

from models.clock import utcnow
from models.invites import invite_recovery, invite_to_team
from models.members import Member
from models.passkeys import Passkey, active_passkeys


def _invite_link(session, coordinator, team, role="worker"):
    _invite, token = invite_to_team(session, coordinator, team, role)
    session.commit()
    return f"/uitnodiging/{token}"


def _accept_invite(page, link, name):
    page.goto(link)
    page.get_by_label("Je naam voor het team").fill(name)
    page.get_by_role("button", name="Passkey maken").click()


def test_invite_sign_out_sign_in_add_and_remove_passkey(phone, session, make_team, make_member):
    team = make_team("Team Oost")
    coordinator = make_member(team, "coordinator")
    page, authenticator = phone()

    _accept_invite(page, _invite_link(session, coordinator, team), "Fatima (buurtteam)")
    expect(page.get_by_role("heading", level=1, name="Team Oost")).to_be_visible()
    expect(page.get_by_text("Beschikbaar", exact=True)).to_be_visible()
    assert len(authenticator.credentials()) == 1
    member = session.exec(select(Member).where(Member.display_name == "Fatima (buurtteam)")).one()
    [passkey] = active_passkeys(session, member.id)
    assert passkey.name.startswith("Android")

    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
    page.goto("/teams/%d" % team.id)
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()

    page.get_by_role("button", name="Inloggen met je passkey").click()
    expect(page.get_by_role("heading", level=1, name="Team Oost")).to_be_visible()

    page.get_by_text("Menu", exact=True).click()  # the header's small menu
    page.get_by_role("link", name="Mijn passkeys").click()
    expect(page.get_by_role("heading", name="1 passkey")).to_be_visible()
    page.get_by_role("button", name="Passkey toevoegen").click()
    # The same virtual authenticator already holds a passkey for this member: it is excluded.
    expect(page.get_by_role("alert")).to_contain_text("al een passkey")

    # A second device (here: another authenticator on the signed-in browser) can take one more.
    authenticator.replace_device()
    page.get_by_role("button", name="Passkey toevoegen").click()
    expect(page.get_by_role("heading", name="2 passkeys")).to_be_visible()
    assert len(authenticator.credentials()) == 1

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Verwijderen").first.click()
    expect(page.get_by_role("heading", name="1 passkey")).to_be_visible()
    session.expire_all()
    assert len(active_passkeys(session, member.id)) == 1

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Verwijderen").click()
    expect(page.get_by_role("alert")).to_contain_text("laatste passkey")
    session.expire_all()
    assert len(active_passkeys(session, member.id)) == 1


def _member_with_passkey(phone, session, team, coordinator, name="Sanne", **phone_options):
    page, authenticator = phone(**phone_options)
    _accept_invite(page, _invite_link(session, coordinator, team), name)
    expect(page.get_by_role("heading", level=1, name=team.name)).to_be_visible()
    member = session.exec(select(Member).where(Member.display_name == name)).one()
    return page, authenticator, member


def _sign_out(page):
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()


def test_passkey_autofill_signs_in_without_a_username(phone, session, make_team, make_member):
    team = make_team("Team Zuid")
    coordinator = make_member(team, "coordinator")
    page, _authenticator, _member = _member_with_passkey(phone, session, team, coordinator, passkey_autofill=True)
    # The sign-in page offers the passkey in the username field's autofill; the virtual authenticator
    # picks it at once, so signing out lands straight back in the team.
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("heading", level=1, name="Team Zuid")).to_be_visible()


def test_coordinator_invites_a_member_through_the_pages(phone, session, make_team, make_member):
    team = make_team("Team West")
    seed_coordinator = make_member(team, "coordinator", name="Cora")
    coordinator_page, _ = phone()
    _invite, token = invite_recovery(session, seed_coordinator, seed_coordinator)
    session.commit()
    coordinator_page.goto(f"/uitnodiging/{token}")
    expect(coordinator_page.get_by_role("heading", name="Welkom terug, Cora")).to_be_visible()
    coordinator_page.get_by_role("button", name="Passkey maken").click()
    expect(coordinator_page.get_by_role("heading", name="Teams en budgetten")).to_be_visible()

    coordinator_page.get_by_role("link", name="Team West").click()
    coordinator_page.get_by_label("Rol in het team").first.select_option("income_consultant")
    coordinator_page.get_by_role("button", name="Uitnodigingslink maken").click()
    link = coordinator_page.get_by_label("Link", exact=True).input_value()
    expect(coordinator_page.get_by_role("img", name="QR-code met de uitnodigingslink")).to_be_visible()

    member_page, _ = phone()
    _accept_invite(member_page, link, "Ivo (inkomen)")
    expect(member_page.get_by_text("jouw rol: Inkomensconsulent")).to_be_visible()


def test_used_and_expired_invites_are_refused(phone, session, make_team, make_member):
    team = make_team("Team Noord")
    coordinator = make_member(team, "coordinator")
    link = _invite_link(session, coordinator, team)
    first_page, _ = phone()
    _accept_invite(first_page, link, "Eerste")
    expect(first_page.get_by_role("heading", level=1, name="Team Noord")).to_be_visible()

    second_page, _ = phone()
    response = second_page.goto(link)
    assert response.status == 410
    expect(second_page.get_by_text("Deze link is al gebruikt")).to_be_visible()

    expired_invite, token = invite_to_team(session, coordinator, team, "worker")
    expired_invite.expires_at = utcnow() - timedelta(minutes=1)
    session.add(expired_invite)
    session.commit()
    response = second_page.goto(f"/uitnodiging/{token}")
    assert response.status == 410
    expect(second_page.get_by_text("Deze link is verlopen")).to_be_visible()
    assert session.exec(select(Member).where(Member.display_name == "Tweede")).first() is None


def test_invite_expiring_while_open_refuses_the_passkey(phone, session, make_team, make_member):
    team = make_team("Team Laat")
    coordinator = make_member(team, "coordinator")
    invite, token = invite_to_team(session, coordinator, team, "worker")
    session.commit()
    page, authenticator = phone()
    page.goto(f"/uitnodiging/{token}")
    invite.expires_at = utcnow() - timedelta(seconds=1)
    session.add(invite)
    session.commit()
    page.get_by_label("Je naam voor het team").fill("Te laat")
    page.get_by_role("button", name="Passkey maken").click()
    expect(page.get_by_role("alert")).to_contain_text("verlopen")
    assert session.exec(select(Member).where(Member.display_name == "Te laat")).first() is None


def test_recovery_invite_revokes_old_passkeys_and_keeps_the_member(phone, session, make_team, make_member):
    team = make_team("Team Herstel")
    coordinator = make_member(team, "coordinator")
    old_page, _old_authenticator, member = _member_with_passkey(phone, session, team, coordinator, "Rik")

    _invite, token = invite_recovery(session, coordinator, member)
    session.commit()
    new_page, _ = phone()
    new_page.goto(f"/uitnodiging/{token}")
    expect(new_page.get_by_role("heading", name="Welkom terug, Rik")).to_be_visible()
    new_page.get_by_role("button", name="Passkey maken").click()
    expect(new_page.get_by_role("heading", level=1, name="Team Herstel")).to_be_visible()

    session.expire_all()
    assert session.exec(select(Member).where(Member.display_name == "Rik")).one().id == member.id
    passkeys = session.exec(select(Passkey).where(Passkey.member_id == member.id)).all()
    assert len(passkeys) == 2 and len(active_passkeys(session, member.id)) == 1

    # The old phone's session was ended, and its passkey no longer signs in. The old page's live poll
    # may be redirected to sign-in at the very moment we reload: either way it must land there.
    try:
        old_page.reload()
    except PlaywrightError:
        pass
    expect(old_page.get_by_role("heading", name="Inloggen")).to_be_visible()
    old_page.get_by_role("button", name="Inloggen met je passkey").click()
    expect(old_page.get_by_role("alert")).to_contain_text("lukte niet")


def test_assertion_for_another_origin_is_refused(phone, session, make_team, make_member, live_server):
    team = make_team("Team Origin")
    coordinator = make_member(team, "coordinator")
    page, _authenticator, _member = _member_with_passkey(phone, session, team, coordinator)
    _sign_out(page)
    app, origin = live_server
    app.config["WEBAUTHN_ORIGIN"] = "https://teambudget.example.org"
    try:
        page.get_by_role("button", name="Inloggen met je passkey").click()
        expect(page.get_by_role("alert")).to_contain_text("lukte niet")
    finally:
        app.config["WEBAUTHN_ORIGIN"] = origin
    page.get_by_role("button", name="Inloggen met je passkey").click()
    expect(page.get_by_role("heading", level=1, name="Team Origin")).to_be_visible()


def test_replayed_assertion_is_refused(phone, session, make_team, make_member):
    team = make_team("Team Replay")
    coordinator = make_member(team, "coordinator")
    page, _authenticator, member = _member_with_passkey(phone, session, team, coordinator)
    _sign_out(page)
    posted = []
    page.on("request", lambda request: posted.append(request.post_data_json)
            if request.url.endswith("/inloggen/controle") else None)
    page.get_by_role("button", name="Inloggen met je passkey").click()
    expect(page.get_by_role("heading", level=1, name="Team Replay")).to_be_visible()
    [assertion] = posted

    _sign_out(page)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    replay = page.request.post("/inloggen/controle", data=assertion,
                               headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert replay.status == 400
    assert "verlopen" in replay.json()["error"] or "gebruikt" in replay.json()["error"]
    page.goto(f"/teams/{team.id}")
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()


def test_sign_count_going_backwards_is_refused(phone, session, make_team, make_member):
    team = make_team("Team Kloon")
    coordinator = make_member(team, "coordinator")
    page, _authenticator, member = _member_with_passkey(phone, session, team, coordinator)
    _sign_out(page)
    [passkey] = active_passkeys(session, member.id)
    passkey.sign_count = 1_000  # as if another copy of this authenticator had been used far more
    session.add(passkey)
    session.commit()
    page.get_by_role("button", name="Inloggen met je passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("lukte niet")
    session.expire_all()
    assert session.get(Passkey, passkey.id).sign_count == 1_000


def test_a_next_that_a_browser_reads_as_another_site_is_not_followed(phone, session, make_team, make_member):
    """`/%09/evil.example` is `//evil.example` once a browser drops the TAB: signing in stays on our site."""
    team = make_team("Team Terug")
    coordinator = make_member(team, "coordinator")
    page, _authenticator, _member = _member_with_passkey(phone, session, team, coordinator)
    _sign_out(page)
    page.goto("/inloggen?next=/%09/evil.example")
    origin, elsewhere = page.evaluate("location.origin"), []
    page.on("request", lambda request: None if request.url.startswith(origin) else elsewhere.append(request.url))
    page.get_by_role("button", name="Inloggen met je passkey").click()
    expect(page.get_by_role("heading", level=1, name="Team Terug")).to_be_visible()
    assert elsewhere == []
