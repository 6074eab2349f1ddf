"""The pad's preprocessing makes MNIST-like images: inverted, 20-px box, centred by mass, strokes
within MNIST's range of widths."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from tuner_app.preprocess import SIZE, STROKE_RANGE, ink_box, preprocess_drawing, stroke_width, thin

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
    drawing[100:160, 20:260] = 0  # 60 x 240: 4:1 (a 5-px-wide stroke at 20 px: kept as drawn here)
    image = preprocess_drawing(drawing, stroke_range=None)
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


def ring(size: int, outer: float, inner: float, centre: tuple[float, float] | None = None) -> np.ndarray:
    """A light canvas with a dark ring (an "O" drawn with a pen of width outer - inner)."""
    yy, xx = np.mgrid[:size, :size]
    cy, cx = centre or ((size - 1) / 2, (size - 1) / 2)
    r = np.hypot(yy - cy, xx - cx)
    drawing = canvas(size)
    drawing[(r <= outer) & (r >= inner)] = 0
    return drawing


def hole_area(image: np.ndarray) -> int:
    """Background pixels enclosed by ink (not connected to the image's border)."""
    background, count = ndimage.label(image <= 0.5)
    border = set(
        np.unique(np.concatenate([background[0], background[-1], background[:, 0], background[:, -1]]))
    )
    return int(sum((background == k).sum() for k in range(1, count + 1) if k not in border))


def test_stroke_width_of_known_bars() -> None:
    for width in (1, 2, 3, 4):
        image = np.zeros((28, 28), np.float32)
        image[4:24, 14 - width // 2 : 14 - width // 2 + width] = 1.0  # 20 tall: the box is its own size
        assert stroke_width(image) == pytest.approx(width, abs=0.3)
    assert stroke_width(np.zeros((28, 28))) == 0.0


def test_thin_leaves_a_one_pixel_line_and_keeps_a_loop_closed() -> None:
    bar = np.zeros((30, 30), bool)
    bar[5:25, 10:15] = True
    skeleton = thin(bar)
    assert skeleton.any() and skeleton.sum(axis=1).max() == 1  # one pixel per row
    loop = thin(ring(60, 20, 12) < 128)
    _, holes = ndimage.label(~loop)
    assert holes == 2  # outside and the hole: the skeleton is still a closed loop


def zhang_suen_by_the_book(binary: np.ndarray) -> np.ndarray:
    """Zhang and Suen (1984) written out neighbour by neighbour: what `thin`'s lookup tables encode."""
    img = np.pad(binary.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            remove = []
            for y, x in zip(*np.nonzero(img), strict=True):
                n = [img[y - 1, x], img[y - 1, x + 1], img[y, x + 1], img[y + 1, x + 1],
                     img[y + 1, x], img[y + 1, x - 1], img[y, x - 1], img[y - 1, x - 1]]  # fmt: skip
                a = sum(n[i] == 0 and n[(i + 1) % 8] == 1 for i in range(8))
                first = n[0] * n[2] * n[4] == 0 if step == 0 else n[0] * n[2] * n[6] == 0
                second = n[2] * n[4] * n[6] == 0 if step == 0 else n[0] * n[4] * n[6] == 0
                if 2 <= sum(n) <= 6 and a == 1 and first and second:
                    remove.append((y, x))
            for y, x in remove:
                img[y, x] = 0
            changed = changed or bool(remove)
    return img[1:-1, 1:-1].astype(bool)


@pytest.mark.parametrize("seed", range(4))
def test_thin_is_zhang_suen(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shapes = ndimage.binary_opening(rng.random((40, 40)) > 0.35)  # blobs, holes, ink at the edges
    shapes[:, :3] = True
    np.testing.assert_array_equal(thin(shapes), zhang_suen_by_the_book(shapes))


def test_in_range_strokes_are_left_exactly_as_drawn() -> None:
    drawing = canvas()
    drawing[40:240, 120:145] = 0  # 25 px wide on a 200-px digit: 2.5 px in the 20-px box
    np.testing.assert_array_equal(preprocess_drawing(drawing), preprocess_drawing(drawing, stroke_range=None))


def test_a_thin_pen_on_a_large_digit_is_widened_without_gaps() -> None:
    drawing = ring(280, 130, 126)  # a 4-px pen on a 260-px "O": 0.3 px once in the 20-px box
    as_drawn = preprocess_drawing(drawing, stroke_range=None)
    image = preprocess_drawing(drawing)
    assert stroke_width(as_drawn) < 1.0
    assert stroke_width(image) == pytest.approx(STROKE_RANGE[0], abs=0.3)
    assert max(ink_box(image, 0.05)) == 20
    _, parts = ndimage.label(image > 0.5)
    assert parts == 1 and hole_area(image) > 100  # still one closed loop


def test_a_thick_pen_on_a_small_digit_is_thinned_and_its_loop_opened_up() -> None:
    drawing = ring(280, 40, 12, centre=(100, 180))  # a 28-px pen on an 80-px "O": 7 px in the box
    as_drawn = preprocess_drawing(drawing, stroke_range=None)
    image = preprocess_drawing(drawing)
    assert stroke_width(as_drawn) > 5.0
    assert stroke_width(image) == pytest.approx(STROKE_RANGE[1], abs=0.4)
    assert max(ink_box(image, 0.05)) == 20
    assert hole_area(image) > 2 * hole_area(as_drawn)
    cy, cx = ndimage.center_of_mass(image)
    assert abs(cy - CENTRE) <= 0.5 and abs(cx - CENTRE) <= 0.5


def test_the_pads_thinnest_and_thickest_pens_give_strokes_in_mnists_range() -> None:
    """A "7" drawn at one size with the pad's 4-px and 48-px pens: 0.8 and 7 px wide once in the
    20-px box as drawn, within STROKE_RANGE (and closer to each other) after the preprocessing."""

    def seven(pen: int) -> np.ndarray:
        from PIL import Image, ImageDraw

        image = Image.new("L", (280, 280), 255)
        draw = ImageDraw.Draw(image)
        points = [(100, 90), (170, 90), (125, 190)]
        draw.line(points, fill=0, width=pen, joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=0)
        return np.asarray(image)

    drawings = [seven(4), seven(48)]
    thin_before, thick_before = (stroke_width(preprocess_drawing(d, stroke_range=None)) for d in drawings)
    thin_after, thick_after = (stroke_width(preprocess_drawing(d)) for d in drawings)
    assert thin_before < 1.0 and thick_before > 6.0
    assert STROKE_RANGE[0] - 0.3 <= thin_after <= thick_after <= STROKE_RANGE[1] + 0.4
    difference = lambda a, b: np.abs(a - b).sum()  # noqa: E731
    before = difference(*(preprocess_drawing(d, stroke_range=None) for d in drawings))
    after = difference(*(preprocess_drawing(d) for d in drawings))
    assert after < 0.6 * before
