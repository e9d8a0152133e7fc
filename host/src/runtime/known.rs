//! Policies already loaded, so SLOs that name the same one share it.

use super::Policy;
use crate::model::PolicyRef;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Loaded policies, by the reference SLOs name them with.
pub type Known = BTreeMap<PolicyRef, Arc<Policy>>;
