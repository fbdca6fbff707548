"""Regression cases of ``bench_quality.py --case regression`` (not a benchmark by itself).

Each case is a raw table and a numeric target. ``make_multimodal_pipeline(X, y)`` runs with
its defaults (task and target transform chosen by its rules, unless the case says
otherwise) on all columns and on subsets of them, against HistGradientBoostingRegressor on
the raw target and on its log (or log1p), all on the same ``KFold(5, shuffle=True,
random_state=0)`` folds. Reported: MAE, MAPE (positive targets only) and R², mean and
standard deviation over the folds, and each model's MAE as a ratio of the best HGB's.

Cases:

- ``houses``: a synthetic stand-in for a real-estate table (362 houses, four 64x48 photos
  per house, bedrooms, bathrooms, area, one of 8 zip codes; integer prices in dollars,
  right-skewed).
  The price follows area, zip code and rooms; a "condition" that raises the price shows
  weakly in the photos (colour and contrast under noise), as in real listings.
- ``houses-uninformative-photos``: the same table with photos drawn independently of the
  price: adding them must not make the model worse than the numbers alone.
- ``houses-clipart-photos``: the same numbers and prices, each photo a real drawing drawn at
  random from Debian's ``openclipart-png`` (``apt-get install openclipart-png``): real
  images, varied and easy to memorise, that carry nothing about the price.
- ``digits-value``: digit images written as PNG files; the target is ``100 + 20 * digit +
  noise`` (a positive number read off the image).
- ``reviews-rating``: women's clothing reviews, ``Rating`` (1-5) from text + numbers +
  categories, as a regression (``task="regression"``).
- ``reviews-feedback``: the same inputs, ``Positive Feedback Count`` (a heavy-tailed count
  with zeros, ``task="regression"``) as the target.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import load_digits
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error, r2_score
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from skmultimodal.auto import make_multimodal_pipeline
from skmultimodal.image import ImageLoader

REGRESSION_CASES = (
    "houses",
    "houses-uninformative-photos",
    "houses-clipart-photos",
    "digits-value",
    "reviews-rating",
    "reviews-feedback",
)
PHOTO_ROOMS = ("frontal", "kitchen", "bedroom", "bathroom")
HOUSE_NUMBERS = ["bedrooms", "bathrooms", "area", "zipcode"]


def write_houses(
    folder: Path,
    n: int = 362,
    seed: int = 0,
    photo_signal: float = 1.0,
    drawings: list[str] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """A house table: 4 photo paths, bedrooms, bathrooms, area, zip code; integer prices.

    ``photo_signal=0`` draws the photos independently of the price (they carry nothing);
    ``drawings``: each photo is one of these files, drawn at random (no photo written).
    """
    rng = np.random.default_rng(seed)
    # Few zip codes with many houses each, as in a table cleaned of rare zip codes.
    zip_codes = rng.choice(np.arange(60000, 99999), 8, replace=False)
    zip_level = dict(zip(zip_codes, rng.normal(0.0, 0.35, len(zip_codes)), strict=True))
    zipcode = rng.choice(zip_codes, n, p=0.6 * rng.dirichlet(np.ones(8) * 2) + 0.4 / 8)
    area = np.round(np.exp(rng.normal(7.5, 0.35, n))).astype(int)
    bedrooms = np.clip(np.round(area / 600 + rng.normal(0, 0.7, n)), 1, 7).astype(int)
    bathrooms = np.clip(np.round(bedrooms * 0.6 + rng.normal(0, 0.5, n)) / 1, 1, 5)
    condition = rng.normal(0, 1, n)
    log_price = (
        12.9
        + 0.9 * np.log(area / 1800)
        + np.array([zip_level[z] for z in zipcode])
        + 0.04 * bedrooms
        + 0.05 * bathrooms
        + 0.12 * condition
        + rng.normal(0, 0.12, n)
    )
    price = (np.round(np.exp(log_price) / 100) * 100).astype(np.int64)
    columns = {}
    for room in PHOTO_ROOMS:
        if drawings is not None:
            columns[f"{room}_photo"] = list(rng.choice(drawings, n))
            continue
        paths = []
        for i in range(n):
            path = folder / f"house_{i:03d}_{room}.jpg"
            shown = photo_signal * condition[i] + (1 - photo_signal) * rng.normal()
            _house_photo(rng, shown, room).save(path, quality=90)
            paths.append(path.name)
        columns[f"{room}_photo"] = paths
    X = pd.DataFrame(
        {
            **columns,
            "bedrooms": bedrooms,
            "bathrooms": bathrooms,
            "area": area,
            "zipcode": zipcode,
        }
    )
    return X, price


def _house_photo(rng: np.random.Generator, condition: float, room: str) -> Image.Image:
    """A noisy 64x48 'photo' whose colour and contrast shift weakly with the condition."""
    height, width = (64, 48) if rng.random() < 0.1 else (48, 64)  # some portrait shots
    base = np.array([120, 110, 100]) + 12 * condition * np.array([1.0, 0.6, -0.4])
    base = base + rng.normal(0, 25, 3)
    texture = rng.normal(0, 30 - 5 * np.tanh(condition), (height, width, 1))
    shape = np.zeros((height, width, 1))
    offset = PHOTO_ROOMS.index(room) * 8
    shape[8 + offset // 2 : 30 + offset // 2, 10 + offset : 34 + offset] = 40
    pixels = np.clip(base + texture + shape, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, mode="RGB")


def write_digit_values(folder: Path, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Digit PNG files and a positive target read off them: 100 + 20 * digit + noise."""
    digits = load_digits()
    rng = np.random.default_rng(seed)
    paths = []
    for i, image in enumerate(digits.images):
        path = folder / f"digit_{i:04d}.png"
        Image.fromarray(np.round(image * 255 / 16).astype(np.uint8), mode="L").save(path)
        paths.append(str(path))
    y = 100 + 20 * digits.target + rng.normal(0, 5, len(paths))
    return pd.DataFrame({"image": paths}), y


def regression_data(case: str, folder: Path, load_reviews, data_dir: Path):
    """``X, y, subsets, task, base_dir`` of one case; ``subsets`` maps a name to columns."""
    if case == "houses-clipart-photos":
        from _clipart import load_clipart

        drawings = load_clipart(per_class=100)[0]["image"].tolist()
        X, y = write_houses(folder, drawings=drawings)
        photos = [f"{room}_photo" for room in PHOTO_ROOMS]
        subsets = {"all": list(X.columns), "numbers": HOUSE_NUMBERS, "photos": photos}
        return X, y, subsets, "auto", folder
    if case.startswith("houses"):
        X, y = write_houses(folder, photo_signal=0.0 if case.endswith("photos") else 1.0)
        photos = [f"{room}_photo" for room in PHOTO_ROOMS]
        subsets = {"all": list(X.columns), "numbers": HOUSE_NUMBERS, "photos": photos}
        return X, y, subsets, "auto", folder
    if case == "digits-value":
        X, y = write_digit_values(folder)
        return X, y, {"all": ["image"]}, "auto", None
    X, raw = load_reviews(data_dir)
    target = {"reviews-rating": "Rating", "reviews-feedback": "Positive Feedback Count"}[case]
    X = X.drop(columns=[c for c in X.columns if c == target])
    table = [c for c in X.columns if c != "text"]
    subsets = {"all": list(X.columns), "text": ["text"], "table": table}
    # Whole numbers that repeat (ratings 1-5; counts, 82 values) are classes for
    # detect_task: a user asks for regression here.
    return X, raw[target].to_numpy(), subsets, "regression", None


def _features(case: str, X: pd.DataFrame):
    """Classical features of a case for HistGradientBoosting."""
    if case.startswith("houses"):
        return ColumnTransformer([("numbers", "passthrough", HOUSE_NUMBERS)])
    if case == "digits-value":
        pixels = make_pipeline(
            ImageLoader(target_size=(8, 8), color_mode="grayscale"),
            FunctionTransformer(lambda a: a.reshape(len(a), -1) / 255.0),
        )
        return ColumnTransformer([("image", pixels, "image")])
    text = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2), TruncatedSVD(100, random_state=0)
    )
    categories = [c for c in X.columns if c != "text" and not pd.api.types.is_numeric_dtype(X[c])]
    numbers = [c for c in X.columns if c not in categories and c != "text"]
    return ColumnTransformer(
        [
            ("text", text, "text"),
            ("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categories),
            ("numbers", "passthrough", numbers),
        ]
    )


def baselines(case: str, X: pd.DataFrame, y: np.ndarray) -> dict:
    """HGB on the raw target, and on its log (log1p with zeros) when it is non-negative."""
    hgb = {"HGB": make_pipeline(_features(case, X), HistGradientBoostingRegressor(random_state=0))}
    if (y >= 0).all():
        func, inverse, name = (
            (np.log, np.exp, "log")
            if (y > 0).all()
            else (
                np.log1p,
                np.expm1,
                "log1p",
            )
        )
        hgb[f"HGB on {name} y"] = make_pipeline(
            _features(case, X),
            TransformedTargetRegressor(
                HistGradientBoostingRegressor(random_state=0), func=func, inverse_func=inverse
            ),
        )
    return hgb


def _scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    scores = {"MAE": mean_absolute_error(y_true, y_pred), "R2": r2_score(y_true, y_pred)}
    if (y_true > 0).all():
        scores["MAPE"] = mean_absolute_percentage_error(y_true, y_pred)
    return scores


def run_regression_case(case: str, args, overrides: dict, folder: Path, load_reviews) -> dict:
    """Every model of one case on the same folds: ``{model name: {metric: per-fold array}}``."""
    X, y, subsets, task, base_dir = regression_data(case, folder, load_reviews, args.data_dir)
    if args.n_samples and len(y) > args.n_samples:
        # The rows the fusion suite (bench_quality --case suite) uses for regression cases.
        keep = np.sort(np.random.RandomState(0).permutation(len(y))[: args.n_samples])
        X, y = X.iloc[keep].reset_index(drop=True), y[keep]
    folds = list(KFold(5, shuffle=True, random_state=0).split(np.zeros(len(y))))[: args.folds]
    models = {}
    for name, columns in subsets.items():
        models[f"ours {name}"] = lambda X_, y_, columns=columns: make_multimodal_pipeline(
            X_[columns],
            y_,
            task=task,
            base_dir=base_dir,
            random_state=args.random_state,
            model_params=overrides,
        )
    if not args.no_baseline:
        for name, model in baselines(case, X, y).items():
            models[name] = lambda X_, y_, model=model: model
    results = {}
    for name, make_model in models.items():
        start, per_fold, chosen = time.perf_counter(), [], ""
        for train, test in folds:
            model = make_model(X.iloc[train], y[train])
            step = getattr(model, "named_steps", {}).get("clf")
            if step is not None:
                chosen = f"{type(step).__name__}, target_transform={step.target_transform!r}"
            model.fit(X.iloc[train], y[train])
            per_fold.append(_scores(y[test], model.predict(X.iloc[test])))
        results[name] = {
            metric: np.array([fold[metric] for fold in per_fold]) for metric in per_fold[0]
        }
        text = "  ".join(
            f"{metric} {values.mean():.4g} ± {values.std():.2g}"
            for metric, values in results[name].items()
        )
        print(
            f"  {case}: {name}: {text}  ({time.perf_counter() - start:.0f} s) {chosen}",
            flush=True,
        )
    return {"n": len(y), "results": results}


def regression_table(all_results: dict) -> list[str]:
    """One row per case and model; MAE as a ratio of the best HGB baseline's MAE."""
    lines = [
        "| case | rows | model | MAE | MAPE | R² | MAE / best HGB MAE |",
        "|---|---|---|---|---|---|---|",
    ]
    for case, result in all_results.items():
        results = result["results"]
        hgb = [r["MAE"].mean() for name, r in results.items() if name.startswith("HGB")]
        best = min(hgb) if hgb else float("nan")
        for name, scores in results.items():
            mape = scores.get("MAPE")
            mape_text = (
                "-" if mape is None else f"{100 * mape.mean():.1f}% ± {100 * mape.std():.1f}"
            )
            lines.append(
                f"| {case} | {result['n']} | {name} | "
                f"{scores['MAE'].mean():.4g} ± {scores['MAE'].std():.2g} | {mape_text} | "
                f"{scores['R2'].mean():.3f} ± {scores['R2'].std():.3f} | "
                f"{scores['MAE'].mean() / best:.3f} |"
            )
    return lines
