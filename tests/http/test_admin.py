"""The coordinator's pages: invites with link and QR code, roles, membership, recovery."""
import re

from sqlmodel import func, select

from models.invites import Invite, hash_token, invite_to_team
from models.members import Membership, active_membership


def _token_from(html):
    return re.search(r"/uitnodiging/([A-Za-z0-9_-]+)", html).group(1)


def test_overview_lists_teams_with_budget(client, make_team, make_member, login_as):
    team = make_team("Team Oost", annual_budget_cents=275_050)
    make_member(team, "worker")
    login_as(make_member(team, "coordinator"))
    html = client.get("/beheer").text
    assert "Team Oost" in html and "€\xa02.750,50" in html


def test_invite_shows_a_one_time_link_and_qr_code(client, session, make_team, make_member, login_as):
    team = make_team()
    login_as(make_member(team, "coordinator"))
    response = client.post(f"/beheer/teams/{team.id}/uitnodigen", data={"role": "income_consultant"})
    assert response.status_code == 200
    token = _token_from(response.text)
    assert "<svg" in response.text and "Inkomensconsulent" in response.text
    invite = session.exec(select(Invite).where(Invite.token_hash == hash_token(token))).one()
    assert invite.role == "income_consultant" and invite.team_id == team.id
    assert token not in str(session.exec(select(Invite.token_hash)).all())  # only the hash is stored
    assert client.get(f"/uitnodiging/{token}").status_code == 200


def test_invite_without_valid_role_is_refused_beside_the_field(client, session, make_team, make_member, login_as):
    team = make_team()
    login_as(make_member(team, "coordinator"))
    for role in ["", "coordinator", "admin"]:
        response = client.post(f"/beheer/teams/{team.id}/uitnodigen", data={"role": role})
        assert response.status_code == 422
        assert 'id="invite-role-error"' in response.text and "Kies een rol in het team." in response.text
    assert session.exec(select(func.count(Invite.id))).one() == 0


def test_revoked_invite_no_longer_opens(client, session, make_team, make_member, login_as):
    team = make_team()
    coordinator = make_member(team, "coordinator")
    invite, token = invite_to_team(session, coordinator, team, "worker")
    session.commit()
    login_as(coordinator)
    response = client.post(f"/beheer/uitnodigingen/{invite.id}/intrekken", data={"back": f"/beheer/teams/{team.id}"})
    assert response.status_code == 303 and response.headers["Location"] == f"/beheer/teams/{team.id}"
    response = client.get(f"/uitnodiging/{token}")
    assert response.status_code == 410 and "ingetrokken" in response.text


def test_existing_member_joins_a_second_team_with_another_role(client, session, make_team, make_member, login_as):
    first = make_team("Team Een")
    municipality_id = first.district_id  # same municipality: make_team's district belongs to it
    from models.teams import District, Municipality
    second = make_team("Team Twee", municipality=session.get(Municipality, session.get(District, municipality_id).municipality_id))
    worker = make_member(first, "worker")
    login_as(make_member(first, "coordinator"))
    response = client.post(f"/beheer/teams/{second.id}/leden", data={"member_id": worker.id, "role": "provisions_expert"})
    assert response.status_code == 303
    assert active_membership(session, worker.id, second.id).role == "provisions_expert"
    assert active_membership(session, worker.id, first.id).role == "worker"

    response = client.post(f"/beheer/teams/{second.id}/leden", data={"member_id": worker.id, "role": "worker"})
    assert response.status_code == 422 and "zit al in het team" in response.text
    response = client.post(f"/beheer/teams/{second.id}/leden", data={"member_id": "", "role": "worker"})
    assert response.status_code == 422 and "Kies een lid." in response.text


def test_member_of_another_municipality_cannot_be_added(client, session, make_team, make_member, login_as):
    ours, theirs = make_team("Ons"), make_team("Hun")
    outsider = make_member(theirs, "worker")
    login_as(make_member(ours, "coordinator"))
    response = client.post(f"/beheer/teams/{ours.id}/leden", data={"member_id": outsider.id, "role": "worker"})
    assert response.status_code == 422
    assert active_membership(session, outsider.id, ours.id) is None


def test_role_change_and_removal(client, session, make_team, make_member, login_as):
    team = make_team()
    worker = make_member(team, "worker")
    membership = active_membership(session, worker.id, team.id)
    login_as(make_member(team, "coordinator"))
    assert client.post(f"/beheer/teams/{team.id}/leden/{membership.id}/rol", data={"role": "team_leader"}).status_code == 303
    session.expire_all()
    assert session.get(Membership, membership.id).role == "team_leader"
    response = client.post(f"/beheer/teams/{team.id}/leden/{membership.id}/rol", data={"role": "boss"})
    assert response.status_code == 422 and "Kies een rol in het team." in response.text
    session.expire_all()
    assert session.get(Membership, membership.id).role == "team_leader"
    assert client.post(f"/beheer/teams/{team.id}/leden/{membership.id}/weg").status_code == 303
    session.expire_all()
    assert active_membership(session, worker.id, team.id) is None


def test_recovery_and_coordinator_invites(client, session, make_team, make_member, login_as):
    team = make_team()
    worker = make_member(team, "worker", name="Wendy")
    login_as(make_member(team, "coordinator"))
    assert "Wendy" in client.get("/beheer/leden").text
    response = client.post(f"/beheer/leden/{worker.id}/herstel")
    assert response.status_code == 200 and "Herstellink voor Wendy" in response.text
    token = _token_from(response.text)
    assert "Welkom terug, Wendy" in client.get(f"/uitnodiging/{token}").text
    response = client.post("/beheer/coordinatoren/uitnodigen")
    invite = session.exec(select(Invite).where(Invite.token_hash == hash_token(_token_from(response.text)))).one()
    assert invite.role == "coordinator" and invite.team_id is None


class FakeSMTP:
    """Stands in for smtplib.SMTP and keeps what was sent."""

    sent = []

    def __init__(self, host, port, timeout):
        self.host = host

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        FakeSMTP.sent.append(message)


def test_invite_link_can_be_mailed_when_smtp_is_configured(make_app, session, make_team, make_member, monkeypatch):
    import web.mail

    monkeypatch.setattr(web.mail.smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    app = make_app(SMTP_HOST="smtp.example", SMTP_SENDER="teambudget@example.org")
    client = app.test_client()
    team = make_team()
    coordinator = make_member(team, "coordinator")
    from models.sign_in import start_login_session
    login = start_login_session(session, coordinator.id)
    session.commit()
    with client.session_transaction() as cookie:
        cookie.update({"_user_id": str(coordinator.id), "login_key": login.key})
    page = client.post(f"/beheer/teams/{team.id}/uitnodigen", data={"role": "worker"}).text
    assert "Link per e-mail sturen" in page
    token = _token_from(page)
    invite = session.exec(select(Invite).where(Invite.token_hash == hash_token(token))).one()

    bad = client.post(f"/beheer/uitnodigingen/{invite.id}/mailen", data={"token": token, "address": "geen adres"})
    assert bad.status_code == 422 and "geldig e-mailadres" in bad.text and FakeSMTP.sent == []
    wrong_token = client.post(f"/beheer/uitnodigingen/{invite.id}/mailen", data={"token": "x", "address": "a@b.nl"})
    assert wrong_token.status_code == 404

    sent = client.post(f"/beheer/uitnodigingen/{invite.id}/mailen", data={"token": token, "address": "nieuw@buurtteam.nl"})
    assert sent.status_code == 200 and "De link is verstuurd." in sent.text
    [message] = FakeSMTP.sent
    assert message["To"] == "nieuw@buurtteam.nl" and f"/uitnodiging/{token}" in message.get_content()
    assert "nieuw@buurtteam.nl" not in str(_snapshot_all(session))


def _snapshot_all(session):
    from sqlalchemy import text
    from sqlmodel import SQLModel

    return [list(session.execute(text(f"SELECT * FROM {t.name}"))) for t in SQLModel.metadata.sorted_tables]


def test_mail_form_is_absent_without_smtp(client, make_team, make_member, login_as):
    team = make_team()
    login_as(make_member(team, "coordinator"))
    assert "Link per e-mail sturen" not in client.post(f"/beheer/teams/{team.id}/uitnodigen", data={"role": "worker"}).text
