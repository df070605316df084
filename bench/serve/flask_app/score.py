"""The seeds' entry script (Azure ML's score.py): init() loads the model once per worker,
run(raw_data) scores one request's JSON body and returns what is sent back as JSON."""
import json
import os

import joblib
import numpy as np

model = None


def init():
    global model
    # Azure ML mounts the registered model under AZUREML_MODEL_DIR.
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR", "."), "model.pkl")
    model = joblib.load(model_path)


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    result = model.predict(data)
    return result.tolist()
