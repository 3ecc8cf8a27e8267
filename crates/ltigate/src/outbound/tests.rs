//! The outbound policy against tiny misbehaving servers on 127.0.0.1 (the only real target).
//! Names are resolved by an injected table; private ranges are only ever named, never reached.

#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::dns::{Name, Resolve, Resolving};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// A private address that tests only ever name: it must be refused before any connection.
const PRIVATE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5));
const SHORT: Duration = Duration::from_millis(300);
/// Well above SHORT, well below anything a hung test would take.
const BOUNDED: Duration = Duration::from_secs(2);

// ---------- a raw HTTP/1.1 test server ----------

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Accepts connections on 127.0.0.1; reads one request per connection and hands it and the
/// socket to `handler`, which writes whatever (mis)behaviour the test wants.
async fn serve<F, Fut>(handler: F) -> Server
where
    F: Fn(Seen, TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind((LOOPBACK, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler = Arc::new(handler);
    let (c, s) = (connections.clone(), seen.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let (handler, s) = (handler.clone(), s.clone());
            tokio::spawn(async move {
                if let Some(request) = read_request(&mut stream).await {
                    s.lock().unwrap().push(request.clone());
                    handler(request, stream).await;
                }
            });
        }
    });
    Server {
        port,
        connections,
        seen,
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

/// A complete response with Content-Length, closing the connection.
fn reply(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

async fn send(mut stream: TcpStream, bytes: Vec<u8>) {
    let _ = stream.write_all(&bytes).await;
    let _ = stream.shutdown().await;
}

fn json_reply(body: &serde_json::Value) -> Vec<u8> {
    reply(
        "200 OK",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

/// Answers every request with `{"ok": true, "path": <target>}`.
async fn json_server() -> Server {
    serve(
        |req, s| async move { send(s, json_reply(&json!({"ok": true, "path": req.target}))).await },
    )
    .await
}

// ---------- clients ----------

fn policy() -> OutboundPolicy {
    OutboundPolicy {
        allow_http: true,
        allow_private_networks: true,
        connect_timeout: BOUNDED,
        total_timeout: BOUNDED,
        max_redirects: 3,
        trusted_hosts: Vec::new(),
    }
}

/// Refuses private networks, but trusts `lms.test` (127.0.0.1) so a first hop can be served.
fn strict_policy() -> OutboundPolicy {
    OutboundPolicy {
        allow_private_networks: false,
        trusted_hosts: vec!["lms.test".into()],
        ..policy()
    }
}

fn resolver() -> Arc<dyn Resolve> {
    Arc::new(
        StaticResolver::new()
            .with("allowed.test", [LOOPBACK])
            .with("other.test", [LOOPBACK])
            .with("lms.test", [LOOPBACK])
            .with("loopback.test", [LOOPBACK])
            .with("evil.test", [PRIVATE])
            .with("lms.internal.test", [PRIVATE]),
    )
}

fn client(policy: OutboundPolicy) -> Outbound {
    Outbound::with_resolver(policy, resolver()).unwrap()
}

async fn get(outbound: &Outbound, url: &str) -> Result<Fetched, FetchError> {
    outbound.get_json(url, None, 64 * 1024).await
}

fn code<T: fmt::Debug>(result: Result<T, FetchError>) -> &'static str {
    match result {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(e) => {
            // Every error must render for an admin.
            assert!(!e.to_string().is_empty());
            e.code().as_str()
        }
    }
}

// ---------- success path ----------

#[tokio::test]
async fn fetches_json_through_the_injected_resolver_keeping_the_query() {
    let server = json_server().await;
    let fetched = get(
        &client(policy()),
        &server.url("allowed.test", "/cfg?a=1&b=x%20y"),
    )
    .await
    .unwrap();
    assert_eq!(fetched.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&fetched.body).unwrap();
    assert_eq!(body["path"], "/cfg?a=1&b=x%20y");
    let seen = &server.seen()[0];
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.header("accept"), Some("application/json"));
    assert_eq!(seen.header("authorization"), None);
    assert!(seen.header("host").unwrap().starts_with("allowed.test:"));
    assert_eq!(
        fetched.final_url.as_str(),
        server.url("allowed.test", "/cfg?a=1&b=x%20y")
    );
}

#[tokio::test]
async fn post_json_sends_the_body_and_the_bearer() {
    let server = json_server().await;
    let body = json!({"client_name": "ltigate", "n": 1});
    let fetched = client(policy())
        .post_json(
            &server.url("allowed.test", "/register"),
            Some("tok-1"),
            &body,
            1024,
        )
        .await
        .unwrap();
    assert_eq!(fetched.status, 200);
    let seen = &server.seen()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.header("authorization"), Some("Bearer tok-1"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&seen.body).unwrap(),
        body
    );
}

#[test]
fn policy_comes_from_config() {
    let mut config = Config::default();
    assert_eq!(
        OutboundPolicy::from_config(&config),
        OutboundPolicy {
            allow_http: false,
            allow_private_networks: false,
            connect_timeout: config.timeouts.http_connect,
            total_timeout: config.timeouts.http_total,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            trusted_hosts: Vec::new(),
        }
    );
    config.allow_insecure_http = true;
    config.registration.allow_private_networks = true;
    config.timeouts.http_connect = Duration::from_secs(1);
    config.timeouts.http_total = Duration::from_secs(2);
    let policy = OutboundPolicy::from_config(&config);
    assert!(policy.allow_http && policy.allow_private_networks);
    assert_eq!(policy.connect_timeout, Duration::from_secs(1));
    assert_eq!(policy.total_timeout, Duration::from_secs(2));
}

// ---------- URL checks ----------

#[tokio::test]
async fn only_http_urls_are_fetched() {
    let outbound = client(policy());
    for url in [
        "ftp://allowed.test/x",
        "file:///etc/passwd",
        "gopher://allowed.test/",
        "data:application/json,{}",
        "javascript:alert(1)",
        "not a url",
        "/relative/path",
        "",
    ] {
        assert_eq!(code(get(&outbound, url).await), "URL_REFUSED", "{url}");
    }
}

#[tokio::test]
async fn plain_http_needs_allow_http() {
    let server = json_server().await;
    let outbound = client(OutboundPolicy {
        allow_http: false,
        ..policy()
    });
    let err = get(&outbound, &server.url("allowed.test", "/"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "URL_REFUSED");
    assert!(err.to_string().contains("https only"), "{err}");
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn credentials_in_the_url_are_refused() {
    let server = json_server().await;
    let outbound = client(policy());
    for url in [
        format!("http://user:pw@allowed.test:{}/", server.port),
        format!("http://user@allowed.test:{}/", server.port),
    ] {
        assert_eq!(code(get(&outbound, &url).await), "URL_REFUSED", "{url}");
    }
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn an_oversized_url_is_refused() {
    let url = format!("https://allowed.test/{}", "a".repeat(5000));
    assert_eq!(code(get(&client(policy()), &url).await), "URL_REFUSED");
}

// ---------- addresses ----------

#[tokio::test]
async fn literal_private_addresses_are_refused_before_connecting() {
    let server = json_server().await;
    let outbound = client(OutboundPolicy {
        allow_private_networks: false,
        ..policy()
    });
    let err = get(&outbound, &server.url("127.0.0.1", "/"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PRIVATE_ADDRESS");
    assert!(err.to_string().contains("allow_private_networks"), "{err}");
    for host in ["0.0.0.0", "0x7f.1", "[::1]", "[::ffff:127.0.0.1]"] {
        let url = format!("http://{host}:{}/", server.port);
        assert_eq!(code(get(&outbound, &url).await), "PRIVATE_ADDRESS", "{url}");
    }
    assert_eq!(server.connections(), 0);
    // Other ranges through the URL check alone, so that even a broken check sends nothing.
    for host in [
        "10.0.0.5",
        "172.16.1.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "[::ffff:10.0.0.5]",
        "[fd00::1]",
        "[fe80::1]",
    ] {
        let url = Url::parse(&format!("http://{host}/")).unwrap();
        assert_eq!(code(outbound.check_url(&url)), "PRIVATE_ADDRESS", "{url}");
    }
}

#[tokio::test]
async fn a_name_resolving_to_a_private_address_is_refused_before_connecting() {
    let server = json_server().await;
    let outbound = client(OutboundPolicy {
        allow_private_networks: false,
        ..policy()
    });
    for host in ["evil.test", "lms.internal.test"] {
        let err = get(&outbound, &server.url(host, "/")).await.unwrap_err();
        assert_eq!(err.code(), "PRIVATE_ADDRESS", "{host}: {err}");
        assert!(
            matches!(err, FetchError::PrivateAddress { ip, .. } if ip == PRIVATE),
            "{err:?}"
        );
    }
    // Mapped to the live listener: refused, and the listener never saw a connection.
    let err = get(&outbound, &server.url("loopback.test", "/"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PRIVATE_ADDRESS", "{err}");
    assert!(err.to_string().contains("loopback.test"), "{err}");
    assert_eq!(server.connections(), 0);
    // The same name and listener with the setting on: fetched.
    get(&client(policy()), &server.url("loopback.test", "/"))
        .await
        .unwrap();
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn trusted_hosts_are_exempt_and_nothing_else() {
    let server = json_server().await;
    let outbound = client(strict_policy());
    get(&outbound, &server.url("lms.test", "/")).await.unwrap();
    get(&outbound, &server.url("LMS.test", "/")).await.unwrap();
    assert_eq!(server.connections(), 2);
    assert_eq!(
        code(get(&outbound, &server.url("other.test", "/")).await),
        "PRIVATE_ADDRESS"
    );
    assert_eq!(
        code(get(&outbound, &server.url("127.0.0.1", "/")).await),
        "PRIVATE_ADDRESS"
    );
    assert_eq!(server.connections(), 2);
    let by_ip = client(OutboundPolicy {
        trusted_hosts: vec!["127.0.0.1".into()],
        ..strict_policy()
    });
    get(&by_ip, &server.url("127.0.0.1", "/")).await.unwrap();
}

async fn resolve_guarded(names: StaticResolver, host: &str) -> Result<Vec<SocketAddr>, String> {
    let guarded = GuardedResolver {
        inner: Arc::new(names),
        policy: Arc::new(OutboundPolicy {
            allow_private_networks: false,
            ..policy()
        }),
    };
    match guarded.resolve(host.parse::<Name>().unwrap()).await {
        Ok(addrs) => Ok(addrs.collect()),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn a_name_is_refused_when_any_of_its_addresses_is_private() {
    // Resolution only: nothing connects to these addresses.
    let public: IpAddr = "93.184.215.14".parse().unwrap();
    let names = StaticResolver::new()
        .with("public.test", [public])
        .with("mixed.test", [public, PRIVATE])
        .with("mixed6.test", [public, "fd12::1".parse().unwrap()])
        .with("empty.test", []);
    assert_eq!(
        resolve_guarded(names.clone(), "public.test").await.unwrap(),
        vec![SocketAddr::new(public, 0)]
    );
    let err = resolve_guarded(names.clone(), "mixed.test")
        .await
        .unwrap_err();
    assert!(err.contains("10.0.0.5"), "{err}");
    assert!(resolve_guarded(names.clone(), "mixed6.test").await.is_err());
    assert!(resolve_guarded(names.clone(), "empty.test").await.is_err());
    assert!(resolve_guarded(names, "unknown.test").await.is_err());
}

#[test]
fn address_classification() {
    let public = [
        "93.184.215.14",
        "8.8.8.8",
        "1.1.1.1",
        "100.63.255.255",
        "100.128.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.169.0.1",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
        "2606:4700::1111",
        "2a00:1450:4001::1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ];
    let not_public = [
        "0.0.0.0",
        "0.1.2.3",
        "127.0.0.1",
        "127.255.255.254",
        "10.0.0.5",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.255",
        "192.0.0.1",
        "192.0.2.1",
        "198.51.100.1",
        "203.0.113.1",
        "192.88.99.1",
        "198.18.0.1",
        "198.19.255.255",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.5",
        "::ffff:169.254.169.254",
        "::10.0.0.5",
        "64:ff9b::a00:5",
        "64:ff9b::7f00:1",
        "64:ff9b:1::1",
        "2002:a00:5::1",
        "2002:7f00:1::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "100::1",
        "2001::1",
        "2001:db8::1",
        "2001:10::1",
        "3fff::1",
        "3fff:fff:ffff::1",
    ];
    for ip in public {
        assert!(is_public_ip(ip.parse().unwrap()), "{ip} should be public");
    }
    for ip in not_public {
        assert!(!is_public_ip(ip.parse().unwrap()), "{ip} should be refused");
    }
}

// ---------- time ----------

/// A server that reads the request and never answers.
async fn silent() -> Server {
    serve(|_, s| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    })
    .await
}

/// A client whose total deadline is SHORT.
fn impatient() -> Outbound {
    client(OutboundPolicy {
        total_timeout: SHORT,
        ..policy()
    })
}

#[tokio::test]
async fn slow_headers_hit_the_total_deadline() {
    let server = silent().await;
    let outbound = impatient();
    let start = Instant::now();
    let result = get(&outbound, &server.url("allowed.test", "/")).await;
    assert_eq!(code(result), "FETCH_TIMEOUT");
    assert!(start.elapsed() < BOUNDED, "{:?}", start.elapsed());
}

#[tokio::test]
async fn a_slow_drip_body_hits_the_total_deadline() {
    let server = serve(|_, mut s| async move {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[";
        if s.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        // One byte every 20 ms: never idle long, never done.
        while s.write_all(b" ").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let outbound = impatient();
    let start = Instant::now();
    let result = get(&outbound, &server.url("allowed.test", "/")).await;
    assert_eq!(code(result), "FETCH_TIMEOUT");
    assert!(start.elapsed() >= SHORT && start.elapsed() < BOUNDED);
}

/// Never answers: stands for a connection attempt that hangs.
struct Hanging;

impl Resolve for Hanging {
    fn resolve(&self, _: Name) -> Resolving {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn the_connect_timeout_bounds_establishing_a_connection() {
    let outbound = Outbound::with_resolver(
        OutboundPolicy {
            connect_timeout: SHORT,
            total_timeout: Duration::from_secs(30),
            ..policy()
        },
        Arc::new(Hanging),
    )
    .unwrap();
    let start = Instant::now();
    let result = get(&outbound, "http://hanging.test/").await;
    assert_eq!(code(result), "FETCH_TIMEOUT");
    assert!(start.elapsed() < BOUNDED, "{:?}", start.elapsed());
}

#[tokio::test]
async fn the_total_deadline_spans_all_redirect_hops() {
    // Each hop answers within 150 ms; together they take longer than the deadline.
    let server = serve(|_, s| async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        send(s, reply("302 Found", &[("Location", "/again")], b"")).await;
    })
    .await;
    let outbound = client(OutboundPolicy {
        total_timeout: SHORT,
        max_redirects: 100,
        ..policy()
    });
    let start = Instant::now();
    let result = get(&outbound, &server.url("allowed.test", "/")).await;
    assert_eq!(code(result), "FETCH_TIMEOUT");
    assert!(start.elapsed() < BOUNDED);
    assert!(server.seen().len() >= 2, "the first hop was followed");
}

// ---------- size ----------

#[tokio::test]
async fn a_large_content_length_is_refused_before_reading() {
    let server = serve(|_, mut s| async move {
        let head =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n";
        let _ = s.write_all(head.as_bytes()).await;
        // Body never comes: only the early check can end this before the deadline.
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let outbound = client(OutboundPolicy {
        total_timeout: Duration::from_secs(30),
        ..policy()
    });
    let start = Instant::now();
    let result = outbound
        .get_json(&server.url("allowed.test", "/"), None, 1024)
        .await;
    assert_eq!(code(result), "RESPONSE_TOO_LARGE");
    assert!(start.elapsed() < BOUNDED);
}

/// A server that answers `head` then sends `byte` forever (no Content-Length).
async fn endless(head: &'static str, byte: u8) -> Server {
    serve(move |_, mut s| async move {
        if s.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = [byte; 8192];
        while s.write_all(&chunk).await.is_ok() {}
    })
    .await
}

#[tokio::test]
async fn an_endless_body_without_length_is_cut_at_the_cap() {
    let server = endless(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
        b' ',
    )
    .await;
    let result = client(policy())
        .get_json(&server.url("allowed.test", "/"), None, 64 * 1024)
        .await;
    assert!(
        matches!(result, Err(FetchError::TooLarge(65536))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_chunked_body_over_the_cap_is_refused_and_one_at_the_cap_accepted() {
    let server = serve(|req, mut s| async move {
        let size: usize = req.target.trim_start_matches('/').parse().unwrap();
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        let mut out = head.as_bytes().to_vec();
        let body = format!("\"{}\"", "a".repeat(size - 2));
        for piece in body.as_bytes().chunks(100) {
            out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            out.extend_from_slice(piece);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        let _ = s.write_all(&out).await;
    })
    .await;
    let outbound = client(policy());
    let at_cap = outbound
        .get_json(&server.url("allowed.test", "/1000"), None, 1000)
        .await
        .unwrap();
    assert_eq!(at_cap.body.len(), 1000);
    let over = outbound
        .get_json(&server.url("allowed.test", "/1001"), None, 1000)
        .await;
    assert_eq!(code(over), "RESPONSE_TOO_LARGE");
}

// ---------- content type ----------

#[tokio::test]
async fn a_success_that_is_not_json_is_refused() {
    let server = serve(|req, s| async move {
        let bytes = match req.target.as_str() {
            "/html" => reply("200 OK", &[("Content-Type", "text/html")], b"<html></html>"),
            "/plain" => reply("200 OK", &[("Content-Type", "text/plain")], b"{}"),
            "/none" => reply("200 OK", &[], b"{}"),
            _ => reply(
                "200 OK",
                &[("Content-Type", "application/jwk-set+json; charset=UTF-8")],
                b"{\"keys\":[]}",
            ),
        };
        send(s, bytes).await;
    })
    .await;
    let outbound = client(policy());
    for path in ["/html", "/plain", "/none"] {
        let err = get(&outbound, &server.url("allowed.test", path))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "NOT_JSON", "{path}");
        assert!(err.to_string().contains("not JSON"), "{err}");
    }
    get(&outbound, &server.url("allowed.test", "/jwks"))
        .await
        .unwrap();
}

#[test]
fn json_content_types() {
    for ok in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=\"UTF-8\"",
        " application/json ",
        "application/jwk-set+json",
        "application/problem+json; charset=utf-8",
    ] {
        assert!(is_json_content_type(ok), "{ok}");
    }
    for not in [
        "",
        "json",
        "text/json",
        "text/html",
        "application/jsonp",
        "application/javascript",
        "application/+json",
        "application/json-seq",
        "text/plain+json",
    ] {
        assert!(!is_json_content_type(not), "{not}");
    }
}

// ---------- error answers ----------

#[tokio::test]
async fn error_answers_carry_their_body() {
    let server = serve(|req, s| async move {
        let bytes = match req.target.as_str() {
            // What Moodle answers for a missing or used registration token.
            "/401" => reply(
                "401 Unauthorized",
                &[("Content-Type", "text/plain")],
                b"missing_registration_token",
            ),
            "/422" => reply(
                "422 Unprocessable Entity",
                &[("Content-Type", "application/json")],
                br#"{"error":"invalid_client_metadata","error_description":"bad\nredirect_uris"}"#,
            ),
            "/500" => reply(
                "500 Internal Server Error",
                &[("Content-Type", "text/html")],
                b"<html><body>oops</body></html>",
            ),
            _ => reply("404 Not Found", &[], b""),
        };
        send(s, bytes).await;
    })
    .await;
    let outbound = client(policy());

    let err = get(&outbound, &server.url("allowed.test", "/401"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "HTTP_STATUS");
    let status = err.http_status().unwrap();
    assert_eq!(
        (status.status, status.body.as_str()),
        (401, "missing_registration_token")
    );
    assert!(!status.is_json && !status.truncated);
    assert_eq!(
        err.to_string(),
        "answered HTTP 401: missing_registration_token"
    );

    let err = get(&outbound, &server.url("allowed.test", "/422"))
        .await
        .unwrap_err();
    let status = err.http_status().unwrap();
    assert_eq!(status.status, 422);
    assert!(status.is_json);
    assert_eq!(
        status.message(),
        "invalid_client_metadata: bad redirect_uris"
    );

    let err = get(&outbound, &server.url("allowed.test", "/500"))
        .await
        .unwrap_err();
    assert_eq!(err.http_status().unwrap().message(), "");
    assert!(err.http_status().unwrap().body.contains("oops"));
    assert_eq!(err.to_string(), "answered HTTP 500");

    let err = get(&outbound, &server.url("allowed.test", "/404"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "answered HTTP 404");
}

#[tokio::test]
async fn a_huge_error_body_is_truncated_not_fatal() {
    let server = endless(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
        b'x',
    )
    .await;
    let err = client(policy())
        .get_json(&server.url("allowed.test", "/"), None, 1024 * 1024)
        .await
        .unwrap_err();
    let status = err.http_status().unwrap();
    assert_eq!(status.status, 503);
    assert!(status.truncated);
    assert_eq!(status.body.len(), MAX_ERROR_BODY);
    assert!(
        err.to_string().chars().count() < 400,
        "quoted text is capped"
    );
}

#[tokio::test]
async fn transport_errors_do_not_show_the_url() {
    let closed = TcpListener::bind((LOOPBACK, 0)).await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://allowed.test:{port}/cfg?registration_token=s3cret");
    let err = get(&client(policy()), &url).await.unwrap_err();
    assert_eq!(err.code(), "FETCH_FAILED");
    assert!(!err.to_string().contains("s3cret"), "{err}");
}

// ---------- redirects ----------

/// `/start?<status>` redirects with that status to `/end` (or to the `to` query value).
async fn redirect_server() -> Server {
    serve(|req, s| async move {
        let bytes = match req.target.split_once('?') {
            Some(("/start", query)) => {
                let (status, to) = query.split_once("&to=").unwrap_or((query, "/end"));
                reply(&format!("{status} Moved"), &[("Location", to)], b"")
            }
            _ => json_reply(&json!({"path": req.target})),
        };
        send(s, bytes).await;
    })
    .await
}

#[tokio::test]
async fn redirects_are_followed_and_relative_locations_resolved() {
    let server = redirect_server().await;
    let fetched = get(&client(policy()), &server.url("allowed.test", "/start?302"))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&fetched.body).unwrap()["path"],
        "/end"
    );
    assert_eq!(
        fetched.final_url.as_str(),
        server.url("allowed.test", "/end")
    );
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn methods_on_redirect() {
    let server = redirect_server().await;
    let outbound = client(policy());
    let body = json!({"a": 1});
    // (status, method of the second request, body kept)
    for (status, method, kept) in [
        (307, "POST", true),
        (308, "POST", true),
        (301, "GET", false),
        (302, "GET", false),
        (303, "GET", false),
    ] {
        let before = server.seen().len();
        outbound
            .post_json(
                &server.url("allowed.test", &format!("/start?{status}")),
                Some("tok"),
                &body,
                1024,
            )
            .await
            .unwrap();
        let second = &server.seen()[before + 1];
        assert_eq!(second.method, method, "{status}");
        assert_eq!(!second.body.is_empty(), kept, "{status}");
        assert_eq!(
            second.header("content-type").is_some(),
            kept,
            "{status}: content type follows the body"
        );
        // Same origin: the bearer stays.
        assert_eq!(second.header("authorization"), Some("Bearer tok"));
    }
    let before = server.seen().len();
    get(&outbound, &server.url("allowed.test", "/start?307"))
        .await
        .unwrap();
    assert_eq!(server.seen()[before + 1].method, "GET");
}

#[tokio::test]
async fn authorization_is_dropped_for_good_once_the_chain_leaves_the_origin() {
    let b = redirect_server().await;
    let b_start = b.url("other.test", "/start?302&to=");
    // A/start -> B/start (another origin) -> back to A/end.
    let a = serve(move |req, s| {
        let b_start = b_start.clone();
        async move {
            let bytes = if req.target == "/start" {
                let back = format!("http://{}/end", req.header("host").unwrap());
                reply(
                    "302 Found",
                    &[("Location", &format!("{b_start}{back}"))],
                    b"",
                )
            } else {
                json_reply(&json!({"path": req.target}))
            };
            send(s, bytes).await;
        }
    })
    .await;
    let outbound = client(policy());
    let fetched = outbound
        .get_json(&a.url("allowed.test", "/start"), Some("tok"), 1024)
        .await
        .unwrap();
    assert_eq!(fetched.final_url.as_str(), a.url("allowed.test", "/end"));
    let a_seen = a.seen();
    assert_eq!(a_seen[0].header("authorization"), Some("Bearer tok"));
    assert_eq!(b.seen()[0].header("authorization"), None);
    assert_eq!(a_seen[1].target, "/end");
    assert_eq!(
        a_seen[1].header("authorization"),
        None,
        "not restored on coming back"
    );

    // Same host, another port: another origin.
    let chain = b.url(
        "allowed.test",
        &format!("/start?307&to={}", a.url("allowed.test", "/end")),
    );
    outbound.get_json(&chain, Some("tok2"), 1024).await.unwrap();
    assert_eq!(b.seen()[1].header("authorization"), Some("Bearer tok2"));
    assert_eq!(a.seen()[2].header("authorization"), None);
}

#[tokio::test]
async fn a_redirect_to_a_refused_scheme_is_refused() {
    let server = redirect_server().await;
    let outbound = client(policy());
    for to in ["file:///etc/passwd", "ftp://allowed.test/x", "gopher://x/"] {
        let err = get(
            &outbound,
            &server.url("allowed.test", &format!("/start?302&to={to}")),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "URL_REFUSED", "{to}");
        assert!(err.to_string().contains("redirect"), "{err}");
    }
}

#[tokio::test]
async fn a_redirect_to_a_refused_address_is_refused_before_connecting() {
    let inner = json_server().await;
    let first = redirect_server().await;
    let outbound = client(strict_policy());
    for to in [
        // Names: refused by the resolver.
        inner.url("evil.test", "/"),
        inner.url("other.test", "/"),
        // Literals: refused by the URL check.
        inner.url("127.0.0.1", "/"),
        inner.url("[::ffff:127.0.0.1]", "/"),
        inner.url("0.0.0.0", "/"),
    ] {
        let err = get(
            &outbound,
            &first.url("lms.test", &format!("/start?302&to={to}")),
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "PRIVATE_ADDRESS", "{to}: {err}");
    }
    assert_eq!(inner.connections(), 0);
    // The first hop itself was reached each time.
    assert_eq!(first.seen().len(), 5);
}

#[tokio::test]
async fn redirects_are_bounded() {
    let server = serve(|_, s| async move {
        send(s, reply("302 Found", &[("Location", "/again")], b"")).await;
    })
    .await;
    let err = get(&client(policy()), &server.url("allowed.test", "/"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "TOO_MANY_REDIRECTS");
    assert_eq!(server.seen().len(), 4, "the first request and 3 redirects");
    let none = client(OutboundPolicy {
        max_redirects: 0,
        ..policy()
    });
    assert_eq!(
        code(get(&none, &server.url("allowed.test", "/")).await),
        "TOO_MANY_REDIRECTS"
    );
}

#[tokio::test]
async fn a_redirect_without_location_is_an_error_answer() {
    let server = serve(|_, s| async move {
        send(
            s,
            reply("302 Found", &[("Content-Type", "text/plain")], b"moved"),
        )
        .await;
    })
    .await;
    let err = get(&client(policy()), &server.url("allowed.test", "/"))
        .await
        .unwrap_err();
    assert_eq!(err.http_status().unwrap().status, 302);
}

// ---------- requests for the services: methods, bodies, media types, headers ----------

const LINEITEM: &str = "application/vnd.ims.lis.v2.lineitem+json";
const SCORE: &str = "application/vnd.ims.lis.v1.score+json";
const MEMBERSHIPS: &str = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json";

/// Answers `status` with `headers` and `body` to every request.
async fn answering(
    status: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
) -> Server {
    serve(move |_, s| async move { send(s, reply(status, headers, body)).await }).await
}

#[tokio::test]
async fn every_method_is_sent_as_asked_with_the_user_agent() {
    let server = json_server().await;
    let outbound = client(policy());
    let url = server.url("allowed.test", "/lineitems/7?x=1");
    let body = Body::json(&json!({"scoreMaximum": 10})).unwrap();
    for (request, method, has_body) in [
        (Request::get(&url), "GET", false),
        (Request::post(&url).body(body.clone()), "POST", true),
        (Request::put(&url).body(body.clone()), "PUT", true),
        (Request::delete(&url), "DELETE", false),
    ] {
        let before = server.seen().len();
        let response = outbound.send(request).await.unwrap();
        assert_eq!(response.status, 200, "{method}");
        let seen = &server.seen()[before];
        assert_eq!(seen.method, method);
        assert_eq!(seen.target, "/lineitems/7?x=1", "{method}");
        assert_eq!(seen.header("user-agent"), Some(USER_AGENT), "{method}");
        assert_eq!(seen.header("accept"), Some("application/json"), "{method}");
        assert_eq!(!seen.body.is_empty(), has_body, "{method}");
        assert_eq!(
            seen.header("content-type"),
            has_body.then_some("application/json"),
            "{method}: a content type only with a body"
        );
    }
    assert_eq!(
        USER_AGENT,
        format!("ltigate/{}", env!("CARGO_PKG_VERSION")),
        "the crate's own version"
    );
}

#[tokio::test]
async fn a_form_body_is_url_encoded_in_order() {
    let server = json_server().await;
    // A client assertion is base64url with dots; the scopes are URLs separated by a space.
    let assertion = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln-_";
    let scope = "https://purl.imsglobal.org/spec/lti-ags/scope/score https://x.test/a+b=c&d";
    let form = Body::form([
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
        ("scope", scope),
    ]);
    client(policy())
        .send(Request::post(server.url("allowed.test", "/token")).body(form))
        .await
        .unwrap();
    let seen = &server.seen()[0];
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let body = String::from_utf8(seen.body.clone()).unwrap();
    assert_eq!(
        body,
        "grant_type=client_credentials\
         &client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer\
         &client_assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln-_\
         &scope=https%3A%2F%2Fpurl.imsglobal.org%2Fspec%2Flti-ags%2Fscope%2Fscore+https%3A%2F%2Fx.test%2Fa%2Bb%3Dc%26d"
    );
    let decoded: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(decoded[2], ("client_assertion".into(), assertion.into()));
    assert_eq!(decoded[3], ("scope".into(), scope.into()));
}

#[tokio::test]
async fn ims_media_types_are_sent_as_given_and_accepted_back() {
    let server = serve(|req, s| async move {
        let body = json!({"path": req.target}).to_string();
        let bytes = reply("200 OK", &[("Content-Type", LINEITEM)], body.as_bytes());
        send(s, bytes).await;
    })
    .await;
    let outbound = client(policy());
    let score = Body::json(&json!({"userId": "u1", "scoreGiven": 7})).unwrap();
    let response = outbound
        .send(
            Request::post(server.url("allowed.test", "/lineitems/7/scores"))
                .accept(LINEITEM)
                .content_type(SCORE)
                .body(score),
        )
        .await
        .unwrap();
    let seen = &server.seen()[0];
    assert_eq!(seen.header("accept"), Some(LINEITEM));
    assert_eq!(seen.header("content-type"), Some(SCORE));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&seen.body).unwrap()["scoreGiven"],
        7
    );
    assert_eq!(response.header("content-type"), Some(LINEITEM));
    assert!(response.body.is_some());

    // No body: the content type is not sent even when named.
    outbound
        .send(
            Request::get(server.url("allowed.test", "/memberships"))
                .accept(MEMBERSHIPS)
                .content_type(SCORE),
        )
        .await
        .unwrap();
    let seen = &server.seen()[1];
    assert_eq!(seen.header("accept"), Some(MEMBERSHIPS));
    assert_eq!(seen.header("content-type"), None);
}

#[tokio::test]
async fn a_media_type_or_bearer_that_is_not_a_header_is_refused_before_connecting() {
    let server = json_server().await;
    let outbound = client(policy());
    let url = server.url("allowed.test", "/");
    for request in [
        Request::get(&url).accept("application/json\r\nX-Injected: 1"),
        Request::post(&url)
            .content_type("a/b\nc")
            .body(Body::form([("a", "b")])),
        Request::get(&url).bearer("tok\r\nX-Injected: 1"),
    ] {
        let err = outbound.send(request).await.unwrap_err();
        assert_eq!(err.code(), "URL_REFUSED");
        assert!(!err.to_string().contains("Injected"), "{err}");
    }
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn response_headers_come_back_with_every_link() {
    let server = answering(
        "200 OK",
        &[
            ("Content-Type", MEMBERSHIPS),
            ("Link", "<https://lms.test/m?page=2>; rel=\"next\""),
            ("Link", "<https://lms.test/m?page=9>; rel=\"last\""),
            ("X-Other", "1"),
        ],
        b"{\"members\":[]}",
    )
    .await;
    let response = client(policy())
        .send(Request::get(server.url("allowed.test", "/m")).accept(MEMBERSHIPS))
        .await
        .unwrap();
    assert_eq!(
        response.header_values("link").collect::<Vec<_>>(),
        [
            "<https://lms.test/m?page=2>; rel=\"next\"",
            "<https://lms.test/m?page=9>; rel=\"last\""
        ]
    );
    assert_eq!(
        response.header("LINK"),
        Some("<https://lms.test/m?page=2>; rel=\"next\"")
    );
    assert_eq!(response.header("x-other"), Some("1"));
    assert_eq!(response.header("absent"), None);
    assert_eq!(response.body.as_deref(), Some(&b"{\"members\":[]}"[..]));
}

#[tokio::test]
async fn a_success_without_body_comes_back_empty_and_one_with_another_body_is_refused() {
    let server = serve(|req, s| async move {
        let bytes = match req.target.as_str() {
            "/204" => b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_vec(),
            "/200-empty" => reply("200 OK", &[], b""),
            "/200-empty-chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n".to_vec(),
            "/200-json-empty" => reply("200 OK", &[("Content-Type", "application/json")], b""),
            _ => reply("200 OK", &[("Content-Type", "text/html")], b"<html>ok</html>"),
        };
        send(s, bytes).await;
    })
    .await;
    let outbound = client(policy());
    for path in [
        "/204",
        "/200-empty",
        "/200-empty-chunked",
        "/200-json-empty",
    ] {
        let response = outbound
            .send(Request::delete(server.url("allowed.test", path)))
            .await
            .unwrap();
        assert!(response.body.is_none(), "{path}");
    }
    let response = outbound
        .send(Request::delete(server.url("allowed.test", "/204")))
        .await
        .unwrap();
    assert_eq!(response.status, 204);
    let html = outbound
        .send(Request::put(server.url("allowed.test", "/html")).body(Body::form([("a", "b")])))
        .await;
    assert_eq!(code(html), "NOT_JSON");

    // The JSON short forms still want a document: nothing is an error unless labelled JSON.
    assert_eq!(
        code(get(&outbound, &server.url("allowed.test", "/204")).await),
        "NOT_JSON"
    );
    let empty_json = get(&outbound, &server.url("allowed.test", "/200-json-empty"))
        .await
        .unwrap();
    assert!(empty_json.body.is_empty());
}

#[tokio::test]
async fn writes_are_bounded_in_size_and_time_too() {
    let endless_json = endless(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
        b' ',
    )
    .await;
    let outbound = client(policy());
    let form = Body::form([("grant_type", "client_credentials")]);
    let json_body = Body::json(&json!({"a": 1})).unwrap();
    let url = endless_json.url("allowed.test", "/");
    for request in [
        Request::post(&url).body(form.clone()),
        Request::put(&url).body(json_body.clone()),
        Request::delete(&url),
    ] {
        let result = outbound.send(request.max_bytes(4096)).await;
        assert!(
            matches!(result, Err(FetchError::TooLarge(4096))),
            "{result:?}"
        );
    }

    let silent = silent().await;
    let short = impatient();
    let url = silent.url("allowed.test", "/");
    for request in [
        Request::post(&url).body(form),
        Request::put(&url).body(json_body),
        Request::delete(&url),
    ] {
        let start = Instant::now();
        assert_eq!(code(short.send(request).await), "FETCH_TIMEOUT");
        assert!(start.elapsed() < BOUNDED, "{:?}", start.elapsed());
    }
}

#[tokio::test]
async fn writes_do_not_follow_redirects_unless_asked() {
    let server = redirect_server().await;
    let outbound = client(policy());
    let body = Body::json(&json!({"a": 1})).unwrap();
    for status in [301, 302, 303, 307, 308] {
        let url = server.url("allowed.test", &format!("/start?{status}"));
        for request in [
            Request::post(&url).body(body.clone()),
            Request::put(&url).body(body.clone()),
            Request::delete(&url),
        ] {
            let before = server.seen().len();
            let err = outbound.send(request.bearer("tok")).await.unwrap_err();
            assert_eq!(err.http_status().map(|s| s.status), Some(status));
            assert_eq!(server.seen().len(), before + 1, "{status}: not followed");
        }
    }
    // Opted in: 307/308 repeat the method and body, 303 turns to a GET, 301/302 keep a PUT.
    for (status, method, kept) in [
        (307, "PUT", true),
        (308, "DELETE", false),
        (303, "GET", false),
        (302, "PUT", true),
    ] {
        let url = server.url("allowed.test", &format!("/start?{status}"));
        let request = match method {
            "DELETE" => Request::delete(&url),
            _ => Request::put(&url).body(body.clone()),
        };
        let before = server.seen().len();
        let response = outbound
            .send(request.follow_redirects().bearer("tok"))
            .await
            .unwrap();
        assert_eq!(response.final_url.path(), "/end");
        let second = &server.seen()[before + 1];
        assert_eq!(second.method, method, "{status}");
        assert_eq!(!second.body.is_empty(), kept, "{status}");
        assert_eq!(second.header("authorization"), Some("Bearer tok"));
        assert_eq!(second.header("user-agent"), Some(USER_AGENT));
    }
    // GET follows by default.
    let response = outbound
        .send(Request::get(server.url("allowed.test", "/start?308")))
        .await
        .unwrap();
    assert_eq!(response.final_url.path(), "/end");
}

#[tokio::test]
async fn a_write_that_follows_a_redirect_drops_the_bearer_across_origins() {
    let end = json_server().await;
    let start = redirect_server().await;
    let to = end.url("other.test", "/end");
    let response = client(policy())
        .send(
            Request::put(start.url("allowed.test", &format!("/start?307&to={to}")))
                .body(Body::json(&json!({"a": 1})).unwrap())
                .bearer("tok")
                .follow_redirects(),
        )
        .await
        .unwrap();
    assert_eq!(response.final_url.as_str(), to);
    assert_eq!(start.seen()[0].header("authorization"), Some("Bearer tok"));
    let moved = &end.seen()[0];
    assert_eq!(
        (moved.method.as_str(), moved.header("authorization")),
        ("PUT", None)
    );
}

#[test]
fn a_request_prints_neither_its_bearer_nor_its_body_nor_its_url() {
    let request = Request::post("https://lms.test/token?registration_token=secret-1")
        .bearer("secret-2")
        .body(Body::form([("client_assertion", "secret-3")]));
    let printed = format!("{request:?}");
    for secret in ["secret-1", "secret-2", "secret-3"] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(
        printed.contains("Post") && printed.contains("[redacted]"),
        "{printed}"
    );
}

#[tokio::test]
async fn the_simulator_sees_the_user_agent_of_a_jwks_fetch() {
    let sim = ltisim::Simulator::start().await.unwrap();
    assert_eq!(sim.user_agent_seen(&sim.jwks_uri()), None, "nothing yet");
    let jwks = Outbound::new(policy())
        .unwrap()
        .get_json(&sim.jwks_uri(), None, 64 * 1024)
        .await
        .unwrap();
    assert!(!jwks.body.is_empty());
    assert_eq!(
        sim.user_agent_seen(&sim.jwks_uri()).as_deref(),
        Some(USER_AGENT)
    );
}
