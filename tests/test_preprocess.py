"""The pad's preprocessing makes MNIST-like images: inverted, 20-px box, centred by mass."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from tuner_app.preprocess import SIZE, ink_box, preprocess_drawing

CENTRE = (SIZE - 1) / 2


def canvas(size: int = 280) -> np.ndarray:
    return np.full((size, size), 255, dtype=np.uint8)


def test_empty_canvas_gives_none() -> None:
    assert preprocess_drawing(canvas()) is None


def test_tall_stroke_fills_a_20_pixel_box_centred_by_mass() -> None:
    drawing = canvas()
    drawing[30:250, 40:62] = 0  # a "1" drawn far left of centre
    image = preprocess_drawing(drawing)
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.min() >= 0.0 and image.max() == pytest.approx(1.0)
    assert ink_box(image)[0] == 20  # longer side is 20 px
    cy, cx = ndimage.center_of_mass(image)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5


def test_aspect_ratio_is_kept_and_wide_shapes_are_20_wide() -> None:
    drawing = canvas()
    drawing[100:160, 20:260] = 0  # 60 x 240: 4:1
    image = preprocess_drawing(drawing)
    height, width = ink_box(image, threshold=0.5)
    assert width == 20 and height == 5


def test_centre_of_mass_not_box_centre_is_centred() -> None:
    drawing = canvas()
    drawing[40:240, 100:120] = 0  # stem
    drawing[40:60, 120:240] = 0  # a long flag to the right pulls the mass right of the box centre
    image = preprocess_drawing(drawing)
    cy, cx = ndimage.center_of_mass(image)
    assert abs(cx - CENTRE) <= 0.5 and abs(cy - CENTRE) <= 0.5
    cols = np.flatnonzero(image.max(axis=0) > 0)
    box_centre = (cols[0] + cols[-1]) / 2
    assert abs(box_centre - CENTRE) > 1  # the box itself is off-centre, as in MNIST


def test_light_on_dark_and_float_input() -> None:
    dark = np.zeros((100, 100), dtype=np.float32)
    dark[10:90, 45:55] = 1.0
    image = preprocess_drawing(dark, dark_on_light=False)
    assert ink_box(image)[0] == 20


def test_anti_aliasing_leaves_grey_edges() -> None:
    drawing = canvas()
    drawing[30:250, 100:116] = 0  # a 16-px stem becomes ~1.5 px at a fractional offset
    drawing[30:40, 30:250] = 0  # a bar that sets the crop's left edge
    image = preprocess_drawing(drawing)
    values = image[image > 0]
    assert ((values > 0.05) & (values < 0.95)).any()
