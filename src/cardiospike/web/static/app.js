// CardioSpike web app: pick a recording (demo, upload or paste), score it with the REST API, show the RR chart with
// its anomalous beats and episodes, the episodes table and the HRV summary. Plain JavaScript, no build step.
"use strict";

(() => {
  const cfg = document.body.dataset;
  const MAX_BEATS = Number(cfg.maxBeats);
  const MAX_BODY_BYTES = Number(cfg.maxBodyBytes);
  const KEY_HEADER = cfg.apiKeyHeader;
  const MAX_STUDY_LENGTH = 256; // the API's limit on a study id
  const CSV_COLUMNS = ["id", "time", "x", "y", "anomaly_proba", "error"];
  const DAY_MS = 86400000;

  const $ = (id) => document.getElementById(id);
  const el = {
    key: $("api-key"),
    demoForm: $("demo-form"),
    seed: $("demo-seed"),
    file: $("file-input"),
    pasteForm: $("paste-form"),
    paste: $("paste-input"),
    pickerField: $("picker-field"),
    picker: $("recording-picker"),
    message: $("message"),
    status: $("status"),
    banner: $("synthetic-banner"),
    chart: $("chart"),
    threshold: $("threshold"),
    thresholdValue: $("threshold-value"),
    thresholdReset: $("threshold-reset"),
    thresholdMode: $("threshold-mode"),
    modelThreshold: $("model-threshold"),
    episodeCount: $("episode-count"),
    episodes: document.querySelector("#episodes tbody"),
    zoomReset: $("zoom-reset"),
    summary: $("summary"),
    download: $("download"),
    report: $("report"),
    liveSpeed: $("live-speed"),
    livePlay: $("live-play"),
    liveStop: $("live-stop"),
    liveStatus: $("live-status"),
    modelVersion: $("model-version"),
  };
  const busyControls = [$("demo-load"), el.seed, el.file, $("paste-score"), el.paste, el.picker];

  const state = {
    recordings: [], // [{id, rr, time, synthetic}]
    current: null, // the recording shown
    result: null, // the API's answer for it
    scored: new Map(), // recording index -> API answer, so switching back needs no new request
    threshold: null, // null: the model's own flags; a number: a plain threshold set with the slider
    request: 0, // number of the latest request: answers to older ones are dropped
  };

  // --- talking to the API ------------------------------------------------------------------------------------------

  class ApiError extends Error {}

  function apiHeaders(extra) {
    const headers = { Accept: "application/json", ...extra };
    if (el.key && el.key.value) headers[KEY_HEADER] = el.key.value;
    return headers;
  }

  /** Fetch JSON from the API; every failure becomes an ApiError whose message a clinician can act on. */
  async function api(path, options = {}) {
    let response;
    try {
      response = await fetch(path, { ...options, headers: apiHeaders(options.headers) });
    } catch (err) {
      throw new ApiError(`Cannot reach the CardioSpike service (${err.message}). Is it still running?`);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (err) {
      body = null; // not JSON (e.g. a proxy's error page): the status says enough
    }
    if (!response.ok) throw new ApiError(describeError(response.status, body));
    if (body === null) throw new ApiError(`The service sent an answer that is not JSON (status ${response.status}).`);
    return body;
  }

  function describeError(status, body) {
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    if (status === 401) {
      return el.key
        ? `The service needs a valid API key: enter it in the "API key" field. (${detail || "401"})`
        : `The service refused the request: ${detail || "401 unauthorized"}.`;
    }
    if (status === 413) return `The file or recording is too large for this service: ${detail}`;
    if (status === 503) return "The model is not loaded yet: try again in a moment.";
    if (status === 422) return describeInvalid(body, detail);
    return `The service answered ${status}${detail ? `: ${detail}` : ""}.`;
  }

  /** A 422 in the words of the page: a file's problem as the readers word it (file, line, field), a value's by
   *  its position. */
  function describeInvalid(body, detail) {
    const problems = body && Array.isArray(body.errors) ? body.errors : [];
    if (problems.length === 1) {
      const { loc, msg } = problems[0];
      if (loc[0] === "body" && loc[1] === "file") return `The file cannot be used: ${msg}`;
      if (loc[0] === "body" && loc[1] === "sequence" && Number.isInteger(loc[2])) {
        return `RR value ${loc[2] + 1} is refused: ${msg}.`;
      }
    }
    return detail.replace(/^invalid request: /, "Invalid input: ");
  }

  // --- busy state, messages ----------------------------------------------------------------------------------------

  function showError(text) {
    el.message.textContent = text;
  }

  function clearError() {
    el.message.textContent = "";
  }

  /** Run one user action: busy status while it runs, a clear message if it fails, controls always released. */
  async function act(busyText, action) {
    clearError();
    el.status.textContent = busyText;
    el.status.classList.add("busy");
    el.chart.setAttribute("aria-busy", "true");
    busyControls.forEach((c) => (c.disabled = true));
    try {
      await action();
    } catch (err) {
      el.status.textContent = "";
      showError(err instanceof ApiError ? err.message : `Something went wrong in the page: ${err.message}`);
      if (!(err instanceof ApiError)) console.warn(err); // a page bug: keep its stack for whoever debugs it
    } finally {
      el.status.classList.remove("busy");
      el.chart.removeAttribute("aria-busy");
      busyControls.forEach((c) => (c.disabled = false));
    }
  }

  // --- inputs ------------------------------------------------------------------------------------------------------

  el.demoForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const seed = Number(el.seed.value);
    if (!Number.isInteger(seed) || seed < 0 || seed > 4294967295) {
      showError("The seed must be a whole number from 0 to 4294967295.");
      el.seed.focus();
      return;
    }
    act(`Loading demo recording ${seed}…`, async () => {
      const demo = await api(`/api/v1/demo?seed=${seed}`);
      await setRecordings([{ id: demo.study, rr: demo.sequence, time: demo.times, synthetic: demo.synthetic }]);
    });
  });

  el.file.addEventListener("change", () => {
    const file = el.file.files[0];
    if (!file) return;
    if (file.size > MAX_BODY_BYTES) {
      showError(`${file.name} is ${formatBytes(file.size)}, more than this service accepts (${formatBytes(MAX_BODY_BYTES)}).`);
      el.file.value = "";
      return;
    }
    act(`Reading ${file.name}…`, async () => {
      const form = new FormData();
      form.append("file", file, file.name);
      const parsed = await api("/api/v1/recordings/parse", { method: "POST", body: form });
      // The file is kept: its report is made from the file itself, so that it names the file and its SHA-256.
      await setRecordings(parsed.recordings.map((r) => ({ id: r.id, rr: r.rr, time: r.time, synthetic: false, file })));
    }).finally(() => {
      el.file.value = ""; // choosing the same file again (after fixing it) must fire another change
    });
  });

  el.pasteForm.addEventListener("submit", (event) => {
    event.preventDefault();
    let rr;
    try {
      rr = parsePasted(el.paste.value);
    } catch (err) {
      showError(err.message);
      el.paste.focus();
      return;
    }
    act(`Scoring ${rr.length} pasted beats…`, () => setRecordings([{ id: "pasted", rr, time: cumulativeTime(rr), synthetic: false }]));
  });

  el.picker.addEventListener("change", () => {
    const index = Number(el.picker.value);
    act(`Scoring ${state.recordings[index].id}…`, () => show(index));
  });

  /** RR values typed or pasted: numbers separated by commas, semicolons, spaces or new lines. */
  function parsePasted(text) {
    const tokens = text.split(/[\s,;]+/).filter((t) => t !== "");
    if (tokens.length === 0) throw new Error("Paste at least one RR interval (in ms).");
    if (tokens.length > MAX_BEATS) throw new Error(`${tokens.length} values: this service scores at most ${MAX_BEATS} beats.`);
    return tokens.map((token, i) => {
      const value = Number(token);
      // 0 is kept (a dropped beat, flagged as a measurement error); the service checks the upper bound.
      if (!Number.isFinite(value) || value < 0) {
        throw new Error(`Pasted value ${i + 1} is not a number of milliseconds (0 or more): "${token.slice(0, 20)}".`);
      }
      return value;
    });
  }

  /** Beat times as the service computes them without times: 0 for the first beat, then the running sum of RR. */
  function cumulativeTime(rr) {
    const time = new Array(rr.length);
    let t = 0;
    for (let i = 0; i < rr.length; i++) {
      if (i > 0) t += rr[i];
      time[i] = t;
    }
    return time;
  }

  async function setRecordings(recordings) {
    state.recordings = recordings;
    state.scored.clear();
    el.picker.replaceChildren(
      ...recordings.map((r, i) => new Option(`${r.id} (${r.rr.length.toLocaleString("en")} beats)`, String(i))),
    );
    el.pickerField.hidden = recordings.length < 2;
    await show(0);
  }

  /** Score recording `index` (once) and show it. */
  async function show(index) {
    const rec = state.recordings[index];
    el.picker.value = String(index);
    let result = state.scored.get(index);
    if (!result) {
      const request = ++state.request;
      const started = performance.now();
      const body = { study: rec.id.slice(0, MAX_STUDY_LENGTH) || "recording", sequence: rec.rr, times: rec.time };
      result = await api("/api/v1/predict", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (request !== state.request) return; // a newer request has been sent meanwhile: its answer wins
      state.scored.set(index, result);
      el.status.textContent = `${rec.id}: ${rec.rr.length.toLocaleString("en")} beats scored in ${Math.round(performance.now() - started)} ms.`;
    } else {
      el.status.textContent = `${rec.id}: ${rec.rr.length.toLocaleString("en")} beats.`;
    }
    state.current = rec;
    state.result = result;
    state.threshold = null;
    el.threshold.value = String(result.anomaly_thresh);
    render();
  }

  // --- what is shown: the model's flags or a plain threshold -------------------------------------------------------

  /** Flags and episodes shown now: the API's at the model's threshold, else recomputed here from the probabilities. */
  function currentView() {
    const res = state.result;
    if (state.threshold === null) {
      return { flags: res.is_anomaly, episodes: res.episodes, threshold: res.anomaly_thresh, model: true };
    }
    const flags = res.anomaly_proba.map((p) => (p >= state.threshold ? 1 : 0));
    return { flags, episodes: runsOf(flags, state.current.time, res.anomaly_proba), threshold: state.threshold, model: false };
  }

  /** Runs of consecutive flagged beats, in the shape of the API's episodes (start and end included). */
  function runsOf(flags, time, proba) {
    const episodes = [];
    let start = -1;
    let peak = 0;
    for (let i = 0; i <= flags.length; i++) {
      if (i < flags.length && flags[i]) {
        if (start < 0) {
          start = i;
          peak = proba[i];
        } else {
          peak = Math.max(peak, proba[i]);
        }
      } else if (start >= 0) {
        const end = i - 1;
        episodes.push({ start, end, start_ms: time[start], end_ms: time[end], n_beats: end - start + 1, max_proba: peak });
        start = -1;
      }
    }
    return episodes;
  }

  function render() {
    const view = currentView();
    el.banner.hidden = !state.current.synthetic;
    el.modelVersion.textContent = `model ${state.result.model_version}`;
    renderThreshold(view);
    renderEpisodes(view);
    renderSummary(state.result.summary);
    drawChart(view);
    el.download.disabled = false;
    el.report.disabled = false;
    el.livePlay.disabled = Boolean(live);
  }

  function renderThreshold(view) {
    const t = state.result.anomaly_thresh;
    el.threshold.disabled = false;
    el.thresholdReset.disabled = view.model;
    el.modelThreshold.textContent = t.toFixed(3);
    el.thresholdValue.textContent = view.threshold.toFixed(view.model ? 3 : 2);
    const flagged = view.flags.reduce((a, b) => a + b, 0);
    el.thresholdMode.textContent = view.model
      ? `Showing the model's flags (threshold ${t.toFixed(3)}, with post-processing): ${flagged} beats.`
      : `Showing a plain threshold, probability ≥ ${view.threshold.toFixed(2)}: ${flagged} beats.`;
  }

  el.threshold.addEventListener("input", () => {
    if (!state.result) return;
    const value = Number(el.threshold.value);
    // The slider moves in steps: the step nearest the model's threshold stands for the model's own flags.
    const atModel = Math.abs(value - state.result.anomaly_thresh) < Number(el.threshold.step) / 2;
    state.threshold = atModel ? null : value;
    render();
  });

  el.thresholdReset.addEventListener("click", () => {
    if (!state.result) return;
    state.threshold = null;
    el.threshold.value = String(state.result.anomaly_thresh);
    render();
    el.threshold.focus();
  });

  // --- episodes table ----------------------------------------------------------------------------------------------

  function renderEpisodes(view) {
    const { episodes } = view;
    const t0 = state.current.time[0];
    el.episodeCount.textContent = `(${episodes.length})`;
    if (episodes.length === 0) {
      const row = el.episodes.insertRow();
      el.episodes.replaceChildren(row);
      const cell = row.insertCell();
      cell.colSpan = 6;
      cell.className = "empty";
      cell.textContent = "No episodes at this threshold.";
      return;
    }
    const rows = episodes.map((ep, i) => {
      const row = document.createElement("tr");
      row.tabIndex = 0;
      row.dataset.index = String(i);
      const duration = (ep.end_ms - ep.start_ms) / 1000;
      const cells = [
        String(i + 1),
        formatClock(ep.start_ms - t0),
        formatClock(ep.end_ms - t0),
        `${duration.toFixed(1)} s`,
        String(ep.n_beats),
        ep.max_proba.toFixed(3),
      ];
      for (const text of cells) row.insertCell().textContent = text;
      row.setAttribute("aria-label", `Episode ${i + 1}: ${cells[1]} to ${cells[2]}, ${ep.n_beats} beats. Zoom to it.`);
      return row;
    });
    el.episodes.replaceChildren(...rows);
  }

  function selectEpisode(row) {
    if (!row || !row.dataset.index) return;
    const episode = currentView().episodes[Number(row.dataset.index)];
    el.episodes.querySelectorAll("tr[aria-current]").forEach((r) => r.removeAttribute("aria-current"));
    row.setAttribute("aria-current", "true");
    zoomTo(episode);
  }

  el.episodes.addEventListener("click", (event) => selectEpisode(event.target.closest("tr")));
  el.episodes.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault(); // Space would scroll the page
    selectEpisode(event.target.closest("tr"));
  });

  el.zoomReset.addEventListener("click", () => {
    el.episodes.querySelectorAll("tr[aria-current]").forEach((r) => r.removeAttribute("aria-current"));
    if (hasPlotly() && el.chart.data) Plotly.relayout(el.chart, { "xaxis.autorange": true });
    el.zoomReset.disabled = true;
  });

  // --- HRV summary -------------------------------------------------------------------------------------------------

  function renderSummary(s) {
    const num = (v, digits, unit = "") => (v === null || v === undefined ? "–" : `${v.toFixed(digits)}${unit}`);
    const items = [
      ["Beats", s.n_beats.toLocaleString("en")],
      ["Valid beats", `${s.n_valid.toLocaleString("en")} (${s.n_beats - s.n_valid} errors)`],
      ["Episodes (model)", String(s.n_episodes)],
      ["Anomalous beats", `${(100 * s.anomaly_share).toFixed(1)} %`],
      ["Mean RR", num(s.mean_rr, 0, " ms")],
      ["SDNN", num(s.sdnn, 1, " ms")],
      ["RMSSD", num(s.rmssd, 1, " ms")],
      ["pNN50", num(s.pnn50, 1, " %")],
      ["Mean HR", num(s.mean_hr, 1, " bpm")],
    ];
    el.summary.replaceChildren(
      ...items.flatMap(([term, value]) => {
        const dt = document.createElement("dt");
        const dd = document.createElement("dd");
        dt.textContent = term;
        dd.textContent = value;
        return [dt, dd];
      }),
    );
  }

  // --- chart -------------------------------------------------------------------------------------------------------

  function hasPlotly() {
    return typeof window.Plotly !== "undefined";
  }

  /** Chart x of a beat time: time since the first beat, on a date axis (which Plotly labels as a clock), or in
   *  seconds where the span is too long for dates. */
  function axisOf(time) {
    const t0 = time[0];
    const span = time[time.length - 1] - t0;
    if (!(span < 1e13)) return { x: (ms) => (ms - t0) / 1000, layout: { title: { text: "time since the first beat (s)" } } };
    const x = (ms) => new Date(ms - t0).toISOString().slice(0, 23).replace("T", " ");
    const layout = {
      type: "date",
      title: { text: "time since the first beat" },
      tickformat: span < DAY_MS ? "%H:%M:%S" : "day %-j, %H:%M",
      hoverformat: "%H:%M:%S.%L",
    };
    return { x, layout };
  }

  /** y range of the valid beats: measurement errors (RR of 40 or 4,000 ms) would flatten the rhythm to a line. */
  function yRange(rr, errors) {
    let lo = Infinity;
    let hi = -Infinity;
    rr.forEach((v, i) => {
      if (!errors[i]) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    });
    if (lo === Infinity) {
      lo = Math.min(...rr);
      hi = Math.max(...rr);
    }
    const pad = 0.08 * (hi - lo) + 15;
    return [lo - pad, hi + pad];
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  /** Draw `view` of a recording and its scores (by default the recording shown); `revision` keeps the user's zoom
   *  across redraws of one recording (a live replay redraws as it grows). */
  function drawChart(view, rec = state.current, res = state.result, revision = null) {
    if (!hasPlotly()) return; // the message about the missing library is already shown
    const { x: xOf, layout: xaxis } = axisOf(rec.time);
    const xs = rec.time.map(xOf);
    const [lo, hi] = yRange(rec.rr, res.errors);
    // Beats off the chart (measurement errors) are drawn just inside its edge, where their markers stay whole.
    const inset = 0.015 * (hi - lo);
    const clamp = (v) => Math.min(Math.max(v, lo + inset), hi - inset);
    const anomalous = [];
    const errors = [];
    view.flags.forEach((f, i) => f && anomalous.push(i));
    res.errors.forEach((e, i) => e && errors.push(i));
    const proba = res.anomaly_proba;
    const pick = (idx, f) => idx.map(f);

    const traces = [
      {
        name: "RR",
        type: "scatter",
        mode: "lines+markers",
        x: xs,
        // Gaps at measurement errors: the line joins only real beats; the errors have their own markers.
        y: rec.rr.map((v, i) => (res.errors[i] ? null : v)),
        customdata: proba,
        line: { color: "#4a5563", width: 1.2 },
        marker: { size: 3, color: "#4a5563" },
        hovertemplate: "%{x}<br>RR %{y:.0f} ms<br>P(anomaly) %{customdata:.3f}<extra></extra>",
      },
      {
        name: view.model ? "anomalous beat (model)" : `P ≥ ${view.threshold.toFixed(2)}`,
        type: "scatter",
        mode: "markers",
        x: pick(anomalous, (i) => xs[i]),
        y: pick(anomalous, (i) => clamp(rec.rr[i])),
        customdata: pick(anomalous, (i) => [proba[i], rec.rr[i]]),
        marker: {
          color: pick(anomalous, (i) => proba[i]),
          cmin: 0,
          cmax: 1,
          colorscale: [
            [0, "#fee08b"],
            [0.5, "#f46d43"],
            [1, "#a50026"],
          ],
          size: pick(anomalous, (i) => 6 + 9 * proba[i]),
          line: { color: "#7f0000", width: 0.5 },
          colorbar: { title: { text: "P(anomaly)" }, thickness: 10, len: 0.6, y: 0.45 },
        },
        hovertemplate: "%{x}<br>RR %{customdata[1]:.0f} ms<br><b>P(anomaly) %{customdata[0]:.3f}</b><extra>anomalous</extra>",
      },
      {
        name: "measurement error",
        type: "scatter",
        mode: "markers",
        x: pick(errors, (i) => xs[i]),
        y: pick(errors, (i) => clamp(rec.rr[i])),
        customdata: pick(errors, (i) => [proba[i], rec.rr[i]]),
        marker: { symbol: "diamond-open", size: 10, color: "#5e3c99", line: { width: 2 } },
        hovertemplate: "%{x}<br>RR %{customdata[1]:.0f} ms (out of range)<br>P(anomaly) %{customdata[0]:.3f}<extra>error</extra>",
      },
    ];

    // Shaded episodes, widened by half a beat either side so that one-beat episodes show too.
    const shapes = view.episodes.map((ep) => ({
      type: "rect",
      xref: "x",
      yref: "paper",
      x0: xOf(ep.start_ms - 400),
      x1: xOf(ep.end_ms + 400),
      y0: 0,
      y1: 1,
      fillcolor: "rgba(215, 48, 31, 0.16)",
      line: { width: 0 },
      layer: "below",
    }));

    const n = view.episodes.length;
    const how = view.model ? "model's flags" : `P ≥ ${view.threshold.toFixed(2)}`;
    const layout = {
      title: { text: `<b>${escapeHtml(rec.id)}</b>: ${n} episode${n === 1 ? "" : "s"} (${how})`, x: 0.01, xanchor: "left" },
      xaxis: { ...xaxis, showgrid: true, gridcolor: "#eef0f3" },
      yaxis: { title: { text: "RR (ms)" }, range: [lo, hi], gridcolor: "#eef0f3", zeroline: false },
      shapes,
      hovermode: "closest",
      margin: { l: 60, r: 20, t: 50, b: 50 },
      legend: { orientation: "h", x: 1, xanchor: "right", y: 1.0, yanchor: "bottom" },
      paper_bgcolor: "#ffffff",
      plot_bgcolor: "#ffffff",
      // Keeps the user's zoom while the slider re-colours; a new recording starts with the whole of it.
      uirevision: revision || `${rec.id}#${state.request}`,
    };
    const config = {
      responsive: true,
      displaylogo: false,
      modeBarButtonsToRemove: ["select2d", "lasso2d"],
      toImageButtonOptions: { filename: `${rec.id}-rr` },
    };
    el.chart.querySelector(".placeholder")?.remove();
    Plotly.react(el.chart, traces, layout, config);
  }

  function zoomTo(episode) {
    if (!hasPlotly() || !el.chart.data) return;
    const { x: xOf } = axisOf(state.current.time);
    // Some context on both sides: at least 10 s, or the episode's own length.
    const pad = Math.max(10000, episode.end_ms - episode.start_ms);
    Plotly.relayout(el.chart, { "xaxis.range": [xOf(episode.start_ms - pad), xOf(episode.end_ms + pad)] });
    el.zoomReset.disabled = false;
  }

  // --- download ----------------------------------------------------------------------------------------------------

  /** The scored CSV of the recording shown, as `cardiospike predict` writes it; y is the flag shown now. */
  function scoredCsv() {
    const rec = state.current;
    const res = state.result;
    const { flags } = currentView();
    const id = csvCell(rec.id);
    const lines = [CSV_COLUMNS.join(",")];
    for (let i = 0; i < rec.rr.length; i++) {
      lines.push(`${id},${rec.time[i]},${rec.rr[i]},${flags[i]},${res.anomaly_proba[i]},${res.errors[i]}`);
    }
    return `${lines.join("\n")}\n`;
  }

  /**
   * A text cell as the CSV files of the package have it: a cell that a spreadsheet would run as a formula (starting
   * with = + - @, a tab or a carriage return, and not a number) gets a leading apostrophe; quoted where needed.
   */
  function csvCell(text) {
    let cell = String(text);
    if (/^[=+\-@\t\r]/.test(cell) && !Number.isFinite(Number(cell))) cell = `'${cell}`;
    return /[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
  }

  el.download.addEventListener("click", () => {
    if (!state.result) return;
    saveBlob(new Blob([scoredCsv()], { type: "text/csv" }), `${fileStem(state.current.id)}-scored.csv`);
  });

  // --- report ----------------------------------------------------------------------------------------------------

  /** The HTML report of the recording shown, from the service: of the uploaded file it came from, or (demo, paste)
   *  of a JSON file of the recording itself. */
  el.report.addEventListener("click", () => {
    const rec = state.current;
    if (!rec) return;
    act(`Writing the report of ${rec.id}…`, async () => {
      const form = new FormData();
      if (rec.file) {
        form.append("file", rec.file, rec.file.name);
      } else {
        const json = JSON.stringify({ id: rec.id, rr: rec.rr, time: rec.time });
        form.append("file", new Blob([json], { type: "application/json" }), `${fileStem(rec.id)}.json`);
      }
      // In the body, not the query string: access logs write query strings, and an id may name a patient.
      form.append("recording", rec.id);
      let response;
      try {
        response = await fetch("/api/v1/report", {
          method: "POST",
          body: form,
          headers: apiHeaders({ Accept: "text/html" }),
        });
      } catch (err) {
        throw new ApiError(`Cannot reach the CardioSpike service (${err.message}). Is it still running?`);
      }
      if (!response.ok) throw new ApiError(describeError(response.status, await response.json().catch(() => null)));
      saveBlob(await response.blob(), `${fileStem(rec.id)}-report.html`);
      el.status.textContent = `Report of ${rec.id} downloaded.`;
    });
  });

  function fileStem(text) {
    return text.replace(/[^\w.-]+/g, "_");
  }

  function saveBlob(blob, name) {
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // --- live replay -------------------------------------------------------------------------------------------------

  /** The live replay under way: its socket, timer, the beats sent and the decisions received. */
  let live = null;
  /** Beats sent together at most every this many ms at high speeds (a message per beat at 1×). */
  const LIVE_TICK_MS = 50;

  el.livePlay.addEventListener("click", () => {
    if (state.current && !live) startLive(state.current, Number(el.liveSpeed.value));
  });
  el.liveStop.addEventListener("click", () => live && live.finish("Stopped."));

  function startLive(rec, speed) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/stream`);
    const n = rec.rr.length;
    const result = {
      anomaly_proba: new Array(n).fill(0),
      is_anomaly: new Array(n).fill(0),
      errors: new Array(n).fill(0),
      episodes: [],
      anomaly_thresh: state.result ? state.result.anomaly_thresh : 0.5,
      model_version: state.result ? state.result.model_version : "",
      summary: state.result ? state.result.summary : null,
    };
    live = { socket, sent: 0, decided: 0, timer: null, drawn: 0, lookahead: null, result, rec, done: false };
    const session = live;
    session.finish = (text) => {
      if (session.done) return;
      session.done = true;
      clearTimeout(session.timer);
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      el.liveStatus.textContent = text;
      el.liveStop.disabled = true;
      live = null;
      el.livePlay.disabled = !state.current;
      drawLive(session, true);
    };
    el.livePlay.disabled = true;
    el.liveStop.disabled = false;
    el.liveStatus.textContent = "Connecting…";

    socket.addEventListener("open", () => {
      if (el.key && el.key.value) socket.send(JSON.stringify({ api_key: el.key.value }));
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "ready") {
        session.lookahead = message.lookahead;
        sendDue(session, speed, performance.now());
      } else if (message.type === "beats") {
        const at = message.start_index;
        message.anomaly_proba.forEach((p, i) => (result.anomaly_proba[at + i] = p));
        message.is_anomaly.forEach((f, i) => (result.is_anomaly[at + i] = f));
        message.errors.forEach((e, i) => (result.errors[at + i] = e));
        session.decided = at + message.is_anomaly.length;
      } else if (message.type === "episode_close") {
        result.episodes.push(message);
      } else if (message.type === "error") {
        session.finish(`The stream was refused: ${message.detail}`);
      }
      drawLive(session, false);
    });
    // The server closes the stream after its last events (the last decisions, then the episode still open): done.
    socket.addEventListener("close", () =>
      session.finish(
        session.decided >= n
          ? `Done: ${n.toLocaleString("en")} beats decided live, ${result.episodes.length} episodes.`
          : "The stream closed.",
      ),
    );
  }

  /** Send the beats whose time has come (at `speed` times real time), then wait for the next ones. */
  function sendDue(session, speed, started) {
    const rec = session.rec;
    const elapsed = (performance.now() - started) * speed; // ms of recording played so far
    let stop = session.sent;
    while (stop < rec.rr.length && rec.time[stop] - rec.time[0] <= elapsed) stop++;
    if (stop > session.sent) {
      const part = { rr: rec.rr.slice(session.sent, stop), times: rec.time.slice(session.sent, stop) };
      session.socket.send(JSON.stringify(part));
      session.sent = stop;
    }
    if (session.sent >= rec.rr.length) {
      session.socket.send(JSON.stringify({ end: true }));
      return;
    }
    const next = (rec.time[session.sent] - rec.time[0] - elapsed) / speed;
    session.timer = setTimeout(() => sendDue(session, speed, started), Math.max(next, LIVE_TICK_MS));
  }

  /** Redraw the live chart (at most a few times a second while beats arrive). */
  function drawLive(session, final) {
    const now = performance.now();
    if (!final && now - session.drawn < 250) return;
    session.drawn = now;
    const rec = session.rec;
    const upto = Math.max(session.sent, 1);
    const shown = { ...rec, rr: rec.rr.slice(0, upto), time: rec.time.slice(0, upto) };
    const res = session.result;
    const sliced = { ...res, anomaly_proba: res.anomaly_proba.slice(0, upto), errors: res.errors.slice(0, upto) };
    const flags = res.is_anomaly.slice(0, upto);
    drawChart({ flags, episodes: res.episodes, threshold: res.anomaly_thresh, model: true }, shown, sliced, "live");
    renderEpisodes({ flags, episodes: res.episodes, threshold: res.anomaly_thresh, model: true });
    if (!final) {
      el.liveStatus.textContent = `Sent ${session.sent.toLocaleString("en")} beats, decided ${session.decided.toLocaleString("en")} (each ${session.lookahead} beats later).`;
    }
  }

  // --- formatting --------------------------------------------------------------------------------------------------

  /** Milliseconds since the first beat as h:mm:ss.s. */
  function formatClock(ms) {
    const sign = ms < 0 ? "-" : "";
    const total = Math.round(Math.abs(ms) / 100) / 10; // rounded first, so that 59.96 s never shows as 0:00:60.0
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    return `${sign}${h}:${String(m).padStart(2, "0")}:${s.toFixed(1).padStart(4, "0")}`;
  }

  function formatBytes(n) {
    return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
  }

  if (!hasPlotly()) {
    showError("The chart library (plotly.min.js) did not load, so no chart can be drawn: the service needs the 'plotly' package installed.");
  }
})();
