"""Reference ingestion: every CSV of the input folder read with pandas,
concatenated, whole-row duplicates dropped, written as one CSV (the original
project's ingestion.py, with the paths as arguments)."""

import os
import sys

import pandas as pd


def main(input_folder, output_file):
    names = sorted(name for name in os.listdir(input_folder) if name.endswith(".csv"))
    frames = [pd.read_csv(os.path.join(input_folder, name)) for name in names]
    final = pd.concat(frames, ignore_index=True).drop_duplicates()
    final.to_csv(output_file, index=False)
    with open(os.path.join(os.path.dirname(output_file), "ingestedfiles.txt"), "w") as f:
        f.write("\n".join(names) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
