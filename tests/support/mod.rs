//! Shared by the end-to-end tests: fixture guests built once per test binary,
//! a shared runtime, and observation builders.
#![allow(dead_code)]

pub mod browser;
pub mod load;
pub mod nats;
pub mod python;
pub mod registry;
pub mod server;
pub mod webhook;

use dataslo::model::{Observation, parse_observation};
use dataslo::runtime::{EvalError, Evaluation, EvaluationInput, Limits, Policy, Runtime};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ is in the workspace")
        .to_path_buf()
}

/// A file or folder of tests/data: real inputs copied from other projects,
/// each with its origin and licence in tests/data/README.md.
pub fn test_data(relative: &str) -> PathBuf {
    workspace().join("tests/data").join(relative)
}

/// The component files of every guest under tests/fixtures and examples,
/// keyed by folder name, built once per test binary.
pub fn guests() -> &'static HashMap<String, PathBuf> {
    static GUESTS: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    GUESTS.get_or_init(|| {
        let ws = workspace();
        let mut found = dataslo_wasm_build::guests_in(&ws.join("tests/fixtures"), "fixture-");
        found.extend(dataslo_wasm_build::guests_in(&ws.join("examples"), ""));
        let list: Vec<_> = found.iter().map(|(_, g)| g.clone()).collect();
        let target = ws.join("target/test-guests");
        let paths =
            dataslo_wasm_build::build(&ws, &list, &target).unwrap_or_else(|e| panic!("{e}"));
        found.into_iter().map(|(name, _)| name).zip(paths).collect()
    })
}

pub fn guest_path(name: &str) -> &'static Path {
    guests()
        .get(name)
        .unwrap_or_else(|| panic!("no guest named {name}"))
}

pub fn guest_bytes(name: &str) -> Vec<u8> {
    std::fs::read(guest_path(name)).expect("read guest")
}

/// The forger fixture's bytes with its mode tag rewritten to `mode` (see
/// tests/fixtures/forger): `describe` takes no input, so its mode is patched in.
pub fn forger(mode: &str) -> Vec<u8> {
    const TAG: &[u8] = b"dataslo-forger-mode:";
    const ROOM: usize = 32;
    assert!(
        mode.len() <= ROOM,
        "mode {mode:?} is longer than {ROOM} bytes"
    );
    let mut bytes = guest_bytes("forger");
    let at = bytes
        .windows(TAG.len())
        .position(|w| w == TAG)
        .expect("the forger carries its mode tag")
        + TAG.len();
    let mut patch = mode.as_bytes().to_vec();
    patch.resize(ROOM, b'.');
    bytes[at..at + ROOM].copy_from_slice(&patch);
    bytes
}

/// The forger in `mode`, written to `dir/forger-MODE.wasm` for the binary.
pub fn forger_file(dir: &Path, mode: &str) -> PathBuf {
    let path = dir.join(format!("forger-{mode}.wasm"));
    std::fs::write(&path, forger(mode)).expect("write the forger");
    path
}

/// Runs the `dataslo` binary from the workspace root, as a user would.
pub fn dataslo(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_dataslo"))
        .args(args)
        .current_dir(workspace())
        .output()
        .expect("run dataslo")
}

/// A finished command's standard output, as text.
pub fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A finished command's standard error, as text.
pub fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One runtime per test binary, as in the real process.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new(Limits::default()).expect("runtime"))
}

/// Default limits with a deadline of seconds: for tests about another limit,
/// which a busy machine must not turn into a deadline test.
pub fn patient_limits() -> Limits {
    Limits {
        deadline: std::time::Duration::from_secs(5),
        ..Limits::default()
    }
}

/// The adversary fixture, loaded once.
pub fn adversary() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        runtime()
            .load("adversary", &guest_bytes("adversary"))
            .expect("load adversary")
    })
}

/// The adversary fixture built without WASI (`wasm32-unknown-unknown` made a
/// component, as the built-ins can be), loaded once.
pub fn adversary_without_wasi() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let ws = workspace();
        let found = dataslo_wasm_build::guests_in(&ws.join("tests/fixtures"), "fixture-");
        let guest = found
            .into_iter()
            .find(|(name, _)| name == "adversary")
            .map(|(_, guest)| guest)
            .expect("the adversary fixture");
        let target = ws.join("target/test-guests-no-wasi");
        let shape = dataslo_wasm_build::Shape::NoWasi;
        let paths = dataslo_wasm_build::build_as(&ws, &[guest], &target, shape)
            .unwrap_or_else(|e| panic!("{e}"));
        let bytes = std::fs::read(&paths[0]).expect("read the adversary without WASI");
        runtime()
            .load("adversary", &bytes)
            .expect("load the adversary without WASI")
    })
}

pub const NOW: &str = "2026-11-26T08:00:00Z";

pub fn now() -> jiff::Timestamp {
    NOW.parse().expect("NOW parses")
}

/// A minimal observation of `postgres://prod/orders` at [`NOW`], with `extra`
/// JSON fields merged in (e.g. `"row_count": 5`).
pub fn observation(extra: &str) -> Observation {
    let sep = if extra.trim().is_empty() { "" } else { "," };
    let text = format!(
        r#"{{"dataset":{{"namespace":"postgres://prod","name":"orders"}},"observed_at":"{NOW}"{sep}{extra}}}"#
    );
    parse_observation(&text, "test").expect("test observation parses")
}

pub fn evaluate_with(
    policy: &Policy,
    config: &str,
    obs: &Observation,
    history: Vec<Observation>,
    limits: Option<&Limits>,
) -> Result<Evaluation, EvalError> {
    runtime().evaluate(
        policy,
        EvaluationInput {
            config,
            observation: obs,
            history: Arc::new(history),
            now: now(),
            limits,
        },
    )
}

pub fn evaluate(policy: &Policy, config: &str, obs: &Observation) -> Result<Evaluation, EvalError> {
    evaluate_with(policy, config, obs, Vec::new(), None)
}

/// Resident set size of this process, in bytes.
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmRSS value");
    kib * 1024
}

/// CPU time used by the calling thread. Unlike wall-clock time it does not
/// grow when other processes compete for the cores, so a bound on it holds on
/// a shared machine.
pub fn thread_cpu_time() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The lateness horizon of a default config, for tests that move alerts.
pub const LATENESS: std::time::Duration = std::time::Duration::from_secs(86_400);

/// A scheduler over the SLOs of `yaml`, armed with the built-ins, writing a
/// fresh ledger in `dir`. Panics on an invalid SLO: these are test fixtures.
pub fn scheduler_for(yaml: &str, dir: &Path) -> dataslo::scheduler::Scheduler {
    let runtime = Arc::new(Runtime::new(Limits::default()).expect("runtime"));
    scheduler_with(&runtime, yaml, dir).unwrap_or_else(|errors| panic!("{errors:?}"))
}

/// The same over `runtime`, handing back the SLOs that do not arm.
pub fn scheduler_with(
    runtime: &Arc<Runtime>,
    yaml: &str,
    dir: &Path,
) -> Result<dataslo::scheduler::Scheduler, Vec<dataslo::scheduler::ArmError>> {
    let catalog = dataslo::slo::parse_text(yaml, "fixture.yaml");
    assert!(catalog.errors.is_empty(), "{:#?}", catalog.errors);
    let ledger = dataslo::ledger::Ledger::open(dir, "default", 100).expect("ledger");
    let settings = dataslo::service::SchedulerSettings {
        history_depth: 100,
        durable: true,
        ..Default::default()
    };
    let known = Default::default();
    dataslo::service::assemble(
        runtime,
        ledger,
        catalog.slos,
        known,
        Some(Path::new(".")),
        settings,
    )
}

/// A compile bomb: a component whose one core module holds `functions`
/// functions, exported by nothing and never called, each keeping `locals`
/// i64 locals live across `blocks` blocks (each block may branch out and
/// changes one local). Small bytes, a costly compile: unbounded and
/// in-process in a debug build, one function of 2,000 × 2,500 (67 KB) took
/// 12 s and 203 MiB, one of 2,000 × 5,000 (107 KB) 21 s and 340 MiB.
pub fn compile_bomb(functions: u32, locals: u32, blocks: u32) -> Vec<u8> {
    let mut text = String::from("(component (core module\n");
    for _ in 0..functions {
        text.push_str("(func (param i32) (result i64)\n");
        text.push_str(&format!("(local {})\n", "i64 ".repeat(locals as usize)));
        for i in 1..=locals {
            text.push_str(&format!(
                "local.get 0 i64.extend_i32_u i64.const {i} i64.mul local.set {i}\n"
            ));
        }
        for j in 0..blocks {
            let l = 1 + j % locals;
            text.push_str(&format!(
                "(block (br_if 0 (local.get 0)) local.get {l} i64.const 1 i64.add local.set {l})\n"
            ));
        }
        text.push_str("local.get 1\n");
        for i in 2..=locals {
            text.push_str(&format!("local.get {i} i64.add\n"));
        }
        text.push_str(")\n");
    }
    text.push_str("))");
    wat::parse_str(text).expect("the bomb is valid WebAssembly text")
}

/// The `VmHWM` (peak resident set) of process `pid`, in bytes.
pub fn peak_rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status of pid");
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("VmHWM value");
    kib * 1024
}
