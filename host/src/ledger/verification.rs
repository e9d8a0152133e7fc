//! `ledger verify` over every tenant in scope, as `--format json` prints it.

use super::VerifyReport;
use serde::Serialize;

/// What `ledger verify` found in each tenant.
#[derive(Debug, Default, Serialize)]
pub struct LedgerVerification {
    /// Whether every tenant was read and none has a problem: exit 0.
    pub valid: bool,
    /// Each tenant in scope, in order.
    pub tenants: Vec<TenantVerification>,
}

/// One tenant: its report, or why it could not be read.
#[derive(Debug, Serialize)]
pub struct TenantVerification {
    /// The tenant.
    pub tenant: String,
    /// Records, buckets and observations read, and every problem (flattened;
    /// absent for an unreadable tenant).
    #[serde(flatten)]
    pub report: Option<VerifyReport>,
    /// Why the tenant could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

impl LedgerVerification {
    /// Problems found in the tenants read.
    pub fn problems(&self) -> usize {
        self.tenants
            .iter()
            .filter_map(|t| t.report.as_ref())
            .map(|r| r.mismatches.len())
            .sum()
    }

    /// The tenants that could not be read.
    pub fn unreadable(&self) -> Vec<&str> {
        self.tenants
            .iter()
            .filter(|t| t.unreadable.is_some())
            .map(|t| t.tenant.as_str())
            .collect()
    }
}
