"""Column charts drawn on the server as SVG: the geometry here, the markup in
templates/_charts.html. Every chart is shown with a table of the same figures."""

from __future__ import annotations

import math
from dataclasses import dataclass

LEFT = 44  # room for the scale's labels
BOTTOM = 28  # room for the categories' labels
TOP = 12


@dataclass(frozen=True)
class Series:
    """One measure across the categories; ``key`` names its colour (app-chart__bar--KEY)."""

    key: str
    label: str
    values: list[int]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    key: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    baseline: float
    peak: int
    bars: list[Bar]
    labels: list[Label]
    series: list[Series]

    @property
    def left(self) -> int:
        return LEFT

    @property
    def top(self) -> int:
        return TOP


def columns(categories: list[str], series: list[Series], *, stacked: bool = False,
            peak: int | None = None, width: int = 600, height: int = 220,
            most_labels: int = 12) -> ColumnChart:
    """Lay out a column chart: one group (or stack) of bars per category.

    ``peak`` fixes the top of the scale, so charts drawn side by side compare; it is
    raised to fit the figures if they need more.
    """
    count = max(len(categories), 1)
    plot_width = width - LEFT - 8
    plot_height = height - TOP - BOTTOM
    baseline = float(TOP + plot_height)
    heights = ([sum(s.values[n] for s in series) for n in range(len(categories))] if stacked
               else [v for s in series for v in s.values])
    top = max([peak or 0, *heights, 1])
    scale = plot_height / top
    slot = plot_width / count
    bars: list[Bar] = []
    for n, category in enumerate(categories):
        x = LEFT + slot * n + slot * 0.15
        if stacked:
            y: float = baseline
            for s in series:
                h = s.values[n] * scale
                y -= h
                bars.append(Bar(round(x, 1), round(y, 1), round(slot * 0.7, 1), round(h, 1),
                                s.key, f"{category}: {s.values[n]} {s.label.lower()}"))
        else:
            each = slot * 0.7 / max(len(series), 1)
            for k, s in enumerate(series):
                h = s.values[n] * scale
                bars.append(Bar(round(x + each * k, 1), round(baseline - h, 1), round(each, 1),
                                round(h, 1), s.key,
                                f"{category}: {s.values[n]} {s.label.lower()}"))
    step = math.ceil(count / most_labels)
    labels = [Label(round(LEFT + slot * (n + 0.5), 1), category)
              for n, category in enumerate(categories) if n % step == 0]
    return ColumnChart(width, height, baseline, top, bars, labels, series)
