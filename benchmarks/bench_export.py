"""Measure how close an exported SavedModel's probabilities are to ``predict_proba``.

Fits ``MultiInputTransformer(ImageLoader, TextTokenizer, StandardScaler, OneHotEncoder)``
+ a tiny ``MultiInputKerasClassifier`` on ``make_multimodal_classification`` (images
written at ``--source-size`` pixels, loaded at 16x16, so the resize matters), exports it
with ``skmultimodal.export`` twice (``image_input="pixels"`` and ``"bytes"``) and, on
``--rows`` rows, compares with ``pipeline.predict_proba``: the largest absolute
probability difference, and for the encoded-bytes path also the pixel differences between
the exported graph's decoding (JPEG scaled in the DCT domain, as Pillow's draft mode) and
antialiased resize, and ``ImageLoader`` (Pillow). Runs for the PNG files and for JPEG
copies of them (quality 90).

Run: python benchmarks/bench_export.py --rows 50
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import _harness as harness  # noqa: E402
import numpy as np  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--source-size", type=int, default=40)
    harness.add_results_options(parser)
    args = parser.parse_args(argv)

    import tensorflow as tf
    from PIL import Image
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from skmultimodal import (
        ImageLoader,
        MultiInputKerasClassifier,
        MultiInputTransformer,
        TextTokenizer,
        export,
    )
    from skmultimodal.datasets import make_multimodal_classification
    from skmultimodal.export import _image_graph

    work = Path(tempfile.mkdtemp(prefix="bench_export_"))
    size = (args.source_size, args.source_size)
    X, y = make_multimodal_classification(
        200, image_dir=work / "png", image_size=size, random_state=0
    )
    (work / "jpeg").mkdir()
    jpeg = []
    for path in X["image"]:
        target = work / "jpeg" / (Path(path).stem + ".jpg")
        Image.open(path).convert("RGB").save(target, quality=90)
        jpeg.append(str(target))
    series = [f"t{i}" for i in range(8)]
    rows = []
    for fmt, frame in (("png", X), ("jpeg", X.assign(image=jpeg))):
        prep = MultiInputTransformer(
            [
                ("image", ImageLoader(target_size=(16, 16)), "image"),
                ("text", TextTokenizer(max_words=200, max_len=20), "text"),
                ("series", StandardScaler(), series),
                ("category", OneHotEncoder(sparse_output=False), ["category"]),
            ]
        )
        clf = MultiInputKerasClassifier(
            image_filters=(8,),
            text_embedding_dim=8,
            text_units=8,
            tabular_units=8,
            epochs=5,
            random_state=0,
        )
        pipe = Pipeline([("prep", prep), ("clf", clf)]).fit(frame, y)
        sample = frame.iloc[: args.rows]
        expected = pipe.predict_proba(sample)
        pixels = pipe["prep"].named_transformers_["image"].transform(sample["image"])
        inputs = {
            "text": tf.constant(sample["text"].tolist()),
            "category": tf.constant(sample["category"].tolist()),
            **{c: tf.constant(sample[c].to_numpy(), tf.float64) for c in series},
        }
        for mode in ("pixels", "bytes"):
            folder = export(pipe, work / f"{fmt}_{mode}", image_input=mode)
            serve = tf.saved_model.load(str(folder)).signatures["serving_default"]
            images = (
                tf.constant(pixels)
                if mode == "pixels"
                else tf.constant([Path(p).read_bytes() for p in sample["image"]])
            )
            proba = serve(image=images, **inputs)["probabilities"].numpy()
            pixel_note = "-"
            if mode == "bytes":
                loader = pipe["prep"].named_transformers_["image"]
                files = tf.constant([Path(p).read_bytes() for p in sample["image"]])
                decoded = _image_graph(loader, "bytes", tf)(files).numpy()
                diff = np.abs(decoded.astype(int) - pixels.astype(int))
                pixel_note = f"max {diff.max()}, mean {diff.mean():.3f}"
            rows.append(
                [
                    fmt,
                    mode,
                    f"{np.abs(proba - expected).max():.2e}",
                    f"{np.abs(proba - expected).mean():.2e}",
                    pixel_note,
                ]
            )
    body = [
        harness.environment(np, tf),
        "",
        f"{args.rows} rows, images written at {size[0]}x{size[1]} and loaded at 16x16 "
        "(bilinear); tiny classifier, 5 epochs.",
        "",
        *harness.table(
            [
                "files",
                "image input",
                "max abs diff (proba)",
                "mean abs diff (proba)",
                "pixel diff TF vs ImageLoader (0-255)",
            ],
            rows,
            "llrrl",
        ),
    ]
    harness.print_lines(body)
    harness.record(args, __file__, argv, "export: SavedModel against predict_proba", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
