//! `[oci]`: how `oci://` policies are fetched.

use serde::Deserialize;

/// The OCI registries' settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OciConfig {
    /// Registries (`host` or `host:port`, as in the references) spoken to
    /// over plain HTTP. Loopback registries (`localhost`, `127.x.x.x`)
    /// always are; every other uses HTTPS.
    pub insecure_registries: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::OciConfig;

    #[test]
    fn insecure_registries_are_read_and_unknown_keys_refused() {
        let config: OciConfig =
            toml::from_str("insecure_registries = [\"registry.lan:5000\"]").unwrap();
        assert_eq!(config.insecure_registries, ["registry.lan:5000"]);
        assert_eq!(
            toml::from_str::<OciConfig>("").unwrap(),
            OciConfig::default()
        );
        assert!(toml::from_str::<OciConfig>("insecure = true").is_err());
    }
}
