//! [`Config::validate`]: every check of a config's values, alone and against
//! each other. The error names the field as a path, e.g. `tenants[2].name`.

use super::{Config, TenantConfig, ValidationError};
use crate::runtime::Allocator;

/// Most instance slots: beyond this the pool's totals overflow their counters.
const MAX_INSTANCES: u32 = 100_000;
/// Most core instances, memories or tables per policy instance: times
/// `MAX_INSTANCES`, the pool's totals still fit their 32-bit counters.
const MAX_PER_COMPONENT: u32 = 1000;
/// 32-bit memories end at 4 GiB.
const MAX_MEMORY_MIB: usize = 4096;
/// The compile child's own start needs a few MiB of data; this leaves room.
const MIN_COMPILE_MEMORY_MIB: u64 = 64;
/// 1 TiB: more is no bound at all, and wraps when made bytes.
const MAX_COMPILE_MEMORY_MIB: u64 = 1 << 20;
/// A compile longer than this holds its tenant's changes too long.
const MAX_COMPILE_TIME: std::time::Duration = std::time::Duration::from_secs(3600);
/// The longest observation retention: each trim of a dataset's history may
/// walk what is kept.
const MAX_OBSERVATION_RETENTION: std::time::Duration = std::time::Duration::from_secs(400 * 86_400);
/// The longest lateness horizon: a late pass judges each of its minutes.
const MAX_LATENESS_HORIZON: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

const NOT_A_HASH: &str =
    "must be a sha256 hash, 64 hex digits (printf %s \"$TOKEN\" | sha256sum), not the token";

pub(super) type Checked = Result<(), ValidationError>;

/// `[a-z0-9-]{1,64}`: a tenant's name becomes a folder, ledger tree names,
/// a NATS subject token and part of its NATS bucket names
/// (`dataslo-policies-<tenant>`, a folder of nats-server's store too).
pub(super) fn tenant_name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Config {
    /// Checks every value, alone and against the others. [`Config::load`]
    /// calls it; a `Config` built in code is checked the same way.
    pub fn validate(&self) -> Checked {
        super::trust::check_keys("", &self.trusted_keys, &self.revoked_keys)?;
        if self.poll_interval.is_zero() {
            return Err(ValidationError::new(
                "poll_interval",
                "must be longer than zero",
            ));
        }
        if self.lateness_horizon > MAX_LATENESS_HORIZON {
            return Err(ValidationError::new(
                "lateness_horizon",
                format!(
                    "at most {} (each late pass judges every minute of it again)",
                    humantime::format_duration(MAX_LATENESS_HORIZON)
                ),
            ));
        }
        if self.observation_retention > MAX_OBSERVATION_RETENTION {
            return Err(ValidationError::new(
                "observation_retention",
                format!(
                    "at most {} (each trim of a dataset's history walks what it keeps)",
                    humantime::format_duration(MAX_OBSERVATION_RETENTION)
                ),
            ));
        }
        memory_in_range("limits.memory_mib", self.limits.memory_mib)?;
        self.check_server()?;
        for (i, tenant) in self.tenants.iter().enumerate() {
            self.check_tenant(i, tenant)?;
        }
        self.check_tenants_apart()?;
        self.check_compile()?;
        self.check_nats()?;
        self.check_agent()?;
        self.check_central()?;
        self.check_engine()
    }

    /// `[server]`: hashes, and timeouts and limits that let a request through.
    fn check_server(&self) -> Checked {
        let server = &self.server;
        for (j, hash) in server.admin_token_sha256.iter().enumerate() {
            sha256_hex(format!("server.admin_token_sha256[{j}]"), hash)?;
        }
        let durations = [
            ("header_timeout", server.header_timeout),
            ("body_timeout", server.body_timeout),
            ("idle_timeout", server.idle_timeout),
            ("shutdown_grace", server.shutdown_grace),
        ];
        if let Some((key, _)) = durations.iter().find(|(_, d)| d.is_zero()) {
            return Err(ValidationError::new(
                format!("server.{key}"),
                "must be longer than zero",
            ));
        }
        if server.max_connections == 0 {
            return Err(ValidationError::new(
                "server.max_connections",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// One tenant's own values, and its limits against the server's.
    fn check_tenant(&self, i: usize, tenant: &TenantConfig) -> Checked {
        let field = |name: &str| format!("tenants[{i}].{name}");
        if !tenant_name_ok(&tenant.name) {
            // The name becomes a folder and ledger tree names.
            return Err(ValidationError::new(
                field("name"),
                format!(
                    "a tenant name is 1 to 64 lowercase letters, digits and dashes, not {:?}",
                    tenant.name
                ),
            ));
        }
        for (j, hash) in tenant.token_sha256.iter().enumerate() {
            sha256_hex(field(&format!("token_sha256[{j}]")), hash)?;
        }
        super::trust::check_keys(&field(""), &tenant.trusted_keys, &tenant.revoked_keys)?;
        let limits = &tenant.limits;
        if let Some(mib) = limits.memory_mib {
            memory_in_range(field("limits.memory_mib"), mib)?;
        }
        if limits.requests_per_second == Some(0) {
            return Err(ValidationError::new(
                field("limits.requests_per_second"),
                "must be at least 1",
            ));
        }
        if let Some(bytes) = limits.max_body_bytes
            && bytes > self.server.max_body_bytes
        {
            return Err(ValidationError::new(
                field("limits.max_body_bytes"),
                format!(
                    "{bytes} is over server.max_body_bytes = {}",
                    self.server.max_body_bytes
                ),
            ));
        }
        Ok(())
    }

    /// No two tenants share a name or a token.
    fn check_tenants_apart(&self) -> Checked {
        for (i, tenant) in self.tenants.iter().enumerate() {
            let earlier = &self.tenants[..i];
            if let Some(k) = earlier.iter().position(|t| t.name == tenant.name) {
                return Err(ValidationError::new(
                    format!("tenants[{i}].name"),
                    format!("`{}` is already the name of tenants[{k}]", tenant.name),
                ));
            }
            for (j, hash) in tenant.token_sha256.iter().enumerate() {
                for (k, other) in earlier.iter().enumerate() {
                    let same = other
                        .token_sha256
                        .iter()
                        .position(|h| h.eq_ignore_ascii_case(hash));
                    if let Some(l) = same {
                        return Err(ValidationError::new(
                            format!("tenants[{i}].token_sha256[{j}]"),
                            format!(
                                "the same as tenants[{k}].token_sha256[{l}]: a token opens one tenant"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// `[engine]`'s compile limits: each lets something through.
    fn check_compile(&self) -> Checked {
        let engine = &self.engine;
        if engine.compile_memory_mib < MIN_COMPILE_MEMORY_MIB {
            return Err(ValidationError::new(
                "engine.compile_memory_mib",
                format!(
                    "{} is under {MIN_COMPILE_MEMORY_MIB}, too little to start the compiler",
                    engine.compile_memory_mib
                ),
            ));
        }
        // A mebibyte count past this would wrap when made bytes.
        if engine.compile_memory_mib > MAX_COMPILE_MEMORY_MIB {
            return Err(ValidationError::new(
                "engine.compile_memory_mib",
                format!(
                    "{} is over {MAX_COMPILE_MEMORY_MIB} (1 TiB)",
                    engine.compile_memory_mib
                ),
            ));
        }
        if engine.compile_time.is_zero() || engine.compile_time > MAX_COMPILE_TIME {
            return Err(ValidationError::new(
                "engine.compile_time",
                "must be longer than zero and at most 1h",
            ));
        }
        let structural = [
            ("compile_max_code_bytes", engine.compile_max_code_bytes),
            (
                "compile_max_function_bytes",
                engine.compile_max_function_bytes,
            ),
            (
                "compile_max_function_locals",
                engine.compile_max_function_locals,
            ),
            (
                "compile_max_function_liveness",
                engine.compile_max_function_liveness,
            ),
        ];
        if let Some((key, _)) = structural.iter().find(|(_, n)| *n == 0) {
            return Err(ValidationError::new(
                format!("engine.{key}"),
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// `[engine]` alone, and its slots against every call's memory limit.
    fn check_engine(&self) -> Checked {
        let engine = &self.engine;
        if engine.allocator == Allocator::OnDemand {
            let pooling_only = [
                ("max_instances", engine.max_instances.is_some()),
                ("memory_mib", engine.memory_mib.is_some()),
                ("table_elements", engine.table_elements.is_some()),
                (
                    "core_instances_per_component",
                    engine.core_instances_per_component.is_some(),
                ),
                (
                    "memories_per_component",
                    engine.memories_per_component.is_some(),
                ),
                (
                    "tables_per_component",
                    engine.tables_per_component.is_some(),
                ),
            ];
            if let Some((key, _)) = pooling_only.iter().find(|(_, set)| *set) {
                return Err(ValidationError::new(
                    format!("engine.{key}"),
                    "applies only to allocator = \"pooling\", not \"on-demand\"",
                ));
            }
            return Ok(());
        }
        if let Some(n) = engine.max_instances
            && !(1..=MAX_INSTANCES).contains(&n)
        {
            return Err(ValidationError::new(
                "engine.max_instances",
                format!("{n} is not between 1 and {MAX_INSTANCES}"),
            ));
        }
        let per_component = [
            (
                "core_instances_per_component",
                engine.core_instances_per_component,
            ),
            ("memories_per_component", engine.memories_per_component),
            ("tables_per_component", engine.tables_per_component),
        ];
        for (key, value) in per_component {
            if let Some(n) = value
                && !(1..=MAX_PER_COMPONENT).contains(&n)
            {
                return Err(ValidationError::new(
                    format!("engine.{key}"),
                    format!("{n} is not between 1 and {MAX_PER_COMPONENT}"),
                ));
            }
        }
        if engine.table_elements == Some(0) {
            return Err(ValidationError::new(
                "engine.table_elements",
                "must be at least 1",
            ));
        }
        let slot = engine.slot_memory_mib();
        if slot == 0 || slot > MAX_MEMORY_MIB {
            return Err(ValidationError::new(
                "engine.memory_mib",
                format!("{slot} is not between 1 and {MAX_MEMORY_MIB}"),
            ));
        }
        let slot_is = match engine.memory_mib {
            Some(_) => format!("{slot}"),
            None => format!("{slot} (the default)"),
        };
        let why = "a pool slot must hold the largest memory a call may use";
        if self.limits.memory_mib > slot {
            return Err(ValidationError::new(
                "engine.memory_mib",
                format!(
                    "{slot_is} is below limits.memory_mib = {}: {why}",
                    self.limits.memory_mib
                ),
            ));
        }
        for (i, tenant) in self.tenants.iter().enumerate() {
            if let Some(mib) = tenant.limits.memory_mib
                && mib > slot
            {
                return Err(ValidationError::new(
                    "engine.memory_mib",
                    format!(
                        "{slot_is} is below tenants[{i}].limits.memory_mib = {mib} (tenant `{}`): {why}",
                        tenant.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A memory limit a 32-bit memory can reach.
fn memory_in_range(field: impl Into<String>, mib: usize) -> Checked {
    if mib > MAX_MEMORY_MIB {
        return Err(ValidationError::new(
            field,
            format!("{mib} is over {MAX_MEMORY_MIB}, the most a 32-bit memory holds"),
        ));
    }
    Ok(())
}

/// A token hash as the config stores it. The value is not echoed: it may be
/// a token pasted by mistake.
pub(super) fn sha256_hex(field: String, hash: &str) -> Checked {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ValidationError::new(field, NOT_A_HASH));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH_A: &str = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
    const HASH_B: &str = "981fe8fb3e1ec6f8bd9f1a0f7e4f1b6c6d2e9d8c4b3a2f1e0d9c8b7a6f5e4d3c";

    /// The field `text` is refused for, and the whole message.
    fn refused(text: &str) -> (String, String) {
        let config: Config = toml::from_str(text).unwrap();
        let err = config.validate().expect_err("refused");
        (err.field.clone(), err.to_string())
    }

    fn tenant(name: &str, hash: &str) -> String {
        format!("[[tenants]]\nname = \"{name}\"\ntoken_sha256 = [\"{hash}\"]\n")
    }

    #[test]
    fn a_lateness_horizon_past_thirty_days_is_refused() {
        let (field, reason) = refused("lateness_horizon = \"31d\"\n");
        assert_eq!(field, "lateness_horizon");
        assert!(reason.contains("30days"), "{reason}");
    }

    #[test]
    fn a_zero_poll_interval_is_refused() {
        let (field, _) = refused("poll_interval = \"0s\"\n");
        assert_eq!(field, "poll_interval");
    }

    #[test]
    fn a_call_memory_over_4_gib_is_refused() {
        let (field, message) =
            refused("[limits]\nmemory_mib = 8192\n[engine]\nallocator = \"on-demand\"\n");
        assert_eq!(field, "limits.memory_mib");
        assert!(message.contains("8192 is over 4096"), "{message}");
    }

    #[test]
    fn pool_sizes_with_the_on_demand_allocator_are_refused() {
        for key in ["max_instances", "memory_mib", "table_elements"] {
            let (field, message) =
                refused(&format!("[engine]\nallocator = \"on-demand\"\n{key} = 8\n"));
            assert_eq!(field, format!("engine.{key}"));
            assert!(
                message.contains("only to allocator = \"pooling\""),
                "{message}"
            );
        }
    }

    #[test]
    fn max_instances_out_of_range_is_refused() {
        for n in [0, 100_001] {
            let (field, message) = refused(&format!("[engine]\nmax_instances = {n}\n"));
            assert_eq!(field, "engine.max_instances");
            assert!(message.contains(&format!("{n} is not between 1 and 100000")));
        }
    }

    #[test]
    fn zero_table_elements_are_refused() {
        let (field, _) = refused("[engine]\ntable_elements = 0\n");
        assert_eq!(field, "engine.table_elements");
    }

    #[test]
    fn a_slot_memory_out_of_range_is_refused() {
        for mib in [0, 8192] {
            let (field, message) = refused(&format!(
                "[limits]\nmemory_mib = 0\n[engine]\nmemory_mib = {mib}\n"
            ));
            assert_eq!(field, "engine.memory_mib");
            assert!(message.contains(&format!("{mib} is not between 1 and 4096")));
        }
    }

    #[test]
    fn a_slot_smaller_than_a_calls_memory_is_refused() {
        let (field, message) = refused("[engine]\nmemory_mib = 32\n");
        assert_eq!(field, "engine.memory_mib");
        assert!(
            message.contains("32 is below limits.memory_mib = 64"),
            "{message}"
        );
        let (_, message) = refused("[limits]\nmemory_mib = 512\n");
        assert!(message.contains("256 (the default) is below"), "{message}");
    }

    #[test]
    fn a_slot_smaller_than_a_tenants_memory_is_refused() {
        let (field, message) = refused(&format!(
            "{}[tenants.limits]\nmemory_mib = 512\n",
            tenant("big", HASH_A)
        ));
        assert_eq!(field, "engine.memory_mib");
        assert!(
            message.contains("tenants[0].limits.memory_mib = 512 (tenant `big`)"),
            "{message}"
        );
    }

    #[test]
    fn a_tenant_memory_over_4_gib_is_refused() {
        let (field, _) = refused(&format!(
            "[engine]\nallocator = \"on-demand\"\n{}[tenants.limits]\nmemory_mib = 5000\n",
            tenant("big", HASH_A)
        ));
        assert_eq!(field, "tenants[0].limits.memory_mib");
    }

    #[test]
    fn an_admin_token_that_is_not_a_hash_is_refused_without_echoing_it() {
        let (field, message) = refused(&format!(
            "[server]\nadmin_token_sha256 = [\"{HASH_A}\", \"admin-secret\"]\n"
        ));
        assert_eq!(field, "server.admin_token_sha256[1]");
        assert!(!message.contains("admin-secret"), "{message}");
    }

    #[test]
    fn server_timeouts_of_zero_and_no_connections_are_refused() {
        for key in [
            "header_timeout",
            "body_timeout",
            "idle_timeout",
            "shutdown_grace",
        ] {
            let (field, message) = refused(&format!("[server]\n{key} = \"0s\"\n"));
            assert_eq!(field, format!("server.{key}"));
            assert!(message.contains("longer than zero"), "{message}");
        }
        let (field, _) = refused("[server]\nmax_connections = 0\n");
        assert_eq!(field, "server.max_connections");
    }

    #[test]
    fn server_timeouts_are_human_durations_with_defaults() {
        let config: Config = toml::from_str(
            "[server]\nheader_timeout = \"2s\"\nbody_timeout = \"500ms\"\nmax_connections = 8\n",
        )
        .unwrap();
        assert_eq!(config.validate(), Ok(()));
        let server = &config.server;
        assert_eq!(server.header_timeout, std::time::Duration::from_secs(2));
        assert_eq!(server.body_timeout, std::time::Duration::from_millis(500));
        assert_eq!(server.idle_timeout, std::time::Duration::from_secs(60));
        assert_eq!(server.shutdown_grace, std::time::Duration::from_secs(10));
        assert_eq!(server.max_connections, 8);
    }

    #[test]
    fn a_tenant_name_outside_lowercase_digits_and_dashes_or_past_64_is_refused() {
        let long = "a".repeat(65);
        for name in ["", "Acme", "../etc", "a b", long.as_str()] {
            let text = format!("{}{}", tenant("ok-1", HASH_A), tenant(name, HASH_B));
            let (field, message) = refused(&text);
            assert_eq!(field, "tenants[1].name", "{name:?}");
            assert!(message.contains(&format!("{name:?}")), "{message}");
        }
    }

    #[test]
    fn a_tenant_name_of_64_characters_is_accepted() {
        let longest = "a".repeat(64);
        assert!(tenant_name_ok(&longest));
    }

    #[test]
    fn a_tenant_name_used_twice_is_refused() {
        let text = format!("{}{}", tenant("acme", HASH_A), tenant("acme", HASH_B));
        let (field, message) = refused(&text);
        assert_eq!(field, "tenants[1].name");
        assert!(message.contains("tenants[0]"), "{message}");
    }

    #[test]
    fn a_tenant_token_that_is_not_a_hash_is_refused() {
        let text = format!("{}{}", tenant("a", HASH_A), tenant("b", &HASH_B[1..]));
        let (field, _) = refused(&text);
        assert_eq!(field, "tenants[1].token_sha256[0]");
        let (field, _) = refused(&tenant("a", &HASH_A.replace('b', "g")));
        assert_eq!(field, "tenants[0].token_sha256[0]");
    }

    #[test]
    fn a_token_of_two_tenants_is_refused() {
        let text = format!(
            "{}[[tenants]]\nname = \"b\"\ntoken_sha256 = [\"{HASH_B}\", \"{}\"]\n",
            tenant("a", HASH_A),
            HASH_A.to_uppercase()
        );
        let (field, message) = refused(&text);
        assert_eq!(field, "tenants[1].token_sha256[1]");
        assert!(message.contains("tenants[0].token_sha256[0]"), "{message}");
    }

    #[test]
    fn a_rate_of_zero_requests_per_second_is_refused() {
        let (field, _) = refused(&format!(
            "{}[tenants.limits]\nrequests_per_second = 0\n",
            tenant("a", HASH_A)
        ));
        assert_eq!(field, "tenants[0].limits.requests_per_second");
    }

    #[test]
    fn a_tenant_body_limit_over_the_servers_is_refused() {
        let (field, message) = refused(&format!(
            "[server]\nmax_body_bytes = 1000\n{}[tenants.limits]\nmax_body_bytes = 1001\n",
            tenant("a", HASH_A)
        ));
        assert_eq!(field, "tenants[0].limits.max_body_bytes");
        assert!(
            message.contains("1001 is over server.max_body_bytes = 1000"),
            "{message}"
        );
    }

    #[test]
    fn a_config_built_in_code_is_checked_the_same_way() {
        let mut config = Config::default();
        assert_eq!(config.validate(), Ok(()));
        config.tenants.push(TenantConfig {
            name: "Acme".into(),
            token_sha256: vec![HASH_A.into()],
            slo_files: Vec::new(),
            limits: Default::default(),
            trusted_keys: Vec::new(),
            revoked_keys: Vec::new(),
        });
        assert_eq!(config.validate().unwrap_err().field, "tenants[0].name");
        config.tenants[0].name = "acme".into();
        assert_eq!(config.validate(), Ok(()));
    }
}
