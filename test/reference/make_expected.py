#!/usr/bin/env python3
"""Independent Python reference values for the TypeScript port's tests.

Run from the repository root (/work/main):

    /usr/bin/python3 test/reference/make_expected.py

Requires Debian's python3-sklearn, python3-pandas and python3-scipy
(written against scikit-learn 1.2.1, pandas 1.5.3, scipy 1.10.1, numpy 1.24).

It writes one JSON file per data set to test/fixtures/expected/:

  reference.json  <repo>/../shared/reference-data/{practicedata,sourcedata,testdata}
                  (the original Udacity CSVs; read in place, never copied)
  generated.json  test/fixtures/generated/{practicedata,sourcedata,testdata}
  shipped.json    {practicedata,sourcedata,testdata} at the repository root

For each data set and each input ("practice", "source"):

* ingestion: pandas concat of the folder's *.csv sorted by file name,
  whole-row drop_duplicates (keep first); rows read/kept, kept row positions,
  per-feature summary (mean, median, std ddof=1, count, min, max, missing %).
* models fitted on the deduplicated frame (X = 3 features, y = exited):
  - "standardized": SimpleImputer(median) -> StandardScaler ->
    LogisticRegression(C=1, lbfgs, tol=1e-12); cross-checked against
    newton-cg (falls back to newton-cg if lbfgs disagrees by > 1e-9).
  - "liblinear_sklearn": SimpleImputer(median) -> LogisticRegression(
    solver="liblinear", C=1, intercept_scaling=1, tol=1e-12) on raw features,
    exactly what sklearn returns.
  - "liblinear_converged": the true optimum of liblinear's objective
        0.5*(||w||^2 + b^2) + C * sum_i log(1 + exp(-y_i (w.x_i + b)))
    (y in {-1,+1}; the intercept IS penalised, as in liblinear with
    intercept_scaling=1), found with scipy.optimize.minimize(trust-exact,
    analytic gradient and Hessian) and polished with plain Newton steps.
  Each model: parameters, test-set probabilities/predictions, metrics, and
  the max-abs gradient of its own objective at the returned solution.
* practice only: "standardized_on_source" = the practice standardized model
  scoring the source deduplicated frame (the drift check).
* per data set: scipy.stats.ks_2samp(practice[col].dropna(),
  source[col].dropna()) per feature (method "auto").

Floats are written with Python's repr (full precision); NaN is written as null.
"""

import glob
import json
import math
import os
import sys
import warnings

import numpy as np
import pandas as pd
import scipy
import scipy.optimize
import scipy.special
import scipy.stats
import sklearn
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["lastmonth_activity", "lastyear_activity", "number_of_employees"]
TARGET = "exited"
C = 1.0
AGREE_TOL = 1e-9  # lbfgs vs newton-cg probability agreement required
GRAD_TOL = 1e-6  # max-abs gradient accepted as "converged"

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(SCRIPT_DIR, "..", ".."))
OUT_DIR = os.path.join(REPO, "test", "fixtures", "expected")

DATASETS = {
    "reference": os.path.normpath(os.path.join(REPO, "..", "shared", "reference-data")),
    "generated": os.path.join(REPO, "test", "fixtures", "generated"),
    "shipped": REPO,
}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def plain(x):
    """Convert numpy / pandas values to JSON-safe Python values (NaN -> None)."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return [plain(v) for v in x.tolist()]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return None if (math.isnan(f) or math.isinf(f)) else f
    if x is None or isinstance(x, str):
        return x
    raise TypeError(f"cannot convert {type(x)}: {x!r}")


def ingest(folder):
    files = sorted(glob.glob(os.path.join(folder, "*.csv")))
    if not files:
        raise SystemExit(f"no CSV files in {folder}")
    df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    final = df.drop_duplicates()
    summary = {}
    for col in FEATURES:
        s = final[col]
        summary[col] = {
            "mean": s.mean(),
            "median": s.median(),
            "std": s.std(),  # ddof=1
            "count": int(s.count()),
            "min": s.min(),
            "max": s.max(),
            "missing_pct": 100.0 * s.isna().mean(),
        }
    info = {
        "files": [os.path.basename(f) for f in files],
        "rows_read": len(df),
        "rows_kept": len(final),
        "kept_index": final.index.tolist(),
        "summary": summary,
    }
    return final, info


def metrics(y_true, proba, pred):
    y_true = np.asarray(y_true, dtype=int)
    pred = np.asarray(pred, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero_division warnings -> value 0
        out = {
            "f1": f1_score(y_true, pred),
            "precision": precision_score(y_true, pred),
            "recall": recall_score(y_true, pred),
            "accuracy": accuracy_score(y_true, pred),
        }
    try:
        out["roc_auc"] = roc_auc_score(y_true, proba)
    except ValueError:  # only one class present
        out["roc_auc"] = None
    # sklearn 1.2 log_loss clips probabilities to [eps, 1-eps], eps = float64 eps
    out["log_loss"] = log_loss(y_true, proba, labels=[0, 1])
    out["confusion_matrix"] = confusion_matrix(y_true, pred, labels=[0, 1]).tolist()
    return out


def scored(y_true, proba, pred):
    return {
        "y_true": np.asarray(y_true, dtype=int).tolist(),
        "proba": np.asarray(proba, dtype=float).tolist(),
        "pred": np.asarray(pred, dtype=int).tolist(),
        "metrics": metrics(y_true, proba, pred),
    }


# liblinear objective: 0.5*(||w||^2 + b^2) + C*sum log(1+exp(-y z)), z = Xw + b
def ll_parts(theta, Xa, ys, penalize_intercept=True):
    z = Xa @ theta
    m = ys * z
    reg = theta.copy()
    if not penalize_intercept:
        reg[-1] = 0.0
    f = 0.5 * reg @ reg + C * np.logaddexp(0.0, -m).sum()
    g = reg + C * (Xa.T @ (-ys * scipy.special.expit(-m)))
    d = scipy.special.expit(z) * scipy.special.expit(-z)
    H = C * (Xa.T * d) @ Xa
    H[np.diag_indices_from(H)] += 1.0
    if not penalize_intercept:
        H[-1, -1] -= 1.0
    return f, g, H


def augment(X):
    return np.hstack([X, np.ones((X.shape[0], 1))])


def grad_report(theta, Xa, ys, penalize_intercept=True):
    f, g, _ = ll_parts(theta, Xa, ys, penalize_intercept)
    n = Xa.shape[0]
    return {
        "objective": f,
        "grad_max_abs": float(np.max(np.abs(g))),
        "grad_max_abs_relative_to_C_n": float(np.max(np.abs(g)) / (C * n)),
    }


# --------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------

def fit_standardized(final, test, solver):
    pipe = make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        LogisticRegression(C=C, tol=1e-12, max_iter=100000, solver=solver),
    )
    pipe.fit(final[FEATURES], final[TARGET])
    return pipe


def standardized_block(final, test):
    warn = {}
    fitted = {}
    for nm in ("lbfgs", "newton-cg"):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            fitted[nm] = fit_standardized(final, test, nm)
        warn[nm] = sorted({str(x.message) for x in w})
    lb, nc = fitted["lbfgs"], fitted["newton-cg"]
    p_lb = lb.predict_proba(test[FEATURES])[:, 1]
    p_nc = nc.predict_proba(test[FEATURES])[:, 1]
    diff = float(np.max(np.abs(p_lb - p_nc)))
    chosen, name = (lb, "lbfgs") if diff <= AGREE_TOL else (nc, "newton-cg")

    imp, sc, lr = chosen.named_steps["simpleimputer"], chosen.named_steps["standardscaler"], chosen.named_steps["logisticregression"]
    # gradient of sklearn's objective (intercept not penalised) in scaled space
    Xs = sc.transform(imp.transform(final[FEATURES]))
    ys = np.where(final[TARGET].to_numpy() == 1, 1.0, -1.0)
    theta = np.concatenate([lr.coef_[0], lr.intercept_])
    grads = {}
    for nm, p in (("lbfgs", lb), ("newton-cg", nc)):
        l = p.named_steps["logisticregression"]
        grads[nm] = grad_report(np.concatenate([l.coef_[0], l.intercept_]), augment(Xs), ys, False)

    # independent check: polish the same objective with plain Newton steps and
    # measure how far the chosen solver's test probabilities are from it
    Xa = augment(Xs)
    th = theta.copy()
    for _ in range(50):
        f, g, H = ll_parts(th, Xa, ys, False)
        new = th - np.linalg.solve(H, g)
        if np.max(np.abs(ll_parts(new, Xa, ys, False)[1])) >= np.max(np.abs(g)):
            break
        th = new
    Xt = augment(sc.transform(imp.transform(test[FEATURES])))
    polished = {
        **grad_report(th, Xa, ys, False),
        "max_abs_test_proba_diff_vs_chosen": float(np.max(np.abs(
            scipy.special.expit(Xt @ th) - scipy.special.expit(Xt @ theta)))),
        "max_abs_param_diff_vs_chosen": float(np.max(np.abs(th - theta))),
    }

    proba = chosen.predict_proba(test[FEATURES])[:, 1]
    pred = chosen.predict(test[FEATURES])
    block = {
        "solver": name,
        "lbfgs_vs_newton_cg_max_abs_proba_diff": diff,
        "n_iter": int(lr.n_iter_[0]),
        "imputer_statistics": imp.statistics_,
        "scaler_mean": sc.mean_,
        "scaler_scale": sc.scale_,
        "coef": lr.coef_[0],
        "intercept": float(lr.intercept_[0]),
        "convergence": grad_report(theta, augment(Xs), ys, False),
        "convergence_by_solver": grads,
        "sklearn_warnings_by_solver": warn,
        "newton_polished_check": polished,
        "n_iter_by_solver": {k: int(v.named_steps["logisticregression"].n_iter_[0]) for k, v in fitted.items()},
        "objective_note": "0.5*||w||^2 + C*sum log(1+exp(-y z)) on standardized X, intercept unpenalized",
        "test": scored(test[TARGET], proba, pred),
    }
    return chosen, block


def liblinear_blocks(final, test):
    imp = SimpleImputer(strategy="median").fit(final[FEATURES])
    X = imp.transform(final[FEATURES])
    Xt = imp.transform(test[FEATURES])
    y = final[TARGET].to_numpy()
    ys = np.where(y == 1, 1.0, -1.0)
    Xa, Xta = augment(X), augment(Xt)

    lr = LogisticRegression(
        solver="liblinear", C=C, intercept_scaling=1, tol=1e-12, max_iter=1000000
    )
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        lr.fit(X, y)
    ll_warn = sorted({str(x.message) for x in w})
    th_sk = np.concatenate([lr.coef_[0], lr.intercept_])
    conv_sk = grad_report(th_sk, Xa, ys)
    p_sk = lr.predict_proba(Xt)[:, 1]
    pred_sk = lr.predict(Xt)

    sk_block = {
        "solver": "liblinear",
        "n_iter": int(np.max(lr.n_iter_)),
        "imputer_statistics": imp.statistics_,
        "coef": lr.coef_[0],
        "intercept": float(lr.intercept_[0]),
        "convergence": conv_sk,
        "converged": conv_sk["grad_max_abs"] <= GRAD_TOL,
        "sklearn_warnings": ll_warn,
        "test": scored(test[TARGET], p_sk, pred_sk),
    }

    # independent solve of the same objective (always done, for comparison)
    fun = lambda t: ll_parts(t, Xa, ys)[0]
    jac = lambda t: ll_parts(t, Xa, ys)[1]
    hess = lambda t: ll_parts(t, Xa, ys)[2]
    res = scipy.optimize.minimize(
        fun, th_sk, jac=jac, hess=hess, method="trust-exact",
        options={"gtol": 1e-10, "maxiter": 10000},
    )
    th = res.x
    # Newton polish (Newton is affine invariant, so raw-feature scaling is harmless)
    polish = 0
    for _ in range(50):
        f, g, H = ll_parts(th, Xa, ys)
        if np.max(np.abs(g)) <= 1e-11:
            break
        step = np.linalg.solve(H, g)
        t = 1.0
        while t > 1e-8:
            cand = th - t * step
            if ll_parts(cand, Xa, ys)[0] <= f + 1e-4 * t * (g @ -step) + 1e-12 * abs(f):
                break
            t *= 0.5
        new = th - t * step
        if np.max(np.abs(ll_parts(new, Xa, ys)[1])) >= np.max(np.abs(g)):
            break
        th = new
        polish += 1
    conv = grad_report(th, Xa, ys)
    if conv["grad_max_abs"] > GRAD_TOL:
        raise SystemExit(f"independent liblinear-objective solve did not converge: {conv}")
    z = Xta @ th
    p = scipy.special.expit(z)
    pred = (z > 0).astype(int)
    conv_block = {
        "solver": "scipy.optimize.minimize(trust-exact) + Newton polish",
        "scipy_success": bool(res.success),
        "scipy_nit": int(res.nit),
        "newton_polish_steps": polish,
        "imputer_statistics": imp.statistics_,
        "coef": th[:-1],
        "intercept": float(th[-1]),
        "convergence": conv,
        "converged": True,
        "max_abs_proba_diff_vs_sklearn": float(np.max(np.abs(p - p_sk))),
        "max_abs_param_diff_vs_sklearn": float(np.max(np.abs(th - th_sk))),
        "objective_note": "0.5*(||w||^2 + b^2) + C*sum log(1+exp(-y (w.x+b))), y in {-1,+1}, raw features after median imputation",
        "test": scored(test[TARGET], p, pred),
    }
    return sk_block, conv_block


def process(name, base):
    test = pd.read_csv(os.path.join(base, "testdata", "testdata.csv"))
    out = {"dataset": name}
    finals = {}
    for inp, folder in (("practice", "practicedata"), ("source", "sourcedata")):
        final, info = ingest(os.path.join(base, folder))
        finals[inp] = final
        std_model, std_block = standardized_block(final, test)
        sk_block, conv_block = liblinear_blocks(final, test)
        info["models"] = {
            "standardized": std_block,
            "liblinear_sklearn": sk_block,
            "liblinear_converged": conv_block,
        }
        if inp == "practice":
            info["_std_model"] = std_model
        out[inp] = info

    # drift check: practice standardized model scored on the source final frame
    model = out["practice"].pop("_std_model")
    src = finals["source"]
    out["practice"]["standardized_on_source"] = {
        "source_kept_index": src.index.tolist(),
        **scored(src[TARGET], model.predict_proba(src[FEATURES])[:, 1], model.predict(src[FEATURES])),
    }
    out["source"].pop("_std_model", None)

    out["ks"] = {}
    for col in FEATURES:
        r = scipy.stats.ks_2samp(finals["practice"][col].dropna(), finals["source"][col].dropna())
        out["ks"][col] = {"statistic": r.statistic, "pvalue": r.pvalue}
    out["ks_method"] = "scipy.stats.ks_2samp default (method='auto', alternative='two-sided') on dropna() values of the deduplicated frames"

    out["test_rows"] = len(test)
    out["versions"] = {
        "python": sys.version.split()[0],
        "sklearn": sklearn.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "numpy": np.__version__,
    }
    return out


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, base in DATASETS.items():
        data = plain(process(name, base))
        path = os.path.join(OUT_DIR, f"{name}.json")
        with open(path, "w") as fh:
            json.dump(data, fh, indent=2, allow_nan=False)
            fh.write("\n")
        print(f"wrote {os.path.relpath(path, REPO)}")
        for inp in ("practice", "source"):
            m = data[inp]["models"]
            print(
                f"  {inp}: rows {data[inp]['rows_read']}->{data[inp]['rows_kept']}; "
                f"std[{m['standardized']['solver']}] grad {m['standardized']['convergence']['grad_max_abs']:.3g} "
                f"lb-vs-ncg {m['standardized']['lbfgs_vs_newton_cg_max_abs_proba_diff']:.3g} "
                f"polish grad {m['standardized']['newton_polished_check']['grad_max_abs']:.3g} "
                f"polish-diff {m['standardized']['newton_polished_check']['max_abs_test_proba_diff_vs_chosen']:.3g}; "
                f"liblinear grad {m['liblinear_sklearn']['convergence']['grad_max_abs']:.3g} "
                f"(rel {m['liblinear_sklearn']['convergence']['grad_max_abs_relative_to_C_n']:.3g}); "
                f"converged grad {m['liblinear_converged']['convergence']['grad_max_abs']:.3g}; "
                f"proba diff {m['liblinear_converged']['max_abs_proba_diff_vs_sklearn']:.3g}, "
                f"param diff {m['liblinear_converged']['max_abs_param_diff_vs_sklearn']:.3g}"
            )


if __name__ == "__main__":
    main()
