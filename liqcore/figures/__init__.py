"""Figures: every plotly figure of the app, one module per family, one theme.

Built here (not in the pages) so they are tested without a browser.
"""
