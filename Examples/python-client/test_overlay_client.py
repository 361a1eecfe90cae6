"""Tests of overlay_client.py against the fake daemon of ../proxy-switcher (standard library only).

    cd Examples/python-client && python3 -m unittest -v
"""

import io
import os
import shutil
import sys
import tempfile
import threading
import unittest
from contextlib import redirect_stderr, redirect_stdout

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "proxy-switcher"))

import overlay_client  # noqa: E402
from fake_overlayd import FakeOverlayd  # noqa: E402


class OverlayClientTests(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="ovl-pyc-")
        self.socket = os.path.join(self.directory, "overlayd.sock")
        self.daemon = FakeOverlayd(self.socket).start()
        self.client = overlay_client.OverlayClient(self.socket)

    def tearDown(self):
        self.daemon.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def run_command(self, *arguments):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            status = overlay_client.main(["--socket", self.socket, *arguments])
        return status, out.getvalue(), err.getvalue()

    def test_reads_status_peers_gateways_and_selection(self):
        self.assertEqual(self.client.status()["node"]["name"], "node-12")
        self.assertEqual([peer["name"] for peer in self.client.peers(state=["alive"], name="node-*")], ["node-12"])
        self.assertIn(("GET", "/v1/peers?state=alive&name=node-*"), self.daemon.requests)
        self.assertEqual([gateway["id"] for gateway in self.client.gateways()], ["gw-a", "gw-b"])
        self.assertEqual(self.client.selection()["current"], "gw-a")
        self.assertEqual(self.client.observations(gateway="gw-a"), [])

    def test_refresh_posts(self):
        self.assertTrue(self.client.refresh_selection()["accepted"])
        self.assertEqual(self.daemon.refreshes, 1)
        self.daemon.forbid_writes = True
        with self.assertRaises(overlay_client.OverlayAPIError) as raised:
            self.client.refresh_selection()
        self.assertEqual((raised.exception.status, raised.exception.code), (403, "forbidden"))

    def test_errors_carry_the_stable_code(self):
        with self.assertRaises(overlay_client.OverlayAPIError) as raised:
            self.client.fetch("/v1/nope")
        self.assertEqual((raised.exception.status, raised.exception.code), (404, "not_found"))
        self.daemon.unavailable = True
        with self.assertRaises(overlay_client.OverlayAPIError) as raised:
            self.client.gateways()
        self.assertEqual(raised.exception.code, "unavailable")

    def test_a_missing_daemon_is_unreachable(self):
        client = overlay_client.OverlayClient(self.socket + ".missing")
        with self.assertRaises(overlay_client.DaemonUnreachable) as raised:
            client.status()
        self.assertIn("no socket at", str(raised.exception))

    def test_events_yield_each_record_until_the_daemon_stops(self):
        received = []
        follower = threading.Thread(target=lambda: received.extend(self.client.events()), daemon=True)
        follower.start()
        self.assertTrue(self.daemon.wait_for_followers(1))
        self.daemon.select("gw-b", reason="requested")
        self.daemon.select("gw-a", reason="periodic")
        self.daemon.stop()
        follower.join(5)
        self.assertFalse(follower.is_alive())
        self.assertEqual([(e["type"], e["selection"]["to"]) for e in received], [("selection", "gw-b"), ("selection", "gw-a")])
        self.daemon = FakeOverlayd(self.socket).start()  # for tearDown

    def test_command_prints_tables_and_exit_codes(self):
        status, out, _ = self.run_command("gateways")
        self.assertEqual(status, 0)
        self.assertTrue(out.startswith("GATEWAY"))
        self.assertIn("gw-a     10.1.2.3:3128", out)
        self.assertIn("current", out)
        status, out, _ = self.run_command("selection")
        self.assertEqual(status, 0)
        self.assertIn("gateway   gw-a", out)
        status, out, _ = self.run_command("--json", "status")
        self.assertEqual(status, 0)
        self.assertIn('"schema": 1', out)
        self.daemon.unavailable = True
        status, _, err = self.run_command("selection")
        self.assertEqual(status, 3)
        self.assertIn("(unavailable, HTTP 503)", err)
        status, _, err = overlay_client.main(["--socket", self.socket + ".x", "status"]), None, None
        self.assertEqual(status, 1)


if __name__ == "__main__":
    unittest.main()
