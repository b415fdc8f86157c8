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

  // The traces and layout are changed in place, never copied: Streamlit keeps the figure
  // it drew and draws it again when the figure plotly reports back is another object.
  // Copies on every call redrew without end; a copy per change still cost one more full
  // redraw per chart.
  const addDistance = (trace) => {
    const price = trace && trace.type === 'heatmap' && trace.meta && trace.meta.distance_from;
    if (!price || trace.customdata || trace.dy === undefined) return false;
    const z = trace.z || {};
    const shape = typeof z.shape === 'string' ? z.shape.split(',').map(Number) : null;
    const rows = shape ? shape[0] : (Array.isArray(z) ? z.length : 0);
    const cols = shape ? shape[1] : (rows ? z[0].length : 0);
    if (!rows || !cols) return false;
    const customdata = new Array(rows);
    for (let r = 0; r !== rows; r++) {
      const distance = ((trace.y0 + r * trace.dy) / price - 1) * 100;
      customdata[r] = new Array(cols).fill(distance);
    }
    // '\u003c' is '<': a script whose text has '<' before a letter is dropped by the page's
    // HTML sanitiser (DOMPurify), see ui.widgets.script.
    const line = '\u003cbr>distance from price %{customdata:+.2f}%';
    const extra = '\u003cextra>';
    trace.customdata = customdata;
    trace.hovertemplate = String(trace.hovertemplate || '').replace(extra, line + extra);
    return true;
  };

  const sameRange = (a, b) => Array.isArray(a) && a.length === 2 && a[0] === b[0] && a[1] === b[1];

  const applyZoom = (layout) => {
    const saved = layout && layout.uirevision !== undefined && zoomed[layout.uirevision];
    if (!saved) return;
    for (const [axis, range] of Object.entries(saved)) {
      const current = layout[axis] || (layout[axis] = {});
      if (!(sameRange(current.range, range) && current.autorange === false)) {
        current.range = range.slice();
        current.autorange = false;
      }
    }
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
      // Either react(gd, data, layout, config) or the figure form react(gd, {data, layout}).
      const figure = data && !Array.isArray(data) && typeof data === 'object' ? data : null;
      const traces = (figure ? figure.data : data) || [];
      traces.forEach(addDistance);
      applyZoom(figure ? figure.layout : layout);
      const result = react.call(this, gd, data, layout, ...rest);
      Promise.resolve(result).then((drawn) => remember(drawn || gd), () => {});
      return result;
    };
    // Charts drawn before this ran (a session's first page): their hover gets the distance
    // when the browser is idle (one redraw, nothing changes on screen), and their zoom is
    // remembered from now on.
    const later = window.requestIdleCallback || ((f) => setTimeout(f, 200));
    for (const gd of document.querySelectorAll('.js-plotly-plot')) {
      remember(gd);
      later(() => {
        (gd.data || []).forEach((trace, i) => {
          const copy = { ...trace };
          if (addDistance(copy)) {
            Plotly.restyle(gd, { customdata: [copy.customdata], hovertemplate: [copy.hovertemplate] }, [i]);
          }
        });
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
