"""Turn a drawing into the 28x28 image a model trained on MNIST expects, the way MNIST was made.

Why not just shrink the canvas: MNIST digits were cropped to their ink, scaled so the longer side is
20 px (aspect ratio kept, anti-aliased), pasted into 28x28 and shifted so the centre of mass sits at
the centre. A drawing that skips these steps is off-centre and too large or thin for the model.
Pure numpy + scipy.ndimage (centre of mass) so the CLI, tests and the window share it without Qt.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

SIZE = 28
BOX = 20
INK_THRESHOLD = 0.05  # fraction of full ink below which a canvas pixel counts as background


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


def preprocess_drawing(canvas: np.ndarray, dark_on_light: bool = True) -> np.ndarray | None:
    """Canvas -> float32 (28, 28) in [0, 1] centred by mass in a 20-px box; None for an empty canvas."""
    ink = ink_from_canvas(canvas, dark_on_light)
    mask = ink > INK_THRESHOLD
    if not mask.any():
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    crop = np.where(mask, ink, 0.0)[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scaled = _resize_longer_side(crop, BOX)
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    h, w = scaled.shape
    top, left = (SIZE - h) // 2, (SIZE - w) // 2
    out[top : top + h, left : left + w] = scaled
    return _centre_by_mass(out)


def _resize_longer_side(image: np.ndarray, target: int) -> np.ndarray:
    """Scale so max(h, w) == target, keeping the aspect ratio, by exact area averaging (anti-aliased)."""
    h, w = image.shape
    scale = target / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    scaled = _area_weights(h, new_h) @ image @ _area_weights(w, new_w).T
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
