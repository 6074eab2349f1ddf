"""Drawn digits: does a model classify digits drawn with a pen, at any size and stroke width, as well
as it classifies MNIST's own digits? (issue 11)

Source digits (`--source`):
- mnist: the engine's validation images (`--seed`, the model's search seed: 10,000 carved from
  MNIST's training set, never trained on), not the test set, so this check can guide choices
  without touching the test images;
- uci: other writers: scikit-learn's copy of the UCI optical digits (1,797 digits by 13 writers who
  are not MNIST's, NIST forms, 8x8 images of 0-16 ink counts; shipped inside scikit-learn, which
  the product already depends on);
- mnist8: the mnist digits degraded the way the UCI ones were made (`like_uci`), the control that
  tells the UCI digits' 8x8 resolution from their writers.
Each digit is upsampled (4x for MNIST, 8x for UCI, bilinear), thinned to a one-pixel skeleton
(Zhang-Suen, tuner_app.preprocess.thin) and redrawn on the real drawing pad widget
(tuner_app.gui.pad.DrawingPad, Qt offscreen, its QPainter with round caps and antialiasing) at pen
width `--widths` (canvas pixels on the 280-px pad; the pad's stroke box offers 4-48, default 18),
one pad stroke per pair of neighbouring skeleton pixels, the skeleton scaled to a random height of
25-90 % of the pad at a random place (the same size and place for a digit at every width; the whole
stroke stays on the pad). `--renderer pil` draws the same strokes with PIL instead (no Qt).
Each drawing goes through the pad's preprocessing (tuner_app.preprocess.preprocess_drawing) twice:
with its stroke-width clamping (the product's STROKE_RANGE, or `--stroke-range LO,HI`) and without
(`stroke_range=None`, the preprocessing before issue 11's change), then through the model.
Also measured, as references: the model on the original images, and on each digit redrawn at its
own size and stroke width ("own": the skeleton at 10 canvas px per MNIST pixel, the pen as wide as
the original's measured strokes): what the redrawing itself loses, which no preprocessing can
give back. The report breaks the accuracy down by the stroke width a drawing has once scaled to the
20-px box (pen x 20 / (skeleton height + pen)): MNIST's own strokes are 1.3-3.6 px wide (5th-95th
percentile), so "> 6 px" drawings are blobs whose loops may be filled in.
Writes benchmarks/results/REPORT.{md,json} (`--report`, default drawn_digits).

`--train start,augment,...` trains the conv START point first (no augmentation; the space's
rotation, translation and zoom; that plus random stroke width: see VARIANTS) and checks each
model: the measurement behind not adding stroke-width augmentation to the spaces.

Usage: python benchmarks/drawn_digits.py MODEL.keras [--count 1000] [--widths 4,10,18,32,48]
       [--source mnist|uci] [--renderer pad|pil] [--stroke-range 2,3.5] [--report NAME] [--seed 0]
       python benchmarks/drawn_digits.py --train start,augment,augment+dilate [--epochs 8] ...
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from _common import load_average, machine, machine_line, write_report
from drawn_digits_training import VARIANTS, train_variant
from scipy import ndimage

from tuner_app.preprocess import STROKE_RANGE, preprocess_drawing, stroke_width, thin

CANVAS = 280
LOW, HIGH = 0.25, 0.9  # skeleton height as a fraction of the pad
#: Bins of the stroke width a drawing has once scaled to the 20-px box (px at 28x28).
BINS = ((0.0, 1.5), (1.5, 4.0), (4.0, 6.0), (6.0, 99.0))
NEIGHBOURS = ((0, 1), (1, -1), (1, 0), (1, 1))


def skeleton_strokes(image: np.ndarray, upsample: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """An ink image (ink high) -> skeleton pixel coordinates (N, 2) in upsampled pixels (y, x) and
    the neighbour pairs to join (indices; a lone pixel is joined to itself)."""
    fine = ndimage.zoom(np.asarray(image, dtype=np.float32), upsample, order=1)
    skeleton = thin(fine > 0.5 * float(fine.max()))
    points = np.argwhere(skeleton)
    index = {(int(y), int(x)): i for i, (y, x) in enumerate(points)}
    pairs = []
    for i, (y, x) in enumerate(points):
        joined = False
        for dy, dx in NEIGHBOURS:
            j = index.get((int(y) + dy, int(x) + dx))
            if j is not None:
                pairs.append((i, j))
                joined = True
        if not joined and not any((int(y) - dy, int(x) - dx) in index for dy, dx in NEIGHBOURS):
            pairs.append((i, i))
    return points, pairs


def placement(points: np.ndarray, width: int, fraction: float, where: tuple[float, float]):
    """Scale and offset putting the skeleton at `fraction` of the pad's height (less if the pen
    would leave the pad), at relative place `where` within the room left; returns (scale, oy, ox)."""
    extent_y, extent_x = points.max(axis=0) - points.min(axis=0) + 1
    longer = max(extent_y, extent_x)
    size = min(fraction * CANVAS, CANVAS - width - 2)
    scale = size / longer
    room_y = CANVAS - width - 2 - scale * extent_y
    room_x = CANVAS - width - 2 - scale * extent_x
    oy = width / 2 + 1 + max(room_y, 0) * where[0] - scale * points[:, 0].min()
    ox = width / 2 + 1 + max(room_x, 0) * where[1] - scale * points[:, 1].min()
    return scale, oy, ox


def segments(points, pairs, scale, oy, ox) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    xy = np.stack([ox + scale * (points[:, 1] + 0.5), oy + scale * (points[:, 0] + 0.5)], axis=1)
    out = []
    for i, j in pairs:
        a, b = tuple(map(float, xy[i])), tuple(map(float, xy[j]))
        if i == j:  # a dot: a tiny drag (a click alone draws nothing on the pad)
            b = (a[0] + 0.5, a[1])
        out.append((a, b))
    return out


def own_drawing(image: np.ndarray, points: np.ndarray, pairs, upsample: int):
    """(strokes, pen width) redrawing a digit at its own size and stroke width: MNIST's 28x28 frame
    on the whole pad (10 canvas px per pixel, as the pad's set_digit puts it), a UCI 8x8 frame (whose
    digits fill it) on the pad's central 200 px; the pen as wide as the original's strokes."""
    frame = image.shape[0] * upsample
    scale, offset = (CANVAS / frame, 0.0) if image.shape[0] == 28 else (200 / frame, 40.0)
    extent = float((points.max(axis=0) - points.min(axis=0) + 1).max()) * scale
    own = stroke_width(image)  # px in the 20-px box: pen = own * (extent + pen) / 20
    pen = max(1, round(own * extent / (20 - own)))
    return segments(points, pairs, scale, offset, offset), pen


class PadRenderer:
    """Draws on the real DrawingPad widget (Qt offscreen), as mouse strokes would."""

    name = "pad (tuner_app.gui.pad.DrawingPad, QPainter, Qt offscreen)"

    def __init__(self):
        from PySide6.QtWidgets import QApplication

        from tuner_app.gui.pad import DrawingPad

        self.app = QApplication.instance() or QApplication([])
        self.pad = DrawingPad(size=CANVAS)

    def __call__(self, strokes, width: int) -> np.ndarray:
        self.pad.clear()
        self.pad.stroke_width = width
        for a, b in strokes:
            self.pad.draw_polyline([a, b])
        return self.pad.to_array()


class PilRenderer:
    name = "PIL (ImageDraw lines and round ends, no antialiasing)"

    def __call__(self, strokes, width: int) -> np.ndarray:
        from PIL import Image, ImageDraw

        canvas = Image.new("L", (CANVAS, CANVAS), 255)
        draw = ImageDraw.Draw(canvas)
        r = width / 2
        for a, b in strokes:
            for cx, cy in (a, b):
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=0)
            draw.line([a, b], fill=0, width=width)
        return np.asarray(canvas)


def load_source(source: str, seed: int, count: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(images as float ink in [0, 1], labels, upsampling for the skeleton)."""
    if source == "uci":
        from sklearn.datasets import load_digits

        digits = load_digits()
        return (digits.images / 16.0).astype(np.float32)[:count], digits.target[:count], 8
    from tuner_app import data as data_module

    splits = data_module.split_train_validation(data_module.load_mnist(), 10_000, None, seed)
    images, labels = splits.validation.x[:count].astype(np.float32), splits.validation.y[:count]
    if source == "mnist8":
        return np.stack([like_uci(img) for img in images]), labels, 8
    return images, labels, 4


def like_uci(image: np.ndarray) -> np.ndarray:
    """An MNIST digit made the way the UCI optical digits were: its ink's box scaled to fill a 32x32
    bitmap on its longer side (aspect kept, centred: UCI's digits all fill the height, their widths
    vary by class), then the number of inked pixels in each 4x4 block (0-16, here / 16) as an 8x8
    image. Separates what the UCI check loses to its 8x8 resolution from what it loses to other
    writers."""
    rows = np.flatnonzero((image > 0.5).any(axis=1))
    cols = np.flatnonzero((image > 0.5).any(axis=0))
    if len(rows) == 0:
        return np.zeros((8, 8), np.float32)
    crop = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = 32 / max(crop.shape)
    scaled = ndimage.zoom(crop, scale, order=1, grid_mode=True, mode="nearest")[:32, :32]
    bitmap = np.zeros((32, 32), bool)
    top, left = (32 - scaled.shape[0]) // 2, (32 - scaled.shape[1]) // 2
    bitmap[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled > 0.5
    return (bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3)) / 16.0).astype(np.float32)


def check(model, images, labels, upsample, widths, render, stroke_range) -> dict:
    """The references and the accuracy per pen width, with and without the stroke-width clamping."""
    preprocessings = {"clamped": stroke_range, "as drawn": None}

    def per_digit(inputs: list[np.ndarray]) -> np.ndarray:
        return model.predict(np.stack(inputs), verbose=0).argmax(1) == labels

    reference = {}
    if images.shape[1] == 28:
        reference["original"] = float(per_digit(list(images)).mean())
    for name, range_ in preprocessings.items():
        reference[f"original through the preprocessing, {name}"] = float(
            per_digit(
                [preprocess_drawing(img, dark_on_light=False, stroke_range=range_) for img in images]
            ).mean()
        )
    strokes = [skeleton_strokes(img, upsample) for img in images]
    rng = np.random.default_rng(0)
    places = [(rng.uniform(LOW, HIGH), (rng.uniform(), rng.uniform())) for _ in images]
    own = [
        render(*own_drawing(img, points, pairs, upsample))
        for img, (points, pairs) in zip(images, strokes, strict=True)
    ]
    for name, range_ in preprocessings.items():
        reference[f"own size and width, {name}"] = float(
            per_digit([preprocess_drawing(c, stroke_range=range_) for c in own]).mean()
        )
    print(reference, flush=True)
    results = {}
    for width in widths:
        canvases, drawn_widths = [], []
        for (points, pairs), (fraction, where) in zip(strokes, places, strict=True):
            scale, oy, ox = placement(points, width, fraction, where)
            canvases.append(render(segments(points, pairs, scale, oy, ox), width))
            longer = scale * float((points.max(axis=0) - points.min(axis=0) + 1).max())
            drawn_widths.append(width * 20 / (longer + width))
        drawn_widths = np.asarray(drawn_widths)
        row = {}
        for name, range_ in preprocessings.items():
            inputs, times = [], []
            for c in canvases:
                tick = time.perf_counter()
                inputs.append(preprocess_drawing(c, stroke_range=range_))
                times.append(1000 * (time.perf_counter() - tick))
            correct = per_digit(inputs)
            row[name] = {
                "accuracy": float(correct.mean()),
                "preprocess_ms": [round(float(np.percentile(times, q)), 2) for q in (50, 95, 100)],
                "by_box_width": {
                    f"{lo:g}-{hi:g}": [int(correct[(drawn_widths >= lo) & (drawn_widths < hi)].sum()),
                                       int(((drawn_widths >= lo) & (drawn_widths < hi)).sum())]
                    for lo, hi in BINS
                },
            }  # fmt: skip
        results[width] = row
        print(
            f"width {width}: " + ", ".join(f"{k} {100 * v['accuracy']:.2f} %" for k, v in row.items()),
            flush=True,
        )
    return {"reference": reference, "by_width": results}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", nargs="?", help="a .keras model (or --train)")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--widths", default="4,6,10,18,24,32,48")
    parser.add_argument("--source", choices=("mnist", "uci", "mnist8"), default="mnist")
    parser.add_argument("--renderer", choices=("pad", "pil"), default="pad")
    parser.add_argument("--stroke-range", default=None, help="LO,HI (px at 28x28); default: the product's")
    parser.add_argument(
        "--train", help=f"instead of MODEL: train these variants first ({', '.join(VARIANTS)})"
    )
    parser.add_argument("--epochs", type=int, default=8, help="with --train")
    parser.add_argument("--report", default="drawn_digits")
    parser.add_argument("--seed", type=int, default=0, help="the model's search seed: its validation split")
    args = parser.parse_args()
    if bool(args.model) == bool(args.train):
        parser.error("give a MODEL or --train VARIANTS")
    stroke_range = (
        tuple(float(v) for v in args.stroke_range.split(",")) if args.stroke_range else STROKE_RANGE
    )
    widths = [int(w) for w in args.widths.split(",")]
    info = machine()
    load_before = load_average()
    started = time.perf_counter()
    from tuner_app.predict import load_model

    images, labels, upsample = load_source(args.source, args.seed, args.count)
    render = PadRenderer() if args.renderer == "pad" else PilRenderer()
    models = {}
    if args.train:
        for variant in args.train.split(","):
            if variant not in VARIANTS:
                parser.error(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
            model, curve, seconds = train_variant(variant, args.epochs, args.seed)
            print(f"{variant}: validation accuracy per epoch {curve} ({seconds} s)", flush=True)
            models[variant] = (model, {"validation_per_epoch": curve, "training_seconds": seconds})
    else:
        models[args.model] = (load_model(args.model), {})
    checks = {}
    for name, (model, training) in models.items():
        result = check(model, images, labels, upsample, widths, render, stroke_range)
        if args.source != "mnist":  # the ratio's base: the same model on MNIST's own digits
            mnist, mnist_labels, _ = load_source("mnist", args.seed, 1000)
            predicted = model.predict(mnist, verbose=0).argmax(1)
            result["mnist_original"] = float((predicted == mnist_labels).mean())
        checks[name] = {**training, **result}
    data = {
        "machine": info,
        "model": args.model,
        "train": args.train,
        "epochs": args.epochs if args.train else None,
        "source": args.source,
        "count": len(labels),
        "seed": args.seed,
        "renderer": render.name,
        "stroke_range": list(stroke_range),
        "checks": checks,
        "seconds": round(time.perf_counter() - started, 1),
        "load_before": load_before,
        "load_after": load_average(),
        "command": " ".join(["python benchmarks/drawn_digits.py", *sys.argv[1:]]),
    }
    write_report(args.report, markdown(data), data)


def markdown(data) -> str:
    source = (
        f"the first {data['count']} validation images (seed {data['seed']} split, the model's own: "
        "never trained on)"
        if data["source"] == "mnist"
        else f"{data['count']} UCI optical digits (scikit-learn's load_digits: 13 writers other than MNIST's)"
        if data["source"] == "uci"
        else f"the first {data['count']} validation images (seed {data['seed']} split) made 8x8 the UCI way "
        "(like_uci: ink box scaled to a 32x32 bitmap, inked pixels counted per 4x4 block)"
    )
    lines = [
        "# Drawn digits: digits redrawn as pen strokes on the pad, through the pad's preprocessing",
        "",
        f"{machine_line(data['machine'])}; load average {data['load_before']} before, {data['load_after']} "
        f"after; {data['seconds']} s. `{data['command']}`: {source}. Renderer: {data['renderer']}. "
        f"Stroke-width clamping: {data['stroke_range'][0]:g}-{data['stroke_range'][1]:g} px.",
    ]
    for name, result in data["checks"].items():
        base = result["reference"].get("original") or result.get("mnist_original")
        lines += ["", f"## {name}", ""]
        if data.get("train"):
            lines += [
                f"Trained {data['epochs']} epochs (conv START, seed {data['seed']}): validation accuracy per "
                f"epoch {result['validation_per_epoch']}, {result['training_seconds']} s.",
                "",
            ]
        lines += ["| reference | accuracy |", "|---|---|"]
        if "mnist_original" in result:
            lines.append(
                f"| MNIST validation originals (first 1000) | {100 * result['mnist_original']:.2f} % |"
            )
        for reference, acc in result["reference"].items():
            lines.append(f"| {reference} | {100 * acc:.2f} % |")
        lines += [
            "",
            "Ratio: accuracy on the drawings / accuracy on "
            + ("the originals" if data["source"] == "mnist" else "MNIST validation originals")
            + ". By box width: correct/drawn per stroke width once scaled to the 20-px box (px at 28x28).",
            "",
            "| pen width (px on the 280-px pad) | preprocessing | accuracy | ratio | "
            + " | ".join(f"box width {lo:g}-{hi:g}" if hi < 99 else f"box width > {lo:g}" for lo, hi in BINS)
            + " | preprocessing ms (median, p95, max) |",
            "|---|---|---|---|" + "---|" * len(BINS) + "---|",
        ]
        for width, row in result["by_width"].items():
            for preprocessing, cell in row.items():
                bins = " | ".join(
                    f"{c}/{n} ({100 * c / n:.1f} %)" if n else "-" for c, n in cell["by_box_width"].values()
                )
                lines.append(
                    f"| {width} | {preprocessing} | {100 * cell['accuracy']:.2f} % | "
                    f"{cell['accuracy'] / base:.3f} | {bins} | "
                    + ", ".join(f"{v:g}" for v in cell.get("preprocess_ms", []))
                    + " |"
                )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
