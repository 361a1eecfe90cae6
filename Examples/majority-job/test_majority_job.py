#!/usr/bin/env python3
"""Tests of majority_job.py against a stand-in API on a Unix socket: python3 -m unittest test_majority_job"""

import http.server
import json
import os
import socketserver
import tempfile
import threading
import time
import unittest

import majority_job

VIEW = {"schema": 1, "version": "t", "epoch": 3, "is_member": True, "quorum": True, "reachable": 3, "view_size": 5}


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def serve(path, state):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def address_string(self):
            return "local"

        def do_GET(self):
            body = json.dumps(state["view"]).encode()
            self.send_response(200 if self.path == "/v1/membership" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = _Server(path, Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class MajorityJobTests(unittest.TestCase):
    def test_only_a_member_with_quorum_may_run(self):
        self.assertTrue(majority_job.holds_view(VIEW))
        self.assertFalse(majority_job.holds_view(dict(VIEW, quorum=False)))
        self.assertFalse(majority_job.holds_view(dict(VIEW, is_member=False)))
        self.assertFalse(majority_job.holds_view(None))
        self.assertFalse(majority_job.holds_view(dict(VIEW, schema=2)))

    def test_job_starts_with_quorum_stops_without_and_when_overlayd_is_gone(self):
        directory = tempfile.mkdtemp()
        path = os.path.join(directory, "api.sock")
        state = {"view": VIEW}
        server = serve(path, state)
        supervisor = majority_job.Supervisor(["sleep", "30"], grace=2, log=lambda _: None)
        try:
            supervisor.update(majority_job.holds_view(majority_job.membership(path)), "")
            self.assertTrue(supervisor.running)
            state["view"] = dict(VIEW, quorum=False, reachable=2)
            supervisor.update(majority_job.holds_view(majority_job.membership(path)), "")
            self.assertFalse(supervisor.running)
            state["view"] = VIEW
            supervisor.update(majority_job.holds_view(majority_job.membership(path)), "")
            self.assertTrue(supervisor.running)
            server.shutdown()
            server.server_close()
            os.unlink(path)
            self.assertIsNone(majority_job.membership(path))
            supervisor.update(majority_job.holds_view(majority_job.membership(path)), "")
            self.assertFalse(supervisor.running)
        finally:
            supervisor.stop()


if __name__ == "__main__":
    unittest.main()
