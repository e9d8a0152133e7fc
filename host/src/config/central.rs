//! `[central]`: which replica of the central service this `serve` is, and
//! how long its hold on the scheduled ticks lasts.

use super::validate::Checked;
use super::{Config, ValidationError};
use serde::Deserialize;
use std::time::Duration;

/// The shortest lease: its holder renews every third of it.
const MIN_TICK_LEASE: Duration = Duration::from_secs(1);
/// The longest: a dead holder's ticks wait this long for another replica.
const MAX_TICK_LEASE: Duration = Duration::from_secs(3600);

/// `[central]`, read by `serve` with `[nats] url`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CentralConfig {
    /// This replica's name: 1-64 of `a-z 0-9 - _`. It names its durable
    /// consumer (`central-<tenant>-<replica>`) and the holder of the tick
    /// lease. Unset: a name generated at the first start and kept in
    /// `<data_dir>/replica-id`.
    pub replica: Option<String>,
    /// How long the holder of the tick lease keeps it without renewing
    /// (every third of it); another replica takes over once the lease has
    /// stood unrenewed for this long by its own clock.
    /// Default `10s`.
    #[serde(with = "humantime_serde")]
    pub tick_lease: Duration,
}

impl Default for CentralConfig {
    fn default() -> Self {
        CentralConfig {
            replica: None,
            tick_lease: Duration::from_secs(10),
        }
    }
}

/// 1-64 of `a-z 0-9 - _`: a site or replica name fits a NATS subject token,
/// a consumer name and a KV value.
pub fn edge_name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Config {
    /// `[central]`: a replica name and a lease its holder can renew.
    pub(super) fn check_central(&self) -> Checked {
        let central = &self.central;
        if let Some(replica) = &central.replica
            && !edge_name_ok(replica)
        {
            return Err(ValidationError::new(
                "central.replica",
                format!(
                    "a replica is 1 to 64 lowercase letters, digits, dashes and underscores, not {replica:?}"
                ),
            ));
        }
        if !(MIN_TICK_LEASE..=MAX_TICK_LEASE).contains(&central.tick_lease) {
            return Err(ValidationError::new(
                "central.tick_lease",
                format!(
                    "must be from 1s to 1h, not {}",
                    humantime::format_duration(central.tick_lease)
                ),
            ));
        }
        if let Some(agent) = &self.agent
            && agent.site == "central"
        {
            return Err(ValidationError::new(
                "agent.site",
                "\"central\" is the site of central's own records; name the agent's site otherwise",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> (String, String) {
        let config: Config = toml::from_str(text).unwrap();
        let err = config.validate().expect_err("refused");
        (err.field.clone(), err.to_string())
    }

    #[test]
    fn a_replica_is_named_and_its_lease_defaults_to_ten_seconds() {
        let config: Config = toml::from_str("[central]\nreplica = \"r1\"\n").unwrap();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.central.replica.as_deref(), Some("r1"));
        assert_eq!(config.central.tick_lease, Duration::from_secs(10));
        let config: Config = toml::from_str("").unwrap();
        assert_eq!(config.central, CentralConfig::default());
    }

    #[test]
    fn a_bad_replica_name_or_lease_is_refused_by_field() {
        for name in ["", "R1", "r.1", "r 1", &"r".repeat(65)] {
            let (field, message) = refused(&format!("[central]\nreplica = \"{name}\"\n"));
            assert_eq!(field, "central.replica", "{name:?}");
            assert!(message.contains("1 to 64 lowercase"), "{message}");
        }
        for lease in ["0s", "500ms", "2h"] {
            let (field, message) = refused(&format!("[central]\ntick_lease = \"{lease}\"\n"));
            assert_eq!(field, "central.tick_lease", "{lease}");
            assert!(message.contains("from 1s to 1h"), "{message}");
        }
    }

    #[test]
    fn an_agent_cannot_take_the_site_of_central() {
        let (field, _) = refused(
            "[agent]\nsite = \"central\"\ntenant = \"acme\"\n[nats]\nurl = \"nats://127.0.0.1:4222\"\n",
        );
        assert_eq!(field, "agent.site");
    }
}
