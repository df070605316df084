#!/usr/bin/python3
"""A stand-in for a bundle's bin/serve in the LocalReplicas tests.

Listens on 127.0.0.1:--port (the router appends it); GET /readyz answers 200 once
--ready-after-ms have passed (503 before), GET /healthz 200. Prints
"fake_serve pid=PID port=PORT cwd=DIR" first, so tests can read the replica's log.
--ignore-term: ignore SIGTERM (to test the SIGKILL after the grace period).
Other arguments (serve's flags) are accepted and ignored.
"""
import argparse
import http.server
import os
import signal
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--ready-after-ms", type=int, default=0)
parser.add_argument("--ignore-term", action="store_true")
args, _ = parser.parse_known_args()
if args.ignore_term:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
started = time.monotonic()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ready = (time.monotonic() - started) * 1000 >= args.ready_after_ms
        status = 200 if self.path == "/healthz" or (self.path == "/readyz" and ready) else 503
        if self.path not in ("/healthz", "/readyz"):
            status = 404
        body = b"{}\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *arguments):
        pass


server = http.server.HTTPServer(("127.0.0.1", args.port), Handler)
print(f"fake_serve pid={os.getpid()} port={args.port} cwd={os.getcwd()}", flush=True)
server.serve_forever()
