// CardioSpike web app: pick a recording (demo, upload or paste), score it with the REST API, show the RR chart with
// its anomalous beats and episodes, the episodes table and the HRV summary. Plain JavaScript, no build step.
//
// The page never reads RR values itself: an uploaded file and pasted text alike go to the service's readers
// (/api/v1/recordings/parse, with the reading options), and the page plots, downloads and replays the values the
// service read, in milliseconds.
"use strict";

(() => {
  const cfg = document.body.dataset;
  const MAX_BODY_BYTES = Number(cfg.maxBodyBytes);
  const KEY_HEADER = cfg.apiKeyHeader;
  const MAX_STUDY_LENGTH = 256; // the API's limit on a study id
  const DAY_MS = 86400000;
  /** The name pasted text is read under, as if it were an uploaded file (the service names its recording "pasted"). */
  const PASTED_NAME = "pasted.txt";
  /** How the service's messages name the reading options (hints=web): such a message opens the options. */
  const NAMES_AN_OPTION = /\b(Unit|Format|RR column|Time column|Recording column|Sampling rate \(Hz\)|ECG lead): |\bIgnore times\b/;

  const $ = (id) => document.getElementById(id);
  const el = {
    key: $("api-key"),
    demoForm: $("demo-form"),
    seed: $("demo-seed"),
    file: $("file-input"),
    pasteForm: $("paste-form"),
    paste: $("paste-input"),
    reading: $("reading-options"),
    readUnit: $("read-unit"),
    readFormat: $("read-format"),
    readRrColumn: $("read-rr-column"),
    readTimeColumn: $("read-time-column"),
    readIdColumn: $("read-id-column"),
    readIgnoreTime: $("read-ignore-time"),
    readSamplingRate: $("read-sampling-rate"),
    readEcgChannel: $("read-ecg-channel"),
    readAgain: $("read-again"),
    shownField: $("shown-field"),
    pickerField: $("picker-field"),
    picker: $("recording-picker"),
    sourceInfo: $("source-info"),
    message: $("message"),
    warnings: $("warnings"),
    warningList: $("warning-list"),
    status: $("status"),
    banner: $("synthetic-banner"),
    chart: $("chart"),
    referenceLegend: $("reference-legend"),
    threshold: $("threshold"),
    thresholdValue: $("threshold-value"),
    thresholdReset: $("threshold-reset"),
    thresholdMode: $("threshold-mode"),
    modelThreshold: $("model-threshold"),
    episodeCount: $("episode-count"),
    episodes: document.querySelector("#episodes tbody"),
    zoomReset: $("zoom-reset"),
    summary: $("summary"),
    summaryWarning: $("summary-warning"),
    download: $("download"),
    report: $("report"),
    liveSpeed: $("live-speed"),
    livePlay: $("live-play"),
    liveStop: $("live-stop"),
    liveBack: $("live-back"),
    liveStatus: $("live-status"),
    modelVersion: $("model-version"),
  };
  const readingControls = [
    el.readUnit, el.readFormat, el.readRrColumn, el.readTimeColumn, el.readIdColumn, el.readSamplingRate,
    el.readEcgChannel, el.readIgnoreTime,
  ];
  const busyControls = [
    $("demo-load"), el.seed, el.file, $("paste-score"), el.paste, el.picker, el.readAgain, ...readingControls,
  ];

  const state = {
    lastRead: null, // {blob, name, pasted}: the file or pasted text read last, for "Read again"
    recordings: [], // [{id, rr, time, labels, synthetic, source}], rr and time in ms as the service read them
    current: null, // the recording shown
    result: null, // the API's answer for it
    scored: new Map(), // recording index -> API answer, so switching back needs no new request
    threshold: null, // null: the model's own flags; a number: a plain threshold set with the slider
    request: 0, // number of the latest request: answers to older ones are dropped
    live: null, // the live replay on the chart (running or finished): while set, the side panel describes it
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
      el.readAgain.disabled = !state.lastRead;
    }
  }

  /** The warnings of the service about what is shown (the file's and the recording's), in a box of their own; the
   *  HRV summary is flagged while there are any. */
  function renderWarnings() {
    const rec = state.current;
    const all = [...((rec.source && rec.source.warnings) || []), ...(state.result.warnings || [])];
    const unique = [...new Set(all.filter((w) => typeof w === "string" && w))];
    el.warningList.replaceChildren(
      ...unique.map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }),
    );
    el.warnings.hidden = unique.length === 0;
    el.summaryWarning.hidden = unique.length === 0;
    el.summary.classList.toggle("flagged", unique.length > 0);
    if (unique.some((w) => NAMES_AN_OPTION.test(w))) el.reading.open = true;
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
      const rec = { id: demo.study, rr: demo.sequence, time: demo.times, labels: null, synthetic: true, source: null };
      await setRecordings([rec]);
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
    read({ blob: file, name: file.name, pasted: false }).finally(() => {
      el.file.value = ""; // choosing the same file again (after fixing it) must fire another change
    });
  });

  el.pasteForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = el.paste.value;
    if (!text.trim()) {
      showError("Paste at least one RR interval (in ms or seconds).");
      el.paste.focus();
      return;
    }
    const blob = new Blob([text], { type: "text/plain" });
    if (blob.size > MAX_BODY_BYTES) {
      showError(`The pasted text is ${formatBytes(blob.size)}, more than this service accepts (${formatBytes(MAX_BODY_BYTES)}).`);
      el.paste.focus();
      return;
    }
    read({ blob, name: PASTED_NAME, pasted: true });
  });

  el.readAgain.addEventListener("click", () => state.lastRead && read(state.lastRead));

  el.picker.addEventListener("change", () => {
    const index = Number(el.picker.value);
    act(`Scoring ${state.recordings[index].id}…`, () => show(index));
  });

  /** The reading options set now, as the parse route's form fields name them. */
  function readingOptions() {
    return {
      unit: el.readUnit.value,
      format: el.readFormat.value,
      rr_column: el.readRrColumn.value.trim(),
      time_column: el.readTimeColumn.value.trim(),
      id_column: el.readIdColumn.value.trim(),
      ignore_time: el.readIgnoreTime.checked,
      sampling_rate: el.readSamplingRate.value.trim(),
      ecg_channel: el.readEcgChannel.value.trim(),
    };
  }

  /** The reading options as the form fields of the routes that read files (parse, report); empty ones are left out
   *  (the service decides; no sampling rate: RR), and the service's messages name the options as this page's
   *  controls do. The file goes as it is, bytes and all (an EDF record is binary). */
  function appendReading(form, options) {
    form.append("unit", options.unit);
    form.append("format", options.format);
    for (const field of ["rr_column", "time_column", "id_column", "sampling_rate", "ecg_channel"]) {
      if (options[field]) form.append(field, options[field]);
    }
    form.append("ignore_time", options.ignore_time ? "true" : "false");
    form.append("hints", "web");
  }

  /** Have the service read a file or pasted text (`source`: its blob and name) with the reading options set now,
   *  then score and show its first recording. */
  function read(source) {
    state.lastRead = source;
    const options = readingOptions();
    const what = source.pasted ? "the pasted text" : source.name;
    return act(`Reading ${what}…`, async () => {
      const form = new FormData();
      form.append("file", source.blob, source.name);
      appendReading(form, options);
      let parsed;
      try {
        parsed = await api("/api/v1/recordings/parse", { method: "POST", body: form });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (NAMES_AN_OPTION.test(err.message)) el.reading.open = true;
        const text = err.message.replace(/^The file cannot be used: /, "The pasted text cannot be used: ");
        throw source.pasted ? new ApiError(text) : err;
      }
      const readAs = {
        ...source,
        options,
        format: parsed.format || null,
        takenAs: parsed.taken_as || null,
        unit: parsed.unit || null,
        unitNote: parsed.unit_note || null,
        warnings: Array.isArray(parsed.warnings) ? parsed.warnings : [],
      };
      const recordings = parsed.recordings.map((r) => ({
        id: r.id,
        rr: r.rr,
        time: r.time,
        labels: Array.isArray(r.labels) ? r.labels : null,
        synthetic: false,
        source: readAs,
      }));
      await setRecordings(recordings);
    });
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
    let timing = "";
    if (!result) {
      const request = ++state.request;
      const started = performance.now();
      // The values are the service's own reading, in ms: unit "ms" keeps it from reading them again.
      const body = {
        study: rec.id.slice(0, MAX_STUDY_LENGTH) || "recording",
        sequence: rec.rr,
        times: rec.time,
        unit: "ms",
        hints: "web",
      };
      if (rec.labels) body.labels = rec.labels;
      result = await api("/api/v1/predict", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (request !== state.request) return; // a newer request has been sent meanwhile: its answer wins
      state.scored.set(index, result);
      timing = ` scored in ${Math.round(performance.now() - started)} ms`;
    }
    endLive("Stopped: another recording is shown.");
    state.current = rec;
    state.result = result;
    state.threshold = null;
    el.threshold.value = String(result.anomaly_thresh);
    el.status.textContent = `${rec.id}: ${rec.rr.length.toLocaleString("en")} beats${timing}.`;
    renderSource(rec);
    renderWarnings();
    render();
  }

  /** Which file (and how it was read) or demo the recording shown comes from, beside the recording picker. */
  function renderSource(rec) {
    el.shownField.hidden = false;
    const src = rec.source;
    if (!src) {
      el.sourceInfo.textContent = rec.synthetic ? `Demo recording ${rec.id} (synthetic)` : rec.id;
      return;
    }
    const parts = [src.pasted ? `Pasted text (${src.name})` : `File ${src.name}`];
    if (src.takenAs) parts.push(src.takenAs);
    else if (src.format) parts.push(`read as ${src.format}`);
    if (src.unit) {
      const unit = src.unit === "ms" ? "RR in ms" : `RR in ${src.unit}, shown in ms`;
      parts.push(src.unitNote ? `${unit} (${src.unitNote})` : unit);
    }
    if (rec.labels) parts.push("with reference labels");
    el.sourceInfo.textContent = parts.join(" · ");
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

  /** Flags against reference labels over the first `upto` beats: the competition's F1 (1 where there is nothing to
   *  find and nothing flagged), with the beats missed (labelled, not flagged) and false (flagged, not labelled). */
  function compareToLabels(labels, flags, upto = labels.length) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < upto; i++) {
      if (flags[i] && labels[i]) tp++;
      else if (flags[i]) fp++;
      else if (labels[i]) fn++;
    }
    return { f1: tp + fp + fn > 0 ? tp / (tp + (fp + fn) / 2) : 1, missed: fn, false: fp };
  }

  /** The batch result: the chart and side panel of the recording scored whole. */
  function render() {
    const view = currentView();
    el.banner.hidden = !state.current.synthetic;
    el.modelVersion.textContent = `model ${state.result.model_version}`;
    renderThreshold(view);
    renderEpisodes(view);
    renderSummary(state.result);
    drawChart(view);
    el.download.disabled = false;
    el.report.disabled = false;
    el.livePlay.disabled = Boolean(state.live && !state.live.done);
  }

  function renderThreshold(view) {
    const t = state.result.anomaly_thresh;
    el.threshold.disabled = false;
    el.thresholdReset.disabled = view.model;
    el.modelThreshold.textContent = t.toFixed(3);
    el.thresholdValue.textContent = view.threshold.toFixed(view.model ? 3 : 2);
    const flagged = view.flags.reduce((a, b) => a + b, 0);
    let text = view.model
      ? `Showing the model's flags (threshold ${t.toFixed(3)}, with post-processing): ${flagged} beats.`
      : `Showing a plain threshold, probability ≥ ${view.threshold.toFixed(2)}: ${flagged} beats.`;
    const labels = state.current.labels;
    if (labels) {
      const ref = compareToLabels(labels, view.flags);
      text += ` Against the reference labels: F1 ${ref.f1.toFixed(3)}, ${ref.missed} missed, ${ref.false} false.`;
    }
    el.thresholdMode.textContent = text;
  }

  /** The threshold card during a live replay: the stream's threshold and what it has decided so far. */
  function renderLiveThreshold(session) {
    const t = session.threshold;
    el.threshold.disabled = true;
    el.thresholdReset.disabled = true;
    el.thresholdValue.textContent = t === null ? "–" : t.toFixed(3);
    if (t !== null) el.threshold.value = String(t);
    const n = session.rec.rr.length;
    const flagged = session.result.is_anomaly.slice(0, session.decided).reduce((a, b) => a + b, 0);
    const episodes = session.result.episodes.length;
    const threshold = t === null ? "waiting for the stream" : `the stream's threshold ${t.toFixed(3)}`;
    const soFar = session.done ? "" : " so far";
    let text =
      `Live replay${session.done ? " (ended)" : ""}, ${threshold}: ${session.decided.toLocaleString("en")} of ` +
      `${n.toLocaleString("en")} beats decided${soFar}, ${flagged} anomalous, ${episodes} episode` +
      `${episodes === 1 ? "" : "s"}${soFar}.`;
    const labels = session.rec.labels;
    if (labels && session.decided > 0) {
      const ref = compareToLabels(labels, session.result.is_anomaly, session.decided);
      text += ` Against the reference labels: F1 ${ref.f1.toFixed(3)} of the beats decided.`;
    }
    el.thresholdMode.textContent = text;
  }

  el.threshold.addEventListener("input", () => {
    if (!state.result || state.live) return;
    const value = Number(el.threshold.value);
    // The slider moves in steps: the step nearest the model's threshold stands for the model's own flags.
    const atModel = Math.abs(value - state.result.anomaly_thresh) < Number(el.threshold.step) / 2;
    state.threshold = atModel ? null : value;
    render();
  });

  el.thresholdReset.addEventListener("click", () => {
    if (!state.result || state.live) return;
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
    const episodes = state.live ? state.live.result.episodes : currentView().episodes;
    const episode = episodes[Number(row.dataset.index)];
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

  function renderSummary(result) {
    const s = result.summary;
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
    const ref = result.reference;
    if (ref) {
      items.push(
        ["Labelled beats", ref.n_labelled.toLocaleString("en")],
        ["Precision", num(ref.precision, 3)],
        ["Recall", num(ref.recall, 3)],
        ["F1", num(ref.f1, 3)],
        ["Missed beats", ref.n_missed.toLocaleString("en")],
        ["False beats", ref.n_false.toLocaleString("en")],
      );
    }
    el.summary.replaceChildren(
      ...items.flatMap(([term, value]) => {
        const dt = document.createElement("dt");
        const dd = document.createElement("dd");
        dt.textContent = term;
        dd.textContent = value;
        return [dt, dd];
      }),
    );
    if (ref) el.summary.children[2 * 9].classList.add("reference-start"); // a rule above the comparison with labels
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
   *  across redraws of one recording (a live replay redraws as it grows). Where the recording has reference labels,
   *  they are drawn as a band under the RR, with the beats missed and false marked (of the first `view.decided`
   *  beats, where a live replay has decided only those). */
  function drawChart(view, rec = state.current, res = state.result, revision = null) {
    if (!hasPlotly()) return; // the message about the missing library is already shown
    const { x: xOf, layout: xaxis } = axisOf(rec.time);
    const xs = rec.time.map(xOf);
    const [lo, hi] = yRange(rec.rr, res.errors);
    const labels = rec.labels || null;
    el.referenceLegend.hidden = !labels;
    // The reference labels get a strip of their own below the RR, so that no beat's marker covers them.
    const band = labels ? 0.07 * (hi - lo) : 0;
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

    if (labels) traces.push(...referenceTraces(view, rec, labels, xs, clamp, lo - band / 2));

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
      yaxis: { title: { text: "RR (ms)" }, range: [lo - band, hi], gridcolor: "#eef0f3", zeroline: false },
      shapes,
      hovermode: "closest",
      margin: { l: 60, r: 20, t: labels ? 80 : 50, b: 50 }, // the reference adds a row to the legend
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

  /** The reference labels as a band of markers at `bandY`, and the beats missed (labelled, not flagged) and false
   *  (flagged, not labelled) as rings on their RR. */
  function referenceTraces(view, rec, labels, xs, clamp, bandY) {
    const decided = view.decided === undefined ? rec.rr.length : view.decided;
    const labelled = [];
    const missed = [];
    const falsely = [];
    for (let i = 0; i < rec.rr.length; i++) {
      if (labels[i]) labelled.push(i);
      if (i >= decided) continue;
      if (labels[i] && !view.flags[i]) missed.push(i);
      else if (view.flags[i] && !labels[i]) falsely.push(i);
    }
    const rrOf = (idx) => idx.map((i) => rec.rr[i]);
    return [
      {
        name: "Reference (labelled)",
        type: "scatter",
        mode: "markers",
        x: labelled.map((i) => xs[i]),
        y: labelled.map(() => bandY),
        marker: { symbol: "square", size: 6, color: "#1a9850" },
        hovertemplate: "%{x}<br>labelled anomalous<extra>reference</extra>",
      },
      {
        name: "missed (labelled, not flagged)",
        type: "scatter",
        mode: "markers",
        x: missed.map((i) => xs[i]),
        y: missed.map((i) => clamp(rec.rr[i])),
        customdata: rrOf(missed),
        marker: { symbol: "circle-open", size: 12, color: "#1f78b4", line: { width: 2 } },
        hovertemplate: "%{x}<br>RR %{customdata:.0f} ms<br>labelled, not flagged<extra>missed</extra>",
      },
      {
        name: "false (flagged, not labelled)",
        type: "scatter",
        mode: "markers",
        x: falsely.map((i) => xs[i]),
        y: falsely.map((i) => clamp(rec.rr[i])),
        customdata: rrOf(falsely),
        marker: { symbol: "square-open", size: 13, color: "#e7298a", line: { width: 2 } },
        hovertemplate: "%{x}<br>RR %{customdata:.0f} ms<br>flagged, not labelled<extra>false</extra>",
      },
    ];
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

  /** The scored CSV of the recording shown, as `cardiospike predict` writes it (RR and times in ms, as the service
   *  read them); y is the flag shown now, and the file's reference labels follow it as `label` where it has them. */
  function scoredCsv() {
    const rec = state.current;
    const res = state.result;
    const { flags } = currentView();
    const id = csvCell(rec.id);
    const labels = rec.labels;
    const columns = ["id", "time", "x", "y", ...(labels ? ["label"] : []), "anomaly_proba", "error"];
    const lines = [columns.join(",")];
    for (let i = 0; i < rec.rr.length; i++) {
      const label = labels ? `,${labels[i]}` : "";
      lines.push(`${id},${rec.time[i]},${rec.rr[i]},${flags[i]}${label},${res.anomaly_proba[i]},${res.errors[i]}`);
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
    if (!state.result || state.live) return; // a live replay's chart is not the batch result this file holds
    saveBlob(new Blob([scoredCsv()], { type: "text/csv" }), `${fileStem(state.current.id)}-scored.csv`);
  });

  // --- report ----------------------------------------------------------------------------------------------------

  /** The HTML report of the recording shown, from the service: of the uploaded file (or pasted text) it came from,
   *  read with the same options, so that it names the file and its SHA-256; of the demo, a JSON file of it. */
  el.report.addEventListener("click", () => {
    const rec = state.current;
    if (!rec || state.live) return;
    act(`Writing the report of ${rec.id}…`, async () => {
      const form = new FormData();
      if (rec.source) {
        form.append("file", rec.source.blob, rec.source.name);
        appendReading(form, rec.source.options);
      } else {
        const json = JSON.stringify({ id: rec.id, rr: rec.rr, time: rec.time });
        form.append("file", new Blob([json], { type: "application/json" }), `${fileStem(rec.id)}.json`);
        form.append("unit", "ms");
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

  /** Beats sent together at most every this many ms at high speeds (a message per beat at 1×). */
  const LIVE_TICK_MS = 50;

  el.livePlay.addEventListener("click", () => {
    if (state.current && !(state.live && !state.live.done)) startLive(state.current, Number(el.liveSpeed.value));
  });
  el.liveStop.addEventListener("click", () => state.live && state.live.finish("Stopped."));
  el.liveBack.addEventListener("click", () => {
    endLive();
    if (state.result) render();
  });

  /** Leave the live replay's view (stopping it with `text` where it still runs); the caller draws what follows. */
  function endLive(text = "Stopped.") {
    const session = state.live;
    if (!session) return;
    state.live = null;
    if (!session.done) session.finish(text);
    el.liveBack.disabled = true;
  }

  /** Replay `rec` through the live stream: the values the service read, in ms (so the stream is told `unit=ms`). */
  function startLive(rec, speed) {
    endLive();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/stream?unit=ms`);
    const n = rec.rr.length;
    const result = {
      anomaly_proba: new Array(n).fill(0),
      is_anomaly: new Array(n).fill(0),
      errors: new Array(n).fill(0),
      episodes: [],
    };
    const session = {
      socket, rec, result, sent: 0, decided: 0, timer: null, drawn: 0, lookahead: null, threshold: null,
      unitNote: "", done: false,
    };
    state.live = session;
    session.finish = (text) => {
      if (session.done) return;
      session.done = true;
      clearTimeout(session.timer);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(1000);
      el.liveStatus.textContent = text + session.unitNote;
      el.liveStop.disabled = true;
      el.livePlay.disabled = !state.current;
      if (state.live === session) {
        el.liveBack.disabled = false; // the replay stays on the chart until "Batch result" (or anything else shown)
        drawLive(session, true);
      }
    };
    el.livePlay.disabled = true;
    el.liveStop.disabled = false;
    el.liveBack.disabled = true;
    el.download.disabled = true; // the downloads hold the batch result, not the replay on the chart
    el.report.disabled = true;
    el.liveStatus.textContent = "Connecting…";
    renderLiveThreshold(session);

    socket.addEventListener("open", () => {
      if (el.key && el.key.value) socket.send(JSON.stringify({ api_key: el.key.value }));
    });
    socket.addEventListener("message", (event) => {
      if (session.done) return;
      const message = JSON.parse(event.data);
      if (message.type === "ready") {
        session.lookahead = message.lookahead;
        session.threshold = typeof message.threshold === "number" ? message.threshold : null;
        sendDue(session, speed, performance.now());
      } else if (message.type === "unit") {
        // Sent with unit=auto only; shown all the same, should the service ever decide the unit itself.
        session.unitNote = ` RR read in ${message.unit}${message.note ? `: ${message.note}` : ""}.`;
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
        return;
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
    if (session.done) return;
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

  /** Redraw the live chart and side panel (at most a few times a second while beats arrive). */
  function drawLive(session, final) {
    if (state.live !== session) return; // left already: the chart shows something else
    const now = performance.now();
    if (!final && now - session.drawn < 250) return;
    session.drawn = now;
    const rec = session.rec;
    const upto = Math.max(session.sent, 1);
    const shown = {
      ...rec,
      rr: rec.rr.slice(0, upto),
      time: rec.time.slice(0, upto),
      labels: rec.labels ? rec.labels.slice(0, upto) : null,
    };
    const res = session.result;
    const sliced = { ...res, anomaly_proba: res.anomaly_proba.slice(0, upto), errors: res.errors.slice(0, upto) };
    const flags = res.is_anomaly.slice(0, upto);
    const threshold = session.threshold === null ? 0.5 : session.threshold;
    const view = { flags, episodes: res.episodes, threshold, model: true, decided: session.decided };
    drawChart(view, shown, sliced, "live");
    renderEpisodes(view);
    renderLiveThreshold(session);
    if (!final) {
      el.liveStatus.textContent =
        `Sent ${session.sent.toLocaleString("en")} beats, decided ${session.decided.toLocaleString("en")} ` +
        `(each ${session.lookahead} beats later).${session.unitNote}`;
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
