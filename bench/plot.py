"""Cost against size, one PNG per benchmark, into bench/results/."""

from __future__ import annotations

from pathlib import Path

from bench.report import RESULTS

Series = dict[str, list[tuple[float, float]]]

# Set once by the runner: where plots go, and "-full" for the full pass.
OUTPUT: Path | None = None
SUFFIX = ""


def lines(name: str, xlabel: str, ylabel: str, series: Series,
          directory: Path | None = None) -> Path | None:
    """Plot each series (x, y) on log-x axes; None when there is nothing to plot."""
    if not any(series.values()):
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display here, and none needed
    import matplotlib.pyplot as plt

    out = (directory or OUTPUT or RESULTS) / f"{name}{SUFFIX}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, points in series.items():
        if points:
            xs, ys = zip(*sorted(points), strict=True)
            ax.plot(xs, ys, marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(name)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
