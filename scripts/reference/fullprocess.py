"""Reference no-op tick: the original fullprocess.py imports every stage (so
pandas, numpy and scikit-learn load), reads ingestedfiles.txt, finds no new
file in the input folder and stops. Paths are arguments here."""

import os
import pickle  # noqa: F401  (training, scoring and deployment import these)
import subprocess  # noqa: F401  (diagnostics)
import sys
import timeit  # noqa: F401  (diagnostics)

import numpy as np  # noqa: F401
import pandas as pd  # noqa: F401
from sklearn import metrics  # noqa: F401  (scoring, reporting)
from sklearn.linear_model import LogisticRegression  # noqa: F401  (training)


def main(input_folder, ingested_list):
    with open(ingested_list) as f:
        ingested = {line.strip() for line in f if line.strip()}
    new_files = [name for name in os.listdir(input_folder) if name.endswith(".csv") and name not in ingested]
    if not new_files:
        return
    print("new data:", ", ".join(new_files))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
