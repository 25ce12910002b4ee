"""How long a fresh install of the test environment takes with the lock, as `make test` installs it.

Usage: python benchmarks/bench_install.py [--extras dev,train] [--no-upgrade]

A throw-away virtual environment is made with this Python, its pip upgraded (as the Makefile does; --no-upgrade
keeps the pip the venv starts with), and the project installed editable with its extras under the constraints of
requirements/lock.txt. Timed: the install alone. The pip cache is whatever this machine holds (said in the result):
a cold cache adds the downloads. Results go to stdout and benchmarks/results/install.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", default="dev,train")
    parser.add_argument("--no-upgrade", action="store_true", help="keep the pip the new venv starts with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = str(venv / "bin" / "python")
        if not args.no_upgrade:
            subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        pip = subprocess.run([python, "-m", "pip", "--version"], check=True, capture_output=True, text=True).stdout
        command = [python, "-m", "pip", "install", "-q", "-c", str(ROOT / "requirements/lock.txt")]
        command += ["-e", f"{ROOT}[{args.extras}]"]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode:
            sys.exit(f"install failed:\n{done.stderr[-2000:]}")
        n_packages = len(subprocess.run([python, "-m", "pip", "freeze"], capture_output=True, text=True).stdout.split())
    cache = Path(os.environ.get("PIP_CACHE_DIR", Path.home() / ".cache/pip"))
    lines = [
        "# Fresh install with the lock",
        "",
        f"`python benchmarks/bench_install.py --extras {args.extras}` on {platform.node()} ({os.cpu_count()} cores), "
        f"{pip.split(' from ')[0]}, pip cache {'present' if cache.exists() else 'absent'} at {cache}.",
        "",
        f"- `pip install -c requirements/lock.txt -e '.[{args.extras}]'`: **{seconds:.0f} s**, {n_packages} packages,"
        " nothing to resolve (every version pinned by the lock).",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    (ROOT / "benchmarks/results/install.md").write_text(text)


if __name__ == "__main__":
    main()
