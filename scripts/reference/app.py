"""Reference API: a Flask development server whose POST /prediction reads
JSON records ({"records": [{feature: value, ...}, ...]}) and predicts with the
pickled model, as the original project's app.py served its model."""

import pickle
import sys

import pandas as pd
from flask import Flask, jsonify, request

FEATURES = ["lastmonth_activity", "lastyear_activity", "number_of_employees"]

app = Flask(__name__)
with open(sys.argv[1], "rb") as f:
    model = pickle.load(f)


@app.route("/prediction", methods=["POST"])
def prediction():
    records = request.get_json()["records"]
    X = pd.DataFrame(records)[FEATURES]
    return jsonify({"predictions": model.predict(X.values).tolist()})


@app.route("/health", methods=["GET"])
def health():
    return jsonify({"status": "ok"})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[2]))
