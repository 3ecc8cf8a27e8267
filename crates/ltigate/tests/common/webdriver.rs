//! Just enough of the W3C WebDriver protocol to drive headless Chromium through chromedriver:
//! open a page, find and click an element, enter a frame, read the source.
//!
//! chromedriver runs as a child process on a free loopback port and is killed when its
//! [`Chromedriver`] is dropped; a [`Session`] (one browser with a fresh profile) is closed with
//! [`Session::close`], or when dropped, so a failing test leaves no browser behind.

#![allow(dead_code)] // not every test uses every command

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key under which WebDriver returns an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Set to `1` where the browser must be there (CI installs it): a missing browser then fails
/// the test instead of skipping it. The test suite's own prefix, so ltigate never reads it.
pub const REQUIRE_BROWSER: &str = "LTITEST_REQUIRE_BROWSER";
/// The first words of the line a skipped browser test prints.
pub const SKIPPED: &str = "browser test skipped:";

/// Where the browser and its driver are installed.
#[derive(Debug, Clone)]
pub struct BrowserTools {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl BrowserTools {
    /// Debian's `chromium` and `chromium-driver` (or `LTITEST_CHROMIUM` /
    /// `LTITEST_CHROMEDRIVER`), when both are installed.
    pub fn find() -> Result<Self, String> {
        let path = |var: &str, default: &str| {
            std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
        };
        let tools = Self {
            chromium: path("LTITEST_CHROMIUM", "/usr/bin/chromium"),
            chromedriver: path("LTITEST_CHROMEDRIVER", "/usr/bin/chromedriver"),
        };
        let missing: Vec<String> = [
            ("chromium", &tools.chromium),
            ("chromedriver", &tools.chromedriver),
        ]
        .into_iter()
        .filter(|(_, path)| !path.is_file())
        .map(|(name, path)| format!("{name} not found at {}", path.display()))
        .collect();
        if missing.is_empty() {
            Ok(tools)
        } else {
            Err(missing.join(", "))
        }
    }

    /// The tools, or `None` when they are missing: then the test should return at once, and
    /// this has printed why. Panics instead when [`REQUIRE_BROWSER`] is `1`.
    pub fn find_or_skip() -> Option<Self> {
        match Self::find() {
            Ok(tools) => Some(tools),
            Err(why) if std::env::var(REQUIRE_BROWSER).as_deref() == Ok("1") => panic!(
                "the browser test needs Chromium and chromedriver ({why}) because \
                 {REQUIRE_BROWSER}=1. Install them with `apt-get install chromium \
                 chromium-driver`, or point LTITEST_CHROMIUM and LTITEST_CHROMEDRIVER at them"
            ),
            Err(why) => {
                // Straight to stderr: the harness captures eprintln! of passing tests, and a
                // skip that nobody sees looks like a pass.
                let _ = writeln!(
                    std::io::stderr(),
                    "{SKIPPED} {why} (install chromium and chromium-driver; \
                     {REQUIRE_BROWSER}=1 makes this a failure)"
                );
                None
            }
        }
    }
}

/// A chromedriver child process, killed on drop.
pub struct Chromedriver {
    child: Child,
    addr: SocketAddr,
    client: reqwest::Client,
}

impl Chromedriver {
    /// Starts chromedriver on a free port and waits (at most 10 s) until it is ready.
    pub async fn start(binary: &Path) -> Self {
        let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let driver = Self {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let status = driver
                .client
                .get(format!("{}/status", driver.url()))
                .send()
                .await;
            if let Ok(response) = status
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return driver;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new headless browser with a fresh profile; extra command-line switches in `args`.
    pub async fn session(&self, chromium: &Path, args: &[&str]) -> Session {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut switches: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ]
        .iter()
        .chain(args)
        .map(|s| (*s).to_owned())
        .collect();
        switches.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": switches},
        }}});
        let response: Value = self
            .client
            .post(format!("{}/session", self.url()))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("JSON from chromedriver");
        let id = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {response}"))
            .to_owned();
        Session {
            client: self.client.clone(),
            driver: self.addr,
            path: format!("/session/{id}"),
            closed: false,
            _profile: profile,
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An element reference returned by the browser.
#[derive(Debug, Clone)]
pub struct Element(String);

/// One browser; closed on drop.
pub struct Session {
    client: reqwest::Client,
    driver: SocketAddr,
    path: String,
    closed: bool,
    _profile: tempfile::TempDir,
}

impl Session {
    /// Quits the browser.
    pub async fn close(mut self) {
        let url = format!("http://{}{}", self.driver, self.path);
        if self.client.delete(&url).send().await.is_ok() {
            self.closed = true;
        }
    }

    /// Sends one command; returns its `value` or panics with the driver's error.
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("http://{}{}{path}", self.driver, self.path);
        let mut request = self.client.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = response.status();
        let body: Value = response.json().await.expect("JSON from chromedriver");
        assert!(status.is_success(), "{url}: {status} {body}");
        body["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn find(&self, css: &str) -> Element {
        let value = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        Element(
            value[ELEMENT]
                .as_str()
                .unwrap_or_else(|| panic!("no element {css}: {value}"))
                .to_owned(),
        )
    }

    pub async fn click(&self, element: &Element) {
        let path = format!("/element/{}/click", element.0);
        self.command(reqwest::Method::POST, &path, Some(json!({})))
            .await;
    }

    /// Types `text` into an input element.
    pub async fn type_text(&self, element: &Element, text: &str) {
        let path = format!("/element/{}/value", element.0);
        self.command(reqwest::Method::POST, &path, Some(json!({"text": text})))
            .await;
    }

    /// Runs the next commands inside this frame element.
    pub async fn enter_frame(&self, frame: &Element) {
        let body = json!({"id": {ELEMENT: frame.0}});
        self.command(reqwest::Method::POST, "/frame", Some(body))
            .await;
    }

    /// Back to the top-level document.
    pub async fn leave_frames(&self) {
        self.command(reqwest::Method::POST, "/frame", Some(json!({"id": null})))
            .await;
    }

    /// The current document's HTML.
    pub async fn source(&self) -> String {
        let value = self.command(reqwest::Method::GET, "/source", None).await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Polls the source of the frame found by `frame_css` every 100 ms until `done` holds or
    /// `limit` passes; the last source and whether `done` held. The frame is entered afresh
    /// each time: when a frame navigates to another site, Chromium moves it to another
    /// process and chromedriver may fall back to the top-level document.
    pub async fn wait_for_frame_source(
        &self,
        frame_css: &str,
        limit: Duration,
        done: impl Fn(&str) -> bool,
    ) -> (String, bool) {
        let deadline = Instant::now() + limit;
        loop {
            self.leave_frames().await;
            let frame = self.find(frame_css).await;
            self.enter_frame(&frame).await;
            let source = self.source().await;
            if done(&source) {
                return (source, true);
            }
            if Instant::now() >= deadline {
                return (source, false);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Session {
    /// `DELETE /session/{id}` quits the browser. Blocking, with plain std I/O, because drop
    /// cannot await and must also work while a test panics.
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let Ok(mut stream) = TcpStream::connect_timeout(&self.driver, Duration::from_secs(2))
        else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE {} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.path, self.driver
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return;
        }
        // chromedriver answers once the browser has quit; it may keep the connection open,
        // so stop at the end of the headers rather than waiting for it to close.
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
        }
    }
}
