"""The Flask app around score.py, as Azure ML's inference server wraps an entry script:
POST /score passes the raw body to run() and answers its result as JSON; GET / is the
liveness probe. Served by gunicorn: `gunicorn --workers N --bind HOST:PORT app:app`."""
import json

from flask import Flask, Response, request

import score

app = Flask(__name__)
score.init()


@app.route("/", methods=["GET"])
def live():
    return "Healthy"


@app.route("/score", methods=["POST"])
def run():
    try:
        result = score.run(request.get_data(as_text=True))
    except Exception as error:  # the inference server answers 500 with the error text
        return Response(json.dumps({"error": str(error)}), status=500,
                        mimetype="application/json")
    return Response(json.dumps(result), mimetype="application/json")
