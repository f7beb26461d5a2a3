import time
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
from werkzeug.security import check_password_hash

from intake.auth import DUMMY_HASH
from intake.extensions import db
from intake.models import LoginAttempt

from .conftest import PASSWORD


def _sign_in(client, email, password=PASSWORD, *, remember=False, **request_options):
    form = {"email": email, "password": password, "remember": "y" if remember else ""}
    return client.submit("/login", form, **request_options)


def test_a_rep_signs_in_and_lands_on_their_deals(client, make_user):
    user = make_user("rep")
    response = _sign_in(client, user.email.upper())
    assert response.status_code == 302 and response.location == "/deals"
    assert user.name in client.get("/deals").get_data(as_text=True)


def test_a_wrong_password_is_refused_with_the_email_kept(client, make_user):
    user = make_user("rep")
    response = _sign_in(client, user.email, "wrong password")
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "do not match an active account" in page
    assert f'value="{user.email}"' in page
    assert client.get("/deals").status_code == 302


def test_an_unknown_email_is_checked_against_a_hash_of_the_method_passwords_get(make_user):
    # The same method and cost as a real user's password, so a sign-in for no account takes as long.
    user = make_user("rep")
    assert DUMMY_HASH.split("$")[0] == user.password_hash.split("$")[0]
    assert not check_password_hash(DUMMY_HASH, PASSWORD)


def test_a_deactivated_user_cannot_sign_in(client, make_user):
    user = make_user("rep", is_active=False)
    assert _sign_in(client, user.email).status_code == 401


def test_sign_in_without_a_csrf_token_is_refused(client, make_user):
    user = make_user("rep")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert f'value="{user.email}"' in response.get_data(as_text=True)
    assert client.get("/deals").status_code == 302


def test_failed_sign_ins_are_throttled_per_account(app, client, make_user):
    user = make_user("rep")
    limit = app.config["LOGIN_THROTTLE_PER_ACCOUNT"]
    for _ in range(limit):
        assert _sign_in(client, user.email, "wrong").status_code == 401
    # Even the right password waits now: the guesser learns nothing.
    response = _sign_in(client, user.email)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_failed_sign_ins_are_throttled_per_address(app, client, make_user):
    app.config["LOGIN_THROTTLE_PER_ADDRESS"] = 3
    user = make_user("rep")
    for n in range(3):
        _sign_in(client, f"nobody{n}@example.com", "wrong")
    assert _sign_in(client, user.email).status_code == 429
    other_address = _sign_in(client, user.email, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_address.status_code == 302


def test_a_successful_sign_in_clears_the_account_failures(app, client, make_user):
    user = make_user("rep")
    _sign_in(client, user.email, "wrong")
    assert _sign_in(client, user.email).status_code == 302
    assert db.session.query(LoginAttempt).filter_by(email=user.email).count() == 0


def _session_cookie(client):
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_session_cookie_copied_before_sign_out_is_dead_after_it(app, client, make_user, login):
    user = make_user("rep")
    login(user)
    copied = _session_cookie(client)
    assert client.submit("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/deals").status_code == 302  # back to sign-in


def test_a_remember_cookie_copied_before_sign_out_is_dead_after_it(app, client, make_user, login):
    user = make_user("rep")
    login(user, remember=True)
    remember = client.get_cookie("remember_token")
    assert remember is not None
    client.submit("/logout")
    thief = app.test_client()
    thief.set_cookie("remember_token", remember.value)
    assert thief.get("/deals").status_code == 302


def test_deactivation_ends_every_session(app, client, make_user, login):
    user = make_user("rep")
    login(user)
    user.is_active = False
    db.session.commit()
    assert client.get("/deals").status_code == 302


def test_a_password_change_ends_every_session(app, client, make_user, login):
    user = make_user("rep")
    login(user)
    user.set_password("a brand new password")
    db.session.commit()
    assert client.get("/deals").status_code == 302


def test_cookies_are_httponly_and_samesite_lax(client, make_user):
    user = make_user("rep")
    response = _sign_in(client, user.email, remember=True)
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookies.update(SimpleCookie(header))
    for name in ("session", "remember_token"):
        assert cookies[name]["httponly"]
        assert cookies[name]["samesite"] == "Lax"
    assert cookies["remember_token"]["expires"]


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/deals?status=draft", "/deals?status=draft"),
        ("//evil.example/", "/deals"),
        ("https://evil.example/", "/deals"),
    ],
)
def test_sign_in_returns_only_to_pages_of_this_site(client, make_user, target, expected):
    user = make_user("rep")
    response = client.submit(f"/login?next={target}", {"email": user.email, "password": PASSWORD}, page="/login")
    assert response.location == expected


def test_the_csrf_token_outlives_an_hour_long_call(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None or app.config["WTF_CSRF_TIME_LIMIT"] >= 4 * 3600


def test_a_user_changes_their_own_password_and_other_sessions_end(app, client, make_user, login):
    user = make_user("rep")
    login(user)
    elsewhere = app.test_client()
    elsewhere.submit("/login", {"email": user.email, "password": PASSWORD})
    response = client.submit(
        "/account/password", {"current": PASSWORD, "password": "a new long password", "confirm": "a new long password"}
    )
    assert response.status_code == 302
    assert client.get("/deals").status_code == 200  # this session carries on
    assert elsewhere.get("/deals").status_code == 302  # the other one has ended
    assert _sign_in(app.test_client(), user.email, "a new long password").status_code == 302


def test_changing_ones_password_needs_the_current_one(client, make_user, login):
    user = make_user("rep")
    login(user)
    new = "a new long password"
    response = client.submit("/account/password", {"current": "guess", "password": new, "confirm": new})
    assert response.status_code == 400
    assert "not your current password" in response.get_data(as_text=True)


def test_the_session_cookie_expires(client, make_user):
    user = make_user("rep")
    response = _sign_in(client, user.email)
    cookie = SimpleCookie(response.headers.getlist("Set-Cookie")[0])
    assert cookie["session"]["expires"]


def _sends_session_cookie(response) -> bool:
    return any(header.startswith("session=") for header in response.headers.getlist("Set-Cookie"))


def test_a_session_in_use_is_renewed_once_it_is_a_while_old_not_on_every_page(app, client, make_user, login):
    user = make_user("rep")
    login(user)
    assert _sends_session_cookie(client.get("/deals"))  # the first page after signing in holds a new CSRF token
    assert not _sends_session_cookie(client.get("/deals"))  # signed a moment ago: nothing to renew
    app.config["SESSION_RENEW_AFTER"] = timedelta(0)
    renewed = client.get("/deals")
    assert _sends_session_cookie(renewed)
    assert SimpleCookie(renewed.headers.getlist("Set-Cookie")[0])["session"]["expires"]


def test_a_session_unused_for_its_lifetime_has_ended(app, client, make_user, login):
    user = make_user("rep")
    login(user)
    assert client.get("/deals").status_code == 200
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=1)
    time.sleep(2.1)  # the cookie's signature carries whole seconds
    response = client.get("/deals")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
