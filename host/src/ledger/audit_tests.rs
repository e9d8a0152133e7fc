//! `ledger export` and `ledger audit` as a specification: an honest export
//! audits clean (`--since`, pruned links, every chain's header), and an
//! edited, deleted, reordered, cut or moved line fails at that line.

use super::chain_tests::{at_seq, four, record};
use super::*;

/// `ledger export`'s lines of `ledger`, as tenant `default`.
pub(super) fn export(ledger: &Ledger) -> Vec<String> {
    export_as(ledger, "default", None)
}

pub(super) fn export_as(ledger: &Ledger, tenant: &str, since: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let since = since.map(|t| t.parse().unwrap());
    ledger.export(tenant, None, since, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

pub(super) fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap()
}

pub(super) fn audited(lines: &[String]) -> AuditReport {
    audit(lines.join("\n").as_bytes()).unwrap()
}

#[test]
fn an_untouched_export_audits_clean() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    let mut failed = record("s", "2026-11-30T12:00:00Z", "e", 0);
    failed.outcome = Outcome::Error {
        code: "deadline".into(),
        message: "too slow".into(),
    };
    failed.events.clear();
    ledger.record(&failed).unwrap();
    let lines = export(&ledger);
    let header = json(&lines[0]);
    assert_eq!(header["chain"]["from_seq"], 1, "{header}");
    assert_eq!(header["chain"]["to_seq"], 5, "{header}");
    let report = audited(&lines);
    assert!(report.valid, "{report:?}");
    assert_eq!((report.lines, report.chains), (6, 1));
}

#[test]
fn an_edited_export_line_fails_the_audit_at_that_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = export(&four(dir.path()));
    lines[3] = lines[3].replace("\"detail\":\"1 good\"", "\"detail\":\"fine\"");
    let report = audited(&lines);
    let b = report.first_break.unwrap();
    assert_eq!((b.line, b.kind), (4, BreakKind::Edited));
    // An outcome flipped without its events is caught too.
    let mut lines = export(&four(tempfile::tempdir().unwrap().path()));
    lines[2] = lines[2].replace("\"good\":1", "\"good\":0");
    assert_eq!(audited(&lines).first_break.unwrap().line, 3);
}

#[test]
fn a_deleted_or_reordered_export_line_fails_the_audit_where_the_chain_skips() {
    let dir = tempfile::tempdir().unwrap();
    let lines = export(&four(dir.path()));
    let mut deleted = lines.clone();
    deleted.remove(2);
    let b = audited(&deleted).first_break.unwrap();
    assert_eq!((b.line, b.kind, b.seq), (3, BreakKind::Deleted, Some(3)));
    let mut swapped = lines.clone();
    swapped.swap(2, 3);
    assert_eq!(audited(&swapped).first_break.unwrap().line, 3);
}

#[test]
fn an_export_since_a_time_starts_each_chain_there_keeps_its_late_records_and_audits_clean() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    // Late: seq 5, timed before the cut.
    ledger
        .record(&record("s", "2026-11-30T07:00:00Z", "late", 1))
        .unwrap();
    let lines = export_as(&ledger, "default", Some("2026-11-30T09:30:00Z"));
    let seqs: Vec<_> = lines[1..].iter().map(|l| json(l)["seq"].clone()).collect();
    assert_eq!(seqs, [3, 4, 5], "from seq 3 (10:00) on, the late 07:00 too");
    let (_, third) = at_seq(&ledger, 3);
    let header = &json(&lines[0])["chain"];
    assert_eq!(header["from_seq"], 3);
    assert_eq!(header["from_prev"], third.chain.unwrap().prev.as_str());
    let head = ledger.chain_head("s", "").unwrap();
    assert_eq!(header["to_seq"], 5);
    assert_eq!(header["to_hash"], hex::encode(head.hash).as_str());
    let report = audited(&lines);
    assert!(report.valid, "{report:?}");
    assert_eq!(report.lines, 4);
    // `verify --format json` lists the same head, for an auditor to compare.
    let heads = ledger.verify().unwrap().heads;
    assert_eq!(
        (heads[0].seq, heads[0].hash.as_str()),
        (5, header["to_hash"].as_str().unwrap())
    );
    // Nothing at or after the time: the chain is declared, empty, and clean.
    let lines = export_as(&ledger, "default", Some("2026-12-01T00:00:00Z"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(audited(&lines).valid);
}

#[test]
fn an_export_after_retention_pruned_a_record_inside_a_chain_audits_clean() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    for (at, key) in [
        ("2026-01-02T00:00:00Z", "a"),
        ("2026-11-01T00:00:00Z", "b"),
        ("2026-01-01T00:00:00Z", "late"), // seq 3: pruned, between kept ones
        ("2026-11-02T00:00:00Z", "c"),
    ] {
        ledger.record(&record("s", at, key, 1)).unwrap();
    }
    let (_, late) = at_seq(&ledger, 3);
    ledger
        .prune("2026-10-01T00:00:00Z".parse().unwrap())
        .unwrap();
    let lines = export(&ledger);
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(json(&lines[0])["chain"]["from_seq"], 2, "after the anchor");
    let pruned = json(&lines[2]);
    let link = late.chain.unwrap();
    assert_eq!(
        pruned,
        serde_json::json!({"tenant": "default", "slo": "s", "site": "", "seq": 3,
            "prev": link.prev, "hash": link.hash, "pruned": true})
    );
    let report = audited(&lines);
    assert!(report.valid, "{report:?}");
    // Its prev still binds it: a pruned line edited fails there.
    let mut edited = lines.clone();
    edited[2] = edited[2].replace(&link.prev, &"0".repeat(64));
    let b = audited(&edited).first_break.unwrap();
    assert_eq!((b.line, b.kind), (3, BreakKind::Inserted));
    // And `--since` after the pruned record's time still carries it.
    let lines = export_as(&ledger, "default", Some("2026-10-15T00:00:00Z"));
    assert!(audited(&lines).valid, "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("\"pruned\":true")));
}

#[test]
fn removing_a_chains_first_line_fails_the_audit_at_the_line_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = export(&four(dir.path()));
    lines.remove(1);
    let b = audited(&lines).first_break.unwrap();
    assert_eq!(
        (b.line, b.seq, b.kind, b.at_end),
        (2, Some(2), BreakKind::Deleted, false)
    );
    assert_eq!(b.expected, "seq 1");
}

#[test]
fn removing_a_chains_last_line_fails_the_audit_at_the_end_naming_the_chain_and_its_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = export(&four(dir.path()));
    lines.pop();
    let report = audited(&lines);
    assert!(!report.valid);
    let b = report.first_break.unwrap();
    assert!(b.at_end, "{b:?}");
    assert_eq!((b.line, b.seq, b.kind), (4, Some(4), BreakKind::Deleted));
    assert_eq!(
        (b.tenant.as_deref(), b.slo.as_deref(), b.site.as_deref()),
        (Some("default"), Some("s"), Some(""))
    );
    assert_eq!(b.expected, "links up to the head, seq 4");
}

/// One SLO with two sites' chains, `east` and `west`, of two records each.
fn two_sites(dir: &std::path::Path) -> Ledger {
    let ledger = Ledger::open(dir, "default", 10).unwrap();
    for (at, key) in [
        ("2026-11-30T08:00:00Z", "east.a"),
        ("2026-11-30T08:00:00Z", "west.a"),
        ("2026-11-30T09:00:00Z", "east.b"),
        ("2026-11-30T09:00:00Z", "west.b"),
    ] {
        ledger.record(&record("s", at, key, 1)).unwrap();
    }
    ledger
}

#[test]
fn a_line_moved_to_another_chain_by_its_site_prefix_or_tenant_fails_at_that_line() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = two_sites(dir.path());
    // Two tenants' exports of the same records: chains alike but for the tenant.
    let mut lines = export_as(&ledger, "acme", None);
    lines.extend(export_as(&ledger, "globex", None));
    assert_eq!(lines.len(), 12);
    assert!(audited(&lines).valid, "{lines:?}");
    assert!(lines[3].contains("\"key\":\"east.b\""), "{}", lines[3]);

    // east.b filed under west: west's chain starts at seq 1, not 2.
    let mut moved = lines.clone();
    moved[3] = moved[3].replace("\"key\":\"east.b\"", "\"key\":\"west.b\"");
    let b = audited(&moved).first_break.unwrap();
    assert_eq!(
        (b.line, b.kind, b.site.as_deref()),
        (4, BreakKind::Deleted, Some("west"))
    );

    // A site no header declares.
    let mut moved = lines.clone();
    moved[3] = moved[3].replace("\"key\":\"east.b\"", "\"key\":\"north.b\"");
    let b = audited(&moved).first_break.unwrap();
    assert_eq!((b.line, b.kind), (4, BreakKind::Edited));

    // globex's east.b (line 10) edited into acme's chain, already complete.
    assert!(lines[9].contains("\"tenant\":\"globex\""), "{}", lines[9]);
    let mut moved = lines.clone();
    moved[9] = moved[9].replace("\"tenant\":\"globex\"", "\"tenant\":\"acme\"");
    let b = audited(&moved).first_break.unwrap();
    assert_eq!(
        (b.line, b.kind, b.tenant.as_deref()),
        (10, BreakKind::Reordered, Some("acme"))
    );

    // A tenant no header declares.
    let mut moved = lines.clone();
    moved[9] = moved[9].replace("\"tenant\":\"globex\"", "\"tenant\":\"initech\"");
    let b = audited(&moved).first_break.unwrap();
    assert_eq!((b.line, b.kind), (10, BreakKind::Edited));
}

#[test]
fn an_export_without_chain_headers_fails_the_audit_at_line_1() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = export(&four(dir.path()))
        .into_iter()
        .filter(|l| !l.starts_with("{\"chain\""))
        .collect();
    assert_eq!(lines.len(), 4);
    let report = audited(&lines);
    assert!(!report.valid);
    let b = report.first_break.unwrap();
    assert_eq!((b.line, b.kind), (1, BreakKind::Deleted));
    assert_eq!(b.found, "no chain headers");
}

#[test]
fn deleting_the_only_header_and_cutting_the_last_line_fails_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = export(&four(dir.path()));
    assert!(lines[0].starts_with("{\"chain\""), "{}", lines[0]);
    lines.remove(0);
    lines.pop();
    let b = audited(&lines).first_break.unwrap();
    assert_eq!((b.line, b.kind), (1, BreakKind::Deleted));
    assert_eq!(b.found, "no chain headers");
}

#[test]
fn a_link_after_a_crafted_seq_u64_max_fails_the_audit_instead_of_overflowing() {
    let hash = |byte: u8| hex::encode([byte; 32]);
    let header = export::HeaderLine {
        chain: export::ChainHeader {
            tenant: "default".into(),
            slo: "s".into(),
            site: String::new(),
            from_seq: u64::MAX,
            from_prev: hash(1),
            to_seq: u64::MAX,
            to_hash: hash(2),
        },
    };
    let pruned = |seq: u64, prev: u8, hash_byte: u8| export::PrunedLine {
        tenant: "default".into(),
        slo: "s".into(),
        site: String::new(),
        seq,
        prev: hash(prev),
        hash: hash(hash_byte),
        pruned: true,
    };
    let lines: Vec<String> = [
        serde_json::to_string(&header).unwrap(),
        serde_json::to_string(&pruned(u64::MAX, 1, 2)).unwrap(),
    ]
    .into();
    assert!(audited(&lines).valid, "{:?}", audited(&lines));
    let mut more = lines.clone();
    more.push(serde_json::to_string(&pruned(u64::MAX, 2, 3)).unwrap());
    let b = audited(&more).first_break.unwrap();
    assert_eq!(
        (b.line, b.kind, b.seq),
        (3, BreakKind::Inserted, Some(u64::MAX))
    );
}

#[test]
fn a_record_no_chain_holds_is_exported_last_and_fails_the_audit_there() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = four(dir.path());
    let (_, real) = at_seq(&ledger, 2);
    let mut forged = record("s", "2026-11-30T08:30:00Z", "e", 1);
    forged.chain = real.chain.clone();
    let key = keys::RecordKey::new("s", forged.time, "e").encode();
    ledger.raw_put_record(&key, &forged).unwrap();
    let lines = export(&ledger);
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert!(lines[5].contains("\"key\":\"e\""), "{}", lines[5]);
    let b = audited(&lines).first_break.unwrap();
    assert_eq!(
        (b.line, b.kind),
        (6, BreakKind::Edited),
        "its copied link does not recompute"
    );
}
