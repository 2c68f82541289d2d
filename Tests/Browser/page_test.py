#!/usr/bin/env python3
"""Drives `charnn serve`'s page in headless Chromium through chromedriver (W3C WebDriver over
plain HTTP, standard library only): loads the page, waits for the model card, starts a
generation, sees the text arrive in several steps, stops it, checks that it stopped and that the
page shows no error, and saves a screenshot.

Usage: page_test.py --url http://127.0.0.1:PORT/ --screenshot out.png [--complete LENGTH]
With --complete the generation (LENGTH symbols, seed 7) runs to its end instead of being stopped,
for the documentation's screenshot. Exit status 0 when every check passes; else 1 with the
failed check on standard error.
"""
import argparse, base64, json, os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request


def fail(message):
    print(f"page test: {message}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.session = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read() or b"{}").get("value")
        except urllib.error.HTTPError as error:
            fail(f"WebDriver {method} {path}: {error.code} {error.read()[:500]!r}")

    def start(self, binary):
        options = {"binary": binary, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                              "--disable-dev-shm-usage", "--window-size=1180,860"]}
        value = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options}}})
        self.session = value["sessionId"]

    def s(self, path):
        return f"/session/{self.session}{path}"

    def js(self, script, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": script, "args": list(args)})

    def click(self, css):
        element = self.call("POST", self.s("/element"), {"using": "css selector", "value": css})
        self.call("POST", self.s(f"/element/{list(element.values())[0]}/click"), {})

    def wait(self, what, script, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.js(script):
                return
            time.sleep(0.05)
        fail(f"timed out waiting for {what}")

    def quit(self):
        if self.session:
            self.call("DELETE", self.s(""))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--complete", type=int, default=0)
    args = parser.parse_args()
    # A parent's worker thread may have started this with signals blocked; chromedriver inherits
    # the mask and would then ignore the SIGTERM that ends it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signal.valid_signals())
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or fail("chromium is not installed")
    driver_path = shutil.which("chromedriver") or fail("chromedriver is not installed (Debian: chromium-driver)")
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="chromedriver-", suffix=".log", delete=False)
    driver_process = subprocess.Popen([driver_path, f"--port={port}"], stdout=log, stderr=subprocess.STDOUT)
    driver = WebDriver(port)
    try:
        deadline = time.time() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline:
                    fail("chromedriver did not start")
                time.sleep(0.1)
        driver.start(browser)
        driver.call("POST", driver.s("/url"), {"url": args.url})
        driver.wait("the model card", "return document.getElementById('card').textContent.includes('parameters')")
        if driver.js("return document.title") != "charnn":
            fail("the page's title is not charnn")
        driver.js("""
            document.getElementById('prime').value = 'ROMEO:';
            document.getElementById('length').value = arguments[0];
            document.getElementById('seed').value = '7';
            window.seenLengths = [];
            new MutationObserver(() => window.seenLengths.push(document.getElementById('output').textContent.length))
              .observe(document.getElementById('output'), {subtree: true, characterData: true, childList: true});
            """, str(args.complete or 100000))
        driver.click("#generate")
        if args.complete:
            driver.wait("the generation to finish", "return document.getElementById('status').textContent.includes('done')", 60)
        else:
            # Text arrives in steps: several distinct, growing lengths before Stop.
            driver.wait("text to arrive in steps", "return new Set(window.seenLengths).size >= 20")
            if driver.js("return document.getElementById('stop').disabled"):
                fail("Stop is disabled while generating")
            driver.click("#stop")
            driver.wait("the stopped status", "return document.getElementById('status').textContent.includes('stopped')")
            stopped_at = driver.js("return document.getElementById('output').textContent.length")
            time.sleep(0.5)
            if driver.js("return document.getElementById('output').textContent.length") != stopped_at:
                fail("text kept arriving after Stop")
            if driver.js("return document.getElementById('generate').disabled"):
                fail("Generate stayed disabled after Stop")
        lengths = driver.js("return window.seenLengths")
        if lengths != sorted(lengths) or len(set(lengths)) < 3:
            fail(f"the text did not grow in steps: {lengths[:20]}")
        if not driver.js("return document.getElementById('output').textContent.startsWith('ROMEO:')"):
            fail("the output does not start with the prime")
        errors = driver.js("return window.pageErrors.concat([document.getElementById('error').textContent].filter(Boolean))")
        if errors:
            fail(f"the page shows errors: {errors}")
        png = base64.b64decode(driver.call("GET", driver.s("/screenshot")))
        if not png.startswith(b"\x89PNG"):
            fail("the screenshot is not a PNG")
        with open(args.screenshot, "wb") as out:
            out.write(png)
        print(f"page test: ok ({len(set(lengths))} text updates, {lengths[-1]} characters shown)")
    finally:
        try:
            driver.quit()
        finally:
            driver_process.terminate()
            try:
                driver_process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                driver_process.kill()
                driver_process.wait()
            os.unlink(log.name)


if __name__ == "__main__":
    main()
