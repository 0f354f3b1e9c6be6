"""Language choice and the formatting filters: Dutch first, English on request.

Invariants: the language is one of LANGUAGES; English is British English (en_GB), so every Babel format
writes 30/11/2026, 09:07 and €72.35, while the catalog stays `en` (gettext falls back from en_GB to en).
Money is formatted only by `format_cents`, from integer cents with integer arithmetic (never a float),
exactly as Babel's format_currency would write it, and a form field is refilled by `amount_input` in the
format the page shows (75,50 in Dutch, 75.50 in English), which models.money.parse_amount reads back.
The client's handover page (web/handover.py) follows the phone's Accept-Language when no language was chosen.
"""
from functools import lru_cache

from babel import Locale

from flask import request
from flask_babel import format_date, format_datetime, format_timedelta, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup

from models.audit import EVENT_LABELS
from models.clock import utcnow
from models.money import cents_to_input
from models.requests import KIND_LABELS, STATUS_LABELS
from models.votes import CHOICE_LABELS

from web.extensions import babel

LANGUAGES = {"nl": "Nederlands", "en": "English"}
LANGUAGE_COOKIE = "lang"
#: the locale each language is formatted in: English dates, times and money the British way
LOCALES = {"nl": "nl", "en": "en_GB"}
#: blueprints whose pages follow the phone's language (Accept-Language) until one is chosen: the client's
ACCEPT_LANGUAGE_BLUEPRINTS = frozenset({"handover"})


def init_app(app):
    """Bind Flask-Babel with our locale selector and register the filters."""
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["cents"] = format_cents
    app.jinja_env.filters["amount_input"] = amount_input  # a form field's value: "75,50" / "75.50"
    app.jinja_env.filters["datetime"] = lambda value, fmt="short": format_datetime(value, fmt) if value else ""
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["age"] = lambda moment: format_timedelta(utcnow() - moment, threshold=1) if moment else ""
    app.jinja_env.filters["age_since"] = lambda later, earlier: format_timedelta(later - earlier, threshold=1)
    app.jinja_env.filters["event_label"] = lambda action: EVENT_LABELS.get(action, action)
    app.jinja_env.filters["category_name"] = category_name
    app.jinja_env.filters["status_label"] = lambda status: STATUS_LABELS.get(status, status)
    app.jinja_env.filters["choice_label"] = lambda choice: CHOICE_LABELS.get(choice, choice)
    app.jinja_env.filters["kind_label"] = lambda kind: KIND_LABELS.get(kind, kind)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["language"] = language
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.context_processor(request_gettext)


def request_gettext():
    """`_()` and `ngettext()` bound to this request's catalog, for templates rendered in a request.

    Jinja's i18n extension looks `gettext` up in the template's context before its globals, so these
    replace Flask-Babel's, which find the catalog again on every call (~30 µs; an inbox has ~90).
    They format exactly as Jinja's "newstyle" gettext does: escaped, then `%` with the variables.
    """
    translations = get_translations()

    @pass_context
    def gettext(context, message, **variables):
        text = translations.ugettext(message)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    @pass_context
    def ngettext(context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables

    return {"gettext": gettext, "ngettext": ngettext}


def select_locale():
    """The locale of the language the member chose (a cookie); else, on the client's page, the best of the
    phone's languages that we have; else Dutch."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen not in LANGUAGES and request.blueprint in ACCEPT_LANGUAGE_BLUEPRINTS:
        chosen = phone_language(request.accept_languages)
    return LOCALES[chosen if chosen in LANGUAGES else "nl"]


def phone_language(accepted) -> str | None:
    """The first of the phone's languages (by preference) that we have, by its primary tag: en-GB and en-US
    are English. Not werkzeug's best_match, which prefers a later exact "nl" over a first "en-GB"."""
    for tag, _quality in accepted:  # highest quality first
        primary = tag.split("-")[0].split("_")[0].lower()
        if primary in LANGUAGES:
            return primary
    return None


def language() -> str:
    """This request's language as a key of LANGUAGES ("nl" or "en")."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "nl"


def html_lang() -> str:
    """This request's locale as a BCP 47 tag for `<html lang>`: nl, en-GB."""
    locale = get_locale()
    return str(locale).replace("_", "-") if locale is not None else "nl"


def format_day(value) -> str:
    """A date in the current language (31 dec. 2026, 31 Dec 2026): the one way a page writes a day."""
    return format_date(value, "medium") if value else ""


def amount_input(amount_cents: int | None) -> str:
    """Cents as a form field's value in this language's format: "75,50" in Dutch, "75.50" in English."""
    locale = get_locale()
    decimal_mark = locale.number_symbols["latn"]["decimal"] if locale is not None else ","
    return cents_to_input(amount_cents, decimal_mark=decimal_mark)


def format_cents(amount_cents: int | None) -> str:
    """An amount in cents as euros in the current language: € 75,50 in Dutch, €75.50 in English."""
    if amount_cents is None:
        return "—"
    positive, negative, group, decimal = _euro_format(str(get_locale()))
    whole, cents = divmod(abs(amount_cents), 100)
    number = f"{whole:,}".replace(",", group) + f"{decimal}{cents:02d}"
    prefix, suffix = negative if amount_cents < 0 else positive
    return f"{prefix}{number}{suffix}"


@lru_cache(maxsize=len(LANGUAGES))
def _euro_format(locale_name: str):
    """The locale's euro pattern from CLDR, read once: Babel's format_currency costs ~80 µs a call,
    and an inbox shows a hundred amounts (tests check both give the same text)."""
    locale = Locale.parse(locale_name)
    pattern = locale.currency_formats["standard"]
    symbol = locale.currency_symbols.get("EUR", "€")
    sides = [(pattern.prefix[i].replace("¤", symbol), pattern.suffix[i].replace("¤", symbol)) for i in (0, 1)]
    return sides[0], sides[1], locale.number_symbols["latn"]["group"], locale.number_symbols["latn"]["decimal"]


def category_name(category) -> str:
    """A cost category's name in the current language."""
    if category is None:
        return "—"
    return category.name_en if language() == "en" else category.name_nl
