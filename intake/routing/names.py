"""Normal forms of account domains and company names, so one account is recognised however it is typed.

The keys are the engine's rule (PRODUCT.md, rule 5) and are computed here, in one place: the
app's `intake.matching` imports `company_key` and `domain_key` from this module, so an account
is matched the same way when it is saved and when a deal is routed. They never refuse a value,
they only reduce it; refusing a malformed domain is the app's job.

This is the one engine module that imports packages outside the standard library, and only two:
`cleanco` (the legal forms of companies, worldwide) and `publicsuffixlist` (the Public Suffix
List). Both are pure and offline: their data is bundled with the package, they read no clock,
no network and no file of ours, so the same name always gives the same key. The purity test
allows exactly these two, here and nowhere else.

Two names, or two domains, are one account when their keys are equal, and not otherwise: there
is no fuzzy similarity, because a false conflict holds a good deal.
"""

import ipaddress
import re
import unicodedata
from functools import cache, lru_cache

from cleanco.clean import custom_basename as _strip_legal_forms
from cleanco.clean import normalize_terms, prepare_default_terms
from cleanco.non_nfkd_map import NON_NFKD_MAP
from publicsuffixlist import PublicSuffixList

# Legal forms cleanco's list lacks; compound forms such as "GmbH & Co. KGaA" need no entry, as
# the forms are stripped again and again until the name no longer changes.
_EXTRA_LEGAL_FORMS = (
    "s.à r.l.",  # Luxembourg, Switzerland: société à responsabilité limitée
    "sàrl",
    "e.k.",  # Germany: eingetragener Kaufmann
    "e.kfm.",
    "e.kfr.",
    "kgaa",
    "ug",  # Germany: Unternehmergesellschaft (haftungsbeschränkt)
    "ug haftungsbeschränkt",
)


def _legal_forms() -> list[tuple[int, list[str]]]:
    """cleanco's terms and ours, in cleanco's order: the longest first, then alphabetically."""
    terms = {tuple(parts) for _, parts in prepare_default_terms()}
    terms.update(tuple(term.split()) for term in normalize_terms(_EXTRA_LEGAL_FORMS))
    return [(len(parts), list(parts)) for parts in sorted(terms, key=lambda parts: (-len(parts), parts))]


_LEGAL_FORMS = _legal_forms()
_BRACKETS = re.compile(r"[()\[\]{}]")


@lru_cache(maxsize=16_384)  # a pure function of the name, and cleanco's passes are slow: each name is reduced once
def company_key(name: str | None) -> str:
    """Return a company name reduced for matching.

    Case, accents, punctuation, spaces and legal forms (compound ones included) are ignored:
    "A.C.M.E. GmbH", "ACME" and "Acme" give one key, and so do "Müller Logistik GmbH & Co. KG"
    and "Müller Logistik GmbH". "&" reads as "and". A name that is nothing but a legal form (a
    company called "AG") keeps it, so that it still has a key.
    """
    folded = _fold(name or "")
    base = " ".join(_BRACKETS.sub(" ", folded).split())
    for _ in range(len(base) + 1):  # each pass shortens the name or changes nothing
        shorter = _strip_legal_forms(base, _LEGAL_FORMS)
        if shorter == base or not shorter:
            break
        base = shorter
    return _letters_and_digits(shorter) or _letters_and_digits(folded)


def _fold(text: str) -> str:
    """Lower case without accents: "Müller" → "muller", "Søren" → "soren", "Straße" → "strasse"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(NON_NFKD_MAP.get(char, char) for char in decomposed if unicodedata.category(char) != "Mn").lower()


def _letters_and_digits(text: str) -> str:
    return "".join(char for char in text.replace("&", " and ") if char.isalnum())


@cache
def _public_suffix_list() -> PublicSuffixList:
    """The list bundled with the package (private section included), read once, when first needed."""
    return PublicSuffixList()


def domain_key(raw: str | None) -> str:
    """Return the registrable part of a web address under the Public Suffix List.

    The address is first reduced to its host (lower case; no scheme, userinfo, port, path,
    query or trailing dot; IDNA-encoded), then to the part a company registers:
    `eu.acme-group.com`, `www.acme-group.com` and `acme-group.com` give one key, while
    `shop.example.co.uk` and `other.co.uk`, or `foo.github.io` and `bar.github.io`, do not.
    A host the list gives no registrable part for (`localhost`, a bare suffix, an IP address)
    is its own key.
    """
    host = _host(raw)
    if not host or _is_ip_address(host):
        return host
    return _public_suffix_list().privatesuffix(host) or host


def _host(raw: str | None) -> str:
    text = (raw or "").strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    if text.startswith("www."):
        text = text[4:]
    try:
        return text.encode("idna").decode("ascii")
    except UnicodeError:
        return text


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
