//! `[[tenants]]`: the teams sharing `dataslo serve`.

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// `[[tenants]]`: a team sharing the service.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Its name: `[a-z0-9-]`, unique.
    pub name: String,
    /// sha256 (hex) of each bearer token it may use; tokens themselves are never stored.
    pub token_sha256: Vec<String>,
    /// Its OpenSLO files.
    #[serde(default)]
    pub slo_files: Vec<PathBuf>,
    /// Its own limits; unset ones fall back to the service's.
    #[serde(default)]
    pub limits: TenantLimits,
    /// Public keys (base64) whose policy signatures it accepts; when set,
    /// unsigned and untrusted policies are refused.
    #[serde(default)]
    pub trusted_keys: Vec<String>,
    /// Keys whose signatures never count, even when also trusted.
    #[serde(default)]
    pub revoked_keys: Vec<String>,
}

/// `[tenants.limits]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantLimits {
    /// CPU deadline of one policy call.
    #[serde(with = "humantime_serde")]
    pub deadline: Option<Duration>,
    /// Memory of one policy call, in MiB.
    pub memory_mib: Option<usize>,
    /// Largest request body, in bytes (at most the server's).
    pub max_body_bytes: Option<usize>,
    /// Requests per second (at least 1); more are answered 429.
    pub requests_per_second: Option<u32>,
    /// Distinct policies its SLOs may use.
    pub max_policies: Option<usize>,
}
