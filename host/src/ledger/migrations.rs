//! The steps of `dataslo ledger migrate`, one per layout, each safe to rerun
//! after a crash (the version that claims it is written only after it).

use super::chain::Heads;
use super::evaluations::EvalRecord;
use super::{LedgerError, codec, keys};
use sled::Transactional;
use sled::transaction::TransactionError;

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

/// Layout 3 → 4: appends now write one log entry naming the observations
/// they stored, where a build before wrote a copy of each. This dataslo reads
/// both forms, so no entry is rewritten (the version keeps a build of layout
/// 3, which reads copies only, from stalling on a named entry). It drops the
/// entries a layout 3 build left behind its cursor (it dropped them after
/// moving the cursor, so a crash between kept them): this dataslo drops an
/// entry in the transaction that moves the cursor past it, and no longer
/// looks for leftovers.
pub(super) fn named_log(db: &sled::Db) -> Result<(), LedgerError> {
    for name in db.tree_names() {
        let Some((tenant, "ingest")) = keys::parse_tenant_tree(&name) else {
            continue;
        };
        let meta = db.open_tree(keys::tenant_tree(tenant, "meta"))?;
        let cursor = match meta.get(keys::INGEST_CURSOR)? {
            Some(bytes) => keys::parse_sequence(&bytes).ok_or_else(|| {
                LedgerError::bad_value("meta", keys::INGEST_CURSOR, "not a sequence number")
            })?,
            None => continue,
        };
        // A layout 3 entry holds one observation, under its own number.
        let log = db.open_tree(&name)?;
        for key in log.range(..=keys::IngestKey(cursor).encode()).keys() {
            log.remove(key?)?;
        }
    }
    Ok(())
}

/// Layout 4 → 5: the chains' index may hold a run of links under one key
/// (see `chain_index`), which a layout 4 build reads as unreadable. This
/// dataslo reads layout 4's entries as runs of one, so nothing is rewritten:
/// the version alone keeps an older build away.
pub(super) fn chain_runs(_db: &sled::Db) -> Result<(), LedgerError> {
    Ok(())
}

/// Records linked per transaction by [`chains`].
const CHAIN_BATCH: usize = 1_000;

/// Layout 2 → 3: each record gets its link in its SLO's chain at its site,
/// in stored order (SLO, then time), with the chains' index and heads. A
/// batch of records, their index entries and the heads commit together; a
/// rerun skips the records already linked and goes on from the heads. A
/// record that does not decode is left for `ledger verify` to report.
pub(super) fn chains(db: &sled::Db) -> Result<(), LedgerError> {
    for name in db.tree_names() {
        let Some((tenant, "evaluations")) = keys::parse_tenant_tree(&name) else {
            continue;
        };
        let evaluations = db.open_tree(&name)?;
        let meta = db.open_tree(keys::tenant_tree(tenant, "meta"))?;
        let chains = db.open_tree(keys::tenant_tree(tenant, "chains"))?;
        let mut batch = Vec::with_capacity(CHAIN_BATCH);
        for item in evaluations.iter() {
            let (key, bytes) = item?;
            match codec::decode::<EvalRecord>("evaluations", &key, &bytes) {
                Ok(record) if record.chain.is_none() => batch.push((key.to_vec(), record)),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, tenant, "record left unlinked"),
            }
            if batch.len() == CHAIN_BATCH {
                link_batch(&evaluations, &meta, &chains, &batch)?;
                batch.clear();
            }
        }
        link_batch(&evaluations, &meta, &chains, &batch)?;
    }
    Ok(())
}

fn link_batch(
    evaluations: &sled::Tree,
    meta: &sled::Tree,
    chains: &sled::Tree,
    batch: &[(Vec<u8>, EvalRecord)],
) -> Result<(), LedgerError> {
    if batch.is_empty() {
        return Ok(());
    }
    (evaluations, meta, chains)
        .transaction(|(evaluations, meta, chains)| {
            let mut heads = Heads::key_per_link();
            for (key, record) in batch {
                let (link, _) = heads.file(meta, chains, record, key, false, None)?;
                let linked = EvalRecord {
                    chain: Some(link),
                    value: record.value.map(super::chain::settled),
                    ..record.clone()
                };
                evaluations.insert(key.as_slice(), codec::encode(&linked))?;
            }
            heads.store(meta, chains)
        })
        .map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        })
}
