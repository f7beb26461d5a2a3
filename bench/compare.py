"""Intake next to its yardsticks: the same requests under the same load, and the ratios.

A target is (name, gunicorn app, probe maker); the probe maker gets the served port and the part's
context and returns the requests to measure on that target, by label ("GET", "POST", ...). Every
target's server is up for the whole part (an idle one costs nothing), and each request is measured
on each target in turn, so the runs compared follow each other closely. Ratios are of req/s,
Intake / yardstick: 1.0 is as fast as the yardstick.
"""

import sys
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

from bench.load import Result, measure
from bench.servers import gunicorn

OURS = "intake"


def run_targets(targets, env: dict, workdir: Path, context: dict, load, options) -> dict:
    """Serve the targets together and measure each request on each; details as JSON-ready dicts:
    {"targets": {name: {label: Result as dict}}, "paths": {name: {label: path}}}."""
    results: dict[str, dict[str, Result]] = {name: {} for name, _, _ in targets}
    paths: dict[str, dict[str, str]] = {}
    with ExitStack() as stack:
        servers, probes = {}, {}
        for name, app, make_probes in targets:
            log = Path(workdir, f"gunicorn-{name.replace(' ', '-').replace('+', 'plus')}.log")
            servers[name] = stack.enter_context(gunicorn(app, env, log))
            probes[name] = make_probes(servers[name].port, context)
            paths[name] = {request: probe.path for request, probe in probes[name].items()}
        requests = list(dict.fromkeys(request for by_request in probes.values() for request in by_request))
        for request in requests:
            for name, server in servers.items():
                if probe := probes[name].get(request):
                    print(f"measuring {name}: {request} {probe.path}", file=sys.stderr, flush=True)
                    results[name][request] = measure(load, server, probe, options)
    return {
        "targets": {name: {request: asdict(r) for request, r in by.items()} for name, by in results.items()},
        "paths": paths,
    }


def ratio(run: dict, request: str, base: str, key: str = "rps") -> float:
    """Ours / the yardstick's for one request: req/s by default (higher is better for us)."""
    ours, theirs = run["targets"][OURS][request][key], run["targets"][base][request][key]
    return round(ours / theirs, 2) if theirs else 0.0


def ratios(run: dict) -> dict:
    """Every ratio of req/s the run allows: {request: {"ours / <yardstick>": x}}."""
    found: dict[str, dict[str, float]] = {}
    for request in run["targets"][OURS]:
        for base, by_request in run["targets"].items():
            if base != OURS and request in by_request:
                found.setdefault(request, {})[f"ours / {base}"] = ratio(run, request, base)
    return found


def print_table(title: str, run: dict) -> None:
    """The requests as rows, every target of each, with Intake's ratio to each yardstick measured."""
    print(f"\n{title}\n")
    by_ratio = ratios(run)
    bases = list(dict.fromkeys(base for r in by_ratio.values() for base in r))
    requests = list(dict.fromkeys(request for by in run["targets"].values() for request in by))
    width = max(len("target"), *(len(name) for name in run["targets"])) + 2
    first = max(len("request"), *(len(r) for r in requests)) + 2
    header = f"{'request':<{first}}{'target':<{width}}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'cpu ms/req':>12}"
    header += "".join(f"{base:>{len(base) + 3}}" for base in bases)
    print(header)
    print("-" * len(header))
    for request in requests:
        for name, by_request in run["targets"].items():
            if (r := by_request.get(request)) is None:
                continue
            line = f"{request:<{first}}{name:<{width}}{r['rps']:>9.1f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
            line += f"{r['cpu_ms']:>12.2f}"
            if name == OURS:
                for base in bases:
                    value = by_ratio.get(request, {}).get(base)
                    line += f"{value:>{len(base) + 2}.2f}x" if value is not None else " " * (len(base) + 3)
            print(line.rstrip())
