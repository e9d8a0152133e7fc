//! `[server]` and `[notifiers]`: how `serve` listens, and where alert
//! transitions go.

use serde::Deserialize;
use std::time::Duration;

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: String,
    /// Largest request body, in bytes. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Largest uploaded policy component, in bytes. Default 32 MiB.
    pub max_policy_bytes: usize,
    /// sha256 (hex) of each admin token: an admin sees every tenant on
    /// `/metrics` and the dashboard, and writes nothing.
    pub admin_token_sha256: Vec<String>,
    /// How long a client has to send a request's headers, from its first
    /// byte. Default `10s`.
    #[serde(with = "humantime_serde")]
    pub header_timeout: Duration,
    /// How long a client has to send a request's body, from the end of its
    /// headers; then 408. Default `30s`.
    #[serde(with = "humantime_serde")]
    pub body_timeout: Duration,
    /// A connection on which nothing moves for this long, with no request
    /// being handled, is closed. Default `60s`.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Connections served at once; more wait to be accepted. Default 512,
    /// under the usual limit of 1024 open files.
    pub max_connections: usize,
    /// On SIGTERM, how long requests in flight and the final flush may take
    /// before the process exits anyway. Default `10s`.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 1 << 20,
            // A componentize-py policy is about 18 MB.
            max_policy_bytes: 32 << 20,
            admin_token_sha256: Vec::new(),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 512,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// `[notifiers]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifiersConfig {
    /// URLs that receive each firing or resolved transition as a JSON POST,
    /// retried with backoff until they answer 2xx.
    pub webhooks: Vec<String>,
    /// Prometheus Alertmanager base URLs, e.g. `http://127.0.0.1:9093`:
    /// transitions are posted to their v2 API, firing alerts re-sent every minute.
    pub alertmanagers: Vec<String>,
}
