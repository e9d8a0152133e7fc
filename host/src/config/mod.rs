//! `dataslo.toml`: where data lives, which SLO files to load, and the defaults
//! for limits and intervals. Every setting has a default, so a process given
//! only SLO files works. Depends on nothing else in the crate but `runtime`'s
//! limits type.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The whole configuration. Unknown keys are errors, naming the key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The ledger's directory. Default `./dataslo-data`.
    pub data_dir: PathBuf,
    /// OpenSLO files to load. Default none (give them on the command line).
    pub slo_files: Vec<PathBuf>,
    /// A directory `run` watches for observation files (`*.json`, `*.ndjson`).
    /// Default `<data_dir>/spool`.
    pub spool_dir: Option<PathBuf>,
    /// Observations kept per dataset, and the history a policy may read. Default 100.
    pub history_depth: usize,
    /// How long evaluation records are kept, e.g. `"400d"`. Default 400 days.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// Threads that run evaluations, shared fairly by the tenants. Default 0:
    /// one per core.
    pub workers: usize,
    /// How often `run` looks at the spool and the clock. Default `1s`.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Sandbox limits for every policy call.
    pub limits: LimitsConfig,
    /// Where alert transitions are sent.
    pub notifiers: NotifiersConfig,
    /// `dataslo serve`'s HTTP listener.
    pub server: ServerConfig,
    /// `dataslo serve`'s tenants; `run` and `demo` use the one tenant `default`.
    pub tenants: Vec<TenantConfig>,
}

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
    /// Requests per second; more are answered 429.
    pub requests_per_second: Option<u32>,
    /// Distinct policies its SLOs may use.
    pub max_policies: Option<usize>,
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

/// `[limits]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// CPU deadline per call. Default `100ms`.
    #[serde(with = "humantime_serde")]
    pub deadline: Duration,
    /// Memory per call, in MiB. Default 64.
    pub memory_mib: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            deadline: Duration::from_millis(100),
            memory_mib: 64,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("dataslo-data"),
            slo_files: Vec::new(),
            spool_dir: None,
            history_depth: 100,
            retention: Duration::from_secs(400 * 86_400),
            workers: 0,
            poll_interval: Duration::from_secs(1),
            limits: LimitsConfig::default(),
            notifiers: NotifiersConfig::default(),
            server: ServerConfig::default(),
            tenants: Vec::new(),
        }
    }
}

/// The config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable.
    #[error("cannot read {file}: {error}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        error: std::io::Error,
    },
    /// Not valid TOML, or a key or value that is not accepted.
    #[error("{file}: {error}")]
    Parse {
        /// The file.
        file: String,
        /// toml's message, with line and column.
        error: String,
    },
}

impl Config {
    /// Reads `path`. Relative paths in it are relative to the file's folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            file: file.clone(),
            error,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            file,
            error: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.data_dir = base.join(&config.data_dir);
        config.slo_files = config.slo_files.iter().map(|f| base.join(f)).collect();
        config.spool_dir = config.spool_dir.map(|d| base.join(d));
        for tenant in &mut config.tenants {
            tenant.slo_files = tenant.slo_files.iter().map(|f| base.join(f)).collect();
        }
        Ok(config)
    }

    /// The spool directory in force.
    pub fn spool(&self) -> PathBuf {
        self.spool_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("spool"))
    }

    /// The evaluation threads in force: `workers`, or one per core.
    pub fn worker_threads(&self) -> usize {
        match self.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// An executor with [`Config::worker_threads`] workers.
    pub fn executor(&self) -> std::io::Result<std::sync::Arc<crate::executor::Executor>> {
        crate::executor::Executor::new(self.worker_threads()).map(std::sync::Arc::new)
    }

    /// The sandbox limits in force.
    pub fn runtime_limits(&self) -> crate::runtime::Limits {
        crate::runtime::Limits {
            deadline: self.limits.deadline,
            memory_bytes: self.limits.memory_mib << 20,
            history_depth: u32::try_from(self.history_depth).unwrap_or(u32::MAX),
            ..crate::runtime::Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_all_defaults() {
        assert_eq!(toml::from_str::<Config>("").unwrap(), Config::default());
    }

    #[test]
    fn durations_are_human_and_unknown_keys_are_named() {
        let c: Config =
            toml::from_str("retention = \"90d\"\n[limits]\ndeadline = \"250ms\"\n").unwrap();
        assert_eq!(c.retention, Duration::from_secs(90 * 86_400));
        assert_eq!(c.limits.deadline, Duration::from_millis(250));
        let err = toml::from_str::<Config>("data_dri = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("data_dri") && err.contains("line 1"), "{err}");
    }

    #[test]
    fn notifiers_take_webhooks_and_alertmanagers() {
        let c: Config = toml::from_str(
            "[notifiers]\nwebhooks = [\"https://hooks.example/x\"]\nalertmanagers = [\"http://127.0.0.1:9093\"]\n",
        )
        .unwrap();
        assert_eq!(c.notifiers.webhooks, ["https://hooks.example/x"]);
        assert_eq!(c.notifiers.alertmanagers, ["http://127.0.0.1:9093"]);
    }
}
