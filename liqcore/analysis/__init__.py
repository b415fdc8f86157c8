"""Analysis: what the estimate, the simulated truth and the reported liquidations say.

Compute only, named after the data each module holds; the figures are in :mod:`liqcore.figures`.
"""
