"""The app's Streamlit helpers: everything the pages share that is not compute.

=================  ==============================================================
module             what it holds
=================  ==============================================================
``frame``          the page frame: the router guard (legacy-multipage workaround)
``state``          the URL-bound controls' values and the sidebar's data choice
``widgets``        URL-bound widgets, escaping, link notices, share link, footer
``data``           loaders for every data source and the fallback policy
``cache``          the cached estimate, heatmap figure, clusters and calibration
``recorded``       the Liquidations page's live-recorded section
``magnets``        the Accuracy page's "do magnets pull price?" section
=================  ==============================================================

Caching lives here, at the UI boundary, keyed on small scalars (or a fingerprint of
the data) with bounded ``max_entries``; :mod:`liqcore` itself never imports streamlit.
"""
