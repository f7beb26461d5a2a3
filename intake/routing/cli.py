"""`flask --app intake routing …`: try the routing engine on an input file.

The edge of the engine: reads JSON, prints JSON, and turns a refused input into exit status 2
with one line naming the bad field.
"""

import json
from typing import NoReturn

import click

from . import InvalidInput, decide, parse_input


@click.group(help="Try the routing engine.")
def routing():
    pass


@routing.command("simulate")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def simulate(file):
    """Print the decision for the routing input in FILE (JSON; - reads standard input)."""
    try:
        data = json.load(file)
    except json.JSONDecodeError as exc:
        _refuse(f"input: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
    except UnicodeDecodeError:
        _refuse("input: not valid UTF-8 text")
    try:
        decision = decide(parse_input(data))
    except InvalidInput as exc:
        _refuse(str(exc))
    click.echo(decision.to_json())


def _refuse(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    click.get_current_context().exit(2)
