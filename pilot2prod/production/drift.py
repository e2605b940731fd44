"""Drift between the data a model was trained on (the reference) and a production window.

* :func:`psi`: the population stability index of one feature, on the reference's quantile bins
  (numbers) or its categories (text), with the conventional bands: below 0.1 stable, 0.1 to 0.25
  a moderate shift, above 0.25 a significant one (Siddiqi, *Credit Risk Scorecards*, 2006);
* :func:`feature_drift`: PSI for every feature, with a test where samples are small enough for
  one to mean something (Kolmogorov-Smirnov for numbers, chi-squared for categories); a feature
  is flagged by its PSI band, or by the test (Holm-corrected) when the PSI bins are too thin;
* :func:`text_features`: what drift in free text looks like to a model: length, and the share of
  words it never saw in training (out of vocabulary);
* :func:`by_window`: the same per time window of the production data.

Labels arrive late, so the prediction mix (the share of each predicted class) is a feature like
any other: a shift in it is often the first sign.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from pilot2prod.stats import holm

#: PSI bands (upper edges) and their reading.
PSI_BANDS = ((0.1, "stable"), (0.25, "moderate shift"), (math.inf, "significant shift"))
#: Quantile bins for numeric features.
BINS = 10
#: Share floor for a bin with no events on one side (PSI would be infinite).
EPSILON = 1e-4
#: Below this many values on either side, PSI bins are too thin: the test decides.
MIN_FOR_PSI = 500
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def band(value: float) -> str:
    return next(label for edge, label in PSI_BANDS if value < edge)


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def psi(reference: pd.Series, current: pd.Series, bins: int = BINS) -> float:
    """Population stability index: sum over bins of (current - reference) x ln(current /
    reference) shares. Numbers are binned at the reference's quantiles, with a bin beyond its
    range and one for missing values; categories by value, those unseen in the reference pooled
    as new."""
    ref, cur = pd.Series(reference), pd.Series(current)
    if len(ref) == 0 or len(cur) == 0:
        raise ValueError("PSI needs values on both sides")
    if _numeric(ref) and _numeric(cur):
        r, c = ref.astype(float), cur.astype(float)
        # Bins (-inf, min], (min, q1], ..., (q9, max], (max, inf): values beyond the
        # reference's range get a bin of their own, also when the reference is constant.
        edges = np.unique(np.nanquantile(r.dropna(), np.linspace(0, 1, bins + 1)))
        ref_bins = np.where(r.isna(), -1, np.searchsorted(edges, r, side="left"))
        cur_bins = np.where(c.isna(), -1, np.searchsorted(edges, c, side="left"))
    else:
        r, c = ref.astype("string").fillna("(missing)"), cur.astype("string").fillna("(missing)")
        known = set(r.unique())
        ref_bins = r.to_numpy()
        cur_bins = np.where(c.isin(known), c.to_numpy(), "(new)")
    keys = sorted(set(map(str, ref_bins)) | set(map(str, cur_bins)))
    p = pd.Series(list(map(str, ref_bins))).value_counts(normalize=True).reindex(keys, fill_value=0)
    q = pd.Series(list(map(str, cur_bins))).value_counts(normalize=True).reindex(keys, fill_value=0)
    p, q = np.maximum(p.to_numpy(), EPSILON), np.maximum(q.to_numpy(), EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def _test(reference: pd.Series, current: pd.Series) -> tuple[str, float]:
    if _numeric(reference) and _numeric(current):
        r, c = reference.dropna().astype(float), current.dropna().astype(float)
        if len(r) < 2 or len(c) < 2:
            return "KS", math.nan
        return "KS", float(sps.ks_2samp(r, c).pvalue)
    r = reference.astype("string").fillna("(missing)")
    c = current.astype("string").fillna("(missing)")
    keys = sorted(set(r) | set(c))
    table = np.array(
        [
            r.value_counts().reindex(keys, fill_value=0).to_numpy(),
            c.value_counts().reindex(keys, fill_value=0).to_numpy(),
        ]
    )
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return "chi-squared", 1.0
    return "chi-squared", float(sps.chi2_contingency(table)[1])


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, alpha: float = 0.01
) -> pd.DataFrame:
    """One row per feature shared by both frames: PSI and its band, the test and its
    Holm-adjusted p-value, and whether it is flagged (see the module's note)."""
    features = [c for c in reference.columns if c in current.columns]
    rows = []
    for name in features:
        r, c = reference[name], current[name]
        value = psi(r, c)
        test, p = _test(r, c)
        rows.append(
            {
                "feature": name,
                "psi": value,
                "band": band(value),
                "test": test,
                "p_value": p,
                "n_reference": int(r.notna().sum()),
                "n_current": int(c.notna().sum()),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_adjusted"] = holm(table["p_value"].to_numpy(dtype=float))
    thin = (table["n_reference"] < MIN_FOR_PSI) | (table["n_current"] < MIN_FOR_PSI)
    table["flagged"] = np.where(thin, table["p_adjusted"] < alpha, table["psi"] >= 0.1)
    table["decided_by"] = np.where(thin, "test (few values)", "PSI")
    return table


def text_features(texts: pd.Series, vocabulary: set[str]) -> pd.DataFrame:
    """Per text: its length in characters and its share of words outside ``vocabulary``."""
    t = texts.astype("string").fillna("")
    words = t.str.lower().str.findall(_WORD)
    oov = words.map(lambda ws: (sum(w not in vocabulary for w in ws) / len(ws)) if len(ws) else 0.0)
    return pd.DataFrame({"text_length": t.str.len().astype(float), "oov_share": oov.astype(float)})


def vocabulary(texts: pd.Series) -> set[str]:
    """The words of the training texts (lower case, two letters or more)."""
    words: set[str] = set()
    for ws in texts.astype("string").fillna("").str.lower().str.findall(_WORD):
        words.update(ws)
    return words


#: Share of the training texts held out to measure the reference's out-of-vocabulary share.
HOLDOUT = 0.2


def text_reference(texts: pd.Series, seed: int = 0) -> tuple[set[str], pd.DataFrame]:
    """The vocabulary and the reference text features for drift. Measured on the texts the
    vocabulary was built from, the out-of-vocabulary share would be zero by construction, and
    every typo in production would read as drift: the vocabulary is built on most of the
    training texts and the reference measured on the rest."""
    t = texts.astype("string").fillna("").reset_index(drop=True)
    held = np.random.default_rng(seed).random(len(t)) < HOLDOUT
    vocab = vocabulary(t[~held])
    return vocab, text_features(t[held], vocab)


@dataclass(frozen=True)
class DriftReport:
    features: pd.DataFrame  # feature_drift over the whole window
    windows: pd.DataFrame  # window, feature, psi, band, flagged
    overall: str  # the worst band of any feature, over the whole window or in any period


def by_window(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    time: pd.Series,
    freq: str = "W",
    alpha: float = 0.01,
) -> DriftReport:
    """Feature drift over the whole production window and per period of it (``freq``, e.g.
    weekly); ``time`` is aligned with ``current``."""
    whole = feature_drift(reference, current, alpha)
    periods = pd.to_datetime(time).dt.to_period(freq).dt.start_time
    rows = []
    for start, rows_index in current.groupby(periods.to_numpy()).groups.items():
        part = current.loc[rows_index]
        table = feature_drift(reference, part, alpha)
        for row in table.itertuples():
            rows.append(
                {
                    "window": start,
                    "feature": row.feature,
                    "psi": row.psi,
                    "band": row.band,
                    "flagged": bool(row.flagged),
                    "n": row.n_current,
                }
            )
    windows = pd.DataFrame(rows)
    worst = max(
        float(whole["psi"].max()) if len(whole) else 0.0,
        float(windows["psi"].max()) if len(windows) else 0.0,
    )
    return DriftReport(whole, windows, band(worst))
