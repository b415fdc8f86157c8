// Two things st.plotly_chart (Streamlit 1.67) does not do, done in the browser.
// Run once per page by ui.frame.plotly_extras(); it waits for plotly.js (window.Plotly,
// which Streamlit's chart code defines) and wraps Plotly.react, which every chart draws with.
//
// 1. Zoom kept across controls. A new figure gets a new element id, so Streamlit mounts a
//    new chart and plotly's layout.uirevision never sees the old one (streamlit/streamlit
//    issue 5107, pull request 16052). Here the axes' ranges a user zooms or pans to are kept
//    per uirevision and put into the layout of the next chart with the same uirevision, so
//    it is drawn zoomed at once. A double-click (autorange) forgets them.
// 2. The heat's hover says how far each price is from the current price. That distance is
//    the same along a row of cells; plotly's heatmap hover reads per-cell data only, and
//    sending it per cell would add a third to the figure's bytes. A heatmap trace with
//    meta.distance_from (a price) gets it computed here (one number per row, repeated
//    along the row) and a line in its hover.
(() => {
  if (window.__liqstudioExtras) return;
  window.__liqstudioExtras = true;
  const zoomed = {}; // uirevision -> {axis name: [low, high]}
  const AXIS = /^([xy]axis\d*)\.(range|autorange)/;

  const withDistance = (trace) => {
    const price = trace && trace.type === 'heatmap' && trace.meta && trace.meta.distance_from;
    if (!price || trace.customdata || trace.dy === undefined) return trace;
    const z = trace.z || {};
    const shape = typeof z.shape === 'string' ? z.shape.split(',').map(Number) : null;
    const rows = shape ? shape[0] : (Array.isArray(z) ? z.length : 0);
    const cols = shape ? shape[1] : (rows ? z[0].length : 0);
    if (!rows || !cols) return trace;
    const customdata = new Array(rows);
    for (let r = 0; r < rows; r++) {
      const distance = ((trace.y0 + r * trace.dy) / price - 1) * 100;
      customdata[r] = new Array(cols).fill(distance);
    }
    // '\u003c' is '<': a script whose text has '<' before a letter is dropped by the page's
    // HTML sanitiser (DOMPurify), see ui.frame.
    const line = '\u003cbr>distance from price %{customdata:+.2f}%';
    const extra = '\u003cextra>';
    const template = String(trace.hovertemplate || '').replace(extra, line + extra);
    return { ...trace, customdata, hovertemplate: template };
  };

  // New objects only when something changes: Streamlit stores the drawn figure and draws
  // again whenever it gets a new object, so a fresh copy on every call never settles.
  const allWithDistance = (data) => {
    const out = (data || []).map(withDistance);
    return out.some((trace, i) => trace !== data[i]) ? out : data;
  };

  const sameRange = (a, b) => Array.isArray(a) && a.length === 2 && a[0] === b[0] && a[1] === b[1];

  const withZoom = (layout) => {
    const saved = layout && layout.uirevision !== undefined && zoomed[layout.uirevision];
    if (!saved) return layout;
    const axes = Object.entries(saved).filter(([axis, range]) => {
      const current = layout[axis] || {};
      return !(sameRange(current.range, range) && current.autorange === false);
    });
    if (!axes.length) return layout;
    const out = { ...layout };
    for (const [axis, range] of axes) {
      out[axis] = { ...(layout[axis] || {}), range: range.slice(), autorange: false };
    }
    return out;
  };

  const remember = (gd) => {
    if (!gd || gd.__liqstudioZoom || !gd.on) return;
    gd.__liqstudioZoom = true;
    gd.on('plotly_relayout', (event) => {
      const key = gd.layout && gd.layout.uirevision;
      if (key === undefined || !event) return;
      const saved = { ...(zoomed[key] || {}) };
      for (const name of Object.keys(event)) {
        const match = AXIS.exec(name);
        if (!match) continue;
        const axis = match[1];
        const full = gd._fullLayout && gd._fullLayout[axis];
        if (match[2] === 'autorange' || !full) delete saved[axis];
        else saved[axis] = full.range.slice();
      }
      zoomed[key] = saved;
    });
  };

  const wrap = (Plotly) => {
    const react = Plotly.react;
    Plotly.react = function (gd, data, layout, ...rest) {
      let result;
      if (data && !Array.isArray(data) && typeof data === 'object') {
        // The figure form: react(gd, {data, layout, config, frames}).
        const traces = allWithDistance(data.data);
        const zoomedLayout = withZoom(data.layout);
        const figure =
          traces === data.data && zoomedLayout === data.layout
            ? data
            : { ...data, data: traces, layout: zoomedLayout };
        result = react.call(this, gd, figure, layout, ...rest);
      } else {
        result = react.call(this, gd, allWithDistance(data), withZoom(layout), ...rest);
      }
      Promise.resolve(result).then((drawn) => remember(drawn || gd), () => {});
      return result;
    };
    // Charts drawn before this ran (a session's first page): their hover gets the distance
    // now, and their zoom is remembered from now on.
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      remember(gd);
      (gd.data || []).forEach((trace, i) => {
        const extra = withDistance(trace);
        if (extra !== trace) {
          Plotly.restyle(gd, { customdata: [extra.customdata], hovertemplate: [extra.hovertemplate] }, [i]);
        }
      });
    }
  };

  const start = performance.now();
  const waitForPlotly = () => {
    if (window.Plotly && window.Plotly.react) wrap(window.Plotly);
    else if (performance.now() - start < 120 * 1000) setTimeout(waitForPlotly, 50);
  };
  waitForPlotly();
})();
