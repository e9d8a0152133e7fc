//! A ledger that lives only as long as its handle: `replay` evaluates into
//! one, with the same code that writes the real ledger, and drops it.

use super::{Ledger, LedgerError, group_commit};

impl Ledger {
    /// A new, empty ledger in a temporary folder sled removes when the last
    /// handle goes; `history_depth` as [`Ledger::open`]'s. It keeps every
    /// observation it is given.
    pub fn scratch(tenant: &str, history_depth: usize) -> Result<Self, LedgerError> {
        let config = sled::Config::new().temporary(true);
        let db = config.open().map_err(|e| LedgerError::Open {
            dir: "a temporary ledger".into(),
            error: e.to_string(),
        })?;
        let commits = group_commit::GroupCommit::new(config, "a temporary ledger".into());
        let ledger = Self::with_db(
            db,
            std::sync::Arc::new(commits),
            Default::default(),
            tenant,
            history_depth,
        )?;
        Ok(ledger.with_observation_retention(std::time::Duration::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_observation;

    #[test]
    fn a_scratch_ledger_keeps_every_observation_it_is_given() {
        let ledger = Ledger::scratch("default", 2).unwrap();
        for hour in 0..20 {
            let text = format!(
                r#"{{"dataset":{{"namespace":"n","name":"t"}},"observed_at":"2026-11-26T{hour:02}:00:00Z"}}"#
            );
            let o = parse_observation(&text, "t").unwrap();
            ledger.put_observation(&o).unwrap();
            ledger.trim_evaluated([&o.dataset]).unwrap();
        }
        assert_eq!(ledger.observations().count(), 20);
    }
}
