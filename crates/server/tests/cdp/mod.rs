//! Just enough of the Chrome DevTools Protocol to drive a page in headless
//! Chromium for the browser test, with no dependency beyond `serde_json`.
//!
//! Chromium started with `--remote-debugging-pipe` reads protocol commands
//! from file descriptor 3 and writes answers and events to descriptor 4,
//! each message JSON ended by a NUL byte. `sh` moves our stdin/stdout pipes
//! to 3 and 4 before it `exec`s Chromium, so no WebSocket client (and no
//! unsafe descriptor juggling) is needed.
//!
//! Clicks and typing go through `Input.*`, as a user's would: a click lands
//! on the element's centre only once it is visible, enabled and not
//! covered. Every wait polls a condition with [`TIMEOUT`]; nothing sleeps a
//! fixed time.

use std::fs::File;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// How long any one wait may take (CI machines are small and shared).
pub const TIMEOUT: Duration = Duration::from_secs(20);

const POLL: Duration = Duration::from_millis(25);

/// Flags known to work in containers without a display, GPU or sandbox
/// support, and to keep Chromium from calling home.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
    "--remote-debugging-pipe",
];

/// `STRATA_CHROMIUM`, else `chromium` or `chromium-browser` on the `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STRATA_CHROMIUM") {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// One headless Chromium with one page attached. Dropping it closes the
/// browser (killing it if it does not exit).
pub struct Browser {
    child: Child,
    commands: ChildStdin,
    replies: Receiver<Value>,
    next_id: u64,
    session: String,
    /// Uncaught exceptions, console errors and security log entries.
    problems: Vec<String>,
    stderr_log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromium` with a fresh profile and opens a blank page.
    pub fn launch(chromium: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let stderr_log = dir.path().join("chromium.log");
        let profile = dir.path().join("profile");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2"#)
            .arg(chromium)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(File::create(&stderr_log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
        let commands = child.stdin.take().unwrap();
        let output = child.stdout.take().unwrap();
        let (sender, replies) = mpsc::channel();
        std::thread::spawn(move || {
            let mut output = BufReader::new(output);
            let mut message = Vec::new();
            loop {
                message.clear();
                match output.read_until(0, &mut message) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if message.last() == Some(&0) {
                    message.pop();
                }
                if let Ok(value) = serde_json::from_slice::<Value>(&message)
                    && sender.send(value).is_err()
                {
                    return;
                }
            }
        });
        let mut browser = Self {
            child,
            commands,
            replies,
            next_id: 0,
            session: String::new(),
            problems: Vec::new(),
            stderr_log,
            _dir: dir,
        };
        let target = browser.send("Target.createTarget", json!({"url": "about:blank"}), false);
        let attached = browser.send(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
            false,
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            browser.call(domain, json!({}));
        }
        browser
    }

    /// Sends a command to the page's session and returns its result.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, true)
    }

    fn send(&mut self, method: &str, params: Value, to_page: bool) -> Value {
        match self.try_send(method, params, to_page) {
            Ok(result) => result,
            Err(error) => self.fail(&format!("{method} failed: {error}")),
        }
    }

    /// Sends a command; `Err` is the protocol's error answer.
    fn try_send(&mut self, method: &str, params: Value, to_page: bool) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if to_page {
            message["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        if let Err(e) = self.commands.write_all(&bytes) {
            self.fail(&format!("cannot send {method} to Chromium: {e}"));
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match self
                .replies
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(reply) if reply["id"] == id => {
                    return match reply.get("error") {
                        Some(error) => Err(error.clone()),
                        None => Ok(reply["result"].clone()),
                    };
                }
                Ok(event) => self.note(&event),
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("no answer to {method} within {TIMEOUT:?}"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.fail(&format!("Chromium closed the pipe during {method}"))
                }
            }
        }
    }

    /// Keeps the events that mean the page misbehaved.
    fn note(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str() {
            Some("Runtime.exceptionThrown") => {
                let details = &params["exceptionDetails"];
                let text = details["exception"]["description"]
                    .as_str()
                    .or(details["text"].as_str())
                    .unwrap_or("?");
                self.problems.push(format!("uncaught exception: {text}"));
            }
            Some("Runtime.consoleAPICalled")
                if matches!(params["type"].as_str(), Some("error" | "assert")) =>
            {
                self.problems
                    .push(format!("console.error: {}", params["args"]));
            }
            // Failed requests ("network") are expected: the test provokes API
            // errors. Script errors and refused content (CSP) are not.
            Some("Log.entryAdded")
                if params["entry"]["level"] == "error"
                    && matches!(
                        params["entry"]["source"].as_str(),
                        Some("javascript" | "security")
                    ) =>
            {
                self.problems.push(format!(
                    "{}: {}",
                    params["entry"]["source"].as_str().unwrap_or("?"),
                    params["entry"]["text"].as_str().unwrap_or("?")
                ));
            }
            _ => {}
        }
    }

    /// What went wrong in the page so far (see [`Browser::note`]).
    pub fn problems(&mut self) -> Vec<String> {
        // Take in the events that arrived since the last command.
        self.call("Runtime.evaluate", json!({"expression": "0"}));
        self.problems.clone()
    }

    /// Opens `url` and waits for the page to finish loading.
    pub fn navigate(&mut self, url: &str) {
        let result = self.call("Page.navigate", json!({ "url": url }));
        if let Some(error) = result.get("errorText") {
            self.fail(&format!("cannot open {url}: {error}"));
        }
        self.wait_for(&format!(
            "location.href === {} && document.readyState === 'complete'",
            json!(url)
        ));
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns
    /// its value; an exception fails the test.
    pub fn eval(&mut self, expression: &str) -> Value {
        self.try_eval(expression)
            .unwrap_or_else(|error| self.fail(&format!("`{expression}` failed: {error}")))
    }

    /// `Err` when the expression throws, or when the page cannot evaluate
    /// it right now (e.g. it is navigating).
    fn try_eval(&mut self, expression: &str) -> Result<Value, String> {
        let params = json!({"expression": expression, "returnByValue": true, "awaitPromise": true});
        let result = self
            .try_send("Runtime.evaluate", params, true)
            .map_err(|error| error.to_string())?;
        match result.get("exceptionDetails") {
            Some(details) => Err(details["exception"]["description"]
                .as_str()
                .map_or_else(|| details.to_string(), str::to_owned)),
            None => Ok(result["result"]["value"].clone()),
        }
    }

    /// Polls `expression` until `ok` accepts its value; returns that value.
    /// An exception or a page in the middle of navigating counts as "not
    /// yet".
    pub fn wait_until(
        &mut self,
        what: &str,
        expression: &str,
        ok: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let last = match self.try_eval(expression) {
                Ok(value) if ok(&value) => return value,
                Ok(value) => value.to_string(),
                Err(error) => format!("an error: {error}"),
            };
            if Instant::now() >= deadline {
                let alerts = self
                    .try_eval(
                        "Array.from(document.querySelectorAll('[role=alert]'), e => e.textContent).join(' | ')",
                    )
                    .unwrap_or_else(Value::String);
                self.fail(&format!(
                    "timed out after {TIMEOUT:?} waiting for {what}\n  \
                     `{expression}` gave {last}\n  the page's alerts: {alerts}"
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Polls until `expression` is truthy.
    pub fn wait_for(&mut self, expression: &str) -> Value {
        self.wait_until(expression, &format!("!!({expression})"), |v| *v == true)
    }

    /// Polls until `expression` equals `expected`.
    pub fn wait_eq(&mut self, expression: &str, expected: impl Into<Value>) {
        let expected = expected.into();
        self.wait_until(&format!("{expression} == {expected}"), expression, |v| {
            *v == expected
        });
    }

    /// The text of the element `selector` names.
    pub fn text(&mut self, selector: &str) -> String {
        let value = self.wait_until(
            &format!("an element {selector}"),
            &format!(
                "document.querySelector({})?.textContent ?? null",
                json!(selector)
            ),
            |v| v.is_string(),
        );
        value.as_str().unwrap().to_owned()
    }

    /// Clicks the centre of `selector` with the mouse, once it is visible,
    /// enabled and on top.
    pub fn click(&mut self, selector: &str) {
        let script = format!(
            r#"(() => {{
              const el = document.querySelector({selector});
              if (!el) return "no such element";
              if (el.disabled) return "disabled";
              el.scrollIntoView({{block: "center", inline: "center"}});
              const r = el.getBoundingClientRect();
              if (r.width === 0 || r.height === 0) return "not visible";
              const x = r.left + r.width / 2, y = r.top + r.height / 2;
              const hit = document.elementFromPoint(x, y);
              if (!hit || !(hit === el || el.contains(hit))) return "covered";
              return {{x, y}};
            }})()"#,
            selector = json!(selector)
        );
        let at = self.wait_until(
            &format!("{selector} to be clickable"),
            &script,
            Value::is_object,
        );
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": at["x"], "y": at["y"], "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Replaces the value of the input or textarea `selector` by typing `text`.
    pub fn fill(&mut self, selector: &str, text: &str) {
        let script = format!(
            r#"(() => {{
              const el = document.querySelector({selector});
              if (!el || el.disabled) return false;
              el.focus();
              el.value = "";
              el.dispatchEvent(new Event("input", {{bubbles: true}}));
              return document.activeElement === el;
            }})()"#,
            selector = json!(selector)
        );
        self.wait_until(&format!("{selector} to take input"), &script, |v| {
            *v == true
        });
        if !text.is_empty() {
            self.call("Input.insertText", json!({ "text": text }));
        }
        self.wait_eq(
            &format!("document.querySelector({}).value", json!(selector)),
            text,
        );
    }

    /// Chooses `value` in the `<select>` `selector`, as a user would.
    pub fn select(&mut self, selector: &str, value: &str) {
        self.eval(&format!(
            r#"(() => {{
              const el = document.querySelector({});
              el.value = {};
              el.dispatchEvent(new Event("change", {{bubbles: true}}));
            }})()"#,
            json!(selector),
            json!(value)
        ));
    }

    /// Saves a PNG of the viewport when `STRATA_BROWSER_SCREENSHOTS` names
    /// a directory (for looking at the page; the test does not need it).
    pub fn screenshot(&mut self, name: &str) {
        let Some(dir) = std::env::var_os("STRATA_BROWSER_SCREENSHOTS") else {
            return;
        };
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }

    /// Fails the test with `message` and the end of Chromium's own log.
    fn fail(&self, message: &str) -> ! {
        let log = std::fs::read_to_string(&self.stderr_log).unwrap_or_default();
        // D-Bus complaints are normal in a container: leave them out.
        let tail: Vec<&str> = log
            .lines()
            .filter(|l| !l.contains(":ERROR:dbus/"))
            .rev()
            .take(15)
            .collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "{message}\n--- last lines of Chromium's log ---\n{}",
            tail.join("\n")
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let close = serde_json::to_vec(&json!({"id": 0, "method": "Browser.close"}));
        if let Ok(mut bytes) = close {
            bytes.push(0);
            let _ = self.commands.write_all(&bytes);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(POLL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
