"""The models `benchmarks/drawn_digits.py --train` checks: the conv START point trained with no
augmentation, with the space's augmentation, or with that plus a random stroke width. The
measurement behind not adding stroke-width augmentation to the spaces
(benchmarks/results/drawn_digits_augmentation*.md)."""

from __future__ import annotations

import time


def random_stroke_width(x, erode: bool = True, stddev: float = 0.5):
    """Training-only random stroke width, from stock Keras layers (a saved model with it still loads
    in safe mode without this module): x + a * (dilate(x) - x) for a = min(n, 1), and with `erode`
    x + a * (erode(x) - x) for a = min(-n, 1), n ~ N(0, stddev) per image (GaussianNoise on zeros:
    0 outside training); dilation and erosion are 3x3 max-pooling of x and of -x (+-1 px a side)."""
    import keras

    layers = keras.layers
    zeros = layers.Rescaling(0.0)(layers.GlobalMaxPooling2D(keepdims=True)(x))
    noise = layers.GaussianNoise(stddev)(zeros)
    grow = layers.ReLU(max_value=1.0)(noise)
    dilated = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    parts = [x, layers.Multiply()([grow, layers.Subtract()([dilated, x])])]
    if erode:
        shrink = layers.ReLU(max_value=1.0)(layers.Rescaling(-1.0)(noise))
        negative = layers.MaxPooling2D(3, strides=1, padding="same")(layers.Rescaling(-1.0)(x))
        eroded = layers.Rescaling(-1.0)(negative)
        parts.append(layers.Multiply()([shrink, layers.Subtract()([eroded, x])]))
    return layers.Add()(parts)


#: `--train` variants: the conv START point with no augmentation, with the space's augmentation
#: (rotation, translation, zoom), and with that plus random stroke width (dilation and erosion, or
#: dilation only).
VARIANTS = ("start", "augment", "augment+stroke", "augment+dilate")


def train_variant(variant: str, epochs: int, seed: int):
    """Train the conv START point (plain Keras through the space's build and fit, the engine's
    split) with `variant`'s augmentation; (model, validation accuracy per epoch, seconds)."""
    import keras
    import keras_tuner as kt

    import search_spaces.conv as conv
    from tuner_app import data as data_module

    keras.utils.set_random_seed(seed)
    space_augmentation = conv.augmentation
    if variant.startswith("augment+"):
        erode = variant == "augment+stroke"
        conv.augmentation = lambda x: random_stroke_width(space_augmentation(x), erode=erode)
    try:
        hypermodel = conv.ConvHyperModel()
        hp = kt.HyperParameters()
        hp.values.update({**conv.ConvHyperModel.START, "augment": variant != "start"})
        model = hypermodel.build(hp)
        splits = data_module.split_train_validation(data_module.load_mnist(), 10_000, None, seed)
        started = time.perf_counter()
        history = hypermodel.fit(
            hp,
            model,
            splits.train.x,
            splits.train.y,
            epochs=epochs,
            validation_data=(splits.validation.x, splits.validation.y),
            verbose=0,
        )
        seconds = time.perf_counter() - started
    finally:
        conv.augmentation = space_augmentation
    return model, [round(float(v), 4) for v in history.history["val_accuracy"]], round(seconds, 1)
