"""Bar charts drawn on the server as SVG (templates/_chart.html): no script, no external asset, printable.

This module does the arithmetic — one row per label, one bar per series, scaled to the largest
value — and the template draws it with presentation attributes only, so the page's content
security policy holds and the chart prints in a PDF as on screen. Every chart is shown beside
the table it is drawn from, for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Geometry, in SVG user units.
LABEL_WIDTH = 170
PLOT_WIDTH = 360
BAR_HEIGHT = 14
ROW_GAP = 10
VALUE_GAP = 6
LEGEND_STEP = 210
LEGEND_PER_LINE = 2
# One colour per series, distinguishable in grey too (a print), each with a legend entry.
COLOURS = ("#1f5fbf", "#d9822b", "#2e8540", "#5b6676", "#8a3ffc")


@dataclass(frozen=True)
class Bar:
    series: str
    value: int
    x: int
    y: int
    width: int
    colour: str


@dataclass(frozen=True)
class Row:
    label: str
    y: int  # the label's baseline
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Key:
    """One legend entry: the series' colour swatch at (x, y), its name beside it."""

    name: str
    colour: str
    x: int
    y: int


@dataclass(frozen=True)
class BarChart:
    title: str
    series: tuple[tuple[str, str], ...]  # (name, colour)
    legend: tuple[Key, ...]
    rows: tuple[Row, ...]
    width: int
    height: int


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> BarChart:
    """Horizontal bars: for each label, one bar per series, the longest the plot's width."""
    top = max([value for _, values in series for value in values] + [1])
    names = tuple((name, COLOURS[i % len(COLOURS)]) for i, (name, _) in enumerate(series))
    legend = tuple(
        Key(name, colour, x=LABEL_WIDTH + (i % LEGEND_PER_LINE) * LEGEND_STEP, y=2 + (i // LEGEND_PER_LINE) * 18)
        for i, (name, colour) in enumerate(names)
    )
    rows = []
    y = 22 + (len(names) - 1) // LEGEND_PER_LINE * 18
    for i, label in enumerate(labels):
        bars = []
        for j, (name, values) in enumerate(series):
            value = values[i]
            bars.append(
                Bar(
                    series=name,
                    value=value,
                    x=LABEL_WIDTH,
                    y=y + j * BAR_HEIGHT,
                    width=round(PLOT_WIDTH * value / top),
                    colour=names[j][1],
                )
            )
        rows.append(Row(label=label, y=y + BAR_HEIGHT * len(series) // 2 + 4, bars=tuple(bars)))
        y += BAR_HEIGHT * len(series) + ROW_GAP
    return BarChart(
        title=title,
        series=names,
        legend=legend,
        rows=tuple(rows),
        width=LABEL_WIDTH + PLOT_WIDTH + 60,
        height=max(y, 22 + BAR_HEIGHT),
    )


@dataclass(frozen=True)
class Sparkline:
    """A small line of one series over time, e.g. a partner's requests per quarter."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    points: str  # the polyline's "x,y x,y …"
    dots: tuple[tuple[int, int], ...]
    width: int
    height: int


def sparkline(
    title: str, labels: Sequence[str], values: Sequence[float], *, width: int = 120, height: int = 28
) -> Sparkline:
    """One series as a line scaled to its largest value, a dot on each point; flat at the bottom when all are 0."""
    top = max([*values, 1])
    step = (width - 8) / max(len(values) - 1, 1)
    dots = tuple(
        (round(4 + i * step), round(height - 4 - (height - 8) * value / top)) for i, value in enumerate(values)
    )
    return Sparkline(
        title=title,
        labels=tuple(labels),
        values=tuple(values),
        points=" ".join(f"{x},{y}" for x, y in dots),
        dots=dots,
        width=width,
        height=height,
    )
