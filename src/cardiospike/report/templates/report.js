// CardioSpike report: draws each recording's RR chart, and the ECG strips of a recording read from ECG, from the
// JSON in #report-data with the inlined Plotly.js. SVG only (no WebGL), so that the charts draw and print everywhere;
// long lines arrive decimated from the report.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const DAY_MS = 86400000;
  // Plotly reads a number of 2 or 4 digits on a date axis as a year ("1000" ms would be the year 1000): times are
  // drawn from midnight of a fixed day instead, whose milliseconds have 12 digits; the axis shows the clock.
  const DATE_BASE = Date.UTC(2000, 0, 1);
  const WIDTH = 1000;
  const HEIGHT = 380;
  // Anomalous beats are coloured by probability in five steps of the web app's scale (yellow, orange, dark red).
  const ANOMALY_COLOURS = ["#fdc776", "#f9a05b", "#f46d43", "#d53a34", "#b10d2a"];
  const ANOMALY_RADIUS = 3.5;
  const EPISODE_FILL = "rgba(215, 48, 31, 0.2)";
  const ERROR_RADIUS = 4.5;
  // Reference labels (where the input has them): a green band under the RR, missed beats ringed in blue, false ones
  // boxed in magenta, as in the web app.
  const REFERENCE_FILL = "#1a9850";
  const MISSED_COLOUR = "#1f78b4";
  const FALSE_COLOUR = "#e7298a";
  const RING_RADIUS = 6;
  // ECG strips: drawn on a grid of 0.2 s, as on ECG paper; each detected beat marked by its kind (a beat, an
  // anomalous one, a measurement error), with the keys of the RR chart.
  const STRIP_HEIGHT = 210;
  const PAPER_MAJOR = "#f1c6c1";
  const PAPER_MINOR = "#fbeae7";
  const BEAT_KINDS = [
    { name: "beat", marker: { size: 6, color: "#4a5563" } },
    { name: "anomalous beat", marker: { size: 8, color: ANOMALY_COLOURS[2], line: { color: "#7f0000", width: 0.5 } } },
    { name: "measurement error", marker: { symbol: "diamond-open", size: 9, color: "#5e3c99", line: { width: 2 } } },
  ];
  const charts = JSON.parse(document.getElementById("report-data").textContent);
  const divs = Array.from(document.querySelectorAll(".chart[data-index]"));
  const stripDivs = Array.from(document.querySelectorAll(".strip[data-chart]"));

  function shifted(values, spec) {
    return spec.date_axis ? values.map((v) => (v === null ? null : v + DATE_BASE)) : values;
  }

  function traces(spec) {
    const line = spec.line;
    const whole = !spec.decimated;
    const ax = shifted(spec.anomalies.x, spec);
    const ex = shifted(spec.errors.x, spec);
    // Episodes and the beats' marks are drawn by drawOverlay; these traces draw nothing (mode "none") and carry the
    // same points for hovering, and one empty trace each gives the legend its symbol.
    return [
      {
        name: whole ? "RR" : "RR (decimated)",
        type: "scatter",
        mode: whole && line.x.length <= 600 ? "lines+markers" : "lines",
        x: shifted(line.x, spec),
        y: line.y,
        customdata: whole ? line.p : undefined,
        line: { color: "#4a5563", width: 1 },
        marker: { size: 3, color: "#4a5563" },
        hovertemplate: whole
          ? "%{x}<br>RR %{y:.0f} ms<br>P(anomaly) %{customdata:.3f}<extra></extra>"
          : "%{x}<br>RR %{y:.0f} ms<extra>lowest or highest of its stretch</extra>",
      },
      {
        name: "anomalous beat",
        type: "scatter",
        mode: "none",
        x: ax,
        y: spec.anomalies.y,
        customdata: spec.anomalies.p.map((p, i) => [p, spec.anomalies.rr[i]]),
        hovertemplate: "%{x}<br>RR %{customdata[1]:.0f} ms<br><b>P(anomaly) %{customdata[0]:.3f}</b><extra>anomalous</extra>",
        showlegend: false,
      },
      {
        name: "measurement error",
        type: "scatter",
        mode: "none",
        x: ex,
        y: spec.errors.y,
        customdata: spec.errors.rr,
        hovertemplate: "%{x}<br>RR %{customdata:.0f} ms (out of range)<extra>measurement error</extra>",
        showlegend: false,
      },
      legendOnly("episode", { color: EPISODE_FILL, size: 12, symbol: "square" }, spec.episodes.length > 0),
      legendOnly("anomalous beat", { color: ANOMALY_COLOURS[2], size: 7, line: { color: "#7f0000", width: 0.5 } }, ax.length > 0),
      legendOnly("measurement error", { symbol: "diamond-open", size: 9, color: "#5e3c99", line: { width: 2 } }, ex.length > 0),
      ...(spec.reference ? referenceTraces(spec) : []),
    ];
  }

  /** The reference labels' hover points (missed and false beats; drawOverlay draws them) and legend entries. */
  function referenceTraces(spec) {
    const ref = spec.reference;
    const hover = (name, part, text) => ({
      name,
      type: "scatter",
      mode: "none",
      x: shifted(part.x, spec),
      y: part.y,
      customdata: part.rr,
      hovertemplate: `%{x}<br>RR %{customdata:.0f} ms<br>${text}<extra>${name}</extra>`,
      showlegend: false,
    });
    return [
      hover("missed", ref.missed, "labelled, not flagged"),
      hover("false", ref.false, "flagged, not labelled"),
      legendOnly("Reference (labelled)", { color: REFERENCE_FILL, size: 10, symbol: "square" }, true),
      legendOnly("missed (labelled, not flagged)", { symbol: "circle-open", size: 11, color: MISSED_COLOUR, line: { width: 2 } }, ref.missed.x.length > 0),
      legendOnly("false (flagged, not labelled)", { symbol: "square-open", size: 11, color: FALSE_COLOUR, line: { width: 2 } }, ref.false.x.length > 0),
    ];
  }

  function legendOnly(name, marker, shown) {
    return { name, type: "scatter", mode: "markers", x: [null], y: [null], marker, hoverinfo: "skip", showlegend: shown };
  }

  /** The group of the chart's data layer (clipped to the plot area) with this class, made where missing. */
  function layer(plot, name, below) {
    let group = plot.querySelector(`:scope > g.${name}`);
    if (!group) {
      group = document.createElementNS(SVG, "g");
      group.setAttribute("class", name);
      plot.insertBefore(group, below ? plot.firstChild : null);
    }
    return group;
  }

  function paths(group, pieces) {
    group.replaceChildren(
      ...pieces
        .filter((p) => p.d.length)
        .map((p) => {
          const path = document.createElementNS(SVG, "path");
          path.setAttribute("d", p.d.join(""));
          path.setAttribute("fill", p.fill);
          if (p.stroke) {
            path.setAttribute("stroke", p.stroke);
            path.setAttribute("stroke-width", String(p.width));
          }
          return path;
        }),
    );
    group.dataset.count = String(pieces.reduce((n, p) => n + p.d.length, 0));
  }

  /**
   * The episodes (under the line) and every anomalous beat and measurement error (over it), as one SVG path per
   * colour in the chart's clipped data layer, drawn again each time Plotly draws the chart (zoom and pan too).
   * Plotly would make, style and place an element per beat, about 50 µs each: over a second for the 30,000 marks
   * of a day. An episode is at least 2 pixels wide, so that a short one still shows on a whole day's chart.
   */
  function drawOverlay(div, spec) {
    const plot = div.querySelector(".cartesianlayer > .subplot.xy > .overplot > .xy");
    if (!plot) return;
    const xa = div._fullLayout.xaxis;
    const ya = div._fullLayout.yaxis;
    const base = spec.date_axis ? DATE_BASE : 0;
    const [x0, x1] = xa.range.map((r) => xa.r2c(r));
    const pad = ((x1 - x0) * 10) / xa._length;
    const inView = (x) => x + base >= x0 - pad && x + base <= x1 + pad;
    const px = (x) => xa.c2p(x + base);
    const py = (y) => ya.c2p(y);

    const shading = [];
    for (const [start, end] of spec.episodes) {
      if (end + base < x0 - pad || start + base > x1 + pad) continue;
      let [left, right] = [px(start), px(end)];
      if (right - left < 2) [left, right] = [(left + right) / 2 - 1, (left + right) / 2 + 1];
      shading.push(`M${left.toFixed(1)},0H${right.toFixed(1)}V${ya._length}H${left.toFixed(1)}Z`);
    }
    paths(layer(plot, "episode-shading", true), [{ d: shading, fill: EPISODE_FILL }]);

    const anomalies = ANOMALY_COLOURS.map(() => []);
    const a = spec.anomalies;
    const r = ANOMALY_RADIUS;
    for (let i = 0; i < a.x.length; i++) {
      if (!inView(a.x[i])) continue;
      const bin = Math.min(ANOMALY_COLOURS.length - 1, Math.floor(a.p[i] * ANOMALY_COLOURS.length));
      anomalies[bin].push(`M${(px(a.x[i]) - r).toFixed(1)},${py(a.y[i]).toFixed(1)}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0`);
    }
    const errors = [];
    const e = spec.errors;
    const s = ERROR_RADIUS;
    for (let i = 0; i < e.x.length; i++) {
      if (!inView(e.x[i])) continue;
      errors.push(`M${px(e.x[i]).toFixed(1)},${(py(e.y[i]) - s).toFixed(1)}l${s},${s}l${-s},${s}l${-s},${-s}z`);
    }
    paths(layer(plot, "beat-marks", false), [
      ...anomalies.map((d, i) => ({ d, fill: ANOMALY_COLOURS[i], stroke: "#7f0000", width: 0.5 })),
      { d: errors, fill: "none", stroke: "#5e3c99", width: 2 },
    ]);
    if (spec.reference) drawReference(plot, spec.reference, { inView, px, py, x0, x1, pad, base });
  }

  /** The reference labels' runs as a band in their strip under the RR, and rings round the missed and false beats,
   *  each in a layer of its own (counted apart from the model's marks). */
  function drawReference(plot, ref, { inView, px, py, x0, x1, pad, base }) {
    const [top, bottom] = [py(ref.band[1]), py(ref.band[0])].map((v) => v.toFixed(1));
    const band = [];
    for (const [start, end] of ref.runs) {
      if (end + base < x0 - pad || start + base > x1 + pad) continue;
      let [left, right] = [px(start), px(end)];
      if (right - left < 2) [left, right] = [(left + right) / 2 - 1, (left + right) / 2 + 1];
      band.push(`M${left.toFixed(1)},${top}H${right.toFixed(1)}V${bottom}H${left.toFixed(1)}Z`);
    }
    paths(layer(plot, "reference-band", false), [{ d: band, fill: REFERENCE_FILL }]);
    const r = RING_RADIUS;
    const ring = (x, y) => `M${(px(x) - r).toFixed(1)},${py(y).toFixed(1)}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0`;
    const box = (x, y) => `M${(px(x) - r).toFixed(1)},${(py(y) - r).toFixed(1)}h${2 * r}v${2 * r}h${-2 * r}z`;
    const marks = (part, shape) => part.x.flatMap((x, i) => (inView(x) ? [shape(x, part.y[i])] : []));
    paths(layer(plot, "reference-marks", false), [
      { d: marks(ref.missed, ring), fill: "none", stroke: MISSED_COLOUR, width: 2 },
      { d: marks(ref.false, box), fill: "none", stroke: FALSE_COLOUR, width: 2 },
    ]);
  }

  function xaxis(spec) {
    if (!spec.date_axis) return { title: { text: "time since the first beat (s)" } };
    const x = spec.line.x;
    const span = x.length ? x[x.length - 1] : 0;
    return {
      type: "date",
      title: { text: "time since the first beat" },
      tickformat: span < DAY_MS ? "%H:%M:%S" : "day %-j, %H:%M",
      hoverformat: "%H:%M:%S.%L",
    };
  }

  function draw(index) {
    const spec = charts[index];
    const div = divs[index];
    const layout = {
      width: WIDTH,
      height: HEIGHT,
      margin: { l: 60, r: 20, t: 36, b: 48 },
      xaxis: { ...xaxis(spec), showgrid: true, gridcolor: "#eef0f3" },
      yaxis: { title: { text: "RR (ms)" }, range: spec.y_range, gridcolor: "#eef0f3", zeroline: false },
      hovermode: "closest",
      // The marks are not Plotly's to hide: legend clicks would hide only their legend entry.
      legend: { orientation: "h", x: 1, xanchor: "right", y: 1.0, yanchor: "bottom", itemclick: false, itemdoubleclick: false },
      paper_bgcolor: "#ffffff",
      plot_bgcolor: "#ffffff",
    };
    const config = {
      responsive: false,
      displaylogo: false,
      doubleClick: "reset", // back to the whole recording (autoscale would fit the episodes' shading instead)
      // Plotly's image export redraws from its traces, without the marks: the report itself is the document.
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toImage"],
    };
    return Plotly.newPlot(div, traces(spec), layout, config).then(() => {
      drawOverlay(div, spec);
      div.on("plotly_afterplot", () => drawOverlay(div, spec));
    });
  }

  const CONFIG = {
    responsive: false,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toImage"],
  };

  /** An episode's ECG strip: points at sample offsets `i` from the strip's start (`t0` ms from the first beat, `dt`
   *  ms per sample), its beats marked, the episode's intervals (`span`, offsets) shaded. */
  function drawStrip(div, spec) {
    const at = (i) => (i === null ? null : DATE_BASE + spec.t0 + i * spec.dt);
    const b = spec.beats;
    const beats = BEAT_KINDS.map((kind, k) => {
      const of = b.kind.flatMap((value, j) => (value === k ? [j] : []));
      return {
        name: kind.name,
        type: "scatter",
        mode: "markers",
        x: of.map((j) => at(b.i[j])),
        y: of.map((j) => b.y[j]),
        customdata: of.map((j) => b.rr[j]),
        marker: kind.marker,
        hovertemplate: `%{x}<br>RR %{customdata:.0f} ms<extra>${kind.name}</extra>`,
      };
    });
    const line = {
      name: "ECG",
      type: "scatter",
      mode: "lines",
      x: spec.i.map(at),
      y: spec.y,
      line: { color: "#1b1c1f", width: 1 },
      hoverinfo: "skip",
    };
    const layout = {
      width: WIDTH,
      height: STRIP_HEIGHT,
      margin: { l: 60, r: 20, t: 8, b: 36 },
      xaxis: {
        type: "date",
        tickformat: "%H:%M:%S",
        hoverformat: "%H:%M:%S.%L",
        gridcolor: PAPER_MAJOR,
        minor: { dtick: 200, showgrid: true, gridcolor: PAPER_MINOR },
      },
      yaxis: { title: { text: spec.channel }, gridcolor: PAPER_MAJOR, zeroline: false },
      shapes: [
        {
          type: "rect",
          xref: "x",
          yref: "paper",
          x0: at(spec.span[0]),
          x1: at(spec.span[1]),
          y0: 0,
          y1: 1,
          fillcolor: EPISODE_FILL,
          line: { width: 0 },
          layer: "below",
        },
      ],
      showlegend: false, // the section's note gives the keys
      hovermode: "closest",
      paper_bgcolor: "#ffffff",
      plot_bgcolor: "#ffffff",
    };
    return Plotly.newPlot(div, [line, ...beats], layout, { ...CONFIG, doubleClick: "reset" });
  }

  // Every chart to draw, in the page's order: each recording's RR chart, then its ECG strips.
  const jobs = [
    ...divs.map((div, index) => ({ div, run: () => draw(index) })),
    ...stripDivs.map((div) => ({
      div,
      run: () => {
        const ecg = charts[Number(div.dataset.chart)].ecg;
        return drawStrip(div, { ...ecg.strips[Number(div.dataset.index)], channel: ecg.channel });
      },
    })),
  ].sort((a, b) => (a.div.compareDocumentPosition(b.div) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  jobs.forEach((job, n) => (job.div.dataset.job = String(n)));

  // One chart per task, so that a report of many recordings answers clicks and scrolling while the rest are drawn:
  // first the charts on screen (the first one, or those scrolled to), then the others in order. Printing draws
  // whatever is left at once.
  const waiting = new Set(jobs.map((_, n) => n));
  const onScreen = new Set();
  const drawn = [];
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const n = Number(entry.target.dataset.job);
      if (entry.isIntersecting) onScreen.add(n);
      else onScreen.delete(n);
    }
  });
  jobs.forEach((job) => observer.observe(job.div));

  function drawOne(n) {
    waiting.delete(n);
    observer.unobserve(jobs[n].div);
    drawn.push(jobs[n].run());
  }

  function drawNext() {
    if (waiting.size) {
      const visible = [...onScreen].filter((i) => waiting.has(i));
      drawOne(visible.length ? Math.min(...visible) : Math.min(...waiting));
      setTimeout(drawNext, 0);
    } else {
      Promise.all(drawn).then(() => {
        document.body.dataset.chartsReady = String(performance.now());
      });
    }
  }
  window.addEventListener("beforeprint", () => [...waiting].forEach(drawOne));
  document.getElementById("print").addEventListener("click", () => window.print());
  drawNext();
})();
