//! The control socket, `<data_dir>/control.sock`: while `run` or `serve`
//! holds a ledger (sled lets one process open it), `status` and `ledger
//! verify|export` ask that process instead. One question per connection, a
//! JSON line; the answer is `ok` and a JSON (or NDJSON) body, or `error: `
//! and the reason as a JSON string.
//! The socket is the data directory owner's alone (mode 0600).

use super::error::ServiceError;
use super::tenants::Service;
use crate::ledger::VerifyReport;
use crate::status::{StatusReport, status_report};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A question to the process that holds the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "ask", rename_all = "kebab-case")]
pub enum Question {
    /// Its tenants' names.
    Tenants,
    /// A tenant's status report at a time, over the SLOs it runs.
    Status {
        /// The tenant.
        tenant: String,
        /// The time.
        at: jiff::Timestamp,
    },
    /// A tenant's ledger verified.
    Verify {
        /// The tenant.
        tenant: String,
    },
    /// A tenant's export (see `Ledger::export`), of one SLO or all, from a
    /// time on.
    Export {
        /// The tenant.
        tenant: String,
        /// Only this SLO.
        slo: Option<String>,
        /// Only records at or after this.
        since: Option<jiff::Timestamp>,
    },
    /// A tenant's agents, as their last heartbeats said.
    Agents {
        /// The tenant.
        tenant: String,
    },
}

/// Where the socket of the process holding `data_dir` is.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("control.sock")
}

/// The socket while it serves; removed when dropped.
pub struct Control {
    path: PathBuf,
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Control {
    /// Answers questions about `service` on `<data_dir>/control.sock`, on a
    /// thread of its own. The caller holds the ledger, so a socket file left
    /// by a killed process is stale and replaced.
    pub fn start(data_dir: &Path, service: Arc<Service>) -> Result<Control, ServiceError> {
        let path = socket_path(data_dir);
        let io = |error| ServiceError::Io {
            what: format!("cannot serve {}", path.display()),
            error,
        };
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).map_err(io)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let service = service.clone();
                std::thread::spawn(move || answer_one(&service, stream));
            }
        });
        Ok(Control { path })
    }
}

fn answer_one(service: &Service, stream: UnixStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut line = String::new();
    let mut reader = BufReader::new(&stream);
    let mut out = std::io::BufWriter::new(&stream);
    let answer = reader
        .read_line(&mut line)
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_str::<Question>(&line).map_err(|e| e.to_string()))
        .and_then(|q| body(service, q));
    let _ = match answer {
        Ok(body) => writeln!(out, "ok").and_then(|()| out.write_all(body.as_bytes())),
        // A JSON string: one line whatever the error quotes.
        Err(e) => writeln!(out, "error: {}", to_json(&e)),
    };
    let _ = out.flush();
}

fn body(service: &Service, question: Question) -> Result<String, String> {
    let tenant = |name: &str| {
        service
            .tenants
            .iter()
            .find(|t| t.name == name)
            .cloned()
            .ok_or_else(|| format!("no tenant {name:?} in the running process"))
    };
    match question {
        Question::Tenants => {
            let names: Vec<&str> = service.tenants.iter().map(|t| t.name.as_str()).collect();
            Ok(to_json(&names))
        }
        Question::Status { tenant: name, at } => {
            let t = tenant(&name)?;
            let slos = t.scheduler.slos().iter().map(|a| a.slo.clone()).collect();
            let report =
                status_report(t.scheduler.ledger(), slos, at).map_err(|e| e.to_string())?;
            Ok(to_json(&report))
        }
        Question::Verify { tenant: name } => {
            let report = tenant(&name)?
                .scheduler
                .ledger()
                .verify()
                .map_err(|e| e.to_string())?;
            Ok(to_json(&report))
        }
        Question::Export {
            tenant: name,
            slo,
            since,
        } => {
            let t = tenant(&name)?;
            let mut text = Vec::new();
            t.scheduler
                .ledger()
                .export(&name, slo.as_deref(), since, &mut text)
                .map_err(|e| e.to_string())?;
            String::from_utf8(text).map_err(|e| e.to_string())
        }
        Question::Agents { tenant: name } => {
            let reports = tenant(&name)?
                .scheduler
                .ledger()
                .agent_reports()
                .map_err(|e| e.to_string())?;
            Ok(to_json(&reports))
        }
    }
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Asks the process holding `data_dir`; the answer's body.
pub fn ask(data_dir: &Path, question: &Question) -> Result<String, ServiceError> {
    let path = socket_path(data_dir);
    let failed = |reason: String| ServiceError::Control {
        socket: path.display().to_string(),
        reason,
    };
    let mut stream = UnixStream::connect(&path).map_err(|e| failed(e.to_string()))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let line = serde_json::to_string(question).unwrap_or_default();
    writeln!(stream, "{line}").map_err(|e| failed(e.to_string()))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| failed(e.to_string()))?;
    match answer.split_once('\n') {
        Some(("ok", body)) => Ok(body.to_string()),
        Some((error, _)) => {
            let error = error.trim_start_matches("error: ");
            let reason = serde_json::from_str(error).unwrap_or_else(|_| error.to_string());
            Err(failed(reason))
        }
        None => Err(failed(format!("no answer ({} bytes)", answer.len()))),
    }
}

/// A tenant's status report from the running process.
pub fn ask_status(
    data_dir: &Path,
    tenant: &str,
    at: jiff::Timestamp,
) -> Result<StatusReport, ServiceError> {
    let question = Question::Status {
        tenant: tenant.into(),
        at,
    };
    decode(data_dir, &ask(data_dir, &question)?)
}

/// A tenant's verification from the running process.
pub fn ask_verify(data_dir: &Path, tenant: &str) -> Result<VerifyReport, ServiceError> {
    let question = Question::Verify {
        tenant: tenant.into(),
    };
    decode(data_dir, &ask(data_dir, &question)?)
}

/// A tenant's export (`ledger export`'s lines) from the running process.
pub fn ask_export(
    data_dir: &Path,
    tenant: &str,
    slo: Option<&str>,
    since: Option<jiff::Timestamp>,
) -> Result<String, ServiceError> {
    let question = Question::Export {
        tenant: tenant.into(),
        slo: slo.map(str::to_string),
        since,
    };
    ask(data_dir, &question)
}

/// A tenant's agents' last heartbeats, from the running process.
pub fn ask_agents(
    data_dir: &Path,
    tenant: &str,
) -> Result<Vec<crate::ledger::AgentReport>, ServiceError> {
    let question = Question::Agents {
        tenant: tenant.into(),
    };
    decode(data_dir, &ask(data_dir, &question)?)
}

/// The running process's tenants.
pub fn ask_tenants(data_dir: &Path) -> Result<Vec<String>, ServiceError> {
    decode(data_dir, &ask(data_dir, &Question::Tenants)?)
}

fn decode<T: serde::de::DeserializeOwned>(data_dir: &Path, text: &str) -> Result<T, ServiceError> {
    serde_json::from_str(text).map_err(|e| ServiceError::Control {
        socket: socket_path(data_dir).display().to_string(),
        reason: format!("unreadable answer: {e}"),
    })
}
