"""The pad's preprocessing on its hardest drawings: how long one drawing takes, worst cases included.

Why: the stroke-width step thins the ink to its centre lines (Zhang-Suen), one pass per pixel of
half-width at 4x resolution, so its cost grows with how bold the ink is. A solid blob (a filled pad,
one fat dot) is the worst case a user can draw; the pad's budget is 50 ms from mouse release to
probabilities, the model's prediction included. Typical drawings are timed too, for scale.

    python benchmarks/pad_worst_case.py [--repeats 30]

Prints a table and writes benchmarks/results/pad_worst_case.md / .json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import load_average, machine, machine_line, write_report

from tuner_app.preprocess import preprocess_drawing

PAD = 280  # the pad's canvas, px


def drawings() -> dict[str, np.ndarray]:
    """White ink on black, as the pad's canvas holds it."""
    yy, xx = np.mgrid[:PAD, :PAD]
    out = {}
    filled = np.zeros((PAD, PAD), np.uint8)
    filled[10:270, 10:270] = 255
    out["whole pad filled (260 x 260 px)"] = filled
    out["one fat dot (48-px pen)"] = (((yy - 140) ** 2 + (xx - 140) ** 2) <= 24**2).astype(np.uint8) * 255
    out["a thick bar (100 x 240 px)"] = np.where((abs(xx - 140) < 50) & (abs(yy - 140) < 120), 255, 0)
    line = np.zeros((PAD, PAD), np.uint8)
    line[140, 20:260] = 255
    out["a 1-px line across the pad"] = line
    ring = np.hypot(yy - 140, xx - 140)
    out["a 0 with an 18-px pen"] = np.where(abs(ring - 90) <= 9, 255, 0)
    out["a 0 with a 48-px pen"] = np.where(abs(ring - 90) <= 24, 255, 0)
    return {name: image.astype(np.uint8) for name, image in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per drawing (default 30)")
    args = parser.parse_args()
    load_before = load_average()
    info = machine()
    rows = []
    for name, canvas in drawings().items():
        preprocess_drawing(canvas, dark_on_light=False)  # warm up (first-call imports, caches)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            preprocess_drawing(canvas, dark_on_light=False)
            times.append(1000 * (time.perf_counter() - start))
        rows.append({"drawing": name, "median_ms": statistics.median(times), "max_ms": max(times)})
        print(f"{name:36s} median {rows[-1]['median_ms']:6.1f} ms   max {rows[-1]['max_ms']:6.1f} ms")
    load_after = load_average()
    table = "\n".join(f"| {r['drawing']} | {r['median_ms']:.1f} | {r['max_ms']:.1f} |" for r in rows)
    markdown = f"""# The pad's preprocessing, worst cases

{machine_line(info)}. Load average {load_before} before, {load_after} after.

Command: `python benchmarks/pad_worst_case.py --repeats {args.repeats}` (preprocessing only: the
model's prediction comes on top: gui_responsiveness.md times the whole path).

| drawing on the 280-px pad | median ms | max ms |
|---|---|---|
{table}
"""
    data = {"machine": info, "load": [load_before, load_after], "rows": rows}
    write_report("pad_worst_case", markdown, data)


if __name__ == "__main__":
    main()
