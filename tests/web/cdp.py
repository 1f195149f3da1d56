"""cdp — drives Debian's chromium headless through the DevTools protocol over
--remote-debugging-pipe (commands on the browser's fd 3, answers and events
on its fd 4, each message one JSON text ended by a NUL byte).  Python's
standard library only: the tests run where no package registry is reachable.

    with Browser(spki_pin="base64...") as b:
        page = b.new_page(360, 740, mobile=True)
        page.goto("https://localhost:8443/")
        page.wait("document.getElementById('user') !== null")
        page.eval("document.title")
        page.screenshot("board.png")
"""

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


class CDPError(Exception):
    pass


class Browser:
    def __init__(self, spki_pin=None, binary=None, timeout=120):
        self.timeout = timeout
        self.binary = binary or shutil.which("chromium") or "/usr/bin/chromium"
        self.profile = tempfile.mkdtemp(prefix="sac-chromium.")
        args = [
            self.binary, "--headless=new", "--remote-debugging-pipe",
            "--user-data-dir=" + self.profile, "--no-first-run", "--no-default-browser-check",
            "--disable-gpu", "--disable-dev-shm-usage", "--disable-extensions",
            "--disable-background-networking", "--disable-sync", "--disable-component-update",
            "--hide-scrollbars", "--mute-audio", "--force-device-scale-factor=1",
            "about:blank",
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        if spki_pin:
            # Trusts exactly the test server's key, nothing else.
            args.insert(1, "--ignore-certificate-errors-spki-list=" + spki_pin)
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()

        def child_fds():
            # Via fresh descriptors, so that neither end is overwritten by the
            # other's dup2, and inheritable even when a pipe already was 3 or 4.
            a, b = os.dup(cmd_r), os.dup(res_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, close_fds=False, preexec_fn=child_fds)
        os.close(cmd_r)
        os.close(res_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc is None:
            return
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        os.close(self.cmd_w)
        os.close(self.res_r)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError("no answer from chromium in time")
            ready, _, _ = select.select([self.res_r], [], [], left)
            if ready:
                chunk = os.read(self.res_r, 1 << 20)
                if not chunk:
                    raise CDPError("chromium closed the pipe (see its log)")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None, timeout=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise CDPError("%s: %s" % (method, m["error"].get("message")))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def new_page(self, width, height, mobile=False):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.send("Page.enable")
        page.send("Runtime.enable")
        page.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        return page


class Page:
    def __init__(self, browser, session):
        self.browser = browser
        self.session = session

    def send(self, method, params=None, timeout=None):
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def goto(self, url):
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CDPError("navigation to %s failed: %s" % (url, result["errorText"]))
        self.wait("document.readyState === 'complete'")

    def eval(self, expression, timeout=None):
        """The value of a JavaScript expression (awaited if a promise)."""
        r = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                           "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in r:
            raise CDPError("script failed: %s" % r["exceptionDetails"].get("exception", {})
                           .get("description", r["exceptionDetails"].get("text")))
        return r.get("result", {}).get("value")

    def wait(self, expression, timeout=60):
        """Waits until the expression is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.eval(expression, timeout=max(1.0, min(15.0, deadline - time.monotonic())))
            except CDPError:
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise CDPError("timed out waiting for: " + expression)
            time.sleep(0.1)

    def screenshot(self, path, full_page=False):
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        # A page in the background draws no frames, and a screenshot waits for
        # one: bring this page to the front first, and retry once.
        for attempt in (1, 2):
            self.send("Page.bringToFront")
            try:
                data = self.send("Page.captureScreenshot", params, timeout=30)["data"]
                break
            except CDPError:
                if attempt == 2:
                    raise
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def console_errors(self):
        return [e for e in self.browser.events
                if e.get("sessionId") == self.session and e.get("method") == "Runtime.exceptionThrown"]
