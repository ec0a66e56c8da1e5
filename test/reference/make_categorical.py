#!/usr/bin/env python3
"""Reference values for categorical features and labelled targets (issue 20).

Run from the repository root:

    /usr/bin/python3 test/reference/make_categorical.py

Requires Debian's python3-sklearn, python3-pandas and python3-scipy (written
against scikit-learn 1.2.1, pandas 1.5.3, scipy 1.10.1, numpy 1.24).

It generates its own data (numpy, fixed seed; never the original project's
data) into test/fixtures/categorical/:

  practicedata/train.csv   3,000 rows: client_id, usage, tenure (numeric, ~4 % empty),
              state (52 levels, a few empty cells; levels with non-ASCII,
              an astral character and numbers written as text "5" / "5.0"),
              plan (3 levels), contract (3 levels, ~3 % empty), churn yes/no
  testdata/testdata.csv    600 rows of the same world, with levels never seen in training
              (state "XX", "ZZ", plan "gold"), empty cells and numbers as text
  sourcedata/new.csv       2,000 rows whose state and contract shares have moved (drift)

and writes test/fixtures/expected/categorical.json:

* the scikit-learn pipeline
      ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value=""),
                              OneHotEncoder(handle_unknown="ignore")), categorical)])
      -> LogisticRegression(C=1.0)
  fitted to convergence (newton-cholesky, tol 1e-12, then polished by plain
  Newton steps in numpy until the gradient is below 1e-9; the two agree to
  1e-6; lbfgs stops early on its ftol here, 1e-4 off): the
  levels per feature (the encoder's categories_), the coefficients, the
  intercept, and the test-set probabilities; the count of unseen cells per
  feature in the test set;
* per categorical feature, scipy.stats.chi2_contingency of the 2 x K table
  (training counts per training level plus one "unseen" column; columns empty
  in both rows dropped) of train.csv against new.csv: statistic, p-value, dof.

Categorical columns are read with keep_default_na=False and dtype str, so an
empty cell is the level "" (pandas would read it as NaN) and "5.0" stays "5.0".
Floats are written with Python's repr (full precision).
"""

import json
import os

import numpy as np
import pandas as pd
import scipy
import scipy.stats
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(SCRIPT_DIR, "..", ".."))
DATA = os.path.join(REPO, "test", "fixtures", "categorical")
EXPECTED = os.path.join(REPO, "test", "fixtures", "expected", "categorical.json")

ID = "client_id"
NUMERIC = ["usage", "tenure"]
CATEGORICAL = ["state", "plan", "contract"]
TARGET = "churn"
LABELS = ["no", "yes"]

STATES = [
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL", "IN", "KS",
    "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE", "NH", "NJ", "NM", "NV",
    "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VA", "VT", "WA", "WI", "WV", "WY",
    "Zürich", "été", "\U0001F600 smile", "\uff5a wide", "5", "5.0", "a,b", 'say "hi"',
]
PLANS = ["basic", "plus", "premium"]
CONTRACTS = ["month-to-month", "one year", "two year"]


def generate(rng, rows, state_shift=0.0, contract_shift=0.0, unseen=False, first_id=0):
    state_weights = np.linspace(1.0, 1.0 + 3.0 * state_shift, len(STATES))
    state_weights /= state_weights.sum()
    state = rng.choice(STATES, size=rows, p=state_weights).astype(object)
    plan = rng.choice(PLANS, size=rows, p=[0.5, 0.3, 0.2]).astype(object)
    contract_p = np.array([0.5 + 0.3 * contract_shift, 0.3, 0.2 - 0.15 * contract_shift])
    contract = rng.choice(CONTRACTS, size=rows, p=contract_p / contract_p.sum()).astype(object)
    usage = rng.normal(200, 60, rows).round(1)
    tenure = rng.integers(0, 120, rows).astype(float)
    state_effect = {s: e for s, e in zip(STATES, rng.normal(0, 0.6, len(STATES)))}
    logit = (
        -0.6
        - 0.012 * (usage - 200)
        - 0.015 * (tenure - 60)
        + np.array([state_effect[s] for s in state])
        + np.array([{"basic": 0.4, "plus": 0.0, "premium": -0.5}[p] for p in plan])
        + np.array([{"month-to-month": 0.9, "one year": -0.2, "two year": -0.9}[c] for c in contract])
    )
    churn = rng.random(rows) < 1 / (1 + np.exp(-logit))
    usage_text = usage.astype(str).astype(object)
    tenure_text = np.array([str(int(t)) for t in tenure], dtype=object)
    usage_text[rng.random(rows) < 0.04] = ""
    tenure_text[rng.random(rows) < 0.04] = ""
    state[rng.random(rows) < 0.01] = ""
    contract[rng.random(rows) < 0.03] = ""
    if unseen:
        state[rng.random(rows) < 0.03] = "XX"
        state[rng.random(rows) < 0.01] = "ZZ"
        plan[rng.random(rows) < 0.03] = "gold"
    return pd.DataFrame(
        {
            ID: [f"c{first_id + i:05d}" for i in range(rows)],
            "usage": usage_text,
            "tenure": tenure_text,
            "state": state,
            "plan": plan,
            "contract": contract,
            TARGET: np.where(churn, LABELS[1], LABELS[0]),
        }
    )


def read(path):
    """Numeric columns: only an empty cell is missing; categorical: every cell as written."""
    frame = pd.read_csv(
        path,
        dtype={column: str for column in [ID, *CATEGORICAL, TARGET]},
        keep_default_na=False,
        na_values={column: [""] for column in NUMERIC},
    )
    return frame


def pipeline(solver):
    columns = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=""),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                CATEGORICAL,
            ),
        ]
    )
    model = LogisticRegression(C=1.0, solver=solver, tol=1e-12, max_iter=10_000)
    return make_pipeline(columns, model)


def main():
    files = {
        "train": os.path.join(DATA, "practicedata", "train.csv"),
        "test": os.path.join(DATA, "testdata", "testdata.csv"),
        "new": os.path.join(DATA, "sourcedata", "new.csv"),
    }
    for file in files.values():
        os.makedirs(os.path.dirname(file), exist_ok=True)
    rng = np.random.default_rng(20)
    generate(rng, 3000).to_csv(files["train"], index=False)
    generate(rng, 600, unseen=True, first_id=10_000).to_csv(files["test"], index=False)
    generate(rng, 2000, state_shift=1.0, contract_shift=1.0, unseen=True, first_id=20_000).to_csv(files["new"], index=False)

    train = read(files["train"])
    test = read(files["test"])
    new = read(files["new"])
    assert train["state"].eq("").any() and train["usage"].isna().any(), "the data must hold missing cells"
    y = (train[TARGET] == LABELS[1]).astype(int)

    model = pipeline("newton-cholesky").fit(train[NUMERIC + CATEGORICAL], y)
    columns = model[0]
    encoder = columns.named_transformers_["cat"][-1]
    scaler = columns.named_transformers_["num"][-1]
    imputer = columns.named_transformers_["num"][0]
    regression = model[-1]
    p_sklearn = model.predict_proba(test[NUMERIC + CATEGORICAL])[:, 1]
    # Polish scikit-learn's optimum with plain Newton steps on the same objective
    # 0.5 ||w||^2 + C sum log-loss (intercept not penalised) until the gradient is at rounding level.
    X = np.asarray(columns.transform(train[NUMERIC + CATEGORICAL]).todense() if hasattr(columns.transform(train[NUMERIC + CATEGORICAL]), "todense") else columns.transform(train[NUMERIC + CATEGORICAL]))
    X1 = np.hstack([np.ones((X.shape[0], 1)), X])
    theta = np.concatenate([regression.intercept_, regression.coef_[0]])
    penalty = np.ones(X1.shape[1])
    penalty[0] = 0.0
    yv = y.to_numpy().astype(float)
    for _ in range(50):
        prob = 1 / (1 + np.exp(-(X1 @ theta)))
        gradient = X1.T @ (prob - yv) + penalty * theta
        if np.max(np.abs(gradient)) < 1e-11:
            break
        hessian = (X1.T * (prob * (1 - prob))) @ X1 + np.diag(penalty)
        theta = theta - np.linalg.solve(hessian, gradient)
    gradient_max = float(np.max(np.abs(X1.T @ (1 / (1 + np.exp(-(X1 @ theta))) - yv) + penalty * theta)))
    assert gradient_max < 1e-9, f"Newton polish did not converge: gradient {gradient_max}"
    Xt = columns.transform(test[NUMERIC + CATEGORICAL])
    Xt = np.asarray(Xt.todense() if hasattr(Xt, "todense") else Xt)
    p_newton = 1 / (1 + np.exp(-(theta[0] + Xt @ theta[1:])))
    disagreement = float(np.max(np.abs(p_sklearn - p_newton)))
    assert disagreement < 1e-6, f"scikit-learn's newton-cholesky and the polished optimum disagree by {disagreement}"
    weights = theta[1:]
    levels = {feature: [str(level) for level in categories] for feature, categories in zip(CATEGORICAL, encoder.categories_)}
    # The level order is Python's string order (code points); the TypeScript sort must agree.
    for feature in CATEGORICAL:
        assert levels[feature] == sorted(levels[feature])
    level_coefficients = {}
    at = len(NUMERIC)
    for feature in CATEGORICAL:
        level_coefficients[feature] = [float(w) for w in weights[at : at + len(levels[feature])]]
        at += len(levels[feature])
    unseen = {
        feature: int((~test[feature].isin(levels[feature])).sum()) for feature in CATEGORICAL
    }

    chi2 = {}
    for feature in CATEGORICAL:
        known = levels[feature]
        train_counts = [int((train[feature] == level).sum()) for level in known] + [0]
        new_counts = [int((new[feature] == level).sum()) for level in known]
        new_counts.append(len(new) - sum(new_counts))
        table = np.array([train_counts, new_counts])
        table = table[:, table.sum(axis=0) > 0]
        statistic, pvalue, dof, _ = scipy.stats.chi2_contingency(table)
        chi2[feature] = {
            "training_counts": train_counts,
            "new_counts": new_counts,
            "statistic": float(statistic),
            "pvalue": float(pvalue),
            "dof": int(dof),
        }

    expected = {
        "versions": {"sklearn": sklearn.__version__, "pandas": pd.__version__, "scipy": scipy.__version__, "numpy": np.__version__},
        "schema": {
            "id_column": ID,
            "features": NUMERIC,
            "categorical_features": CATEGORICAL,
            "target": TARGET,
            "target_labels": LABELS,
        },
        "sklearn_newton_cholesky_vs_polished_max_abs_diff": disagreement,
        "medians": [float(m) for m in imputer.statistics_],
        "mean": [float(m) for m in scaler.mean_],
        "std": [float(s) for s in scaler.scale_],
        "intercept": float(theta[0]),
        "gradient_max": gradient_max,
        "coefficients": [float(w) for w in weights[: len(NUMERIC)]],
        "levels": levels,
        "level_coefficients": level_coefficients,
        "test_probabilities": [float(p) for p in p_newton],
        "test_unseen": unseen,
        "chi2_train_vs_new": chi2,
    }
    with open(EXPECTED, "w", encoding="utf-8") as out:
        json.dump(expected, out, indent=1, ensure_ascii=False)
        out.write("\n")
    print(f"wrote {EXPECTED}; scikit-learn newton-cholesky vs polished optimum {disagreement:.2e}, gradient {gradient_max:.1e}")


if __name__ == "__main__":
    main()
