"""Reference for training with categorical features (issue 20): the pipeline
our categorical model is defined by, as a user of scikit-learn would write it.
Median imputer + StandardScaler on the numeric columns, constant "" imputer +
OneHotEncoder(handle_unknown="ignore") on the categorical ones, then
LogisticRegression(C=1.0) (lbfgs) with max_iter raised so that it converges,
as ours does. Columns are given as comma-separated lists."""

import pickle
import sys

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def main(data_file, model_file, numeric, categorical, target):
    numeric = numeric.split(",")
    categorical = categorical.split(",")
    # Levels are text as written: read as strings, an empty cell stays missing until the imputer makes it "".
    data = pd.read_csv(data_file, dtype={column: str for column in categorical})
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
                (
                    "cat",
                    make_pipeline(
                        SimpleImputer(strategy="constant", fill_value=""),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    categorical,
                ),
            ]
        ),
        LogisticRegression(C=1.0, max_iter=1000),
    )
    model = pipeline.fit(data[numeric + categorical], data[target])
    with open(model_file, "wb") as f:
        pickle.dump(model, f)


if __name__ == "__main__":
    main(*sys.argv[1:6])
