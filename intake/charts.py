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
# One colour per series, distinguishable in grey too (a print), each with a legend entry.
COLOURS = ("#1f5fbf", "#d9822b", "#5b6676", "#2e8540")


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
class BarChart:
    title: str
    series: tuple[tuple[str, str], ...]  # (name, colour) for the legend
    rows: tuple[Row, ...]
    width: int
    height: int


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> BarChart:
    """Horizontal bars: for each label, one bar per series, the longest the plot's width."""
    top = max([value for _, values in series for value in values] + [1])
    names = tuple((name, COLOURS[i % len(COLOURS)]) for i, (name, _) in enumerate(series))
    legend = 22
    rows = []
    y = legend
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
        rows=tuple(rows),
        width=LABEL_WIDTH + PLOT_WIDTH + 60,
        height=max(y, legend + BAR_HEIGHT),
    )
