"""My passkeys: rename and remove with clear messages; htmx gets the partial, others the page."""
from models.passkeys import Passkey, active_passkeys

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}


def _passkeys(session, member, count):
    for n in range(count):
        session.add(Passkey(member_id=member.id, credential_id=f"cred-{member.id}-{n}".encode(),
                            public_key=b"key", name=f"Telefoon {n + 1}"))
    session.commit()
    return active_passkeys(session, member.id)


def test_list_shows_own_passkeys_only(client, session, make_team, make_member, login_as):
    team = make_team()
    me, other = make_member(team, "worker", name="Ik"), make_member(team, "worker", name="Ander")
    _passkeys(session, me, 2)
    session.add(Passkey(member_id=other.id, credential_id=b"other", public_key=b"k", name="Sleutel-van-Ander"))
    session.commit()
    login_as(me)
    html = client.get("/mijn-passkeys").text
    assert "Telefoon 1" in html and "Telefoon 2" in html and "Sleutel-van-Ander" not in html


def test_rename_returns_the_partial_for_htmx(client, session, make_team, make_member, login_as):
    team = make_team()
    me = make_member(team, "worker")
    [passkey] = _passkeys(session, me, 1)
    login_as(me)
    response = client.post(f"/mijn-passkeys/{passkey.id}/naam", data={"name": "  Werktelefoon  "}, headers=PARTIAL)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="passkey-list"') and "<html" not in response.text
    session.expire_all()
    assert session.get(Passkey, passkey.id).name == "Werktelefoon"
    response = client.post(f"/mijn-passkeys/{passkey.id}/naam", data={"name": "Thuis"})
    assert response.status_code == 303


def test_rename_refuses_empty_or_long_names(client, session, make_team, make_member, login_as):
    team = make_team()
    me = make_member(team, "worker")
    [passkey] = _passkeys(session, me, 1)
    login_as(me)
    for name, message in [("   ", "Geef de passkey een naam."), ("x" * 61, "hoogstens 60 tekens")]:
        response = client.post(f"/mijn-passkeys/{passkey.id}/naam", data={"name": name}, headers=PARTIAL)
        assert response.status_code == 422 and message in response.text
        assert 'aria-invalid="true"' in response.text
    session.expire_all()
    assert session.get(Passkey, passkey.id).name == "Telefoon 1"


def test_remove_keeps_the_last_passkey(client, session, make_team, make_member, login_as):
    team = make_team()
    me = make_member(team, "worker")
    first, second = _passkeys(session, me, 2)
    login_as(me)
    assert client.post(f"/mijn-passkeys/{first.id}/verwijderen").status_code == 303
    response = client.post(f"/mijn-passkeys/{second.id}/verwijderen", headers=PARTIAL)
    assert response.status_code == 422 and "laatste passkey" in response.text
    assert [p.id for p in active_passkeys(session, me.id)] == [second.id]


def test_add_options_exclude_existing_passkeys_and_require_verification(client, session, make_team, make_member, login_as):
    team = make_team()
    me = make_member(team, "worker")
    _passkeys(session, me, 2)
    login_as(me)
    options = client.post("/mijn-passkeys/opties").get_json()
    assert len(options["excludeCredentials"]) == 2
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["rp"]["id"] == "localhost"


def test_unreadable_credential_is_refused_clearly(client, session, make_team, make_member, login_as):
    team = make_team()
    login_as(make_member(team, "worker"))
    for body in [None, {"credential": "nope"}, {"credential": {"response": {"clientDataJSON": "!!"}}}]:
        response = client.post("/mijn-passkeys/toevoegen", json=body)
        assert response.status_code == 400 and "error" in response.get_json()
