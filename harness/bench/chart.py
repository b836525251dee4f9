"""The bench chart: every figure's ratio as a bar on a log scale, with its goal marked (``bench.png``).

Ratios, not absolute numbers, are what the benchmarks judge, so the chart shows those: one row per
figure, green when the goal is met, red when missed, grey without a goal; a black tick marks the goal.
Figures that could not be measured are listed under the chart. matplotlib draws with its Agg backend
(no display needed) into a private ``Figure`` object: no global pyplot state is touched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from .errors import Unavailable
from .results import BenchResult

__all__ = ["CHART_FILE", "render_chart"]

CHART_FILE = "bench.png"

_MET, _MISSED, _NO_GOAL = "#2e7d32", "#c62828", "#9e9e9e"


def render_chart(results: Sequence[BenchResult], path: Path, *, title: str) -> Path:
    """Draw the chart to ``path``; :class:`Unavailable` when matplotlib is not installed."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure as MplFigure
        from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter
    except ImportError as exc:
        raise Unavailable(
            "matplotlib is not installed, so no chart was drawn "
            "(`pip install 'payharness[bench]'` adds it)"
        ) from exc
    rows: list[tuple[str, float, str, float | None]] = []
    missing: list[str] = []
    for result in results:
        if result.unavailable or result.error:
            missing.append(f"{result.name}: {result.unavailable or result.error}")
            continue
        for figure in result.figures:
            label = f"{result.name}: {figure.name}"
            if figure.ratio is None or figure.ratio <= 0 or math.isnan(figure.ratio):
                missing.append(f"{label}: {figure.unavailable or 'no ratio'}")
                continue
            colour = _NO_GOAL if figure.met is None else (_MET if figure.met else _MISSED)
            goal = figure.goal.threshold if figure.goal else None
            rows.append((label, figure.ratio, colour, goal))
    height = 1.2 + 0.42 * max(1, len(rows)) + 0.22 * len(missing)
    chart = MplFigure(figsize=(11, height), dpi=110)
    FigureCanvasAgg(chart)
    axes = chart.add_subplot(1, 1, 1)
    if rows:
        positions = list(range(len(rows)))[::-1]
        axes.barh(positions, [r[1] for r in rows], color=[r[2] for r in rows], height=0.6)
        for y, (_label, ratio, _colour, goal) in zip(positions, rows, strict=True):
            axes.text(ratio, y, f" {ratio:.2f}", va="center", fontsize=8)
            if goal is not None:
                axes.plot([goal, goal], [y - 0.4, y + 0.4], color="black", linewidth=2)
        axes.set_yticks(positions, [r[0] for r in rows], fontsize=8)
        axes.set_xscale("log")
        axes.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axes.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.axvline(1.0, color="#555555", linewidth=0.8, linestyle=":")
        low = min([r[1] for r in rows] + [g for *_x, g in rows if g is not None])
        high = max([r[1] for r in rows] + [g for *_x, g in rows if g is not None])
        axes.set_xlim(low / 2, high * 3)
    else:
        axes.text(0.5, 0.5, "no ratio measured", ha="center", va="center")
        axes.set_yticks([])
    axes.set_xlabel("ratio to the baseline measured in the same run (black tick: goal)")
    axes.set_title(title, fontsize=10)
    if missing:
        text = "not available:\n" + "\n".join(f"  {m[:175]}" for m in missing)
        chart.text(0.01, 0.01, text, fontsize=7, va="bottom", family="monospace")
    longest = max((len(r[0]) for r in rows), default=10)
    chart.subplots_adjust(
        left=min(0.62, 0.03 + longest * 6.4 / (11 * 110)),
        right=0.97,
        top=1 - 0.5 / height,
        bottom=(0.6 + 0.22 * len(missing)) / height,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    chart.savefig(path)
    return path
