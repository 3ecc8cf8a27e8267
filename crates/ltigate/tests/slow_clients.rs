//! Slow and idle clients on a real socket: the server bounds header read time, idle keep-alive
//! time, request time (body included) and the number of open connections.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod common;

use std::ops::Range;
use std::time::{Duration, Instant};

use common::TestGate;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n";

/// What a raw client saw within its wait.
#[derive(Debug)]
enum Seen {
    /// The server closed (or reset) the connection without answering.
    Closed,
    /// One whole HTTP response (head and `content-length` body).
    Answer(String),
    /// Neither: the connection is open and silent.
    Nothing,
}

/// Reads one response, or notices the close, for at most `wait`.
async fn read_answer(stream: &mut (impl AsyncRead + Unpin), wait: Duration) -> Seen {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut chunk = [0u8; 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            }
            if whole_response(&bytes) {
                return;
            }
        }
    })
    .await;
    match (read, bytes.is_empty()) {
        (Err(_), true) => Seen::Nothing,
        (Ok(()), true) => Seen::Closed,
        (_, false) => Seen::Answer(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

fn whole_response(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    body.len() >= length
}

fn assert_ok(seen: &Seen) {
    assert!(
        matches!(seen, Seen::Answer(a) if a.starts_with("HTTP/1.1 200")),
        "{seen:?}"
    );
}

/// Asserts that the server closes `stream` without a word, within `window` from now.
async fn expect_closed_within(stream: &mut TcpStream, window: Range<Duration>) {
    let started = Instant::now();
    let seen = read_answer(stream, window.end + Duration::from_secs(2)).await;
    let elapsed = started.elapsed();
    assert!(matches!(seen, Seen::Closed), "{seen:?}");
    assert!(window.contains(&elapsed), "closed after {elapsed:?}");
}

/// Writes `bytes` one at a time, `pause` apart, until done or the server hangs up.
async fn drip(mut writer: impl AsyncWrite + Unpin, bytes: Vec<u8>, pause: Duration) {
    for byte in bytes {
        if writer.write_all(&[byte]).await.is_err() {
            return;
        }
        tokio::time::sleep(pause).await;
    }
}

#[tokio::test]
async fn a_header_dripped_slower_than_the_header_timeout_is_cut() {
    let gate = TestGate::start(|c| c.timeouts.header_read = Duration::from_secs(1)).await;
    let (mut reader, writer) = TcpStream::connect(gate.addr).await.unwrap().into_split();
    // 60 bytes, 80 ms apart: about 5 s for headers that must arrive within 1 s.
    let request = format!(
        "GET /healthz HTTP/1.1\r\nhost: localhost\r\nx-slow: {}\r\n\r\n",
        "a".repeat(12)
    );
    let started = Instant::now();
    let dripping = tokio::spawn(drip(
        writer,
        request.into_bytes(),
        Duration::from_millis(80),
    ));

    let seen = read_answer(&mut reader, Duration::from_secs(8)).await;
    let elapsed = started.elapsed();
    match &seen {
        Seen::Closed => {}
        Seen::Answer(answer) => assert!(answer.starts_with("HTTP/1.1 408"), "{answer}"),
        Seen::Nothing => panic!("the slow header was neither answered nor cut"),
    }
    assert!(
        elapsed < Duration::from_secs(3),
        "cut after {elapsed:?}, before the header was complete: {seen:?}"
    );
    dripping.abort();
}

#[tokio::test]
async fn a_connection_that_never_sends_a_byte_is_closed_after_the_header_timeout() {
    let gate = TestGate::start(|c| c.timeouts.header_read = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(gate.addr).await.unwrap();
    expect_closed_within(
        &mut stream,
        Duration::from_millis(900)..Duration::from_secs(4),
    )
    .await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let gate = TestGate::start(|c| {
        c.timeouts.header_read = Duration::from_secs(1);
        c.timeouts.keep_alive_idle = Duration::from_secs(3);
    })
    .await;
    let mut stream = TcpStream::connect(gate.addr).await.unwrap();
    stream.write_all(HEALTHZ).await.unwrap();
    assert_ok(&read_answer(&mut stream, Duration::from_secs(5)).await);

    // Idle for longer than the header timeout but within the idle timeout: still served.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stream.write_all(HEALTHZ).await.unwrap();
    assert_ok(&read_answer(&mut stream, Duration::from_secs(5)).await);

    expect_closed_within(
        &mut stream,
        Duration::from_millis(2500)..Duration::from_secs(6),
    )
    .await;
}

#[tokio::test]
async fn a_slow_body_is_cut_by_the_request_timeout() {
    let gate = TestGate::start(|c| c.timeouts.request = Duration::from_secs(1)).await;
    let (mut reader, mut writer) = TcpStream::connect(gate.addr).await.unwrap().into_split();
    // The headers arrive at once; the 200-byte form body would take 10 s.
    writer
        .write_all(
            b"POST /lti/launch HTTP/1.1\r\nhost: localhost\r\n\
              content-type: application/x-www-form-urlencoded\r\ncontent-length: 200\r\n\r\n",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let dripping = tokio::spawn(drip(writer, vec![b'a'; 200], Duration::from_millis(50)));

    let seen = read_answer(&mut reader, Duration::from_secs(6)).await;
    let elapsed = started.elapsed();
    let Seen::Answer(answer) = seen else {
        panic!("no answer to a slow body: {seen:?}");
    };
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");
    assert!(
        elapsed < Duration::from_secs(3),
        "answered after {elapsed:?}"
    );
    dripping.abort();
}

#[tokio::test]
async fn normal_requests_are_served_under_tight_bounds() {
    let gate = TestGate::start(|c| {
        c.timeouts.header_read = Duration::from_secs(1);
        c.timeouts.keep_alive_idle = Duration::from_secs(1);
        c.timeouts.request = Duration::from_secs(2);
        c.limits.max_connections = 2;
    })
    .await;
    for _ in 0..3 {
        let health = gate.client.get(gate.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);
        let keys = gate
            .client
            .get(gate.url("//lti/keys"))
            .send()
            .await
            .unwrap();
        assert_eq!(keys.status(), 200);
        let platforms = gate
            .admin_json(reqwest::Method::GET, "/admin/platforms", None)
            .await;
        assert!(platforms["platforms"].is_array(), "{platforms}");
    }
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let gate = TestGate::start(|c| {
        c.limits.max_connections = 2;
        c.timeouts.header_read = Duration::from_secs(5);
    })
    .await;
    let first = TcpStream::connect(gate.addr).await.unwrap();
    let _second = TcpStream::connect(gate.addr).await.unwrap();
    // Let the server accept both before the third arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(gate.addr).await.unwrap();
    third.write_all(HEALTHZ).await.unwrap();

    let waiting = read_answer(&mut third, Duration::from_secs(1)).await;
    assert!(
        matches!(waiting, Seen::Nothing),
        "served over the cap: {waiting:?}"
    );

    drop(first);
    assert_ok(&read_answer(&mut third, Duration::from_secs(3)).await);
}
