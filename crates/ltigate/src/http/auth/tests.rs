//! Property tests of `Authorization` parsing for the admin API (`Bearer <ADMIN_KEY>`), the app
//! API's registrations (`Bearer <API_KEY>`) and its launches (`LTIK-AUTH-V2 <API_KEY>:<LTIK>`),
//! through the real router on a real SQLite store: arbitrary header values never panic and
//! never authenticate; an edited valid header authenticates only when it still carries the
//! exact credential (surrounding blanks aside).

use crate::http::router_tests::Fixture;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

/// Enough to find a parsing slip; each case is one in-process request.
const CASES: u32 = 256;

impl Fixture {
    /// Whether the route let the header through: anything but 401 (a 404 for an unknown
    /// registration id still means the key was accepted).
    async fn authenticates(&self, route: Route, header: &HeaderValue) -> bool {
        let request = Request::get(route.path())
            .header("authorization", header.clone())
            .body(Body::empty())
            .expect("request");
        self.send(request).await.status != StatusCode::UNAUTHORIZED
    }

    /// The exact header each route accepts.
    fn valid_header(&self, route: Route) -> String {
        match route {
            Route::Admin => self.admin_header(),
            Route::AppKey => self.app_key_header(),
            Route::Launch => self.launch_header(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Route {
    Admin,
    AppKey,
    Launch,
}

impl Route {
    const ALL: [Self; 3] = [Self::Admin, Self::AppKey, Self::Launch];

    fn path(self) -> &'static str {
        match self {
            Self::Admin => "/admin/platforms",
            Self::AppKey => "/api/registrations/unknown",
            Self::Launch => "/api/idtoken",
        }
    }

    /// The scheme and a space, which the credential follows.
    fn scheme(self) -> &'static str {
        match self {
            Self::Admin | Self::AppKey => "Bearer ",
            Self::Launch => "LTIK-AUTH-V2 ",
        }
    }
}

/// The credential part of a header, blanks around it dropped: what must equal the exact
/// credential for the header to authenticate.
fn credential(route: Route, header: &[u8]) -> Option<&str> {
    std::str::from_utf8(header)
        .ok()?
        .strip_prefix(route.scheme())
        .map(|c| c.trim_matches([' ', '\t']))
}

/// Runs `check` on `CASES` values of `strategy` against one fixture.
fn run<S: Strategy>(
    strategy: S,
    check: impl Fn(&tokio::runtime::Runtime, &Fixture, S::Value) -> Result<(), TestCaseError>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The parser is under test, not the limit on wrong admin keys (see `tests/admin_api.rs`),
    // which thousands of wrong keys from one client would reach.
    let fixture = runtime.block_on(Fixture::with_config(|config| {
        config.admin_sign_in_limit.per_minute = 0;
    }));
    for route in Route::ALL {
        let valid = HeaderValue::from_str(&fixture.valid_header(route)).expect("header");
        assert!(
            runtime.block_on(fixture.authenticates(route, &valid)),
            "{route:?}: the exact header authenticates"
        );
    }
    let mut runner = TestRunner::new(ProptestConfig::with_cases(CASES));
    if let Err(e) = runner.run(&strategy, |value| check(&runtime, &fixture, value)) {
        panic!("{e}");
    }
}

fn route() -> impl Strategy<Value = Route> {
    prop::sample::select(Route::ALL.to_vec())
}

/// Bytes a header value may hold (visible ASCII, blanks and obs-text), with the schemes and
/// separators mixed in so the parser's branches are reached.
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::collection::vec(prop_oneof![0x20u8..0x7f, Just(b'\t'), 0x80u8..=0xff], 0..24),
        prop::sample::select(vec![
            "Bearer ",
            "bearer ",
            "Bearer",
            "LTIK-AUTH-V2 ",
            "LTIK-AUTH-V2",
            "SERVICE-AUTH-V1 ",
            ":",
            "::",
            " ",
            "\t",
            "%00",
            "sha256:",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.concat())
}

/// One edit of a valid header.
#[derive(Clone, Debug)]
enum Edit {
    Insert(usize, u8),
    Delete(usize),
    Replace(usize, u8),
    Truncate(usize),
    Append(Vec<u8>),
    Prepend(Vec<u8>),
    FlipCase(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![0x20u8..0x7f, Just(b'\t'), 0x80u8..=0xff];
    let bytes = prop::collection::vec(byte.clone(), 1..4);
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Replace(i, b)),
        any::<usize>().prop_map(Edit::Truncate),
        bytes.clone().prop_map(Edit::Append),
        bytes.prop_map(Edit::Prepend),
        any::<usize>().prop_map(Edit::FlipCase),
    ]
}

fn apply(header: &mut Vec<u8>, edit: &Edit) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match edit {
        Edit::Insert(i, b) => header.insert(at(*i, header.len() + 1), *b),
        Edit::Delete(i) if !header.is_empty() => {
            header.remove(at(*i, header.len()));
        }
        Edit::Replace(i, b) if !header.is_empty() => {
            let i = at(*i, header.len());
            header[i] = *b;
        }
        Edit::Truncate(i) => header.truncate(at(*i, header.len())),
        Edit::Append(bytes) => header.extend_from_slice(bytes),
        Edit::Prepend(bytes) => {
            header.splice(0..0, bytes.iter().copied());
        }
        Edit::FlipCase(i) if !header.is_empty() => {
            let i = at(*i, header.len());
            header[i] = if header[i].is_ascii_lowercase() {
                header[i].to_ascii_uppercase()
            } else {
                header[i].to_ascii_lowercase()
            };
        }
        Edit::Delete(_) | Edit::Replace(..) | Edit::FlipCase(_) => {}
    }
}

#[test]
fn arbitrary_authorization_headers_never_authenticate() {
    run(
        (route(), header_bytes()),
        |runtime, fixture, (route, bytes)| {
            // Bytes a client cannot send (control characters) never reach a handler.
            let Ok(header) = HeaderValue::from_bytes(&bytes) else {
                return Ok(());
            };
            prop_assert!(
                !runtime.block_on(fixture.authenticates(route, &header)),
                "{:?} let {:?} through",
                route,
                header
            );
            Ok(())
        },
    );
}

#[test]
fn an_edited_header_authenticates_only_with_the_exact_credential() {
    let edits = prop::collection::vec(edit(), 1..4);
    run((route(), edits), |runtime, fixture, (route, edits)| {
        let valid = fixture.valid_header(route);
        let mut bytes = valid.clone().into_bytes();
        for edit in &edits {
            apply(&mut bytes, edit);
        }
        let Ok(header) = HeaderValue::from_bytes(&bytes) else {
            return Ok(());
        };
        if runtime.block_on(fixture.authenticates(route, &header)) {
            let exact = credential(route, valid.as_bytes());
            prop_assert_eq!(
                credential(route, &bytes),
                exact,
                "{:?} let an edited credential through: {:?}",
                route,
                header
            );
        }
        Ok(())
    });
}
