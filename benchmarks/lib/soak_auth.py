#!/usr/bin/env python3
"""A tiny nginx auth_http service for the ledger run: alice and bob with their dev passwords, nobody else."""
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USERS = {"alice@example.test": "alice-pw", "bob@example.test": "bob-pw"}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        user = urllib.parse.unquote(self.headers.get("Auth-User", ""))
        password = urllib.parse.unquote(self.headers.get("Auth-Pass", ""))
        self.send_response(200)
        if USERS.get(user) == password:
            self.send_header("Auth-Status", "OK")
        else:
            self.send_header("Auth-Status", "Invalid login or password")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
