//! The hash chains as a specification: filing, tamper evidence through the
//! test-only raw access, retention's anchor, agents' links, migration and
//! the records central refused. The export and its audit: `audit_tests.rs`.

use super::audit_tests::{audited, export, export_as, json};
use super::chain::{GENESIS, link_hash};
use super::*;
use crate::model::DatasetRef;

pub(super) fn record(slo: &str, at: &str, key: &str, good: u64) -> EvalRecord {
    EvalRecord {
        slo: slo.into(),
        dataset: DatasetRef {
            namespace: "n".into(),
            name: "d".into(),
        },
        time: at.parse().unwrap(),
        key: key.into(),
        outcome: Outcome::Measured,
        events: vec![Events { good, total: 1 }],
        objectives: Vec::new(),
        value: Some(good as f64),
        detail: format!("{good} good"),
        policy_sha256: "ab".repeat(32),
        chain: None,
    }
}

/// A ledger with one SLO's four records, filed out of time order.
pub(super) fn four(dir: &std::path::Path) -> Ledger {
    let ledger = Ledger::open(dir, "default", 10).unwrap();
    for (at, key) in [
        ("2026-11-30T09:00:00Z", "b"),
        ("2026-11-30T08:00:00Z", "a"), // late: second in the chain
        ("2026-11-30T10:00:00Z", "c"),
        ("2026-11-30T11:00:00Z", "d"),
    ] {
        ledger.record(&record("s", at, key, 1)).unwrap();
    }
    ledger
}

/// The stored (key, record) with this seq.
pub(super) fn at_seq(ledger: &Ledger, seq: u64) -> (Vec<u8>, EvalRecord) {
    ledger
        .raw_records()
        .unwrap()
        .into_iter()
        .find(|(_, r)| r.chain.as_ref().unwrap().seq == seq)
        .unwrap()
}

pub(super) fn chain_breaks(ledger: &Ledger) -> Vec<ChainBreak> {
    let report = ledger.verify().unwrap();
    report
        .mismatches
        .into_iter()
        .filter_map(|m| match m {
            Mismatch::Chain(b) => Some(b),
            _ => None,
        })
        .collect()
}

#[test]
fn records_chain_in_the_order_they_are_filed_not_by_time_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    let (_, first) = at_seq(&ledger, 1);
    let (_, second) = at_seq(&ledger, 2);
    assert_eq!(first.key, "b");
    assert_eq!(second.key, "a", "the late record is second");
    let link = first.chain.as_ref().unwrap();
    assert_eq!(link.prev, hex::encode(GENESIS));
    assert_eq!(second.chain.as_ref().unwrap().prev, link.hash);
    let mut bare = first.clone();
    bare.chain = None;
    assert_eq!(link.hash, hex::encode(link_hash(&bare, 1, &GENESIS)));
    let head = ledger.chain_head("s", "").unwrap();
    assert_eq!(head.seq, 4);
    let report = ledger.verify().unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
    assert_eq!(report.links, 4);
}

#[test]
fn a_duplicate_does_not_extend_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    let again = ledger
        .record(&record("s", "2026-11-30T10:00:00Z", "c", 1))
        .unwrap();
    assert_eq!(again, Stored::Duplicate);
    assert_eq!(ledger.chain_head("s", "").unwrap().seq, 4);
}

#[test]
fn links_drafted_before_the_transaction_are_the_links_it_would_make() {
    let dir = tempfile::tempdir().unwrap();
    let drafted = Ledger::open(dir.path(), "default", 10).unwrap();
    let other = tempfile::tempdir().unwrap();
    let linked_inside = Ledger::open(other.path(), "default", 10).unwrap();
    // The third repeats the first: a duplicate, which no draft may count.
    let batch: Vec<_> = [
        ("01", "a", 1),
        ("02", "b", 0),
        ("01", "a", 1),
        ("03", "c", 1),
    ]
    .iter()
    .map(|(hour, key, good)| record("s", &format!("2026-11-30T{hour}:00:00Z"), key, *good))
    .collect();
    let stored = drafted.record_batch(&batch).unwrap();
    assert_eq!(stored[2], Stored::Duplicate);
    assert_eq!(drafted.chain_head("s", "").unwrap().seq, 3);
    let drafts: Vec<Option<chain_draft::Drafted>> = Vec::new();
    linked_inside
        .write_drafted(&batch, &drafts, None, false, false)
        .unwrap();
    assert_eq!(
        drafted.raw_records().unwrap(),
        linked_inside.raw_records().unwrap()
    );
    assert!(chain_breaks(&drafted).is_empty());
}

#[test]
fn a_draft_is_never_taken_for_another_record() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    let drafted = [record("s", "2026-11-30T08:00:00Z", "drafted", 1)];
    let drafts = ledger.draft_links(&drafted, false, true).unwrap();
    // Another record, on the same empty head, handed the first's draft.
    let other = [record("s", "2026-11-30T09:00:00Z", "other", 0)];
    ledger
        .write_drafted(&other, &drafts, None, false, false)
        .unwrap();
    let (_, stored) = at_seq(&ledger, 1);
    assert_eq!(stored.key, "other");
    assert_eq!(stored.detail, "0 good", "its own bytes, not the draft's");
    assert!(chain_breaks(&ledger).is_empty());
}

#[test]
fn a_record_drafted_on_a_head_that_moved_since_is_linked_to_the_new_head() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    let late = [record("s", "2026-11-30T09:00:00Z", "late", 1)];
    let drafts = ledger.draft_links(&late, false, true).unwrap();
    assert_eq!(
        drafts[0].as_ref().unwrap().link.seq,
        1,
        "drafted on the empty chain"
    );
    // Another writer moves the head in between.
    ledger
        .record(&record("s", "2026-11-30T08:00:00Z", "first", 1))
        .unwrap();
    ledger
        .write_drafted(&late, &drafts, None, false, false)
        .unwrap();
    let (_, first) = at_seq(&ledger, 1);
    let (_, second) = at_seq(&ledger, 2);
    assert_eq!((first.key.as_str(), second.key.as_str()), ("first", "late"));
    let first_link = first.chain.unwrap();
    assert_eq!(second.chain.unwrap().prev, first_link.hash);
    assert!(chain_breaks(&ledger).is_empty());
}

#[test]
fn each_slo_and_each_site_has_its_own_chain() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    ledger
        .record(&record("t", "2026-11-30T08:00:00Z", "x", 1))
        .unwrap();
    ledger
        .record_consumed(&[record("s", "2026-11-30T08:30:00Z", "edge-1.x", 1)])
        .unwrap();
    assert_eq!(ledger.chain_head("t", "").unwrap().seq, 1);
    assert_eq!(ledger.chain_head("s", "edge-1").unwrap().seq, 1);
    assert_eq!(ledger.chains().unwrap().len(), 3);
    assert!(chain_breaks(&ledger).is_empty());
}

#[test]
fn an_edited_record_is_found_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    let (key, mut edited) = at_seq(&ledger, 2);
    edited.detail = "all good, honest".into();
    ledger.raw_put_record(&key, &edited).unwrap();
    let breaks = chain_breaks(&ledger);
    assert_eq!(breaks.len(), 1, "{breaks:?}");
    let b = &breaks[0];
    assert_eq!((b.slo.as_str(), b.seq, b.kind), ("s", 2, BreakKind::Edited));
    assert_eq!(b.key.as_deref(), Some("a"));
    assert_eq!(&b.found, &edited.chain.as_ref().unwrap().hash);
    assert_ne!(b.expected, b.found);
}

#[test]
fn a_deleted_record_is_found_as_a_gap_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    let (key, _) = at_seq(&ledger, 3);
    ledger.raw_remove_record(&key).unwrap();
    let breaks = chain_breaks(&ledger);
    assert_eq!(breaks.len(), 1, "{breaks:?}");
    assert_eq!((breaks[0].seq, breaks[0].kind), (3, BreakKind::Deleted));
    assert_eq!(breaks[0].key.as_deref(), Some("c"));
}

#[test]
fn an_inserted_record_is_found_outside_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    // A forged record with a link copied from a real one.
    let (_, real) = at_seq(&ledger, 2);
    let mut forged = record("s", "2026-11-30T08:30:00Z", "e", 1);
    forged.chain = real.chain.clone();
    let key = keys::RecordKey::new("s", forged.time, "e").encode();
    ledger.raw_put_record(&key, &forged).unwrap();
    let breaks = chain_breaks(&ledger);
    assert_eq!(breaks.len(), 1, "{breaks:?}");
    assert_eq!(breaks[0].kind, BreakKind::Inserted);
    assert_eq!(breaks[0].key.as_deref(), Some("e"));
}

#[test]
fn a_reordered_record_is_found_where_it_moved() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    let (k2, r2) = at_seq(&ledger, 2);
    let (k3, r3) = at_seq(&ledger, 3);
    ledger.raw_put_record(&k2, &r3).unwrap();
    ledger.raw_put_record(&k3, &r2).unwrap();
    let breaks = chain_breaks(&ledger);
    assert_eq!(breaks.len(), 1, "{breaks:?}");
    let b = &breaks[0];
    assert_eq!((b.seq, b.kind), (2, BreakKind::Reordered));
    assert_eq!((b.expected.as_str(), b.found.as_str()), ("seq 2", "seq 3"));
}

#[test]
fn a_pruned_chain_verifies_from_its_anchor_even_when_a_late_record_went_first() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    for (at, key) in [
        ("2026-01-02T00:00:00Z", "a"),
        ("2026-11-01T00:00:00Z", "b"),
        ("2026-01-01T00:00:00Z", "late"), // seq 3, pruned before seq 2
        ("2026-11-02T00:00:00Z", "c"),
    ] {
        ledger.record(&record("s", at, key, 1)).unwrap();
    }
    let removed = ledger
        .prune("2026-10-01T00:00:00Z".parse().unwrap())
        .unwrap();
    assert_eq!(removed, 2);
    let anchor = ledger
        .chain_tip(keys::ChainMetaKey::Anchor("s", ""))
        .unwrap();
    assert_eq!(
        anchor.seq, 1,
        "seq 2 is kept, so seq 3 bridges until it goes"
    );
    let report = ledger.verify().unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
    ledger
        .prune("2026-11-02T00:00:00Z".parse().unwrap())
        .unwrap();
    let anchor = ledger
        .chain_tip(keys::ChainMetaKey::Anchor("s", ""))
        .unwrap();
    assert_eq!(anchor.seq, 3);
    assert!(ledger.verify().unwrap().mismatches.is_empty());
    ledger
        .record(&record("s", "2026-11-03T00:00:00Z", "d", 1))
        .unwrap();
    assert_eq!(ledger.chain_head("s", "").unwrap().seq, 5);
    assert!(ledger.verify().unwrap().mismatches.is_empty());
}

#[test]
fn central_keeps_an_agents_links_and_reports_a_lost_record_as_a_gap() {
    let agent_dir = tempfile::tempdir().unwrap();
    let agent = four(agent_dir.path());
    let central_dir = tempfile::tempdir().unwrap();
    let central = Ledger::open(central_dir.path(), "default", 10).unwrap();
    let forwarded = |seq| {
        let (_, r) = at_seq(&agent, seq);
        EvalRecord {
            key: format!("edge-1.{}", r.key),
            ..r
        }
    };
    central
        .record_consumed(&[forwarded(1), forwarded(2)])
        .unwrap();
    let head = central.chain_head("s", "edge-1").unwrap();
    assert_eq!(head, agent.chain_head("s", "").unwrap().clone_at(2, &agent));
    assert!(chain_breaks(&central).is_empty());
    // Seq 3 is not delivered yet (or lost): seq 4 is kept, and verify
    // names the gap while it stays.
    central.record_consumed(&[forwarded(4)]).unwrap();
    assert_eq!(central.records(None, None).count(), 3, "nothing dropped");
    let breaks = chain_breaks(&central);
    assert_eq!(breaks.len(), 1, "{breaks:?}");
    assert_eq!(
        (breaks[0].site.as_str(), breaks[0].seq, breaks[0].kind),
        ("edge-1", 3, BreakKind::Deleted)
    );
    // Delivered again after the later one (a central killed before its
    // ack): it fills the gap.
    central.record_consumed(&[forwarded(3)]).unwrap();
    assert!(chain_breaks(&central).is_empty());
    assert_eq!(central.chain_head("s", "edge-1").unwrap().seq, 4);
    // Another record claiming a seq that is taken forks the chain: kept
    // outside it, and named.
    let mut fork = record("s", "2026-11-30T13:00:00Z", "edge-1.z", 1);
    fork.chain = forwarded(2).chain;
    central.record_consumed(&[fork]).unwrap();
    let breaks = chain_breaks(&central);
    assert_eq!(breaks.len(), 1, "{breaks:?}");
    assert_eq!(breaks[0].kind, BreakKind::Inserted);
    assert_eq!(breaks[0].key.as_deref(), Some("edge-1.z"));
}

/// Central's count of `kind` for site edge-1.
fn problems(ledger: &Ledger, kind: &str) -> u64 {
    let counts = ledger.chain_problems().unwrap();
    counts
        .get(&("edge-1".to_string(), kind.to_string()))
        .copied()
        .unwrap_or(0)
}

#[test]
fn a_redelivery_after_later_records_counts_one_gap() {
    let agent_dir = tempfile::tempdir().unwrap();
    let agent = four(agent_dir.path());
    let central_dir = tempfile::tempdir().unwrap();
    let central = Ledger::open(central_dir.path(), "default", 10).unwrap();
    let forwarded = |seq| {
        let (_, r) = at_seq(&agent, seq);
        EvalRecord {
            key: format!("edge-1.{}", r.key),
            ..r
        }
    };
    central.record_consumed(&[forwarded(1)]).unwrap();
    central
        .record_consumed(&[forwarded(3), forwarded(4)])
        .unwrap();
    // Seq 2 again, after the later ones: it fills the gap, no new problem.
    central.record_consumed(&[forwarded(2)]).unwrap();
    assert_eq!(problems(&central, "gap"), 1);
    assert_eq!(problems(&central, "broken_link"), 0);
    assert_eq!(problems(&central, "fork"), 0);
    assert!(chain_breaks(&central).is_empty());
}

#[test]
fn an_agents_next_link_whose_prev_is_not_the_heads_hash_counts_a_broken_link() {
    let agent_dir = tempfile::tempdir().unwrap();
    let agent = four(agent_dir.path());
    let central_dir = tempfile::tempdir().unwrap();
    let central = Ledger::open(central_dir.path(), "default", 10).unwrap();
    let (_, first) = at_seq(&agent, 1);
    central
        .record_consumed(&[EvalRecord {
            key: format!("edge-1.{}", first.key),
            ..first
        }])
        .unwrap();
    // Seq 2 of another history: its prev is not central's head.
    let mut other = record("s", "2026-11-30T13:00:00Z", "edge-1.z", 1);
    let prev = [7u8; 32];
    other.chain = Some(chain::Link {
        seq: 2,
        prev: hex::encode(prev),
        hash: hex::encode(link_hash(&other, 2, &prev)),
    });
    central.record_consumed(&[other]).unwrap();
    assert_eq!(problems(&central, "broken_link"), 1);
    assert_eq!(problems(&central, "gap"), 0);
    assert!(!chain_breaks(&central).is_empty());
}

#[test]
fn a_value_serde_json_reads_back_one_ulp_off_is_stored_settled_and_verifies() {
    let off = (1..1_000_000)
        .map(|i| f64::from(i).sqrt() / 7.0)
        .find(|v| serde_json::from_str::<f64>(&serde_json::to_string(v).unwrap()).unwrap() != *v)
        .expect("serde_json misreads some double");
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    let mut r = record("s", "2026-11-30T08:00:00Z", "a", 1);
    r.value = Some(off);
    ledger.record(&r).unwrap();
    assert!(ledger.verify().unwrap().mismatches.is_empty());
    let lines = export(&ledger);
    assert!(audited(&lines).valid);
}

#[test]
fn a_value_that_is_not_finite_is_stored_as_none_and_its_link_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    for (key, value) in [("a", f64::INFINITY), ("b", f64::NAN)] {
        let mut r = record("s", "2026-11-30T08:00:00Z", key, 1);
        r.value = Some(value);
        ledger.record(&r).unwrap();
    }
    assert!(chain_breaks(&ledger).is_empty());
    assert!(audited(&export(&ledger)).valid);
}

#[test]
fn an_agents_link_at_seq_zero_or_the_last_seq_is_kept_outside_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let central = Ledger::open(dir.path(), "default", 10).unwrap();
    for (key, seq) in [("edge-1.x", 0), ("edge-1.y", u64::MAX)] {
        let mut r = record("s", "2026-11-30T08:00:00Z", key, 1);
        r.chain = Some(chain::Link {
            seq,
            prev: hex::encode(GENESIS),
            hash: hex::encode(link_hash(&r, seq, &GENESIS)),
        });
        central.record_consumed(&[r]).unwrap();
    }
    assert_eq!(central.records(None, None).count(), 2, "nothing dropped");
    // The first break of the chain is named; neither moved its head.
    let breaks = chain_breaks(&central);
    assert_eq!(breaks.len(), 1, "{breaks:?}");
    assert_eq!(breaks[0].kind, BreakKind::Inserted);
    assert_eq!(central.chain_head("s", "edge-1").unwrap().seq, 0);
}

impl chain::Tip {
    /// The tip of `ledger`'s own chain of `s` at `seq`.
    fn clone_at(self, seq: u64, ledger: &Ledger) -> chain::Tip {
        let (_, r) = at_seq(ledger, seq);
        chain::Tip {
            seq,
            hash: chain::parse_hash(&r.chain.unwrap().hash).unwrap(),
        }
    }
}

#[test]
fn migration_links_unchained_records_in_stored_order_and_reruns_safely() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    // As layout 2 stored them: no links, no index, no heads.
    for (key, mut r) in ledger.raw_records().unwrap() {
        r.chain = None;
        ledger.raw_put_record(&key, &r).unwrap();
    }
    ledger.chains.clear().unwrap();
    ledger
        .meta
        .remove(keys::ChainMetaKey::Head("s", "").encode())
        .unwrap();
    migrations::chains(&ledger.db).unwrap();
    assert_eq!(ledger.chains.len(), 4, "a key per link, as layout 3 reads");
    let (_, first) = at_seq(&ledger, 1);
    assert_eq!(first.key, "a", "stored order: time");
    assert!(chain_breaks(&ledger).is_empty());
    migrations::chains(&ledger.db).unwrap();
    assert_eq!(
        ledger.chain_head("s", "").unwrap().seq,
        4,
        "a rerun adds nothing"
    );
    ledger
        .record(&record("s", "2026-11-30T12:00:00Z", "e", 1))
        .unwrap();
    assert_eq!(ledger.chain_head("s", "").unwrap().seq, 5);
    assert!(chain_breaks(&ledger).is_empty());
}

fn refused(stream_sequence: u64, payload: &[u8]) -> RefusedRecord {
    RefusedRecord {
        stream_sequence,
        subject: "dataslo.records.default.edge-1".into(),
        site: "edge-1".into(),
        slo: None,
        key: None,
        problem: Some(ChainProblem::Unchained),
        reason: "no chain".into(),
        refused_at: "2026-11-30T12:00:00Z".parse().unwrap(),
        payload: RawPayload::of(payload),
    }
}

#[test]
fn a_refused_record_is_kept_once_per_stream_sequence_and_payload_and_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    ledger
        .keep_refused(&[refused(7, b"{\"slo\":\"s\"}")])
        .unwrap();
    // Delivered again: neither kept nor counted twice.
    ledger
        .keep_refused(&[refused(7, b"{\"slo\":\"s\"}")])
        .unwrap();
    // A recreated stream delivers another record at the same sequence.
    let not_utf8 = b"{\"slo\":\"s\xff\"}\x00";
    ledger.keep_refused(&[refused(7, not_utf8)]).unwrap();
    let kept = ledger.refused_records().unwrap();
    assert_eq!(kept.len(), 2, "{kept:?}");
    let payloads: Vec<Vec<u8>> = kept.iter().map(|r| r.payload.bytes().unwrap()).collect();
    assert!(payloads.contains(&b"{\"slo\":\"s\"}".to_vec()), "{kept:?}");
    assert!(
        payloads.contains(&not_utf8.to_vec()),
        "kept exactly: {kept:?}"
    );
    assert!(
        kept.iter()
            .any(|r| r.payload.text() == Some("{\"slo\":\"s\"}"))
    );
    let counts = ledger.chain_problems().unwrap();
    assert_eq!(
        counts.get(&("edge-1".to_string(), "unchained".to_string())),
        Some(&2)
    );
}

#[test]
fn an_export_since_whose_first_record_is_gone_starts_at_the_next_link_not_an_empty_prev() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    // c (10:00) would start a chain exported since 09:30; it is removed.
    let (key, c) = at_seq(&ledger, 3);
    assert_eq!(c.key, "c");
    ledger.raw_remove_record(&key).unwrap();
    let lines = export_as(&ledger, "default", Some("2026-11-30T09:30:00Z"));
    let header = json(&lines[0]);
    assert_eq!(header["chain"]["from_seq"], 4, "{header}");
    let (_, d) = at_seq(&ledger, 4);
    assert_eq!(
        header["chain"]["from_prev"].as_str(),
        Some(d.chain.unwrap().prev.as_str())
    );
    assert!(audited(&lines).valid, "{lines:?}");
    assert!(!chain_breaks(&ledger).is_empty(), "verify names the gap");
}
