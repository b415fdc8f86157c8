"""The current book read as numbers: headline figures and the magnet-zone table."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from liqcore.analysis.confluence import confluence
from liqcore.figures.theme import format_usd
from liqcore.model import Estimate
from liqcore.orderbook import sweep

__all__ = ["book_summary", "magnet_cells", "magnet_table"]


def book_summary(estimate: Estimate) -> dict[str, float | None]:
    """Headline numbers of the current book: price, nearest clusters, USD near price.

    Returns
    -------
    dict
        ``price``; ``nearest_long_price`` / ``nearest_long_pct`` and the same for
        shorts (None when that side is empty); ``long_usd_2pct``, ``short_usd_2pct``,
        ``long_usd_5pct``, ``short_usd_5pct``: USD that a move of 2% / 5% would liquidate
        (:func:`liqcore.orderbook.sweep`, the what-if's own reading).

    Examples
    --------
    >>> from liqcore.model import ModelParams, estimate
    >>> from liqcore.simulate import simulate
    >>> summary = book_summary(estimate(simulate(days=3, seed=3).market, ModelParams()))
    >>> summary["long_usd_5pct"] >= summary["long_usd_2pct"] >= 0
    True
    >>> summary["nearest_long_pct"] < 0 < summary["nearest_short_pct"]
    True
    """
    price = estimate.price
    levels = estimate.wide_levels  # the ±5 % may reach past the chart's price range
    clusters = estimate.clusters(n=50)
    out: dict[str, float | None] = {"price": price}
    for side in ("long", "short"):
        zones = clusters[clusters["side"] == side]
        if zones.empty:
            out[f"nearest_{side}_price"] = out[f"nearest_{side}_pct"] = None
        else:
            nearest = zones.loc[zones["distance_pct"].abs().idxmin()]
            out[f"nearest_{side}_price"] = float(nearest["price"])
            out[f"nearest_{side}_pct"] = float(nearest["distance_pct"])
    for pct in (2, 5):
        out[f"long_usd_{pct}pct"] = float(sweep(levels, price, -pct)["usd"])
        out[f"short_usd_{pct}pct"] = float(sweep(levels, price, pct)["usd"])
    return out


def magnet_table(
    estimate: Estimate,
    n: int = 5,
    min_usd: float = 0.0,
    others: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """The largest clusters ("magnet zones") above and below price, ready to show.

    Columns: ``Side``, ``Centre``, ``USD at risk (est.)``, ``Distance %``, then, when
    ``others`` (timeframe -> that timeframe's clusters) is given, ``Timeframes`` (the
    timeframes whose books have the zone too, :func:`liqcore.analysis.confluence.confluence`),
    and last the zone's edges ``From`` and ``To``.

    Examples
    --------
    >>> from liqcore.simulate import simulate
    >>> from liqcore.model import estimate as run
    >>> est = run(simulate(days=3, interval="15m", seed=2).market)
    >>> table = magnet_table(est, n=2, others={"now": est.clusters(n=2)})
    >>> list(table.columns), set(table["Timeframes"])
    (['Side', 'Centre', 'USD at risk (est.)', 'Distance %', 'Timeframes', 'From', 'To'], {'now'})
    """
    zones = estimate.clusters(n=n, min_usd=min_usd)
    table = pd.DataFrame(
        {
            "Side": np.where(zones["side"] == "long", "Longs (below)", "Shorts (above)"),
            "Centre": zones["price"].round(2),
            "USD at risk (est.)": zones["usd"].round(0),
            "Distance %": zones["distance_pct"].round(2),
        }
    )
    if others is not None:
        table["Timeframes"] = confluence(zones, others, estimate.price)["timeframes"].to_numpy()
    # The zone's edges last: on a phone the first columns are the ones seen without scrolling.
    table["From"] = zones["price_low"].round(2).to_numpy()
    table["To"] = zones["price_high"].round(2).to_numpy()
    return table


def magnet_cells(table: pd.DataFrame) -> pd.DataFrame:
    """The magnet-zone table (:func:`magnet_table`) with its numbers formatted, as text.

    For ``st.table``: a static table, so ten rows need no interactive grid (the browser
    then has ~1.3 MB less code to load while it draws the heatmap), and one that scrolls
    sideways on a phone instead of cutting its right-hand columns off.

    Examples
    --------
    >>> t = pd.DataFrame({"Side": ["Longs (below)"], "Centre": [95.5],
    ...     "USD at risk (est.)": [1.2e6], "Distance %": [-4.5], "Timeframes": ["24h · 1w"],
    ...     "From": [95.0], "To": [96.0]})
    >>> magnet_cells(t).iloc[0].tolist()
    ['Longs (below)', '95.50', '$1.2M', '-4.50%', '24h · 1w', '95.00', '96.00']
    """
    numeric = {
        "From": "{:,.2f}",
        "To": "{:,.2f}",
        "Centre": "{:,.2f}",
        "Distance %": "{:+.2f}%",
    }
    cells = table.astype("object").copy()
    for column in table.columns:
        if column.startswith("USD"):
            cells[column] = [format_usd(float(v)) for v in table[column]]
        elif column in numeric:
            cells[column] = [numeric[column].format(float(v)) for v in table[column]]
        else:
            cells[column] = table[column].astype(str)
    return cells
