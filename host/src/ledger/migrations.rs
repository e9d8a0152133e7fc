//! The steps of `dataslo ledger migrate`, one per layout, each safe to rerun
//! after a crash (the version that claims it is written only after it).

use super::{LedgerError, keys};

/// Layout 1 → 2: each tenant gets an ingest log holding the observations it
/// stored, in their stored order, with its cursor before the first. Those
/// never evaluated (stored by `observe` while nothing ran) are evaluated at
/// the next start; those already evaluated are recognised by their records'
/// idempotency keys, so no record is made twice.
pub(super) fn ingest_log(db: &sled::Db) -> Result<(), LedgerError> {
    for name in db.tree_names() {
        let Some((tenant, "observations")) = keys::parse_tenant_tree(&name) else {
            continue;
        };
        let meta = db.open_tree(keys::tenant_tree(tenant, "meta"))?;
        if meta.contains_key(keys::INGEST_NEXT)? {
            continue; // done before a crash cut the migration short
        }
        let log = db.open_tree(keys::tenant_tree(tenant, "ingest"))?;
        log.clear()?;
        let mut next = 1;
        for item in db.open_tree(&name)?.iter() {
            let (_, observation) = item?;
            log.insert(keys::IngestKey(next).encode(), observation)?;
            next += 1;
        }
        meta.insert(keys::INGEST_NEXT, &keys::sequence(next))?;
    }
    Ok(())
}
