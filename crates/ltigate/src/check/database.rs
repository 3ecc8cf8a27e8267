//! The database check: opened as `serve` opens it, except that a missing SQLite file is left
//! missing (the first `serve` creates it).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;

use super::{Finding, Level};
use crate::code::DisplayChain;
use crate::store::Store;

/// The longest wait for the database to answer (past the pool's own 10 s, whose error says
/// more).
const DATABASE_TIMEOUT: Duration = Duration::from_secs(15);

/// Opens the database as `serve` does, except that a missing SQLite file is left missing.
pub(super) async fn database(url: &str) -> (Finding, Option<Store>) {
    let subject = "database";
    let shown = crate::store::redacted_url(url);
    if url.starts_with("sqlite:") {
        match sqlite_file(url) {
            Err(e) => {
                let message = format!("{shown} is not a SQLite URL ({e}); fix database_url");
                return (Finding::new(Level::Fail, subject, message), None);
            }
            Ok(None) => {
                let message = format!(
                    "{shown} is in memory: everything is lost when ltigate stops and nodes \
                     share nothing; use a file (sqlite://PATH) or PostgreSQL"
                );
                return (Finding::new(Level::Warn, subject, message), None);
            }
            Ok(Some(file)) if !file.exists() => return (missing_sqlite_file(&file), None),
            Ok(Some(file)) => {
                // The pool retries a file it cannot use until its own timeout: say it at once.
                if let Err(why) = sqlite_header(&file) {
                    let message = format!(
                        "cannot open {shown}: {why}; check database_url (LTIGATE_DATABASE_URL) \
                         and the file's owner and mode"
                    );
                    return (Finding::new(Level::Fail, subject, message), None);
                }
            }
        }
    }
    let fix = "check database_url (LTIGATE_DATABASE_URL) and that this user may read and write it";
    match tokio::time::timeout(DATABASE_TIMEOUT, Store::connect(url)).await {
        Ok(Ok(store)) if store.ping().await => (
            Finding::new(Level::Ok, subject, format!("{shown} answers")),
            Some(store),
        ),
        Ok(Ok(_)) => {
            let message = format!("{shown} opened but does not answer queries; {fix}");
            (Finding::new(Level::Fail, subject, message), None)
        }
        Ok(Err(e)) => {
            let message = format!("cannot open {shown}: {}; {fix}", DisplayChain(&e));
            (Finding::new(Level::Fail, subject, message), None)
        }
        Err(_) => {
            let message = format!(
                "{shown} did not answer within {} s; {fix}",
                DATABASE_TIMEOUT.as_secs()
            );
            (Finding::new(Level::Fail, subject, message), None)
        }
    }
}

/// The file a SQLite URL names, `None` for an in-memory database.
fn sqlite_file(url: &str) -> Result<Option<PathBuf>, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(url)?;
    // Read from the URL: sqlx's `to_url_lossy` panics on an in-memory database's options.
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let in_memory = path.trim_start_matches("sqlite:").trim_start_matches("//") == ":memory:"
        || url::form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "mode" && v == "memory");
    Ok((!in_memory).then(|| options.get_filename().to_path_buf()))
}

/// Whether `file` can be read and starts as a SQLite database does (an empty file is a new
/// database to SQLite).
fn sqlite_header(file: &Path) -> Result<(), String> {
    use std::io::Read;
    const MAGIC: &[u8; 16] = b"SQLite format 3\0";
    let mut head = Vec::with_capacity(MAGIC.len());
    std::fs::File::open(file)
        .and_then(|f| f.take(MAGIC.len() as u64).read_to_end(&mut head))
        .map_err(|e| e.to_string())?;
    if head.is_empty() || head == MAGIC {
        Ok(())
    } else {
        Err("the file is not a SQLite database".into())
    }
}

/// Before the first `serve` the file does not exist: fine, when `serve` will be able to
/// create it.
fn missing_sqlite_file(file: &Path) -> Finding {
    let folder = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let subject = "database";
    if !folder.is_dir() {
        return Finding::new(
            Level::Fail,
            subject,
            format!(
                "the folder {} of the SQLite file does not exist; create it, writable by the \
                 service user, or fix database_url",
                folder.display()
            ),
        );
    }
    match can_create_in(&folder) {
        Ok(()) => Finding::new(
            Level::Ok,
            subject,
            format!(
                "the SQLite file {} does not exist yet: the first `ltigate serve` creates it \
                 (owner-only); this user can write its folder",
                file.display()
            ),
        ),
        Err(e) => Finding::new(
            Level::Fail,
            subject,
            format!(
                "the SQLite file {} does not exist and its folder {} cannot be written ({e}); \
                 make the folder writable by the service user",
                file.display(),
                folder.display()
            ),
        ),
    }
}

/// Whether a file can be created in `folder`, tried with a file that is removed at once
/// (permission bits alone do not tell: ACLs, read-only mounts, another owner).
fn can_create_in(folder: &Path) -> std::io::Result<()> {
    let probe = folder.join(format!(".ltigate-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}
