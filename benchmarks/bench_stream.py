"""Live scoring: how often live decisions equal the whole recording's, their F1, and 200 streams over WebSockets.

Usage: python benchmarks/bench_stream.py [--model DIR] [--data train.csv] [--streams 200] [--seconds 60]

1. Agreement: the recordings of ``--data`` (labelled) as labelled, laid end to end and cut into pieces
   (:mod:`cardiospike.training.views`), each streamed through ``Detector.stream()`` with the model's own look-ahead,
   and the recordings as labelled with shorter look-aheads L; the share of beats whose live decision equals the
   whole-recording decision, and the per-beat F1 of live and of whole-recording decisions against the labels. The
   model scores recordings it may have been trained on (the shipped model is trained on train.csv): the F1 figures
   are in-sample, the agreement figures are what this measures.
2. Load: ``--streams`` WebSocket clients on 127.0.0.1, each sending one beat per message at 2 beats/s for
   ``--seconds`` against ``cardiospike serve`` (one worker); the latency from sending the beat that completes a
   block's look-ahead to receiving that block's decisions (p50, p99), and the server's memory.

Results go to stdout and benchmarks/results/stream.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from bench_api import server
from cardiospike.data import read_recordings, simulate_recording
from cardiospike.detector import Detector, default_model_path, load_detector
from cardiospike.live import BeatDecisions
from cardiospike.metrics import f1_score
from cardiospike.recording import Recording
from cardiospike.training.views import cut_into_pieces, laid_end_to_end

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cardiospike" / "train.csv"


def live_flags(detector: Detector, recordings: list[Recording], lookahead: int | None) -> np.ndarray:
    """Every beat's live decision, each recording streamed at once and closed (the decisions do not depend on the
    chunks: the tests check it)."""
    live = []
    for rec in recordings:
        stream = detector.stream(lookahead=lookahead)
        events = stream.feed(rec.rr) + stream.close()
        live.append(np.concatenate([e.is_anomaly for e in events if isinstance(e, BeatDecisions)]))
    return np.concatenate(live)


def quality(detector: Detector, data: Path, lookaheads: list[int]) -> list[str]:
    """Rows: each view of ``data`` with the model's own look-ahead, and the recordings as labelled with shorter ones."""
    recordings = read_recordings(data)
    rng = np.random.default_rng(0)
    views = {
        "recordings as labelled": recordings,
        "laid end to end": [laid_end_to_end(recordings, rng)],
        "cut into pieces of 64-256 beats": cut_into_pieces(recordings, rng),
    }
    runs: list[tuple[str, list[Recording], int | None]] = [(name, recs, None) for name, recs in views.items()]
    runs += [("recordings as labelled", recordings, lookahead) for lookahead in lookaheads]
    rows = []
    for name, recs, lookahead in runs:
        labels = np.concatenate([r.labels for r in recs if r.labels is not None]).astype(bool)
        whole = np.concatenate([s.is_anomaly for s in detector.score_many(recs)])
        start = time.perf_counter()
        flags = live_flags(detector, recs, lookahead)
        seconds = time.perf_counter() - start
        shown = f"{detector.stream().lookahead} (the model's)" if lookahead is None else str(lookahead)
        rows.append(
            f"| {name} | {labels.size:,} | {shown} | {np.mean(flags == whole):.3%} | {int(np.sum(flags != whole))} | "
            f"{f1_score(labels, flags):.4f} | {f1_score(labels, whole):.4f} | {labels.size / seconds:,.0f} |"
        )
        print(rows[-1], flush=True)
    return rows


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def load(url: str, pid: int, streams: int, seconds: float) -> tuple[np.ndarray, int, int, float]:
    """(latencies in ms of every block decision, decided beats, errors, the server's largest RSS in MB while the
    streams were open) of ``streams`` clients sending a beat every 0.5 s."""
    import websockets

    latencies: list[float] = []
    decided = errors = 0
    open_streams = 0
    ws_url = url.replace("http://", "ws://") + "/api/v1/stream"

    async def client(k: int) -> None:
        nonlocal decided, errors, open_streams
        try:
            async with websockets.connect(ws_url, max_size=None, open_timeout=30) as ws:
                open_streams += 1
                ready = json.loads(await ws.recv())
                lookahead = int(ready["lookahead"])
                # A stream under way: the beats of the look-ahead arrived already, so every block is decided live.
                prefill = lookahead + int(ready["block"])
                rr = simulate_recording(prefill + int(seconds * 2) + 10, seed=k).rr
                await ws.send(json.dumps({"rr": rr[:prefill].tolist()}))
                while json.loads(await ws.recv())["type"] != "beats":
                    pass
                await asyncio.sleep(k % 50 * 0.01)  # spread the clients over the first half second
                sent: dict[int, float] = {}  # when each beat was sent, by its index in the stream
                deadline = time.monotonic() + seconds
                next_at = time.monotonic()
                i = prefill
                while next_at < deadline:
                    sent[i] = time.perf_counter()
                    await ws.send(json.dumps({"rr": [float(rr[i])]}))
                    i += 1
                    next_at += 0.5
                    try:
                        while (wait := next_at - time.monotonic()) > 0:  # answers until the next beat is due
                            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=wait))
                            if message["type"] == "beats":
                                # Timed from the beat that completed the block's look-ahead, whenever it was sent.
                                completing = message["start_index"] + len(message["is_anomaly"]) - 1 + lookahead
                                if completing in sent:
                                    latencies.append((time.perf_counter() - sent[completing]) * 1e3)
                                decided += len(message["is_anomaly"])
                            elif message["type"] == "error":
                                errors += 1
                    except TimeoutError:
                        pass
                open_streams -= 1
                await ws.send(json.dumps({"end": True}))
        except Exception as exc:
            errors += 1
            print(f"stream {k}: {type(exc).__name__}: {exc}", file=sys.stderr)

    async def sample() -> float:
        """The server's largest RSS while every stream is open, read every 0.5 s."""
        peak = 0.0
        while not done.is_set():
            if open_streams == streams:
                peak = max(peak, _rss_mb(pid))
            await asyncio.sleep(0.5)
        return peak

    done = asyncio.Event()
    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(client(k) for k in range(streams)))
    done.set()
    return np.array(latencies), decided, errors, await sampler


def server_pid(url: str) -> int:
    port = url.rsplit(":", 1)[1]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in cmdline and port.encode() in cmdline:
            return int(pid)
    raise RuntimeError("server process not found")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--lookaheads", default="16,64,128")
    args = parser.parse_args()
    model = args.model or default_model_path()
    detector = load_detector(model)
    default = detector.stream().lookahead

    rows = quality(detector, args.data, [int(x) for x in args.lookaheads.split(",")])
    with server(model, workers=1) as url:
        pid = server_pid(url)
        before = _rss_mb(pid)
        latencies, decided, errors, after = asyncio.run(load(url, pid, args.streams, args.seconds))
    p50, p99 = np.percentile(latencies, [50, 99]) if latencies.size else (float("nan"),) * 2

    load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    command = shlex.join(["python", "benchmarks/bench_stream.py", *sys.argv[1:]])
    lines = [
        "# Live scoring",
        "",
        f"- command: `{command}`",
        f"- model: {detector.model_version} (the model's own look-ahead: {default} beats, blocks of "
        f"{detector.stream().block})",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"(1, 5, 15 min) at the end: {load_avg}",
        "",
        f"## Live decisions against whole-recording decisions, {args.data.name} (in-sample for a model trained on it)",
        "",
        "Each recording of the view streamed (`Detector.stream`) and closed, against the same recording scored whole. "
        "With the model's own look-ahead (how far its features, network windows and post-processing look) a live "
        "decision is the batch's; with a shorter one it is made before the beats it depends on have all come. The "
        "views: the recordings as labelled; all of them shuffled and laid end to end as one recording (repeated to "
        "100,000 beats at least); each cut into pieces of 64-256 beats.",
        "",
        "| view | beats | look-ahead L (beats) | live = whole | beats that differ | F1 live vs labels | F1 whole vs "
        "labels | beats/s streamed (one core) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        f"## {args.streams} concurrent streams, a beat every 0.5 s each, for {args.seconds:.0f} s (one server worker, "
        "loopback)",
        "",
        "- decision latency (the beat that completes a block's look-ahead sent -> that block's decisions received; "
        "each stream started with its look-ahead already sent): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms over {latencies.size} block decisions ({decided} beats decided); "
        f"{errors} errors",
        f"- server memory (RSS): {before:.0f} MB before, "
        + (
            f"{after:.0f} MB at most with every stream open: {(after - before) / max(args.streams, 1) * 1024:.0f} KB "
            "per stream"
            if after > 0
            else "not measured: the streams were never all open at once"
        ),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).with_name("results") / "stream.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
