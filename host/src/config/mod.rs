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
    /// The WebAssembly engine: instance allocator, pool sizes, compile cache.
    pub engine: EngineConfig,
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

/// `[engine]`: fixed for the life of the process.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// `"pooling"` (default) or `"on-demand"`.
    pub allocator: AllocatorName,
    /// Pooling: instances alive at once; more calls wait. Default 1000.
    pub max_instances: Option<u32>,
    /// Pooling: memory of each instance slot, in MiB. Default 256; at least
    /// `[limits] memory_mib` and every tenant's.
    pub memory_mib: Option<usize>,
    /// Pooling: elements of each table slot. Default 20000.
    pub table_elements: Option<usize>,
    /// Initialise memories copy-on-write from the component's image. Default true.
    pub copy_on_write: bool,
    /// Keep compiled policies in `<data_dir>/cache`. Default true.
    pub cache: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            allocator: AllocatorName::Pooling,
            max_instances: None,
            memory_mib: None,
            table_elements: None,
            copy_on_write: true,
            cache: true,
        }
    }
}

/// `[engine] allocator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AllocatorName {
    /// Pre-reserved slots, reused.
    Pooling,
    /// `mmap` per instance.
    OnDemand,
}

/// Most instance slots: beyond this the pool's totals overflow their counters.
const MAX_INSTANCES: u32 = 100_000;
/// 32-bit memories end at 4 GiB.
const MAX_MEMORY_MIB: usize = 4096;

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
            engine: EngineConfig::default(),
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
    /// Valid alone, but the values do not fit together.
    #[error("{file}: {error}")]
    Invalid {
        /// The file.
        file: String,
        /// Which field, and why.
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
            file: file.clone(),
            error: e.to_string(),
        })?;
        config
            .validate()
            .map_err(|error| ConfigError::Invalid { file, error })?;
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

    /// Checks the values that depend on each other; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let engine = &self.engine;
        if engine.allocator == AllocatorName::OnDemand {
            let pooling_only = [
                ("max_instances", engine.max_instances.is_some()),
                ("memory_mib", engine.memory_mib.is_some()),
                ("table_elements", engine.table_elements.is_some()),
            ];
            if let Some((key, _)) = pooling_only.iter().find(|(_, set)| *set) {
                return Err(format!(
                    "[engine] {key} applies only to allocator = \"pooling\", not \"on-demand\""
                ));
            }
            return Ok(());
        }
        if let Some(n) = engine.max_instances
            && !(1..=MAX_INSTANCES).contains(&n)
        {
            return Err(format!(
                "[engine] max_instances = {n} must be between 1 and {MAX_INSTANCES}"
            ));
        }
        if engine.table_elements == Some(0) {
            return Err("[engine] table_elements must be at least 1".into());
        }
        let memory = self.engine_options().memory_bytes >> 20;
        if memory == 0 || memory > MAX_MEMORY_MIB {
            return Err(format!(
                "[engine] memory_mib = {memory} must be between 1 and {MAX_MEMORY_MIB}"
            ));
        }
        if self.limits.memory_mib > memory {
            return Err(format!(
                "[engine] memory_mib = {memory} is below [limits] memory_mib = {}: \
                 a pool slot must hold the largest memory a call may use",
                self.limits.memory_mib
            ));
        }
        for tenant in &self.tenants {
            if let Some(mib) = tenant.limits.memory_mib
                && mib > memory
            {
                return Err(format!(
                    "[engine] memory_mib = {memory} is below tenant `{}`'s limits.memory_mib = {mib}",
                    tenant.name
                ));
            }
        }
        Ok(())
    }

    /// How the engine is built, with the compile cache under `data_dir`.
    pub fn engine_options(&self) -> crate::runtime::EngineOptions {
        use crate::runtime::{Allocator, EngineOptions};
        let defaults = EngineOptions::default();
        let engine = &self.engine;
        EngineOptions {
            allocator: match engine.allocator {
                AllocatorName::Pooling => Allocator::Pooling,
                AllocatorName::OnDemand => Allocator::OnDemand,
            },
            max_instances: engine.max_instances.unwrap_or(defaults.max_instances),
            memory_bytes: engine
                .memory_mib
                .map_or(defaults.memory_bytes, |mib| mib << 20),
            table_elements: engine.table_elements.unwrap_or(defaults.table_elements),
            copy_on_write: engine.copy_on_write,
            cache_dir: engine.cache.then(|| self.data_dir.join("cache")),
        }
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

    fn invalid(text: &str) -> String {
        let config: Config = toml::from_str(text).unwrap();
        config.validate().unwrap_err()
    }

    #[test]
    fn the_engine_table_defaults_to_a_pool_with_a_cache() {
        let options = Config::default().engine_options();
        assert_eq!(options.allocator, crate::runtime::Allocator::Pooling);
        assert_eq!(options.memory_bytes, 256 << 20);
        assert!(options.copy_on_write);
        assert_eq!(options.cache_dir, Some(PathBuf::from("dataslo-data/cache")));
        let c: Config = toml::from_str(
            "[engine]\nallocator = \"on-demand\"\ncopy_on_write = false\ncache = false\n",
        )
        .unwrap();
        assert_eq!(c.validate(), Ok(()));
        let options = c.engine_options();
        assert_eq!(options.allocator, crate::runtime::Allocator::OnDemand);
        assert!(!options.copy_on_write);
        assert_eq!(options.cache_dir, None);
    }

    #[test]
    fn unknown_engine_keys_and_allocators_are_named() {
        let err = toml::from_str::<Config>("[engine]\nmax_instance = 4\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("max_instance") && err.contains("line 2"),
            "{err}"
        );
        let err = toml::from_str::<Config>("[engine]\nallocator = \"slab\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("slab") && err.contains("on-demand"), "{err}");
    }

    #[test]
    fn invalid_engine_combinations_name_the_field() {
        let err = invalid("[engine]\nmemory_mib = 32\n");
        assert!(
            err.contains("[engine] memory_mib = 32") && err.contains("[limits] memory_mib = 64"),
            "{err}"
        );
        let err = invalid("[engine]\nallocator = \"on-demand\"\nmax_instances = 8\n");
        assert!(
            err.contains("max_instances") && err.contains("pooling"),
            "{err}"
        );
        assert!(invalid("[engine]\nmax_instances = 0\n").contains("max_instances = 0"));
        assert!(invalid("[engine]\nmemory_mib = 8192\n").contains("memory_mib = 8192"));
        assert!(invalid("[engine]\ntable_elements = 0\n").contains("table_elements"));
        let err = invalid(
            "[[tenants]]\nname = \"big\"\ntoken_sha256 = []\n[tenants.limits]\nmemory_mib = 512\n",
        );
        assert!(
            err.contains("tenant `big`") && err.contains("memory_mib = 512"),
            "{err}"
        );
    }

    #[test]
    fn loading_a_file_checks_the_engine_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataslo.toml");
        std::fs::write(&path, "[limits]\nmemory_mib = 512\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("dataslo.toml") && err.contains("[engine] memory_mib = 256"),
            "{err}"
        );
        std::fs::write(
            &path,
            "[engine]\nmemory_mib = 512\n[limits]\nmemory_mib = 512\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.engine_options().memory_bytes, 512 << 20);
        assert_eq!(
            config.engine_options().cache_dir,
            Some(dir.path().join("dataslo-data/cache"))
        );
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
