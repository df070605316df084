#!/usr/bin/python3
"""A stand-in for bin/serve in the router program's end-to-end test.

Listens on 127.0.0.1:--port (the router appends it). GET /readyz and /healthz
answer 200; POST /score answers {"name": NAME, "port": PORT, "bytes": N} with
NAME from --name, so the test sees which version and replica served a request,
after --delay-ms (a slow model keeps the replica busy). GET /readyz answers
503 until --ready-after-ms have passed (a new revision that is slow, or never,
ready). HTTP/1.1 keep-alive, like serve.
"""
import argparse
import http.server
import json
import signal
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--name", default="")
parser.add_argument("--delay-ms", type=int, default=0)
parser.add_argument("--ready-after-ms", type=int, default=0)
args, _ = parser.parse_known_args()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
started = time.monotonic()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/readyz" and (time.monotonic() - started) * 1000 < args.ready_after_ms:
            self.answer(503, {})
        elif self.path in ("/readyz", "/healthz"):
            self.answer(200, {})
        else:
            self.answer(404, {"error": {"code": "not_found", "message": self.path}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        if self.path != "/score":
            self.answer(404, {"error": {"code": "not_found", "message": self.path}})
            return
        time.sleep(args.delay_ms / 1000)
        self.answer(200, {"name": args.name, "port": args.port, "bytes": length})

    def log_message(self, format, *arguments):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
