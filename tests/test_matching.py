import pytest

from intake.matching import InvalidDomain, normalise_company, normalise_domain


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("example.com", "example.com"),
        ("https://www.Example.COM/about?x=1", "example.com"),
        ("http://shop.example.co.uk:8080/", "shop.example.co.uk"),
        ("WWW.example.org.", "example.org"),
        ("müller.de", "xn--mller-kva.de"),
    ],
)
def test_domains_are_reduced_to_their_bare_host(raw, expected):
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "localhost", "not a domain", "exa_mple.com", "-bad.com", "example.c0m", "a" * 64 + ".com"]
)
def test_malformed_domains_are_refused(raw):
    with pytest.raises(InvalidDomain):
        normalise_domain(raw)


@pytest.mark.parametrize(
    "a, b",
    [
        ("ACME Inc.", "Acme"),
        ("Acme, Ltd", "acme"),
        ("Bergmann Werkzeuge GmbH", "bergmann werkzeuge"),
        ("Müller AG", "Muller"),
        ("Smith & Sons LLC", "smith and sons"),
    ],
)
def test_company_names_match_whatever_case_punctuation_and_legal_form(a, b):
    assert normalise_company(a) == normalise_company(b)


def test_different_companies_stay_different():
    assert normalise_company("Acme Tools") != normalise_company("Acme")
