//! `ltigate demo`: the whole launch on one machine, to click through in a browser.
//!
//! It starts three servers on loopback, all in this process:
//! - ltigate, on a SQLite database in a temporary folder (deleted when the demo stops);
//! - the LMS simulator ([`ltisim`]), registered as an active platform of that ltigate, with
//!   ltigate registered as a tool on the simulator's side;
//! - a sample app, the kind of app ltigate serves: it receives `?ltik=…`, asks ltigate's
//!   `GET /api/idtoken` who launched it (server-side, with the demo's API key) and shows it;
//!   then it uses LTI Advantage through ltigate's API: it lists the course roster (NRPS),
//!   posts a grade that appears in the simulator's gradebook (AGS) and, on a deep linking
//!   launch, returns the content item the instructor picks to the simulator's course page.
//!
//! The simulator's course page is the one URL to open: its "Launch" button runs the real flow
//! (OIDC login, authorization, id_token, launch, ltik, idtoken) inside an iframe.
//!
//! It is not a way to run ltigate for real: nothing is kept, the simulator has no users, and
//! the configuration file is not read.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use ltisim::{MessageType, Simulator, Storage, Tool};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

use crate::clock::Clock;
use crate::config::Config;
use crate::platform_input::{self, AuthConfig, PlatformFields};
use crate::secret::{KeyHash, random_token};
use crate::server::{Server, StartError};
use crate::store::KeyMethod;

mod pages;
use pages::{GradeSentPage, LaunchPage, Notice, Roster};

/// The client id the simulator issues to ltigate in the demo.
pub const CLIENT_ID: &str = "ltigate-demo";
/// The one deployment of ltigate in the simulated LMS.
pub const DEPLOYMENT_ID: &str = "demo-deployment";

/// How to start the demo.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// ltigate's port on 127.0.0.1; 0 lets the system choose. The simulator and the sample
    /// app always get free ports.
    pub port: u16,
    /// Serve ltigate to the browser as `http://localhost:PORT` while the simulator is on
    /// `127.0.0.1`. The two are then different sites, as an LMS and a tool are in
    /// production, so the browser does not keep ltigate's state cookie inside the LMS frame
    /// and only platform storage can carry the login state.
    pub cross_site: bool,
}

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    #[error("cannot create a temporary folder: {0}")]
    TempDir(#[source] std::io::Error),
    #[error(transparent)]
    Gate(#[from] StartError),
    #[error("cannot start the {what}: {source}")]
    Start {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot register the simulator as a platform: {0}")]
    Register(String),
    #[error("cannot build the sample app's HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// A running demo. [`Demo::stop`] stops it; so does dropping it (without waiting).
#[derive(Debug)]
pub struct Demo {
    sim: Simulator,
    gate_url: String,
    app_url: String,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Holds the SQLite database; deleted on drop.
    _dir: tempfile::TempDir,
}

impl Demo {
    /// Starts ltigate, the simulator and the sample app, and registers each side with the
    /// other.
    pub async fn start(options: DemoOptions) -> Result<Self, DemoError> {
        let dir = tempfile::Builder::new()
            .prefix("ltigate-demo-")
            .tempdir()
            .map_err(DemoError::TempDir)?;
        let start = |what| move |source| DemoError::Start { what, source };

        // The app's socket first: ltigate's configuration needs its URL.
        let app_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(start("sample app"))?;
        let app_url = format!(
            "http://{}",
            app_listener.local_addr().map_err(start("sample app"))?
        );

        let api_key = random_token(24);
        let mut config = Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, options.port)),
            database_url: format!("sqlite://{}", dir.path().join("demo.db").display()),
            allow_insecure_http: true,
            api_keys: vec![KeyHash::of(&api_key)],
            ..Config::default()
        };
        config.tool.name = "ltigate demo".into();
        // The simulator's JWKS is on loopback, which outbound fetches refuse by default.
        config.registration.allow_private_networks = true;
        config.app.launch_url = Url::parse(&format!("{app_url}/launch")).ok();
        config.app.deep_linking_url = Url::parse(&format!("{app_url}/deep-linking")).ok();
        // Stopping the demo should not wait on a browser's idle connections.
        config.timeouts.shutdown_grace = Duration::from_secs(2);
        if options.cross_site {
            // The public URL must carry the real port, so choose it before ltigate binds.
            let port = match options.port {
                0 => free_port().map_err(start("ltigate"))?,
                port => port,
            };
            config.listen.set_port(port);
            config.public_url = Url::parse(&format!("http://localhost:{port}")).ok();
        }
        let server = Server::bind(config, Clock::System).await?;
        let state = server.state().clone();
        let gate_url = state.config.public_endpoint("");
        // The app reaches ltigate directly, whatever name the browser uses.
        let gate_local = format!("http://{}", server.local_addr().map_err(start("ltigate"))?);

        let sim = Simulator::start().await.map_err(start("LMS simulator"))?;
        let launch_url = state.config.public_endpoint("/lti/launch");
        sim.add_tool(Tool {
            client_id: CLIENT_ID.into(),
            deployment_id: DEPLOYMENT_ID.into(),
            login_url: state.config.public_endpoint("/lti/login"),
            redirect_uris: vec![launch_url.clone()],
            target_link_uri: launch_url,
            deep_linking_url: None,
            // The simulator fetches ltigate's keys itself, like the app, directly.
            jwks_uri: Some(format!("{gate_local}/lti/keys")),
        });
        let fields = PlatformFields {
            url: Some(sim.issuer()),
            client_id: Some(CLIENT_ID.into()),
            name: Some("LMS simulator".into()),
            authentication_endpoint: Some(sim.authorization_endpoint()),
            accesstoken_endpoint: Some(sim.token_endpoint()),
            authorization_server: None,
            auth_config: Some(AuthConfig {
                method: KeyMethod::JwkSet.as_str().into(),
                key: sim.jwks_uri().into(),
            }),
            deployment_ids: Some(vec![DEPLOYMENT_ID.into()]),
            active: Some(true),
            allow_new_deployments: None,
        };
        let platform = platform_input::new_platform(fields, true)
            .map_err(|e| DemoError::Register(format!("{e} ({})", e.code())))?;
        state
            .platforms
            .create(&platform)
            .await
            .map_err(|e| DemoError::Register(e.to_string()))?;

        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(DemoError::HttpClient)?;
        let app = sample_app(SampleApp {
            gate: gate_local,
            api_key,
            client,
            gradebook_url: sim.gradebook_url(),
        });

        let (stop, stopped) = watch::channel(false);
        let gate_task = tokio::spawn({
            let stopped = stopped.clone();
            async move {
                if let Err(e) = server.run(stop_requested(stopped)).await {
                    tracing::error!(error = %e, "ltigate stopped with an error");
                }
            }
        });
        let app_task = tokio::spawn(async move {
            let served = axum::serve(app_listener, app)
                .with_graceful_shutdown(stop_requested(stopped))
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the sample app stopped with an error");
            }
        });
        Ok(Self {
            sim,
            gate_url,
            app_url,
            stop,
            tasks: vec![gate_task, app_task],
            _dir: dir,
        })
    }

    /// The simulator's course page for a resource link launch of ltigate: the URL to open.
    pub fn course_page_url(&self, storage: Storage) -> String {
        self.sim
            .launch_page_url(CLIENT_ID, MessageType::ResourceLink, storage)
    }

    /// The simulator's course page for a deep linking launch of ltigate: the app's content
    /// picker opens in the frame, and picked items appear on this page.
    pub fn deep_linking_page_url(&self) -> String {
        self.sim
            .launch_page_url(CLIENT_ID, MessageType::DeepLinking, Storage::Cookie)
    }

    /// ltigate's public base URL, without a trailing slash.
    pub fn gate_url(&self) -> &str {
        &self.gate_url
    }

    /// The sample app's base URL.
    pub fn app_url(&self) -> &str {
        &self.app_url
    }

    /// The running simulator (to change its claims, keys or tampering).
    pub fn simulator(&self) -> &Simulator {
        &self.sim
    }

    /// What `ltigate demo` prints: the URL to open first.
    pub fn banner(&self) -> String {
        format!(
            "ltigate demo is running. Open this URL in a browser and click \"Launch\":\n\
             \n\
             \x20 {cookie}\n\
             \n\
             The same launch with LTI platform storage (postMessage) instead of a cookie:\n\
             \x20 {platform}\n\
             \n\
             A deep linking launch (pick content for the course):\n\
             \x20 {deep_linking}\n\
             \n\
             The simulator's gradebook, where grades posted by the app appear:\n\
             \x20 {gradebook}\n\
             \n\
             (ltigate on {gate}, sample app on {app}, LMS simulator on {sim};\n\
             \x20temporary database, deleted on exit. Press Ctrl-C to stop.)",
            cookie = self.course_page_url(Storage::Cookie),
            platform = self.course_page_url(Storage::Platform),
            deep_linking = self.deep_linking_page_url(),
            gradebook = self.sim.gradebook_url(),
            gate = self.gate_url,
            app = self.app_url,
            sim = self.sim.base_url(),
        )
    }

    /// Stops the servers (in-flight requests get a short grace) and deletes the database.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// `ltigate demo`: starts the demo, prints the URL and runs until `shutdown` completes.
pub async fn run(
    options: DemoOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DemoError> {
    let demo = Demo::start(options).await?;
    println!("{}", demo.banner());
    shutdown.await;
    demo.stop().await;
    Ok(())
}

/// Resolves when the demo is stopped or dropped.
async fn stop_requested(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The sample app's view of ltigate.
struct SampleApp {
    gate: String,
    api_key: String,
    client: reqwest::Client,
    /// The simulator's gradebook, where a posted grade shows up.
    gradebook_url: String,
}

fn sample_app(app: SampleApp) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/launch", get(resource_link))
        .route("/deep-linking", get(deep_linking))
        .route("/grade", post(grade))
        .route("/deep-link", post(deep_link))
        .with_state(Arc::new(app))
}

async fn index() -> Response {
    Notice::Index.page()
}

async fn resource_link(
    State(app): State<Arc<SampleApp>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    show_launch(&app, query.get("ltik"), false).await
}

async fn deep_linking(
    State(app): State<Arc<SampleApp>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    show_launch(&app, query.get("ltik"), true).await
}

/// What an app does with an ltik: server-side calls to ltigate with its API key.
async fn show_launch(app: &SampleApp, ltik: Option<&String>, deep_linking: bool) -> Response {
    let Some(ltik) = ltik else {
        return Notice::NoLaunch.page();
    };
    let body = match app.call(Method::GET, "/api/idtoken", ltik, None).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let nrps = body["services"]["namesAndRoles"]["available"].as_bool() == Some(true);
    // `None`: no roster to show; `Some(None)`: the call failed.
    let answer = match !deep_linking && nrps {
        true => Some(
            app.call(Method::GET, "/api/memberships", ltik, None)
                .await
                .ok(),
        ),
        false => None,
    };
    let roster = match &answer {
        None => Roster::Hidden,
        Some(None) => Roster::Unreadable,
        Some(Some(roster)) => Roster::from_answer(roster),
    };
    pages::respond(
        StatusCode::OK,
        &LaunchPage::new(&body, ltik, deep_linking, &CONTENT, roster),
    )
}

impl SampleApp {
    /// One call of ltigate's app API with the launch's ltik: the JSON answer (`Null` for
    /// 204), or the page that shows why the call failed.
    async fn call(
        &self,
        method: Method,
        path: &str,
        ltik: &str,
        body: Option<Value>,
    ) -> Result<Value, Response> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.gate))
            .header(
                AUTHORIZATION,
                format!("LTIK-AUTH-V2 {}:{ltik}", self.api_key),
            );
        if let Some(body) = body {
            request = request.json(&body);
        }
        let (status, text) = match request.send().await {
            Ok(r) => (r.status(), r.text().await.unwrap_or_default()),
            Err(e) => return Err(Notice::Unreachable(e.to_string()).page()),
        };
        let answer: Value = match text.as_str() {
            "" => Value::Null,
            text => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into())),
        };
        if status.is_success() {
            return Ok(answer);
        }
        Err(Notice::Refused(
            format!("{method} {path}"),
            status.to_string(),
            serde_json::to_string_pretty(&answer).unwrap_or_default(),
        )
        .page())
    }
}

/// `POST /grade`: the instructor's grade for one member, sent to the launch's line item.
#[derive(Debug, serde::Deserialize)]
struct GradeForm {
    ltik: String,
    user_id: String,
    score: f64,
}

async fn grade(State(app): State<Arc<SampleApp>>, Form(form): Form<GradeForm>) -> Response {
    let score = serde_json::json!({
        "userId": form.user_id,
        "scoreGiven": form.score,
        "scoreMaximum": 100,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "comment": "Graded in the ltigate demo's sample app",
    });
    if let Err(refused) = app
        .call(
            Method::POST,
            "/api/lineitems/default/scores",
            &form.ltik,
            Some(score),
        )
        .await
    {
        return refused;
    }
    pages::respond(
        StatusCode::OK,
        &GradeSentPage {
            title: "Grade sent",
            score: form.score,
            user: &form.user_id,
            gradebook: &app.gradebook_url,
        },
    )
}

/// What the sample app offers on a deep linking launch.
const CONTENT: [(&str, &str); 3] = [
    (
        "Quiz: Analytical Engines",
        "A ten-question quiz, graded out of 10.",
    ),
    (
        "Reading: Note G",
        "Ada Lovelace's notes on the Bernoulli numbers.",
    ),
    ("Video: The Difference Engine", "A five-minute tour."),
];

/// `POST /deep-link`: the picked item, returned to the LMS.
#[derive(Debug, serde::Deserialize)]
struct PickForm {
    ltik: String,
    item: usize,
}

async fn deep_link(State(app): State<Arc<SampleApp>>, Form(form): Form<PickForm>) -> Response {
    let Some((title, text)) = CONTENT.get(form.item) else {
        return Notice::NoSuchItem.page();
    };
    let request = serde_json::json!({
        "contentItems": [{
            "type": "ltiResourceLink",
            "title": title,
            "text": text,
            "url": format!("{}/launch", app.gate),
            "lineItem": {"scoreMaximum": 10, "label": title},
        }],
        "options": {"message": format!("Added \"{title}\" to the course.")},
    });
    let answer = match app
        .call(
            Method::POST,
            "/api/deeplinking/form",
            &form.ltik,
            Some(request),
        )
        .await
    {
        Ok(answer) => answer,
        Err(refused) => return refused,
    };
    // The form ltigate built (its values escaped by ltigate) posts itself to the LMS.
    pages::returning_page(answer["form"].as_str().unwrap_or_default())
}
