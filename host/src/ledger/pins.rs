//! Which `oci://` policy each SLO was armed with: the reference as written,
//! the manifest digest it resolved to and the component's sha256 (the one
//! every evaluation record carries). One entry per change, oldest first, so
//! the digest behind any record's `policy_sha256` can be found afterwards.

use super::{Ledger, LedgerError, codec, keys};
use serde::{Deserialize, Serialize};

/// An SLO armed with an OCI policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyPin {
    /// The policy as the SLO names it, e.g. `oci://host/repo:v1`.
    pub reference: String,
    /// The OCI manifest digest it resolved to, `sha256:<hex>`.
    pub manifest: String,
    /// The component's sha256, hex.
    pub sha256: String,
    /// When the SLO was first armed with it.
    pub since: jiff::Timestamp,
}

impl Ledger {
    /// Appends `pin` to `slo`'s pins unless it is the last one already (same
    /// reference, manifest and component). Not yet durable.
    pub fn record_policy_pin(&self, slo: &str, pin: &PolicyPin) -> Result<(), LedgerError> {
        let mut pins = self.policy_pins(slo)?;
        let same = |p: &PolicyPin| {
            (&p.reference, &p.manifest, &p.sha256) == (&pin.reference, &pin.manifest, &pin.sha256)
        };
        if pins.last().is_some_and(same) {
            return Ok(());
        }
        pins.push(pin.clone());
        self.meta
            .insert(keys::PinKey(slo).encode(), codec::encode(&pins))?;
        Ok(())
    }

    /// `slo`'s OCI pins, oldest first; empty when it never ran one.
    pub fn policy_pins(&self, slo: &str) -> Result<Vec<PolicyPin>, LedgerError> {
        let key = keys::PinKey(slo).encode();
        self.meta
            .get(&key)?
            .map(|bytes| codec::decode("meta", &key, &bytes))
            .transpose()
            .map(Option::unwrap_or_default)
    }
}
