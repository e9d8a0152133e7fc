//! The chains' index as a specification: a transaction's links of one chain
//! under one key (a run), walked, tampered with, pruned in part and exported
//! as if each link had its own.

use super::audit_tests::{audited, export, export_as, json};
use super::chain_index::{Entry, RUN_LIMIT, encode_run};
use super::chain_tests::{at_seq, chain_breaks, record};
use super::*;

/// `n` records of `slo`, one minute apart from `from` (RFC 3339), keyed
/// `<slo>-<i>`, in one batch.
fn batch(ledger: &Ledger, slo: &str, from: &str, n: usize) {
    let start: jiff::Timestamp = from.parse().unwrap();
    let records: Vec<EvalRecord> = (0..n)
        .map(|i| {
            let at = start + jiff::SignedDuration::from_mins(i as i64);
            record(slo, &at.to_string(), &format!("{slo}-{i}"), 1)
        })
        .collect();
    assert!(
        ledger
            .record_batch(&records)
            .unwrap()
            .iter()
            .all(|s| *s == Stored::New)
    );
}

fn index_keys(ledger: &Ledger) -> usize {
    ledger.chains.len()
}

#[test]
fn a_batch_files_its_links_of_each_chain_under_one_index_key() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    batch(&ledger, "s", "2026-11-30T08:00:00Z", 5);
    batch(&ledger, "t", "2026-11-30T08:00:00Z", 2);
    assert_eq!(index_keys(&ledger), 2);
    batch(&ledger, "s", "2026-11-30T09:00:00Z", 3);
    assert_eq!(index_keys(&ledger), 3, "the next batch starts a run");
    assert_eq!(ledger.chain_head("s", "").unwrap().seq, 8);
    let report = ledger.verify().unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
    assert_eq!(report.links, 10);
    let lines = export(&ledger);
    assert_eq!(lines.len(), 2 + 10, "two headers, then every link");
    assert!(audited(&lines).valid, "{:?}", audited(&lines));
}

#[test]
fn a_batch_longer_than_a_run_takes_a_key_per_run_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    batch(&ledger, "s", "2026-11-01T00:00:00Z", RUN_LIMIT * 2 + 1);
    assert_eq!(index_keys(&ledger), 3);
    let report = ledger.verify().unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
    assert!(audited(&export(&ledger)).valid);
}

#[test]
fn a_record_deleted_or_edited_inside_a_run_is_found_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    batch(&ledger, "s", "2026-11-30T08:00:00Z", 5);
    let (key, _) = at_seq(&ledger, 3);
    ledger.raw_remove_record(&key).unwrap();
    let found = chain_breaks(&ledger);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].seq, found[0].kind), (3, BreakKind::Deleted));

    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    batch(&ledger, "s", "2026-11-30T08:00:00Z", 5);
    let (key, mut edited) = at_seq(&ledger, 4);
    edited.detail = "all good, honest".into();
    ledger.raw_put_record(&key, &edited).unwrap();
    let found = chain_breaks(&ledger);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].seq, found[0].kind), (4, BreakKind::Edited));
}

#[test]
fn pruning_the_start_of_a_run_folds_it_into_the_anchor_and_keeps_its_tail() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    // Seq 1–3 on 2026-10-30, seq 4–5 on 2026-10-31 (whole UTC days).
    let day = |d: &str, h: usize| {
        record(
            "s",
            &format!("2026-10-{d}T{h:02}:00:00Z"),
            &format!("{d}-{h}"),
            1,
        )
    };
    let records = [
        day("30", 1),
        day("30", 2),
        day("30", 3),
        day("31", 1),
        day("31", 2),
    ];
    ledger.record_batch(&records).unwrap();
    assert_eq!(index_keys(&ledger), 1);
    let removed = ledger
        .prune("2026-10-31T00:00:00Z".parse().unwrap())
        .unwrap();
    assert_eq!(removed, 3);
    let anchor = ledger
        .chain_tip(keys::ChainMetaKey::Anchor("s", ""))
        .unwrap();
    assert_eq!(anchor.seq, 3);
    assert_eq!(index_keys(&ledger), 1, "the tail, from seq 4");
    assert!(ledger.chain_entry("s", "", 3).unwrap().is_none());
    assert!(
        chain_breaks(&ledger).is_empty(),
        "{:?}",
        chain_breaks(&ledger)
    );
    let lines = export(&ledger);
    assert_eq!(json(&lines[0])["chain"]["from_seq"], 4);
    assert!(audited(&lines).valid);
    ledger.record(&day("31", 3)).unwrap();
    assert_eq!(ledger.chain_head("s", "").unwrap().seq, 6);
    assert!(chain_breaks(&ledger).is_empty());
}

#[test]
fn a_late_record_pruned_inside_a_run_bridges_it_and_exports_as_a_pruned_link() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    let at = |t: &str, key: &str| record("s", t, key, 1);
    let records = [
        at("2026-11-01T00:00:00Z", "a"),
        at("2026-01-01T00:00:00Z", "late"), // seq 2: pruned, seq 1 kept
        at("2026-11-02T00:00:00Z", "b"),
    ];
    ledger.record_batch(&records).unwrap();
    assert_eq!(
        ledger
            .prune("2026-10-01T00:00:00Z".parse().unwrap())
            .unwrap(),
        1
    );
    let anchor = ledger
        .chain_tip(keys::ChainMetaKey::Anchor("s", ""))
        .unwrap();
    assert_eq!(anchor.seq, 0, "seq 1 is kept");
    assert!(
        chain_breaks(&ledger).is_empty(),
        "{:?}",
        chain_breaks(&ledger)
    );
    let lines = export_as(&ledger, "default", None);
    let pruned: Vec<_> = lines
        .iter()
        .map(|l| json(l))
        .filter(|l| l["pruned"] == true)
        .collect();
    assert_eq!(pruned.len(), 1);
    assert_eq!(pruned[0]["seq"], 2);
    assert!(audited(&lines).valid);
    let since = export_as(&ledger, "default", Some("2026-11-02T00:00:00Z"));
    assert_eq!(json(&since[0])["chain"]["from_seq"], 3);
    assert!(audited(&since).valid);
}

#[test]
fn an_index_key_that_does_not_parse_is_named_by_verify_and_does_not_stop_retention() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    batch(&ledger, "s", "2026-10-30T00:00:00Z", 3);
    batch(&ledger, "s", "2026-11-30T00:00:00Z", 3);
    // Seq 2's key with a byte too many: it sorts inside the first run.
    let mut bad = keys::ChainKey {
        slo: "s",
        site: "",
        seq: 2,
    }
    .encode();
    bad.push(0);
    ledger.chains.insert(&bad, &b"\0junk"[..]).unwrap();
    assert!(ledger.verify().is_err(), "verify names the key");
    assert_eq!(
        ledger
            .prune("2026-11-01T00:00:00Z".parse().unwrap())
            .unwrap(),
        3
    );
    assert_eq!(
        ledger.chain_entry("s", "", 3).unwrap(),
        None,
        "folded into the anchor up to the key that does not parse"
    );
    let minutes = ledger.buckets("s", i64::MIN / 2, i64::MAX / 2).unwrap();
    assert_eq!(minutes.len(), 3, "the pruned day's buckets went too");
}

#[test]
fn a_run_whose_links_would_pass_the_last_seq_reads_as_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    let key = keys::ChainKey {
        slo: "s",
        site: "",
        seq: u64::MAX,
    }
    .encode();
    let entries = [Entry::Record(b"a".to_vec()), Entry::Record(b"b".to_vec())];
    ledger.chains.insert(&key, encode_run(&entries)).unwrap();
    let links: Vec<_> = ledger
        .chain_links("s", "")
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(links, [(u64::MAX, None)]);
    assert_eq!(ledger.chain_entry("s", "", u64::MAX).unwrap(), None);
}
