//! Nothing a policy says reaches a screen raw. The forger fixture, in mode
//! `hostile`, puts control characters, a forged line and bidi overrides in
//! every string it returns or logs (its description and config schema, a
//! detail, an SLI name, error and panic messages, log, stdout and stderr
//! lines); SLO files and observations put them in dataset names and a bidi
//! override in an SLO name. Each edge those strings leave by escapes them
//! for its medium:
//!
//! - a terminal shows each unsafe character as `\u{XX}`, a backslash
//!   doubled; a log record is one line, the policy's text escaped so where
//!   it is logged and any other field's unsafe characters by the log writer
//!   (tracing itself writes ESC as `\x1b`);
//! - JSON writes it as a `\uXXXX` escape and decodes to the policy's text;
//! - HTML shows the terminal form as text (with markup as entities);
//! - a Prometheus label value holds the terminal form, its backslashes
//!   doubled by the exposition format.
//!
//! "Unsafe" is every C0 character (but the newline between a medium's own
//! lines), DEL, C1, the bidi controls and the line and paragraph separators.

use crate::serve_process::{start_serve, stop};
use crate::server::{ACME, JSON, TestServer, put, send, start};
use crate::support::forger;
use crate::support::forger_file;
use std::path::Path;
use std::process::{Command, Output};

/// The fixture's hostile text (tests/fixtures/forger/src/lib.rs): escapes,
/// a window title, a bell, a backspace, CR LF and a forged line, a C1 CSI, a
/// bidi override and a NUL.
const HOSTILE: &str =
    "x\x1b[31mred\x1b]0;pwned\x07\x08\r\nlevel=ERROR forged\u{9b}2J\u{202e}desrever\u{0}end";

/// What follows [`HOSTILE`]'s CR LF: an error message that quotes it may
/// join its lines (a panic's does).
const HOSTILE_TAIL: &str = "forged\u{9b}2J\u{202e}desrever\u{0}end";

/// [`HOSTILE`] as a terminal, a log line or a page shows it.
const SHOWN: &str = r"x\u{1b}[31mred\u{1b}]0;pwned\u{7}\u{8}\u{d}\u{a}level=ERROR forged\u{9b}2J\u{202e}desrever\u{0}end";

/// The parts of [`SHOWN`] before and after its CR LF: a policy's stdout is
/// logged line by line.
const SHOWN_HEAD: &str = r"x\u{1b}[31mred\u{1b}]0;pwned\u{7}\u{8}";
const SHOWN_TAIL: &str = r"forged\u{9b}2J\u{202e}desrever\u{0}end";

/// The SLO whose name carries a bidi override (SLO names may not hold
/// control characters, but may hold that).
const BIDI_SLO: &str = "says-detail\u{202e}gnp.exe";

/// What the forger says, as its config's `say`, and the SLO that asks it.
const SAYINGS: [&str; 7] = [
    "detail", "sli", "missing", "internal", "panic", "log", "stdout",
];

/// Another, whose evaluations fail: its no-data alert is logged.
const ISOLATED_SLO: &str = "says-missing\u{2067}x";

fn slo_name(say: &str) -> String {
    match say {
        "detail" => BIDI_SLO.to_string(),
        "missing" => ISOLATED_SLO.to_string(),
        _ => format!("says-{say}"),
    }
}

/// Where no edge may send a character raw.
fn unsafe_raw(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Panics when `text` holds an unsafe character raw, or a line that starts
/// with the forged record.
fn assert_clean(what: &str, text: &str) {
    if let Some((at, c)) = text.char_indices().find(|(_, c)| unsafe_raw(*c)) {
        let from = text.floor_char_boundary(at.saturating_sub(60));
        let to = text.ceil_char_boundary((at + 60).min(text.len()));
        panic!(
            "{what}: raw U+{:04X} at byte {at}: {:?}",
            u32::from(c),
            &text[from..to]
        );
    }
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("level=ERROR")),
        "{what}: a forged line of its own:\n{text}"
    );
}

/// `text` as a JSON string literal made of printable ASCII: valid JSON, and
/// valid in a YAML double-quoted scalar.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// The dataset every hostile SLO watches: its name is [`HOSTILE`].
fn dataset() -> String {
    format!(
        r#"{{"namespace":"postgres://prod","name":{}}}"#,
        quoted(HOSTILE)
    )
}

/// An observation of [`dataset`] at `at`.
fn observation(at: jiff::Timestamp) -> String {
    format!(r#"{{"dataset":{},"observed_at":"{at}"}}"#, dataset())
}

/// One SLO on [`dataset`] run by `policy`, whose config asks it to `say`.
fn slo(name: &str, policy: &str, say: &str) -> String {
    format!(
        r#"apiVersion: openslo/v1
kind: SLO
metadata: {{ name: {name} }}
spec:
  indicator:
    metadata: {{ name: n }}
    spec:
      ratioMetric:
        good: {{ metricSource: {{ type: dataslo, spec: {{}} }} }}
        total:
          metricSource:
            type: dataslo
            spec: {{ dataset: {dataset}, policy: "{policy}", config: {{ say: {say} }}, sli: ok, trigger: observation }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ target: 0.9 }}]
"#,
        name = quoted(name),
        dataset = dataset(),
    )
}

/// An SLO for each saying, run by `policy`.
fn slos(policy: &str) -> String {
    SAYINGS
        .iter()
        .map(|say| slo(&slo_name(say), policy, say))
        .collect::<Vec<_>>()
        .join("---\n")
}

fn dataslo(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("run dataslo")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("output is UTF-8")
}

/// Whether some string in `v` holds `needle`.
fn holds(v: &serde_json::Value, needle: &str) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains(needle),
        serde_json::Value::Array(items) => items.iter().any(|i| holds(i, needle)),
        serde_json::Value::Object(map) => map.values().any(|i| holds(i, needle)),
        _ => false,
    }
}

/// `text` is JSON with no unsafe character raw, and shows C1 and bidi
/// controls as `\uXXXX`; its value.
fn clean_json(what: &str, text: &str) -> serde_json::Value {
    assert_clean(what, text);
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"))
}

/// `text` holds [`HOSTILE`] written in JSON escapes.
fn assert_json_escapes(what: &str, text: &str) {
    for escape in [
        r"\u001b[31m",
        r"\u0007",
        r"\r\n",
        r"\u009b2J",
        r"\u202e",
        r"\u0000",
    ] {
        assert!(text.contains(escape), "{what}: no {escape} in {text}");
    }
}

// ---- eval and inspect -------------------------------------------------

/// `dataslo eval` of the hostile forger in `dir`, asked to `say`.
fn eval(dir: &Path, say: &str, format: &str) -> Output {
    let policy = forger_file(dir, "hostile");
    std::fs::write(
        dir.join("obs.json"),
        observation("2026-11-26T08:00:00Z".parse().unwrap()),
    )
    .unwrap();
    dataslo(
        dir,
        &[
            "eval",
            "--policy",
            policy.to_str().unwrap(),
            "--config",
            &format!(r#"{{"say":"{say}"}}"#),
            "--observation",
            "obs.json",
            "--format",
            format,
        ],
    )
}

#[test]
fn the_eval_table_shows_a_hostile_detail_escaped_on_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let out = eval(dir.path(), "detail", "table");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_clean("eval table", &stdout);
    let row = stdout
        .lines()
        .find(|l| l.starts_with("ok "))
        .unwrap_or_else(|| panic!("no row: {stdout}"));
    assert!(row.ends_with(SHOWN), "{row}");
}

#[test]
fn a_hostile_sli_name_reaches_evals_output_escaped_wherever_it_lands() {
    // Listed or refused, the name is printed escaped: in the table, or in
    // the error on stderr.
    let dir = tempfile::tempdir().unwrap();
    let out = eval(dir.path(), "sli", "table");
    let both = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_clean("eval of a hostile SLI", &both);
    assert!(
        both.contains(SHOWN_HEAD) && both.contains(SHOWN_TAIL),
        "{both}"
    );
}

#[test]
fn eval_json_escapes_c1_and_bidi_and_decodes_to_the_policys_text() {
    let dir = tempfile::tempdir().unwrap();
    let out = eval(dir.path(), "detail", "json");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let json = clean_json("eval --format json", &stdout);
    assert_json_escapes("eval --format json", &stdout);
    assert_eq!(json["measurements"][0]["detail"], HOSTILE);
}

#[test]
fn evals_stderr_shows_policy_errors_panics_and_log_lines_escaped() {
    for (say, code) in [
        ("invalid-config", 1),
        ("missing", 1),
        ("internal", 1),
        ("panic", 1),
        ("log", 0),
        ("stdout", 0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = eval(dir.path(), say, "table");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{say}: {stderr}");
        assert_clean(&format!("eval stderr ({say})"), &stderr);
        assert_clean(&format!("eval stdout ({say})"), &text(&out.stdout));
        assert!(
            stderr.contains(SHOWN_HEAD) && stderr.contains(SHOWN_TAIL),
            "{say}: {stderr}"
        );
    }
}

#[test]
fn inspect_shows_what_describe_says_escaped_as_a_table_and_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let policy = forger_file(dir.path(), "hostile");
    let policy = policy.to_str().unwrap();

    let out = dataslo(dir.path(), &["inspect", policy]);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_clean("inspect table", &table);
    assert!(
        table.lines().any(|l| l.trim_start() == SHOWN),
        "the description: {table}"
    );
    let config = table.lines().find(|l| l.starts_with("config")).unwrap();
    assert_json_escapes("inspect's config schema", config);

    let out = dataslo(dir.path(), &["inspect", policy, "--format", "json"]);
    let stdout = text(&out.stdout);
    let json = clean_json("inspect --format json", &stdout);
    assert_json_escapes("inspect --format json", &stdout);
    assert_eq!(json["describe"]["description"], HOSTILE);
    assert!(holds(&json["describe"]["config_schema"], HOSTILE), "{json}");
}

#[test]
fn slo_validate_shows_names_and_datasets_from_the_file_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // validate loads the policy and validates the config, as run would: one
    // that accepts `say` and declares `ok`.
    let policy = forger_file(dir.path(), "hostile");
    let policy = policy.to_str().unwrap();
    let bad_method = format!("budgetingMethod: {}", quoted(HOSTILE));
    let file = format!(
        "{}---\n{}",
        slo(BIDI_SLO, policy, "detail"),
        slo("broken", policy, "detail").replace("budgetingMethod: Occurrences", &bad_method)
    );
    std::fs::write(dir.path().join("slo.yaml"), file).unwrap();
    let out = dataslo(dir.path(), &["slo", "validate", "slo.yaml"]);
    let stdout = text(&out.stdout);
    assert_clean("slo validate", &stdout);
    assert_clean("slo validate's stderr", &text(&out.stderr));
    let ok = stdout
        .lines()
        .find(|l| l.starts_with("ok "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        ok.contains(r"says-detail\u{202e}gnp.exe") && ok.contains(SHOWN),
        "{ok}"
    );
    let invalid = stdout
        .lines()
        .find(|l| l.starts_with("invalid "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(invalid.contains(SHOWN), "the unknown method: {invalid}");
}

// ---- run, status, ledger export -----------------------------------------

/// A spool file whose name forges a line: the log names the files it reads.
const SPOOL_FILE: &str = "a\x1b[31m\r\nlevel=ERROR forged\u{9b}\u{202e}.json";

/// `dataslo run --once` over one observation of [`dataset`] and an SLO per
/// saying, run by the hostile forger; the folder and the run's stderr.
fn run_once(log_format: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let policy = forger_file(dir.path(), "hostile");
    std::fs::write(dir.path().join("slo.yaml"), slos(policy.to_str().unwrap())).unwrap();
    let spool = dir.path().join("data/spool");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(spool.join(SPOOL_FILE), observation(jiff::Timestamp::now())).unwrap();
    let out = dataslo(
        dir.path(),
        &[
            "--log-format",
            log_format,
            "run",
            "--once",
            "--data-dir",
            "data",
            "slo.yaml",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    (dir, stderr)
}

#[test]
fn runs_log_shows_policy_lines_one_record_per_line_escaped() {
    let (_dir, stderr) = run_once("text");
    assert_clean("run's log", &stderr);
    let policy_lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("dataslo::policy"))
        .collect();
    // `log` once; stdout and stderr twice each, their CR LF splitting them.
    assert!(policy_lines.len() >= 3, "{stderr}");
    let logged = policy_lines
        .iter()
        .find(|l| l.contains(SHOWN))
        .unwrap_or_else(|| panic!("the `log` line whole: {stderr}"));
    assert!(logged.contains(r"slo=says-log"), "{logged}");
    for line in &policy_lines {
        assert!(line.contains("WARN") || line.contains("INFO"), "{line}");
    }
    // Any other field of a record is escaped too: the file's name.
    assert!(
        stderr.contains(r"\u{d}\u{a}level=ERROR forged\u{9b}\u{202e}.json"),
        "{stderr}"
    );
}

#[test]
fn runs_json_log_records_are_one_clean_object_each() {
    let (_dir, stderr) = run_once("json");
    assert_clean("run's JSON log", &stderr);
    let mut logged = false;
    for line in stderr.lines() {
        let record: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        logged |= record["message"] == HOSTILE || record["message"] == SHOWN;
    }
    assert!(logged, "the policy's `log` line: {stderr}");
    assert!(
        stderr.contains(r"\r\nlevel=ERROR forged\u009b\u202e.json"),
        "{stderr}"
    );
}

#[test]
fn a_config_the_policy_refuses_stops_run_with_its_message_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let policy = forger_file(dir.path(), "hostile");
    std::fs::write(
        dir.path().join("slo.yaml"),
        slo("refused", policy.to_str().unwrap(), "invalid-config"),
    )
    .unwrap();
    let out = dataslo(
        dir.path(),
        &["run", "--once", "--data-dir", "data", "slo.yaml"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_clean("run's refusal", &stderr);
    assert!(stderr.contains(SHOWN), "{stderr}");
}

#[test]
fn status_after_run_shows_names_and_datasets_escaped_as_a_table_and_as_json() {
    let (dir, _) = run_once("text");
    let out = dataslo(dir.path(), &["status", "--data-dir", "data", "slo.yaml"]);
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_clean("status table", &table);
    assert!(table.contains(r"says-detail\u{202e}"), "{table}");
    assert!(table.contains(r"x\u{1b}[31mred"), "the dataset: {table}");

    let out = dataslo(
        dir.path(),
        &[
            "status",
            "--data-dir",
            "data",
            "slo.yaml",
            "--format",
            "json",
        ],
    );
    let stdout = text(&out.stdout);
    let json = clean_json("status --format json", &stdout);
    assert_json_escapes("status --format json", &stdout);
    let slos = json["slos"].as_array().unwrap();
    assert!(slos.iter().any(|s| s["slo"] == BIDI_SLO), "{json}");
    assert!(
        slos.iter().all(|s| s["dataset"]["name"] == HOSTILE),
        "{json}"
    );
}

#[test]
fn ledger_export_writes_details_and_error_messages_as_clean_json_lines() {
    let (dir, _) = run_once("text");
    let out = dataslo(dir.path(), &["ledger", "export", "--data-dir", "data"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_clean("ledger export", &stdout);
    assert_json_escapes("ledger export", &stdout);
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| !l.starts_with(r#"{"chain":"#)) // chain headers
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(records.len(), SAYINGS.len(), "{stdout}");
    let of = |slo: &str| {
        records
            .iter()
            .find(|r| r["slo"] == slo)
            .unwrap_or_else(|| panic!("no record of {slo}: {stdout}"))
    };
    assert_eq!(of(BIDI_SLO)["detail"], HOSTILE);
    for say in ["missing", "internal", "panic"] {
        let record = of(&slo_name(say));
        assert_eq!(record["outcome"], "error", "{record}");
        assert!(holds(&record["detail"], HOSTILE_TAIL), "{record}");
    }
}

// ---- serve ----------------------------------------------------------------

/// A server in process with tenant `acme`, the hostile forger uploaded as
/// `forger` and an SLO per saying, after one observation was evaluated.
fn serve_hostile() -> TestServer {
    let s = start();
    let (status, stored) = put(
        &s,
        "/v1/policies/forger",
        ACME,
        "application/wasm",
        &forger("hostile"),
    );
    assert_eq!(status, 201, "{stored}");
    let (status, applied) = put(
        &s,
        "/v1/slos",
        ACME,
        "application/yaml",
        slos("uploaded:forger").as_bytes(),
    );
    assert_eq!(status, 200, "{applied}");
    let (status, answer) = send(
        "POST",
        &format!("{}/v1/observations?wait=evaluated", s.url),
        ACME,
        JSON,
        observation(jiff::Timestamp::now()).as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    s
}

fn get_text(s: &TestServer, path: &str) -> (u16, String) {
    send("GET", &format!("{}{path}", s.url), ACME, "", b"")
}

/// `text` percent-encoded for a URL path.
fn url(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                char::from(b).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn put_policies_answers_with_what_describe_says_as_clean_json() {
    let s = start();
    let (status, body) = send(
        "PUT",
        &format!("{}/v1/policies/forger", s.url),
        ACME,
        "application/wasm",
        &forger("hostile"),
    );
    assert_eq!(status, 201, "{body}");
    let stored = clean_json("PUT /v1/policies", &body);
    assert_json_escapes("PUT /v1/policies", &body);
    assert_eq!(stored["description"], HOSTILE);

    let (_, body) = get_text(&s, "/v1/policies");
    let listed = clean_json("GET /v1/policies", &body);
    assert_eq!(listed["uploaded"][0]["description"], HOSTILE);
}

#[test]
fn put_slos_answers_a_config_the_policy_refuses_with_its_message_as_clean_json() {
    let s = start();
    let (status, _) = put(
        &s,
        "/v1/policies/forger",
        ACME,
        "application/wasm",
        &forger("hostile"),
    );
    assert_eq!(status, 201);
    let (status, body) = send(
        "PUT",
        &format!("{}/v1/slos", s.url),
        ACME,
        "application/yaml",
        slo("refused", "uploaded:forger", "invalid-config").as_bytes(),
    );
    assert_eq!(status, 422, "{body}");
    let answer = clean_json("PUT /v1/slos refused", &body);
    assert_json_escapes("PUT /v1/slos refused", &body);
    assert!(holds(&answer["detail"], HOSTILE), "{answer}");
}

#[test]
fn v1_answers_carry_details_errors_and_names_as_clean_json() {
    let s = serve_hostile();
    let (status, body) = get_text(&s, "/v1/slos");
    assert_eq!(status, 200, "{body}");
    let report = clean_json("GET /v1/slos", &body);
    assert_json_escapes("GET /v1/slos", &body);
    assert!(holds(&report, BIDI_SLO), "{report}");

    let (status, body) = get_text(&s, &format!("/v1/slos/{}", url(BIDI_SLO)));
    assert_eq!(status, 200, "{body}");
    assert_eq!(clean_json("GET /v1/slos/NAME", &body)["slo"], BIDI_SLO);

    let (status, body) = get_text(&s, &format!("/v1/slos/{}/events", url(BIDI_SLO)));
    assert_eq!(status, 200, "{body}");
    assert_eq!(clean_json("events", &body)[0]["detail"], HOSTILE);

    for say in ["missing", "internal", "panic", "sli"] {
        let path = format!("/v1/slos/{}/events", url(&slo_name(say)));
        let (status, body) = get_text(&s, &path);
        assert_eq!(status, 200, "{body}");
        let outcome = &clean_json(&path, &body)[0]["outcome"];
        // An unlisted SLI's name is quoted as Rust writes a string.
        let quoted = r"forged\u{9b}2J\u{202e}desrever\0end";
        assert!(
            holds(outcome, HOSTILE_TAIL) || holds(outcome, quoted),
            "{say}: {body}"
        );
    }

    // An error answer quoting the path.
    let (status, body) = get_text(&s, &format!("/v1/slos/{}", url(HOSTILE)));
    assert_eq!(status, 404, "{body}");
    assert!(holds(&clean_json("a 404", &body), "desrever"), "{body}");
}

#[test]
fn metrics_label_hostile_names_and_datasets_escaped_and_promtool_accepts_them() {
    let s = serve_hostile();
    let (status, body) = get_text(&s, "/metrics");
    assert_eq!(status, 200, "{body}");
    assert_clean("/metrics", &body);
    let labelled = r#"slo="says-detail\\u{202e}gnp.exe""#;
    assert!(body.contains(labelled), "{body}");
    let dataset = format!(r#"dataset="{}""#, SHOWN.replace('\\', r"\\"));
    assert!(body.contains(&dataset), "{body}");
    if let Some((ok, said)) = crate::metrics::promtool(&body) {
        assert!(ok, "promtool: {said}");
    }
}

#[test]
fn dashboard_pages_show_details_names_and_datasets_escaped() {
    let s = serve_hostile();
    let (status, home) = get_text(&s, "/");
    assert_eq!(status, 200, "{home}");
    assert_clean("the dashboard's home", &home);
    assert!(home.contains(r"says-detail\u{202e}gnp.exe"), "{home}");
    assert!(home.contains(SHOWN), "the dataset: {home}");

    let (status, page) = get_text(&s, &format!("/slos/{}", url(BIDI_SLO)));
    assert_eq!(status, 200, "{page}");
    assert_clean("an SLO's page", &page);
    assert!(page.contains(SHOWN), "the detail: {page}");

    let (status, page) = get_text(&s, "/slos/says-internal");
    assert_eq!(status, 200, "{page}");
    assert_clean("an SLO's page with an error", &page);
    assert!(page.contains(SHOWN_TAIL), "the error: {page}");
}

#[test]
fn serves_log_shows_policy_lines_one_record_per_line_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = start_serve(dir.path(), "", "");
    let agent = crate::server::agent();
    let answer = agent
        .put(&format!("{base}/v1/policies/forger"))
        .header("Authorization", "Bearer acme-secret")
        .header("Content-Type", "application/wasm")
        .send(&forger("hostile")[..])
        .unwrap();
    assert_eq!(answer.status(), 201);
    let answer = agent
        .put(&format!("{base}/v1/slos"))
        .header("Authorization", "Bearer acme-secret")
        .header("Content-Type", "application/yaml")
        .send(slos("uploaded:forger").as_bytes())
        .unwrap();
    assert_eq!(answer.status(), 200);
    let answer = agent
        .post(&format!("{base}/v1/observations?wait=evaluated"))
        .header("Authorization", "Bearer acme-secret")
        .header("Content-Type", "application/json")
        .send(observation(jiff::Timestamp::now()).as_bytes())
        .unwrap();
    assert_eq!(answer.status(), 200);
    // The clock pass logs the no-data alert of the SLO whose evaluations fail.
    let alerted = r"slo=says-missing\u{2067}x";
    let logged = (0..400).any(|_| {
        let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
        let found = log.contains(alerted);
        if !found {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        found
    });
    let (code, log) = stop(child, dir.path());
    assert_eq!(code, Some(0), "{log}");
    assert_clean("serve's log", &log);
    assert!(
        logged,
        "any field of a record is escaped, the alert's SLO too: {log}"
    );
    let logged = log
        .lines()
        .find(|l| l.contains("dataslo::policy") && l.contains(SHOWN))
        .unwrap_or_else(|| panic!("the `log` line whole: {log}"));
    assert!(
        logged.contains("tenant=acme") && logged.contains("slo=says-log"),
        "{logged}"
    );
}
