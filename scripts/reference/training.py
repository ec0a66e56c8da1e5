"""Reference training: the original project's training.py (liblinear on the
raw features, its hyperparameters spelled out), with the paths as arguments.
The generated data has missing cells, which LogisticRegression refuses, so
they are filled with the column medians first (as our default does)."""

import pickle
import sys

import pandas as pd
from sklearn.linear_model import LogisticRegression

FEATURES = ["lastmonth_activity", "lastyear_activity", "number_of_employees"]
TARGET = "exited"


def main(data_file, model_file):
    data = pd.read_csv(data_file)
    X = data[FEATURES]
    X = X.fillna(X.median()).values.reshape(-1, len(FEATURES))
    y = data[TARGET].values.reshape(-1, 1).ravel()
    logit = LogisticRegression(
        C=1.0,
        class_weight=None,
        dual=False,
        fit_intercept=True,
        intercept_scaling=1,
        l1_ratio=None,
        max_iter=100,
        multi_class="auto",
        n_jobs=None,
        penalty="l2",
        random_state=0,
        solver="liblinear",
        tol=0.0001,
        verbose=0,
        warm_start=False,
    )
    model = logit.fit(X, y)
    with open(model_file, "wb") as f:
        pickle.dump(model, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
