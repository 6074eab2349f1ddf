"""Drawn digits: does a model classify digits drawn with a pen, at any size and stroke width, as well
as it classifies MNIST's own digits? (issue 11)

Source digits: the engine's validation images (`--seed`, the model's search seed: 10,000 carved
from MNIST's training set, never trained on), not the test set, so this check can guide choices
without touching the test images.
Each digit is thinned to a one-pixel skeleton (Zhang-Suen), scaled onto a 280x280 canvas at a
random height (25-90 % of the canvas) and redrawn as uniform-width round pen strokes (PIL, width
`--widths` canvas pixels, dark on light, the way the pad draws), then goes through the pad's own
preprocessing (tuner_app.preprocess.preprocess_drawing: crop, 20-px box, centre of mass) and the
model. Reported: the model's accuracy on the original images, on the redrawn ones per stroke
width, and their ratio. What it does not cover: the pad's Qt rendering (QPainter's antialiasing
differs from PIL's slightly) and writers other than MNIST's.
Writes benchmarks/results/REPORT.{md,json} (`--report`, default drawn_digits).

Usage: python benchmarks/drawn_digits.py MODEL.keras [--count 1000] [--widths 6,14,24] [--report NAME]
       [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
from _common import load_average, machine, machine_line, write_report
from PIL import Image, ImageDraw

from tuner_app import data as data_module
from tuner_app.predict import load_model
from tuner_app.preprocess import preprocess_drawing

CANVAS = 280


def thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean image to a one-pixel-wide skeleton."""
    img = np.pad(binary.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p = img
            n = [
                p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:],
                p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2],
            ]  # fmt: skip  # P2..P9 clockwise from north
            neighbours = sum(n)
            transitions = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).astype(np.uint8) for i in range(8))
            if step == 0:
                a = n[0] * n[2] * n[4] == 0
                b = n[2] * n[4] * n[6] == 0
            else:
                a = n[0] * n[2] * n[6] == 0
                b = n[0] * n[4] * n[6] == 0
            centre = p[1:-1, 1:-1] == 1
            remove = centre & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & a & b
            if remove.any():
                img[1:-1, 1:-1][remove] = 0
                changed = True
    return img[1:-1, 1:-1].astype(bool)


def redraw(image: np.ndarray, width: int, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit as uniform pen strokes on a light canvas (uint8, dark ink)."""
    skeleton = thin(image > 0.5 * 255)
    ys, xs = np.nonzero(skeleton)
    canvas = Image.new("L", (CANVAS, CANVAS), 255)
    if len(ys) == 0:
        return np.asarray(canvas)
    height = rng.uniform(0.25, 0.9) * CANVAS
    scale = height / max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1)
    oy = rng.uniform(0, CANVAS - scale * (ys.max() - ys.min() + 1))
    ox = rng.uniform(0, max(1.0, CANVAS - scale * (xs.max() - xs.min() + 1)))

    def at(y: int, x: int) -> tuple[float, float]:
        return (ox + scale * (x - xs.min() + 0.5), oy + scale * (y - ys.min() + 0.5))

    draw = ImageDraw.Draw(canvas)
    points = set(zip(ys.tolist(), xs.tolist(), strict=True))
    r = width / 2
    for y, x in points:
        cx, cy = at(y, x)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=0)
        for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):
            if (y + dy, x + dx) in points:
                draw.line([at(y, x), at(y + dy, x + dx)], fill=0, width=width)
    return np.asarray(canvas)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--widths", default="6,14,24")
    parser.add_argument("--report", default="drawn_digits")
    parser.add_argument("--seed", type=int, default=0, help="the model's search seed: its validation split")
    args = parser.parse_args()
    info = machine()
    load_before = load_average()
    splits = data_module.split_train_validation(data_module.load_mnist(), 10_000, None, args.seed)
    x = (splits.validation.x[: args.count] * 255).round().astype(np.uint8)
    y = splits.validation.y[: args.count]
    model = load_model(args.model)
    original = float((model.predict(x.astype("float32") / 255, verbose=0).argmax(1) == y).mean())
    rng = np.random.default_rng(0)
    by_width = {}
    for width in [int(w) for w in args.widths.split(",")]:
        images = np.stack([preprocess_drawing(redraw(img, width, rng)) for img in x])
        by_width[width] = float((model.predict(images, verbose=0).argmax(1) == y).mean())
        print(f"width {width}: {100 * by_width[width]:.2f} % (original {100 * original:.2f} %)", flush=True)
    data = {
        "machine": info,
        "model": args.model,
        "count": args.count,
        "seed": args.seed,
        "original_accuracy": original,
        "redrawn_accuracy": by_width,
        "load_before": load_before,
        "load_after": load_average(),
        "command": " ".join(["python benchmarks/drawn_digits.py", *sys.argv[1:]]),
    }
    write_report(args.report, markdown(data), data)


def markdown(data) -> str:
    lines = [
        "# Drawn digits: MNIST digits redrawn as pen strokes, through the pad's preprocessing",
        "",
        f"{machine_line(data['machine'])}; load average {data['load_before']} before, {data['load_after']} "
        f"after. `{data['command']}`: the first {data['count']} validation images "
        f"(seed {data.get('seed', 0)} split, the model's own: never trained on).",
        "",
        f"Model accuracy on the original images: {100 * data['original_accuracy']:.2f} %.",
        "",
        "| stroke width (px on a 280 px canvas) | accuracy on redrawn digits | ratio to original |",
        "|---|---|---|",
    ]
    for width, acc in data["redrawn_accuracy"].items():
        lines.append(f"| {width} | {100 * acc:.2f} % | {acc / data['original_accuracy']:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
