//! `dataslo.toml`: where data lives, which SLO files to load, and the defaults
//! for limits and intervals. Every setting has a default, so a process given
//! only SLO files works; defaults shared with the sandbox are read from
//! `runtime`'s own. Plain data: [`Config::validate`] holds every check, and
//! nothing here starts threads or opens anything but the file.
//!
//! Depends on nothing else in the crate but `runtime`'s option types and `trust`'s keys.

mod central;
mod edge;
mod engine;
mod error;
mod oci;
mod server;
mod tenants;
mod trust;
mod validate;
mod validate_edge;

pub use central::{CentralConfig, edge_name_ok};
pub use edge::{AgentConfig, NatsConfig};
pub use engine::{EngineConfig, LimitsConfig};
pub use error::{ConfigError, ValidationError};
pub use oci::OciConfig;
pub use server::{NotifiersConfig, ServerConfig};
pub use tenants::{TenantConfig, TenantLimits};

use crate::runtime::{CompileOptions, EngineOptions, Limits};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default of `observation_retention`: a 30-day window and a margin.
pub const OBSERVATION_RETENTION: Duration = Duration::from_secs(35 * 86_400);

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
    /// Observations kept per dataset, and the history a policy may read.
    /// Default: the sandbox's, 100.
    pub history_depth: usize,
    /// How long evaluation records are kept, e.g. `"400d"`. Default 400 days.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// How long observations are kept for `dataslo replay`, counted back
    /// from each dataset's newest; `history_depth` of them are kept whatever
    /// their age. Default 35 days: the default 30-day window and a margin.
    #[serde(with = "humantime_serde")]
    pub observation_retention: Duration,
    /// Threads that run evaluations, shared fairly by the tenants. Default 0:
    /// one per core.
    pub workers: usize,
    /// How often `run` looks at the spool and the clock. Default `1s`.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How far ahead of the receiver's clock an observation may be dated;
    /// later ones are refused at every entry point. Default `5m`.
    #[serde(with = "humantime_serde")]
    pub max_future_skew: Duration,
    /// How far back records that arrive late (a site coming back) are judged
    /// again for alerts: a rule they make true fires now. Older ones still
    /// count in budgets. Default `1d`; `0s` judges nothing again.
    #[serde(with = "humantime_serde")]
    pub lateness_horizon: Duration,
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
    /// The NATS server between agents and central; unset, none.
    pub nats: NatsConfig,
    /// Who `dataslo agent` is: its site and tenant.
    pub agent: Option<AgentConfig>,
    /// Which replica of the central service `serve` is.
    pub central: CentralConfig,
    /// How `oci://` policies are fetched.
    pub oci: OciConfig,
    /// Public keys (base64) whose signatures `run` (and `eval
    /// --engine-config`) accepts; when set, unsigned policies are refused.
    pub trusted_keys: Vec<String>,
    /// Keys whose signatures never count, even when also trusted.
    pub revoked_keys: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("dataslo-data"),
            slo_files: Vec::new(),
            spool_dir: None,
            history_depth: Limits::default().history_depth as usize,
            retention: Duration::from_secs(400 * 86_400),
            observation_retention: OBSERVATION_RETENTION,
            workers: 0,
            poll_interval: Duration::from_secs(1),
            max_future_skew: Duration::from_secs(300),
            lateness_horizon: Duration::from_secs(86_400),
            limits: LimitsConfig::default(),
            engine: EngineConfig::default(),
            notifiers: NotifiersConfig::default(),
            server: ServerConfig::default(),
            tenants: Vec::new(),
            nats: NatsConfig::default(),
            agent: None,
            central: CentralConfig::default(),
            oci: OciConfig::default(),
            trusted_keys: Vec::new(),
            revoked_keys: Vec::new(),
        }
    }
}

impl Config {
    /// Reads and validates `path`. Relative paths in it are relative to the
    /// file's folder.
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
            .map_err(|ValidationError { field, reason }| ConfigError::Invalid {
                file,
                field,
                reason,
            })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.data_dir = base.join(&config.data_dir);
        config.slo_files = config.slo_files.iter().map(|f| base.join(f)).collect();
        config.spool_dir = config.spool_dir.map(|d| base.join(d));
        config.nats.creds_file = config.nats.creds_file.map(|f| base.join(f));
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

    /// How the engine is built, with the compile cache under `data_dir`.
    pub fn engine_options(&self) -> EngineOptions {
        let defaults = EngineOptions::default();
        let engine = &self.engine;
        EngineOptions {
            allocator: engine.allocator,
            max_instances: engine.max_instances.unwrap_or(defaults.max_instances),
            memory_bytes: engine
                .memory_mib
                .map_or(defaults.memory_bytes, |mib| mib << 20),
            table_elements: engine.table_elements.unwrap_or(defaults.table_elements),
            per_component: engine.per_component(),
            copy_on_write: engine.copy_on_write,
            cache_dir: engine.cache.then(|| self.data_dir.join("cache")),
            compile: CompileOptions {
                compiler: engine.compiler.clone(),
                limits: engine.compile_limits(),
            },
        }
    }

    /// The sandbox limits in force.
    pub fn runtime_limits(&self) -> Limits {
        Limits {
            deadline: self.limits.deadline,
            memory_bytes: self.limits.memory_mib << 20,
            history_depth: u32::try_from(self.history_depth).unwrap_or(u32::MAX),
            ..Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Allocator;

    #[test]
    fn an_empty_file_is_all_defaults() {
        assert_eq!(toml::from_str::<Config>("").unwrap(), Config::default());
    }

    #[test]
    fn the_defaults_are_the_sandboxs_own() {
        let config = Config::default();
        assert_eq!(config.runtime_limits(), Limits::default());
        let options = EngineOptions {
            cache_dir: None,
            ..config.engine_options()
        };
        assert_eq!(options, EngineOptions::default());
        assert_eq!(config.validate(), Ok(()));
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
    fn observations_are_kept_35_days_by_default_and_at_most_400() {
        assert_eq!(
            Config::default().observation_retention,
            Duration::from_secs(35 * 86_400)
        );
        let c: Config = toml::from_str("observation_retention = \"90d\"\n").unwrap();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.observation_retention, Duration::from_secs(90 * 86_400));
        let c: Config = toml::from_str("observation_retention = \"2y\"\n").unwrap();
        assert!(
            matches!(c.validate(), Err(e) if e.field == "observation_retention"),
            "too long"
        );
        let err = toml::from_str::<Config>("observation_retention = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("observation_retention"), "{err}");
    }

    #[test]
    fn the_engine_table_defaults_to_a_pool_with_a_cache() {
        let options = Config::default().engine_options();
        assert_eq!(options.allocator, Allocator::Pooling);
        assert_eq!(options.memory_bytes, 256 << 20);
        assert!(options.copy_on_write);
        assert_eq!(options.cache_dir, Some(PathBuf::from("dataslo-data/cache")));
        let c: Config = toml::from_str(
            "[engine]\nallocator = \"on-demand\"\ncopy_on_write = false\ncache = false\n",
        )
        .unwrap();
        assert_eq!(c.validate(), Ok(()));
        let options = c.engine_options();
        assert_eq!(options.allocator, Allocator::OnDemand);
        assert!(!options.copy_on_write);
        assert_eq!(options.cache_dir, None);
    }

    #[test]
    fn per_component_pool_limits_are_engine_settings_checked_for_range() {
        let c: Config = toml::from_str(
            "[engine]\ncore_instances_per_component = 12\ntables_per_component = 3\n",
        )
        .unwrap();
        assert_eq!(c.validate(), Ok(()));
        let per = c.engine_options().per_component;
        assert_eq!((per.core_instances, per.tables), (12, 3));
        assert_eq!(per.memories, crate::runtime::MEMORIES_PER_COMPONENT);
        let zero: Config = toml::from_str("[engine]\nmemories_per_component = 0\n").unwrap();
        assert!(matches!(zero.validate(), Err(e) if e.field == "engine.memories_per_component"),);
        let on_demand: Config = toml::from_str(
            "[engine]\nallocator = \"on-demand\"\ncore_instances_per_component = 64\n",
        )
        .unwrap();
        assert!(
            matches!(on_demand.validate(), Err(e) if e.field == "engine.core_instances_per_component"),
        );
    }

    #[test]
    fn compile_limits_are_engine_settings_checked_for_range() {
        let c: Config = toml::from_str(
            "[engine]\ncompile_memory_mib = 512\ncompile_time = \"90s\"\n\
             compile_max_function_liveness = 5000000\n",
        )
        .unwrap();
        assert_eq!(c.validate(), Ok(()));
        let limits = c.engine_options().compile.limits;
        assert_eq!(limits.memory_bytes, 512 << 20);
        assert_eq!(limits.time, Duration::from_secs(90));
        assert_eq!(limits.function_liveness, 5_000_000);
        assert_eq!(
            limits.code_bytes,
            crate::runtime::CompileLimits::default().code_bytes
        );
        for (text, field) in [
            ("compile_memory_mib = 8", "engine.compile_memory_mib"),
            ("compile_time = \"0s\"", "engine.compile_time"),
            ("compile_memory_mib = 2000000", "engine.compile_memory_mib"),
            ("compile_time = \"2h\"", "engine.compile_time"),
            (
                "compile_max_function_locals = 0",
                "engine.compile_max_function_locals",
            ),
        ] {
            let c: Config = toml::from_str(&format!("[engine]\n{text}\n")).unwrap();
            assert!(matches!(c.validate(), Err(e) if e.field == field), "{text}");
        }
        // The settings the runtime's errors name are the file's keys.
        for key in crate::runtime::CompileLimits::SETTINGS {
            let value = if key == "compile_time" {
                "\"1s\""
            } else {
                "100"
            };
            let c = toml::from_str::<Config>(&format!("[engine]\n{key} = {value}\n"));
            assert!(c.is_ok(), "{key}: {c:?}");
        }
        let err = toml::from_str::<Config>("[engine]\ncompiler = \"x\"\n").unwrap_err();
        assert!(
            err.to_string().contains("compiler"),
            "not read from the file: {err}"
        );
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
        assert!(
            err.contains("slab") && err.contains("pooling") && err.contains("on-demand"),
            "{err}"
        );
    }

    #[test]
    fn loading_a_file_validates_it_naming_the_file_and_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataslo.toml");
        std::fs::write(&path, "[limits]\nmemory_mib = 512\n").unwrap();
        let err = Config::load(&path).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { field, .. } if field == "engine.memory_mib"),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("dataslo.toml: engine.memory_mib: 256"),
            "{message}"
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
