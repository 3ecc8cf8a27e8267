//! Property tests of `Authorization` parsing for the admin API (`Bearer <ADMIN_KEY>`), the app
//! API's registrations (`Bearer <API_KEY>`) and its launches (`LTIK-AUTH-V2 <API_KEY>:<LTIK>`),
//! through the real router on a real SQLite store: arbitrary header values never panic and
//! never authenticate; an edited valid header authenticates only when it still carries the
//! exact credential (surrounding blanks aside).

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use tower::ServiceExt;

use crate::clock::Clock;
use crate::config::Config;
use crate::http::AppState;
use crate::secret::{KeyHash, random_token};
use crate::server::Server;
use crate::store::{LaunchWrite, NewPlatform, PlatformKey, PlatformStatus};

/// Enough to find a parsing slip; each case is one in-process request.
const CASES: u32 = 256;

/// An AppState on a fresh database holding one unexpired launch.
struct Fixture {
    state: AppState,
    admin_key: String,
    api_key: String,
    ltik: String,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (admin_key, api_key, ltik) = (random_token(24), random_token(24), random_token(24));
        let config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            database_url: format!("sqlite://{}", dir.path().join("auth.db").display()),
            admin_key: Some(KeyHash::of(&admin_key)),
            api_keys: vec![KeyHash::of(&api_key)],
            ..Config::default()
        };
        let server = Server::bind(config, Clock::System)
            .await
            .expect("server binds");
        let state = server.state().clone();
        let now = state.clock.now();
        let platform = state
            .store
            .insert_platform(
                &NewPlatform {
                    issuer: "https://lms.example.edu".into(),
                    client_id: "client-1".into(),
                    name: "LMS".into(),
                    auth_endpoint: "https://lms.example.edu/auth".into(),
                    token_endpoint: "https://lms.example.edu/token".into(),
                    key: PlatformKey::JwkSet("https://lms.example.edu/jwks".into()),
                    status: PlatformStatus::Active,
                    allow_new_deployments: false,
                    product_family: None,
                    version: None,
                    scopes: Vec::new(),
                    deployment_ids: vec!["deployment-1".into()],
                },
                now,
            )
            .await
            .expect("platform stored");
        state
            .store
            .record_launch(&LaunchWrite {
                nonce_hash: "nonce-hash",
                ltik_hash: &KeyHash::of(&ltik).to_stored(),
                platform_id: &platform.id,
                deployment_id: "deployment-1",
                record_deployment: false,
                claims: r#"{"sub":"user-1"}"#,
                service_key: None,
                now,
                expires_at: now + 3600,
            })
            .await
            .expect("launch stored");
        Self {
            state,
            admin_key,
            api_key,
            ltik,
            _dir: dir,
        }
    }

    /// Whether the route let the header through: anything but 401 (a 404 for an unknown
    /// registration id still means the key was accepted).
    async fn authenticates(&self, route: Route, header: &HeaderValue) -> bool {
        let request = Request::get(route.path())
            .header("authorization", header.clone())
            .body(Body::empty())
            .expect("request");
        let response = crate::http::app(self.state.clone())
            .oneshot(request)
            .await
            .expect("the router answers");
        response.status() != StatusCode::UNAUTHORIZED
    }

    /// The exact header each route accepts.
    fn valid_header(&self, route: Route) -> String {
        match route {
            Route::Admin => format!("Bearer {}", self.admin_key),
            Route::AppKey => format!("Bearer {}", self.api_key),
            Route::Launch => format!("LTIK-AUTH-V2 {}:{}", self.api_key, self.ltik),
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
    let fixture = runtime.block_on(Fixture::new());
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
