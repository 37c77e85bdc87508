"""The demo dataset: five versions of scikit-learn's bundled breast-cancer data that tell a story.

raw export (a subset, duplicates, gaps) → cleaned → a feature added → rows added → target re-encoded.
Everything is derived from the real Wisconsin diagnostic data with fixed seeds; nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd

DATA_PATH = "data/cancer.csv"
TARGET = "diagnosis"
ID_COLUMN = "sample_id"
POSITIVE_LABEL = "M"  # malignant, in versions that store the diagnosis as text
SEED = 2026
RAW_FRACTION = 0.8
DUPLICATE_ROWS = 12
GAPPY_COLUMNS = ("mean_smoothness", "texture_error", "worst_concavity")
GAP_RATE = 0.04
NEW_FEATURE = "radius_growth"
N_VERSIONS = 5


@dataclass(frozen=True)
class DataVersion:
    """One committed state of ``data/cancer.csv``."""

    tag: str
    title: str
    message: str
    frame: pd.DataFrame
    date: datetime
    author: tuple[str, str]

    @property
    def shape(self) -> tuple[int, int]:
        return self.frame.shape


DANA = ("Dana Okafor", "dana.okafor@example.org")
LEE = ("Lee Marchetti", "lee.marchetti@example.org")


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def full_dataset() -> pd.DataFrame:
    """All 569 biopsies with snake_case columns, a ``sample_id`` and the diagnosis as ``M``/``B``."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    features = bunch.data.rename(columns=lambda name: name.replace(" ", "_"))
    frame = features.round(6)
    # scikit-learn encodes 0 = malignant, 1 = benign; the raw export spells it out like the WDBC file.
    frame.insert(0, TARGET, np.where(bunch.target.to_numpy() == 0, "M", "B"))
    frame.insert(0, ID_COLUMN, np.arange(1, len(frame) + 1))
    return frame


def dataset_versions() -> list[DataVersion]:
    """The five versions v1..v5, deterministic."""
    rng = np.random.default_rng(SEED)
    full = full_dataset()
    order = rng.permutation(len(full))
    n_raw = int(round(RAW_FRACTION * len(full)))
    first_site, second_site = full.iloc[np.sort(order[:n_raw])], full.iloc[np.sort(order[n_raw:])]

    raw = first_site.copy()
    for column in GAPPY_COLUMNS:
        holes = rng.random(len(raw)) < GAP_RATE
        raw.loc[holes, column] = np.nan
    duplicates = raw.iloc[rng.choice(len(raw), size=DUPLICATE_ROWS, replace=False)]
    raw = pd.concat([raw, duplicates])
    raw = raw.iloc[rng.permutation(len(raw))].reset_index(drop=True)
    n_gaps = int(raw[list(GAPPY_COLUMNS)].isna().sum().sum())

    cleaned = raw.drop_duplicates().sort_values(ID_COLUMN).reset_index(drop=True)
    medians = cleaned[list(GAPPY_COLUMNS)].median()
    cleaned = cleaned.fillna(medians.round(6))

    featured = _with_growth(cleaned)
    grown = pd.concat([featured, _with_growth(second_site)]).sort_values(ID_COLUMN).reset_index(drop=True)
    encoded = grown.copy()
    encoded[TARGET] = (grown[TARGET] == POSITIVE_LABEL).astype("int64")

    n_dupes = len(raw) - len(raw.drop_duplicates())
    return [
        DataVersion(
            "v1", "raw export",
            f"Add raw export of the screening data ({len(raw)} rows)\n\n"
            f"Export from site A as delivered: {n_dupes} rows appear twice and {n_gaps} measurements are "
            f"missing ({', '.join(GAPPY_COLUMNS)}).",
            raw, _utc(2026, 9, 1, 9, 41), DANA),
        DataVersion(
            "v2", "cleaned",
            f"Clean the export: drop {n_dupes} duplicate rows, impute missing measurements\n\n"
            "Gaps in " + ", ".join(GAPPY_COLUMNS) + " are filled with the column median; rows sorted by sample_id.",
            cleaned, _utc(2026, 9, 9, 14, 5), LEE),
        DataVersion(
            "v3", "feature added",
            f"Add feature {NEW_FEATURE} = worst_radius / mean_radius\n\n"
            "How much the largest nucleus outgrows the average one; pathologists asked for it.",
            featured, _utc(2026, 9, 23, 11, 17), DANA),
        DataVersion(
            "v4", "rows added",
            f"Add {len(second_site)} biopsies from site B ({len(grown)} rows in total)\n\n"
            "Site B's export was clean; the same feature is computed for the new rows.",
            grown, _utc(2026, 10, 7, 16, 48), LEE),
        DataVersion(
            "v5", "diagnosis re-encoded",
            "Encode the diagnosis as 0/1 (1 = malignant) for training\n\n"
            "Downstream tools expect a numeric target; 'M' becomes 1 and 'B' becomes 0.",
            encoded, _utc(2026, 10, 21, 10, 2), DANA),
    ]


def _with_growth(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out[NEW_FEATURE] = (out["worst_radius"] / out["mean_radius"]).round(4)
    return out


def features_and_target(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """``X`` (numeric measurements) and ``y`` (1 = malignant) from any version's schema."""
    X = frame.drop(columns=[ID_COLUMN, TARGET])
    raw_target = frame[TARGET]
    if pd.api.types.is_numeric_dtype(raw_target):
        y = raw_target.astype("int64")
    else:
        y = (raw_target == POSITIVE_LABEL).astype("int64")
    return X, y.rename(TARGET)


def held_out_split(frame: pd.DataFrame, seed: int = 42):
    """Stratified 75/25 train/test split: ``X_train, X_test, y_train, y_test``."""
    from sklearn.model_selection import train_test_split

    X, y = features_and_target(frame)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The exact bytes committed for a version (stable formatting, ``\\n`` line ends)."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
