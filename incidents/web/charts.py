"""Stacked bar charts drawn on the server as SVG, with the numbers kept for their table twin.

No JavaScript and no chart library: the page is readable as it arrives, printed or in a
screen reader (the SVG has a title and a description; every bar its own title; the same
numbers are in a table beside it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

WIDTH, HEIGHT = 960, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 34
# Distinct on screen and in print, readable by most colour-blind people (Okabe-Ito, then Tol's muted).
PALETTE = (
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
    "#f0e442", "#332288", "#88ccee", "#882255", "#999933", "#555555",
)  # fmt: skip


@dataclass
class Series:
    code: str
    label: str
    counts: list[int]
    colour: str = ""


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass
class Chart:
    """Everything the SVG template draws, in its coordinates."""

    title: str
    description: str
    periods: list[dt.date]
    series: list[Series]
    totals: list[int]
    phases: list[str]
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    band: tuple[float, float] | None = None
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    baseline: float = HEIGHT - BOTTOM
    left: float = LEFT
    right: float = WIDTH - RIGHT

    @property
    def rows(self) -> list[tuple[dt.date, str, list[int], int]]:
        """The table twin: one row per period, its phase, the count of each series and the total."""
        return [
            (period, self.phases[i], [s.counts[i] for s in self.series], self.totals[i])
            for i, period in enumerate(self.periods)
        ]


def stacked_bars(
    title: str,
    description: str,
    periods: list[dt.date],
    series: list[Series],
    phases: list[str],
    *,
    period_label,
    tick_label,
    band_phase: str = "during",
) -> Chart:
    """Lay out one bar per period, its series stacked in order, over the band of ``band_phase`` periods."""
    for index, item in enumerate(series):
        item.colour = item.colour or PALETTE[index % len(PALETTE)]
    totals = [sum(item.counts[i] for item in series) for i in range(len(periods))]
    chart = Chart(title, description, periods, series, totals, phases)
    if not periods:
        return chart
    top = max(max(totals), 1)
    plot_height = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / len(periods)
    gap = min(2.0, step * 0.2)
    for i, period in enumerate(periods):
        y = HEIGHT - BOTTOM
        for item in series:
            count = item.counts[i]
            if not count:
                continue
            height = count / top * plot_height
            y -= height
            chart.bars.append(
                Bar(LEFT + i * step + gap / 2, y, step - gap, height, item.colour,
                    f"{period_label(period)}: {item.label} {count}")
            )  # fmt: skip
    during = [i for i, phase in enumerate(phases) if phase == band_phase]
    if during:
        chart.band = (LEFT + during[0] * step, (during[-1] - during[0] + 1) * step)
    chart.y_ticks = [(HEIGHT - BOTTOM - value / top * plot_height, value) for value in sorted({0, top // 2, top})]
    every = max(1, round(len(periods) / 8))
    chart.x_ticks = [
        (LEFT + (i + 0.5) * step, tick_label(period)) for i, period in enumerate(periods) if i % every == 0
    ]
    return chart
