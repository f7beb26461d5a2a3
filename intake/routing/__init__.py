"""The routing engine: who leads a deal, who fulfils it, who supports it, and why.

Pure: standard library only, no clock, no randomness, no I/O. The rules are PRODUCT.md's
"Routing rules"; `parse_input` reads the JSON form, `decide` applies the rules, and
`Decision.to_json()` gives the same bytes for the same input, whatever the order of its lists.
"""

from .engine import decide
from .model import Decision, Party, RoutingInput
from .parse import InvalidInput, parse_input, validate

__all__ = ["Decision", "InvalidInput", "Party", "RoutingInput", "decide", "parse_input", "validate"]
