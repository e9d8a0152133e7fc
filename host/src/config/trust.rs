//! `trusted_keys` and `revoked_keys`, at the top level (`run`) and in each
//! `[[tenants]]` (`serve`): base64 ed25519 public keys.

use super::validate::Checked;
use super::{Config, TenantConfig, ValidationError};
use crate::trust::{PublicKey, Trust};

/// Each key of both lists is a public key; `prefix` is `""` or `tenants[i].`.
pub(super) fn check_keys(prefix: &str, trusted: &[String], revoked: &[String]) -> Checked {
    for (name, keys) in [("trusted_keys", trusted), ("revoked_keys", revoked)] {
        for (j, key) in keys.iter().enumerate() {
            key.parse::<PublicKey>()
                .map_err(|e| ValidationError::new(format!("{prefix}{name}[{j}]"), e.to_string()))?;
        }
    }
    Ok(())
}

impl Config {
    /// The keys `run` trusts; `None` when `trusted_keys` is empty. Call on a
    /// validated config (a bad key counts as no key otherwise).
    pub fn trust(&self) -> Option<Trust> {
        Trust::from_config(&self.trusted_keys, &self.revoked_keys)
            .ok()
            .flatten()
    }
}

impl TenantConfig {
    /// The keys the tenant trusts; `None` when `trusted_keys` is empty.
    pub fn trust(&self) -> Option<Trust> {
        Trust::from_config(&self.trusted_keys, &self.revoked_keys)
            .ok()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::check_keys;

    #[test]
    fn a_key_that_is_not_32_bytes_of_base64_names_its_field() {
        let good = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".to_string();
        assert!(check_keys("", std::slice::from_ref(&good), &[]).is_ok());
        let e = check_keys("tenants[0].", &[good], &["abc".into()]).unwrap_err();
        assert_eq!(e.field, "tenants[0].revoked_keys[0]");
    }
}
