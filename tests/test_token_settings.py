"""A person's own API tokens on their settings page: staff at /account/tokens, partner users at /partner/tokens.

A token made there is shown once, in the answer to the form that made it, and then only by its name and
first characters; the form sent twice makes one token; the owner revokes it there, and no one else can.
"""

import re

import pytest
from sqlalchemy import func, select

from intake import api_tokens
from intake.extensions import db
from intake.models import ApiToken, PartnerUser
from intake.models.types import utcnow

from .conftest import sign_in, sign_in_partner

STAFF = "/account/tokens"
PORTAL = "/partner/tokens"
OLIVER = "oliver@thames.example"
_SHOWN = re.compile(r'id="new-token" type="text" readonly value="([^"]+)"')


def _shown(response) -> str | None:
    """The token a page shows in full, if it shows one."""
    match = _SHOWN.search(response.get_data(as_text=True))
    return match.group(1) if match else None


def _create(browser, page: str = STAFF, **answers):
    """Fill in the form on the settings page and send it, as a browser does."""
    return browser.submit(page, {"name": "Salesforce", "scope": "read", **answers})


def _tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id)))


def _session_of(app, browser) -> str:
    """What the browser's session cookie holds, decoded, with the cookie itself."""
    cookie = browser.get_cookie("session")
    held = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    return f"{cookie.value} {held}"


def _revoke(browser, row: ApiToken, page: str = STAFF):
    return browser.submit(f"{page}/{row.id}/revoke", page=page)


def test_a_new_token_is_shown_once_in_the_answer_and_then_works(app, make_user):
    rep = make_user("rep")
    browser = sign_in(app, rep)
    assert f'href="{STAFF}"' in browser.get("/deals").get_data(as_text=True)  # beside the password page's link

    response = _create(browser, name="  Salesforce   sync ", scope="write")
    page = response.get_data(as_text=True)
    token = _shown(response)
    assert response.status_code == 200 and response.location is None  # rendered here: no address carries it
    assert api_tokens.SHAPE.match(token)
    assert "it will not be shown again" in page and "Authorization: Bearer" in page
    [row] = _tokens()
    assert (row.user_id, row.partner_user_id, row.name, row.scope) == (rep.id, None, "Salesforce sync", "write")
    assert api_tokens.authenticate("Bearer " + token, now=utcnow()) == row
    db.session.commit()
    # Flask's session is signed, not encrypted: the token is never put in it, nor in a flash message.
    assert token not in _session_of(app, browser)

    listed = browser.get(STAFF).get_data(as_text=True)
    assert token not in listed and token[11:] not in listed
    assert row.prefix in listed and "Salesforce sync" in listed and "read and write" in listed
    assert "never" not in listed  # its last use was just now
    assert token not in _session_of(app, browser)


def test_the_list_says_never_for_a_token_not_used_and_what_each_may_do(app, make_user):
    rep = make_user("rep")
    browser = sign_in(app, rep)
    assert "You have no API tokens yet." in browser.get(STAFF).get_data(as_text=True)
    _create(browser, name="Reporting")  # read, as the form starts
    listed = browser.get(STAFF).get_data(as_text=True)
    assert "Reporting" in listed and "read only" in listed and "never" in listed and "active" in listed


def test_the_form_sent_twice_makes_one_token_and_shows_it_once(app, make_user):
    browser = sign_in(app, make_user("rep"))
    form = {**browser.hidden(STAFF), "name": "Salesforce", "scope": "read"}
    first = browser.post(STAFF, data=form)
    again = browser.post(STAFF, data=form)  # a refresh of the answer, or a second click
    assert _shown(first) is not None and _shown(again) is None
    assert again.status_code == 200
    assert "This token was already created; its value is shown only once." in again.get_data(as_text=True)
    assert len(_tokens()) == 1
    # A form shown afresh makes another.
    assert _shown(_create(browser, name="Salesforce")) is not None
    assert len(_tokens()) == 2


def test_revoking_a_token_stops_it_working(app, make_user):
    browser = sign_in(app, make_user("rep"))
    token = _shown(_create(browser, name="Old CRM"))
    [row] = _tokens()
    response = _revoke(browser, row)
    assert response.status_code == 302 and response.location == STAFF
    page = browser.get(STAFF).get_data(as_text=True)
    assert "Revoked “Old CRM”: it no longer works." in page and "revoked on" in page
    assert api_tokens.authenticate("Bearer " + token, now=utcnow()) is None
    assert db.session.get(ApiToken, row.id).revoked_at is not None
    # A second tab still showing the button: nothing changes, and it says so.
    _revoke(browser, row)
    assert "was revoked already" in browser.get(STAFF).get_data(as_text=True)


def test_another_persons_token_is_not_found(app, make_user, thames, borealis):
    me, other = make_user("rep"), make_user("admin")
    mine = sign_in(app, me)
    theirs = sign_in(app, other)
    _create(theirs, name="Theirs")
    oliver = sign_in_partner(app, OLIVER)
    _create(oliver, PORTAL, name="Oliver's CRM")
    staff_row, partner_row = _tokens()

    assert _revoke(mine, staff_row).status_code == 404  # another rep's, even the channel manager's
    assert _revoke(mine, partner_row).status_code == 404  # a partner user's, by the staff page
    assert _revoke(oliver, staff_row, PORTAL).status_code == 404  # staff's, by the portal
    bea = sign_in_partner(app, "bea@borealis.example")
    assert _revoke(bea, partner_row, PORTAL).status_code == 404  # another partner's user
    assert "Theirs" not in mine.get(STAFF).get_data(as_text=True)
    assert "Oliver" not in bea.get(PORTAL).get_data(as_text=True)
    assert [row.revoked_at for row in _tokens()] == [None, None]


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"name": ""}, "name", "Name the token after where it is used"),
        ({"name": "   "}, "name", "Name the token after where it is used"),
        ({"name": "x" * 81}, "name", "At most 80 characters."),
        ({"name": "CRM\x00"}, "name", "Remove the invisible control characters"),
        ({"scope": "admin"}, "scope", "Choose read only, or read and write."),
    ],
)
def test_a_name_or_scope_that_does_not_fit_comes_back_with_a_message_on_the_field(
    app, make_user, answers, field, message
):
    browser = sign_in(app, make_user("rep"))
    response = _create(browser, **answers)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'<p class="field-error" id="{field}-error">[^<]*{re.escape(message)}', page), page
    assert _shown(response) is None and _tokens() == []


def test_a_partner_user_makes_a_token_that_acts_for_them_alone_in_german(app, thames):
    browser = sign_in_partner(app, OLIVER)
    assert f'href="{PORTAL}"' in browser.get("/partner/").get_data(as_text=True)  # from the portal's navigation
    page = browser.get(f"{PORTAL}?lang=de").get_data(as_text=True)
    assert '<html lang="de">' in page and "API-Tokens" in page and "Sie haben noch keine API-Tokens." in page
    assert "nur lesen" in page and "lesen und schreiben" in page

    refused = _create(browser, PORTAL, name="")
    assert refused.status_code == 400 and "Benennen Sie das Token" in refused.get_data(as_text=True)

    response = _create(browser, PORTAL, name="Unser CRM", scope="write")
    answer = response.get_data(as_text=True)
    assert "Ihr neues Token „Unser CRM“" in answer and "Es wird nicht noch einmal angezeigt." in answer
    row = api_tokens.authenticate("Bearer " + _shown(response), now=utcnow())
    oliver = db.session.scalar(select(PartnerUser).where(func.lower(PartnerUser.email) == OLIVER))
    assert isinstance(row.owner, PartnerUser) and row.owner.id == oliver.id and row.user_id is None
    db.session.commit()

    listed = browser.get(PORTAL).get_data(as_text=True)
    assert "lesen und schreiben" in listed and "Widerrufen" in listed and _shown(response) not in listed
    _revoke(browser, row, PORTAL)
    assert "„Unser CRM“ widerrufen" in browser.get(PORTAL).get_data(as_text=True)


def test_the_portals_token_page_follows_the_browsers_language(app, thames):
    browser = sign_in_partner(app, OLIVER)
    page = browser.get(PORTAL, headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="de">' in page and "Ein Token erstellen" in page
    english = sign_in_partner(app, OLIVER).get(PORTAL).get_data(as_text=True)
    assert '<html lang="en">' in english and "Create a token" in english
