//! `[server]` and `[notifiers]`: how `serve` listens, and where alert
//! transitions go.

use serde::Deserialize;

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: String,
    /// Largest request body, in bytes. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Largest uploaded policy component, in bytes. Default 16 MiB.
    pub max_policy_bytes: usize,
    /// sha256 (hex) of each admin token: an admin sees every tenant on
    /// `/metrics` and the dashboard, and writes nothing.
    pub admin_token_sha256: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 1 << 20,
            max_policy_bytes: 16 << 20,
            admin_token_sha256: Vec::new(),
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
