//! Observations for a ledger that another process holds (sled lets one
//! process open a ledger). `observe` hands them to `run` through its spool
//! folder: an fsynced file, which `run` appends to its ingest log and
//! evaluates, then answers with an `.ack` file beside it and removes it.
//! The process writes `holder.json` in its data directory when it starts,
//! so a caller can say which process it is waiting for.

use super::error::ServiceError;
use super::tenant::Ingested;
use crate::model::Observation;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Spool files named so are `observe`'s, and get an `.ack`.
const HANDED: &str = "observe-";

/// Records that `command` (`run`, `serve`) holds the ledger of `data_dir`.
pub fn announce_holder(data_dir: &Path, command: &str) -> Result<(), ServiceError> {
    let text = serde_json::json!({"command": command, "pid": std::process::id()}).to_string();
    let path = data_dir.join("holder.json");
    std::fs::write(&path, text).map_err(|error| ServiceError::Io {
        what: format!("cannot write {}", path.display()),
        error,
    })
}

/// The command that said it holds the ledger of `data_dir`, if any did.
pub fn holder(data_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(data_dir.join("holder.json")).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["command"].as_str().map(str::to_string)
}

/// Writes `observations` as an fsynced NDJSON file in `spool` and waits up
/// to `timeout` for the holder's answer.
pub fn hand_off(
    spool: &Path,
    observations: &[Observation],
    timeout: Duration,
) -> Result<Ingested, ServiceError> {
    let io = |what: String| move |error| ServiceError::Io { what, error };
    let stamp = jiff::Timestamp::now().as_nanosecond();
    let name = format!("{HANDED}{}-{stamp}.ndjson", std::process::id());
    let file = spool.join(&name);
    let partial = spool.join(format!(".{name}.partial"));
    let mut text = String::new();
    for obs in observations {
        text.push_str(&serde_json::to_string(obs).unwrap_or_default());
        text.push('\n');
    }
    std::fs::create_dir_all(spool).map_err(io(format!("cannot create {}", spool.display())))?;
    let mut out = std::fs::File::create(&partial)
        .map_err(io(format!("cannot write {}", partial.display())))?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.sync_all())
        .map_err(io(format!("cannot write {}", partial.display())))?;
    // Renamed whole, so the holder never reads half a file; the folder is
    // synced so the name survives a crash.
    std::fs::rename(&partial, &file).map_err(io(format!("cannot write {}", file.display())))?;
    std::fs::File::open(spool)
        .and_then(|dir| dir.sync_all())
        .map_err(io(format!("cannot sync {}", spool.display())))?;
    let ack = ack_path(&file);
    let started = Instant::now();
    while started.elapsed() < timeout {
        if let Ok(text) = std::fs::read_to_string(&ack)
            && let Ok(answer) = serde_json::from_str::<AckFile>(&text)
        {
            let _ = std::fs::remove_file(&ack);
            if let Some(reason) = answer.error {
                return Err(ServiceError::Refused { reason });
            }
            return Ok(Ingested {
                accepted: answer.accepted,
                new: answer.new,
                evaluations: answer.evaluations,
                ignored: None,
            });
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err(ServiceError::NoAnswer {
        file: file.display().to_string(),
        waited: timeout,
    })
}

/// Whether `file` was handed over by `observe` and wants an answer.
pub(super) fn wants_ack(file: &Path) -> bool {
    file.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(HANDED))
}

/// Where the answer to `file` goes.
pub(super) fn ack_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".ack");
    file.with_file_name(name)
}

/// Writes the answer to `file`, whole.
pub(super) fn write_ack(file: &Path, answer: &Ingested) -> std::io::Result<()> {
    write_whole(
        &ack_path(file),
        &serde_json::to_vec(answer).unwrap_or_default(),
    )
}

/// Answers `file` with why it was refused (it went to `rejected/`).
pub(super) fn write_refusal(file: &Path, error: &str) -> std::io::Result<()> {
    let refusal = serde_json::json!({ "error": error });
    write_whole(&ack_path(file), refusal.to_string().as_bytes())
}

fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(partial, path)
}

#[derive(serde::Deserialize)]
struct AckFile {
    #[serde(default)]
    accepted: usize,
    #[serde(default)]
    new: usize,
    evaluations: Option<usize>,
    error: Option<String>,
}
