"""Languages of the customer-facing pages and mail (Flask-Babel)."""

from flask import Flask, g, has_request_context, request, session

from .extensions import babel
from .vocabulary import LANGUAGE

# The customer's languages, each named in its own words.
LANGUAGES = {code: LANGUAGE.word(code) for code in LANGUAGE}


def select_locale() -> str:
    """The customer's (or a partner user's) language: chosen on the page, else set on their link,
    else their browser's.

    Pages for reps and the channel manager are in English, and so is work outside a request
    (commands, the worker); mail to the customer sets its own language.
    """
    if not has_request_context() or request.blueprint not in ("link", "portal"):
        return "en"
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    if g.get("link_language") in LANGUAGES:
        return g.link_language
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
