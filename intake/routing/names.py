"""Normal forms of account domains and company names, so one account is recognised however it is typed.

The one reduction the product uses (`intake.matching` builds its checks on it). It never
refuses a value, it only reduces it; refusing a malformed domain is the app's job.
"""

import re
import unicodedata

LEGAL_FORMS = frozenset(
    {
        "ag",
        "bv",
        "co",
        "company",
        "corp",
        "corporation",
        "gmbh",
        "inc",
        "incorporated",
        "kg",
        "limited",
        "llc",
        "llp",
        "ltd",
        "nv",
        "oy",
        "plc",
        "pty",
        "sa",
        "sarl",
        "sas",
        "se",
        "spa",
        "srl",
    }
)


def domain_key(raw: str | None) -> str:
    """Return the bare host of a web address: lower case, no scheme, www., port or path."""
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


def company_key(name: str | None) -> str:
    """Return a company name reduced for matching: case, punctuation and legal forms ignored."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("&", " and ")
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    while words and words[-1] in LEGAL_FORMS:
        words.pop()
    return " ".join(words)
