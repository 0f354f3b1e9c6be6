"""Error pages after a failed transaction: the request's session is rolled back first, so the friendly
page (which reads the signed-in member for its layout) can still be rendered."""
import pytest
from werkzeug.exceptions import NotFound

from models.members import Member
from web.database import db


def _duplicate_member(member_id):
    """Flush a second member with an existing member's user handle: the flush fails (unique index)."""
    existing = db().get(Member, member_id)
    db().add(Member(municipality_id=existing.municipality_id, display_name="Dubbel", user_handle=existing.user_handle))
    db().flush()


@pytest.fixture
def app_config(app_config):
    """As in production: an error inside an error handler ends as a bare 500 instead of reaching the test."""
    return {**app_config, "PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def member(make_team, make_member):
    return make_member(make_team(), "worker", name="Wim")


@pytest.mark.parametrize("after_failure, status, text", [
    (None, 500, "Er ging bij ons iets mis"),  # the IntegrityError itself reaches the handler
    (RuntimeError("secret internals"), 500, "Er ging bij ons iets mis"),
    (NotFound(), 404, "Pagina niet gevonden"),  # an HTTP error raised after the failed flush was caught
])
def test_error_page_after_a_failed_flush_is_the_friendly_page(app, client, login_as, member, after_failure, status,
                                                             text):
    @app.get("/kapotte-transactie")
    def failed_flush():
        if after_failure is None:
            _duplicate_member(member.id)
        try:
            _duplicate_member(member.id)
        except Exception:
            raise after_failure from None

    login_as(member)
    answer = client.get("/kapotte-transactie")
    assert answer.status_code == status
    assert text in answer.text and "Ingelogd als Wim" in answer.text  # our layout, for the signed-in member
    assert "secret internals" not in answer.text and "Traceback" not in answer.text
