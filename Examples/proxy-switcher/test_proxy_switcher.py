"""Tests of proxy_switcher.py against fake_overlayd.py (standard library only).

    cd Examples/proxy-switcher && python3 -m unittest -v
"""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import proxy_switcher  # noqa: E402
from fake_overlayd import FakeOverlayd  # noqa: E402


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class ProxySwitcherTests(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp(prefix="ovl-py-")
        self.socket = os.path.join(self.directory, "overlayd.sock")
        self.pac = os.path.join(self.directory, "proxy.pac")
        self.env = os.path.join(self.directory, "proxy.env")
        self.daemon = FakeOverlayd(self.socket).start()
        self.switcher = None
        self.thread = None

    def tearDown(self):
        if self.switcher is not None:
            self.switcher.stop()
            self.thread.join(5)
            self.assertFalse(self.thread.is_alive(), "the switcher did not stop")
        if self.daemon is not None:
            self.daemon.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def start_switcher(self, **options):
        self.switcher = proxy_switcher.ProxySwitcher(self.socket, self.pac, self.env, max_backoff=0.2, **options)
        self.thread = threading.Thread(target=self.switcher.run, daemon=True)
        self.thread.start()
        self.assertTrue(self.daemon.wait_for_followers(1), "the switcher never followed /v1/events")

    def read(self, path):
        with open(path, encoding="utf-8") as file:
            return file.read()

    def pac_says(self, target):
        return lambda: os.path.exists(self.pac) and f'return "{target}";' in self.read(self.pac)

    def using(self, proxy):
        """Whether both files point at proxy (None: direct) and the switcher says so."""
        target = f"PROXY {proxy}; DIRECT" if proxy else "DIRECT"
        url = f"http://{proxy}/" if proxy else ""

        def check():
            return (self.pac_says(target)() and os.path.exists(self.env)
                    and f'http_proxy="{url}"' in self.read(self.env) and self.switcher.proxy == proxy)
        return check

    def test_start_writes_the_current_gateway(self):
        self.start_switcher()
        self.assertTrue(wait_until(self.using("10.1.2.3:3128")))
        self.assertEqual(
            self.read(self.pac).splitlines()[-1],
            'function FindProxyForURL(url, host) { return "PROXY 10.1.2.3:3128; DIRECT"; }')
        env = self.read(self.env)
        for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ftp_proxy", "FTP_PROXY"):
            self.assertIn(f'{name}="http://10.1.2.3:3128/"\n', env)
        self.assertIn('no_proxy="localhost,127.0.0.1,::1"\n', env)

    def test_selection_event_switches_the_files(self):
        self.start_switcher()
        self.assertTrue(wait_until(self.pac_says("PROXY 10.1.2.3:3128; DIRECT")))
        self.daemon.select("gw-b", reason="requested")
        self.assertTrue(wait_until(self.using("[fd00::7]:8888")))
        self.assertEqual(self.switcher.current, "gw-b")

    def test_no_usable_gateway_goes_direct(self):
        self.start_switcher()
        self.assertTrue(wait_until(self.pac_says("PROXY 10.1.2.3:3128; DIRECT")))
        self.daemon.select(None, reason="current_failed")
        self.assertTrue(wait_until(self.using(None)))
        self.assertIn('http_proxy=""\n', self.read(self.env))

    def test_a_hostile_proxy_address_never_reaches_the_files(self):
        self.daemon.gateways["gw-evil"] = '1.2.3.4:80"; } alert(1); { "'
        self.daemon.gateways["gw-shell"] = "1.2.3.4:80/$(reboot)"
        self.start_switcher()
        self.assertTrue(wait_until(self.pac_says("PROXY 10.1.2.3:3128; DIRECT")))
        for gateway in ("gw-evil", "gw-shell"):
            self.daemon.select(gateway)
            self.assertTrue(wait_until(lambda: self.switcher.current == gateway and self.using(None)()), gateway)
            self.assertNotIn("alert", self.read(self.pac))
            self.assertNotIn("reboot", self.read(self.env))
            self.daemon.select("gw-a")
            self.assertTrue(wait_until(self.using("10.1.2.3:3128")))

    def test_files_are_replaced_whole_and_readable(self):
        self.start_switcher()
        self.assertTrue(wait_until(self.pac_says("PROXY 10.1.2.3:3128; DIRECT")))
        first_inode = os.stat(self.pac).st_ino
        self.daemon.select("gw-b")
        self.assertTrue(wait_until(self.using("[fd00::7]:8888")))  # both files written
        self.assertNotEqual(os.stat(self.pac).st_ino, first_inode)  # renamed into place, not rewritten
        self.assertEqual(stat.S_IMODE(os.stat(self.pac).st_mode), 0o644)
        self.assertEqual(sorted(os.listdir(self.directory)), ["overlayd.sock", "proxy.env", "proxy.pac"])

    def test_unchanged_selection_does_not_rewrite(self):
        self.start_switcher()
        self.assertTrue(wait_until(self.pac_says("PROXY 10.1.2.3:3128; DIRECT")))
        self.assertTrue(wait_until(lambda: self.switcher.writes == 1))
        self.daemon.select("gw-a", reason="periodic")  # kept the same gateway
        time.sleep(0.3)
        self.assertEqual(self.switcher.writes, 1)

    def test_exec_command_runs_after_a_change(self):
        marker = os.path.join(self.directory, "changed")
        self.start_switcher(command=f'echo "$OVERLAY_GATEWAY $OVERLAY_PROXY" >> {marker}')
        self.assertTrue(wait_until(lambda: os.path.exists(marker)))
        self.daemon.select("gw-b")
        self.assertTrue(wait_until(lambda: len(self.read(marker).splitlines()) == 2))
        self.assertEqual(self.read(marker).splitlines(), ["gw-a 10.1.2.3:3128", "gw-b [fd00::7]:8888"])
        os.unlink(marker)

    def test_reconnects_when_the_daemon_restarts(self):
        self.start_switcher()
        self.assertTrue(wait_until(self.pac_says("PROXY 10.1.2.3:3128; DIRECT")))
        self.daemon.stop()
        time.sleep(0.3)  # the switcher now retries against a missing socket
        self.daemon = FakeOverlayd(self.socket, current="gw-b").start()
        self.assertTrue(self.daemon.wait_for_followers(1, timeout=10), "the switcher did not reconnect")
        self.assertTrue(wait_until(self.pac_says("PROXY [fd00::7]:8888; DIRECT")))

    def test_a_daemon_without_gateway_support_is_retried(self):
        self.daemon.unavailable = True
        self.switcher = proxy_switcher.ProxySwitcher(self.socket, self.pac, self.env, max_backoff=0.2)
        self.thread = threading.Thread(target=self.switcher.run, daemon=True)
        self.thread.start()
        self.assertTrue(wait_until(lambda: len([r for r in self.daemon.requests if r[1] == "/v1/events"]) >= 2))
        self.assertFalse(os.path.exists(self.pac))
        self.daemon.unavailable = False
        self.assertTrue(wait_until(self.pac_says("PROXY 10.1.2.3:3128; DIRECT")))

    def test_stop_ends_a_quiet_stream_at_once(self):
        self.start_switcher()
        self.assertTrue(wait_until(self.pac_says("PROXY 10.1.2.3:3128; DIRECT")))
        started = time.monotonic()
        self.switcher.stop()
        self.thread.join(5)
        self.assertFalse(self.thread.is_alive())
        self.assertLess(time.monotonic() - started, 2)

    def test_once_writes_and_exits(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "proxy_switcher.py")
        result = subprocess.run([sys.executable, script, "--socket", self.socket, "--pac", self.pac, "--once"],
                                capture_output=True, text=True, timeout=10)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(self.pac_says("PROXY 10.1.2.3:3128; DIRECT")())
        self.assertFalse(os.path.exists(self.env))
        missing = subprocess.run([sys.executable, script, "--socket", self.socket + ".x", "--env", self.env, "--once"],
                                 capture_output=True, text=True, timeout=10)
        self.assertEqual(missing.returncode, 1)
        usage = subprocess.run([sys.executable, script, "--socket", self.socket], capture_output=True, text=True,
                               timeout=10)
        self.assertEqual(usage.returncode, 2)

    def test_sigterm_stops_the_command(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "proxy_switcher.py")
        process = subprocess.Popen([sys.executable, script, "--socket", self.socket, "--pac", self.pac],
                                   stderr=subprocess.PIPE, text=True)
        try:
            self.assertTrue(wait_until(self.pac_says("PROXY 10.1.2.3:3128; DIRECT")))
            process.terminate()
            self.assertEqual(process.wait(5), 0)
        finally:
            if process.poll() is None:
                process.kill()
            process.stderr.close()


class ProxyValidationTests(unittest.TestCase):
    def test_plain_host_ports_are_accepted(self):
        for proxy in ("10.1.2.3:3128", "[fd00::7]:8888", "proxy.guifi.net:8080", "gw-1:1", "h:65535"):
            self.assertEqual(proxy_switcher.safe_proxy(proxy), proxy, proxy)

    def test_anything_else_is_refused(self):
        for proxy in ("10.1.2.3", "10.1.2.3:0", "10.1.2.3:65536", 'a:1"', "a:1;b", "a b:1", ":80", "[zz]:80",
                      "-x:80", "a:1\n", None, 3128, "http://a:1/"):
            self.assertIsNone(proxy_switcher.safe_proxy(proxy), repr(proxy))


if __name__ == "__main__":
    unittest.main()
