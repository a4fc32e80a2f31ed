"""Bar charts drawn on the server as inline SVG, with a table of the same figures.

The geometry is computed here and the `bar_chart` macro in
templates/_chart.html writes it out, so pages need no JavaScript and the
Content-Security-Policy needs no inline styles: sizes are SVG attributes
and colours come from the `series-N` classes in static/warmline.css.
"""

from __future__ import annotations

import dataclasses
import math

PALETTE_SIZE = 8
"""Number of `series-N` colour classes in the style sheet; more series reuse them."""

PLOT_HEIGHT = 160
LEFT = 40
"""Room for the value axis labels, in SVG user units."""
TOP = 10
BOTTOM = 34
"""Room for the category labels under the bars."""
RIGHT = 8
SLOT = 44
"""Width of one category: its bar plus the gap to the next."""
BAR = 30


@dataclasses.dataclass(frozen=True)
class Series:
    """One stacked layer of the chart, such as one staff member's counts."""

    name: str
    values: list[int]


@dataclasses.dataclass(frozen=True)
class Segment:
    """One rectangle: a series' value in one category."""

    x: float
    y: float
    width: float
    height: float
    value: int
    series: str
    category: str
    css_class: str


@dataclasses.dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclasses.dataclass(frozen=True)
class Label:
    text: str
    x: float
    total: int


@dataclasses.dataclass(frozen=True)
class BarChart:
    """A stacked bar chart: geometry for the SVG and rows for the table."""

    id: str
    title: str
    description: str
    categories: list[str]
    series: list[Series]
    segments: list[Segment]
    ticks: list[Tick]
    labels: list[Label]
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    plot_right: int
    show_legend: bool

    @property
    def totals(self) -> list[int]:
        return [label.total for label in self.labels]

    @property
    def grand_total(self) -> int:
        return sum(self.totals)

    @property
    def legend(self) -> list[tuple[str, str]]:
        """Each series' name and colour class."""
        return [
            (row.name, series_class(index)) for index, row in enumerate(self.series)
        ]


def series_class(index: int) -> str:
    return f"series-{index % PALETTE_SIZE}"


def nice_maximum(value: int) -> int:
    """Round `value` up to 1, 2 or 5 times a power of ten (at least 1)."""
    if value <= 1:
        return 1
    power: int = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5):
        if value <= step * power:
            return step * power
    return 10 * power


def tick_values(maximum: int) -> list[int]:
    """Return 0 and up to four more whole values up to `maximum`, evenly spaced."""
    for parts in (4, 5, 2, 1):
        if maximum % parts == 0:
            step = maximum // parts
            return [step * index for index in range(parts + 1)]
    return [0, maximum]  # pragma: no cover - parts of 1 always divide


def stacked_bars(
    chart_id: str,
    title: str,
    description: str,
    categories: list[str],
    series: list[Series],
    axis_labels: list[str] | None = None,
    show_legend: bool = True,
) -> BarChart:
    """Lay out a stacked bar chart of `series` over `categories`.

    Every series has one value per category, and the bars stack the series
    in the order given, the first at the bottom.  `axis_labels` are short
    texts under the bars, the categories themselves when not given.  A chart
    of one series whose name the title already gives needs no legend.
    """
    axis_labels = axis_labels or categories
    if len(axis_labels) != len(categories):
        raise ValueError("give one axis label per category")
    for row in series:
        if len(row.values) != len(categories):
            raise ValueError(
                f"series {row.name!r} has {len(row.values)} values for "
                f"{len(categories)} categories; give one value per category"
            )
    totals = [0] * len(categories)
    for row in series:
        totals = [a + b for a, b in zip(totals, row.values, strict=True)]
    maximum = nice_maximum(max(totals, default=0))
    bottom = TOP + PLOT_HEIGHT
    scale = PLOT_HEIGHT / maximum

    segments: list[Segment] = []
    labels: list[Label] = []
    for index, category in enumerate(categories):
        x = LEFT + index * SLOT + (SLOT - BAR) / 2
        stacked = 0
        for number, row in enumerate(series):
            value = row.values[index]
            if value <= 0:
                continue
            top = bottom - (stacked + value) * scale
            segments.append(
                Segment(
                    x=x,
                    y=round(top, 2),
                    width=BAR,
                    height=round(value * scale, 2),
                    value=value,
                    series=row.name,
                    category=category,
                    css_class=series_class(number),
                )
            )
            stacked += value
        labels.append(Label(axis_labels[index], x + BAR / 2, totals[index]))

    ticks = [
        Tick(value, round(bottom - value * scale, 2)) for value in tick_values(maximum)
    ]
    width = LEFT + SLOT * len(categories) + RIGHT
    return BarChart(
        id=chart_id,
        title=title,
        description=description,
        categories=categories,
        series=series,
        segments=segments,
        ticks=ticks,
        labels=labels,
        width=width,
        height=bottom + BOTTOM,
        plot_top=TOP,
        plot_bottom=bottom,
        plot_left=LEFT,
        plot_right=width - RIGHT,
        show_legend=show_legend,
    )
