"""Turn a drawing into the 28x28 image a model trained on MNIST expects, the way MNIST was made.

Why not just shrink the canvas: MNIST digits were cropped to their ink, scaled so the longer side is
20 px (aspect ratio kept, anti-aliased), pasted into 28x28 and shifted so the centre of mass sits at
the centre. A drawing that skips these steps is off-centre and too large or thin for the model.

Stroke width: a pen of fixed width makes a small digit bold and a large one thin once it is scaled
to the 20-px box (the pad's 48-px pen on a 70-px digit ends up ~8 px wide, its 4-px pen on a 250-px
digit ~0.3 px), while MNIST's strokes are 1.3-3.6 px wide (5th-95th percentile, median 2.25, 3,000
training images measured by `stroke_width`: twice the median distance from the skeleton to the
ink's edge). So a drawing whose strokes at that scale are outside STROKE_RANGE (MNIST's 5th-95th
percentile) is redrawn at the nearer end: its ink is eroded or dilated by the difference (a signed
distance transform) at 4x the final resolution, before the usual crop, resize and centring.
Drawings within the range, most of MNIST's own digits among them, are left exactly as they are.
Chosen with benchmarks/drawn_digits.py (MNIST digits redrawn as pen strokes on the pad, issue 11;
benchmarks/results/drawn_digits.md, drawn_digits_range_*.md): narrower ranges, down to a single
width, did no better on thin pens and worse on bold ones and on MNIST's own digits.
Pure numpy + scipy.ndimage so the CLI, tests and the window share it without Qt.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

SIZE = 28
BOX = 20
INK_THRESHOLD = 0.05  # fraction of full ink below which a canvas pixel counts as background
#: Stroke widths (px at 28x28, in the 20-px box) left as drawn: MNIST's 5th-95th percentile. Wider
#: or thinner strokes are brought to the nearer end.
STROKE_RANGE = (1.3, 3.6)
SUPERSAMPLE = 4  # stroke widths are measured and changed at this many times the final resolution


def ink_from_canvas(canvas: np.ndarray, dark_on_light: bool = True) -> np.ndarray:
    """Grayscale canvas (uint8 0-255 or float 0-1) -> float ink in [0, 1], ink high."""
    image = np.asarray(canvas, dtype=np.float32)
    if image.ndim == 3:  # RGB(A): average the colour channels
        image = image[..., :3].mean(axis=2)
    if image.ndim != 2:
        raise ValueError(f"Expected a 2-D grayscale canvas, got shape {np.shape(canvas)}.")
    if image.size and image.max() > 1.0:
        image = image / 255.0
    return 1.0 - image if dark_on_light else image


def preprocess_drawing(
    canvas: np.ndarray,
    dark_on_light: bool = True,
    stroke_range: tuple[float, float] | None = STROKE_RANGE,
) -> np.ndarray | None:
    """Canvas -> float32 (28, 28) in [0, 1] centred by mass in a 20-px box; None for an empty canvas.

    `stroke_range`: (thinnest, widest) stroke in px at 28x28 kept as drawn (others are redrawn to
    the nearer bound); None keeps every stroke as drawn."""
    ink = ink_from_canvas(canvas, dark_on_light)
    crop = _crop_to_ink(ink)
    if crop is None:
        return None
    if stroke_range is not None:
        crop = _clamp_stroke_width(crop, stroke_range)
    scaled = _resize_longer_side(crop, BOX)
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    h, w = scaled.shape
    top, left = (SIZE - h) // 2, (SIZE - w) // 2
    out[top : top + h, left : left + w] = scaled
    return _centre_by_mass(out)


def _crop_to_ink(ink: np.ndarray) -> np.ndarray | None:
    """The bounding box of pixels above INK_THRESHOLD, fainter pixels zeroed; None if there are none."""
    mask = ink > INK_THRESHOLD
    if not mask.any():
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return np.where(mask, ink, 0.0)[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _clamp_stroke_width(crop: np.ndarray, stroke_range: tuple[float, float]) -> np.ndarray:
    """`crop` itself when its strokes, scaled to the 20-px box, are within `stroke_range` px wide;
    otherwise its ink redrawn at SUPERSAMPLE x the box's resolution with the nearer bound's width
    (after the redraw the box holds the strokes' centre lines plus the new width, which is what the
    new width is computed for)."""
    lowest, highest = stroke_range
    strokes = _Strokes(crop, margin=int(np.ceil(highest * SUPERSAMPLE)) + 2)
    if strokes.skeleton is None:
        return crop
    width = strokes.width()
    target = min(max(width, lowest), highest)
    if target == width:
        return crop
    rows = np.flatnonzero(strokes.skeleton.any(axis=1))
    cols = np.flatnonzero(strokes.skeleton.any(axis=0))
    extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1  # of the centre lines
    # Scaled to the box, extent + 2 * new_radius becomes BOX * SUPERSAMPLE fine pixels, and the
    # stroke (2 * new_radius) must become target * SUPERSAMPLE of them.
    pen = target * SUPERSAMPLE
    new_radius = pen * extent / (BOX * SUPERSAMPLE - pen) / 2
    redrawn = np.clip(strokes.signed + (new_radius - strokes.radius) + 0.5, 0.0, 1.0)  # soft edge
    return _crop_to_ink(redrawn) if redrawn.max() > INK_THRESHOLD else crop


class _Strokes:
    """A crop's ink at SUPERSAMPLE x the 20-px box (longer side BOX * SUPERSAMPLE, plus `margin`):
    its mask, skeleton (None without one), signed distance to the ink's edge and median half-width."""

    def __init__(self, crop: np.ndarray, margin: int = 1):
        fine = _resize_longer_side(crop, BOX * SUPERSAMPLE)
        self.mask = np.pad(fine > 0.5, margin)
        skeleton = thin(self.mask)
        self.skeleton = skeleton if skeleton.any() else None
        self.signed = _signed_distance(self.mask)
        self.radius = float(np.median(self.signed[skeleton])) if self.skeleton is not None else 0.0

    def width(self) -> float:
        """Median stroke width in px at 28x28 (in the 20-px box)."""
        return 2 * self.radius / SUPERSAMPLE


def _signed_distance(mask: np.ndarray) -> np.ndarray:
    """Distance to the ink's edge, positive inside, negative outside (pixel centres, edge at 0)."""
    inside = ndimage.distance_transform_edt(mask) - 0.5
    outside = ndimage.distance_transform_edt(~mask) - 0.5
    return np.where(mask, inside, -outside)


def stroke_width(image: np.ndarray, dark_on_light: bool = False) -> float:
    """Median stroke width of an image's ink in px once scaled to the 20-px box (an MNIST image's own
    pixels), as the preprocessing measures it: twice the median distance from the skeleton to the
    ink's edge, at SUPERSAMPLE x. 0.0 without ink."""
    crop = _crop_to_ink(ink_from_canvas(image, dark_on_light))
    return 0.0 if crop is None else _Strokes(crop).width()


def thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean image to a one-pixel-wide skeleton (8-connected)."""
    img = np.pad(np.asarray(binary).astype(np.uint8), 1)
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


def _resize_longer_side(image: np.ndarray, target: int) -> np.ndarray:
    """Scale so max(h, w) == target, keeping the aspect ratio: down by exact area averaging
    (anti-aliased), up by linear interpolation (smooth edges, not blocks)."""
    h, w = image.shape
    scale = target / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    weights = _area_weights if scale <= 1 else _linear_weights
    scaled = weights(h, new_h) @ image @ weights(w, new_w).T
    peak = float(scaled.max())
    if peak > 0:
        scaled = scaled / peak  # strokes keep full intensity, as in MNIST
    return np.clip(scaled, 0.0, 1.0).astype(np.float32)


def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix: each output pixel averages the input pixels its footprint overlaps."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    starts, ends = edges[:-1, None], edges[1:, None]
    pixel = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(ends, pixel + 1) - np.maximum(starts, pixel), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def _linear_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix: linear interpolation between the input pixels around each output
    pixel's centre (pixel centres aligned as in area averaging; edges repeat the edge pixel)."""
    centres = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    centres = np.clip(centres, 0.0, n_in - 1)
    below = np.floor(centres).astype(int)
    above = np.minimum(below + 1, n_in - 1)
    frac = centres - below
    weights = np.zeros((n_out, n_in))
    np.add.at(weights, (np.arange(n_out), below), 1.0 - frac)
    np.add.at(weights, (np.arange(n_out), above), frac)
    return weights


def _centre_by_mass(image: np.ndarray) -> np.ndarray:
    """Shift by whole pixels so the centre of mass lands as near the image centre as pixels allow."""
    cy, cx = ndimage.center_of_mass(image)
    centre = (SIZE - 1) / 2.0
    dy, dx = round(centre - cy), round(centre - cx)
    return np.roll(_zero_edges(image, dy, dx), (dy, dx), axis=(0, 1))


def _zero_edges(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Blank what np.roll would wrap around, so a shift never moves ink to the opposite edge."""
    out = image.copy()
    if dy > 0:
        out[SIZE - dy :, :] = 0
    elif dy < 0:
        out[:-dy, :] = 0
    if dx > 0:
        out[:, SIZE - dx :] = 0
    elif dx < 0:
        out[:, :-dx] = 0
    return out


def ink_box(image: np.ndarray, threshold: float = 0.0) -> tuple[int, int]:
    """(height, width) of the bounding box of pixels above `threshold`; (0, 0) when none."""
    mask = np.asarray(image) > threshold
    if not mask.any():
        return 0, 0
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)
