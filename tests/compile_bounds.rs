//! Compiling untrusted components is bounded. A generated compile bomb (a
//! dead function keeping 2,000 locals live across 2,500 blocks: 67 KB that
//! take 12 s and 203 MiB to compile unbounded) is refused by its structure
//! before cranelift sees it, through `eval`, `inspect` and `PUT
//! /v1/policies`, with an error naming the `[engine]` setting. What the
//! structure lets through is compiled in a child process under
//! `compile_memory_mib` and `compile_time`: the child's memory is not the
//! server's, and one tenant's compile does not hold up another's.

use crate::serve_process::{start_serve, stop};
use crate::support::{
    compile_bomb, dataslo, guest_bytes, guest_path, peak_rss_of, runtime, stderr_of,
};
use dataslo::runtime::{
    CompileLimits, CompileOptions, Compiler, EngineOptions, EvaluationInput, LoadErrorKind, Runtime,
};
use dataslo::service::token_hash;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The bomb of the issue: 2,000 locals live across 2,500 blocks.
fn bomb() -> Vec<u8> {
    compile_bomb(1, 2_000, 2_500)
}

/// Long to compile: 12 functions of 1,000 locals across 2,000 blocks, each
/// under the bomb's cost, about 24 s of CPU together.
fn slow_bomb() -> Vec<u8> {
    compile_bomb(12, 1_000, 2_000)
}

/// Structural limits no real component nears, so only the child's bound.
fn structure_unbounded() -> CompileLimits {
    CompileLimits {
        code_bytes: u64::MAX,
        function_bytes: u64::MAX,
        function_locals: u64::MAX,
        function_liveness: u64::MAX,
        ..CompileLimits::default()
    }
}

/// An on-demand runtime compiling in children of the `dataslo` binary.
fn child_runtime(limits: CompileLimits, cache_dir: Option<PathBuf>) -> Runtime {
    let options = EngineOptions {
        cache_dir,
        compile: CompileOptions {
            compiler: Compiler::Child(PathBuf::from(env!("CARGO_BIN_EXE_dataslo"))),
            limits,
        },
        ..EngineOptions::on_demand()
    };
    Runtime::with_engine(Default::default(), options).unwrap()
}

fn compile_limit(kind: &LoadErrorKind) -> (&'static str, &str) {
    match kind {
        LoadErrorKind::CompileLimit { setting, found, .. } => (setting, found.as_str()),
        other => panic!("not a compile limit: {other}"),
    }
}

#[test]
fn the_bomb_is_refused_by_its_structure_and_the_next_policy_loads() {
    let runtime = runtime();
    let err = runtime.load("bomb.wasm", &bomb()).err().expect("refused");
    let (setting, found) = compile_limit(&err.kind);
    assert_eq!(setting, "compile_max_function_liveness");
    assert!(found.contains("2001 locals"), "{found}");
    assert_eq!(err.kind.error_code().as_str(), "compile_limit");
    assert!(
        err.to_string()
            .contains("over `compile_max_function_liveness` = 2000000"),
        "{err}"
    );
    let policy = runtime.load("min-rows", &guest_bytes("min-rows")).unwrap();
    assert_eq!(policy.info().name, "min-rows");
}

#[test]
fn eval_and_inspect_refuse_the_bomb_naming_the_limit_and_then_load_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.wasm");
    std::fs::write(&path, bomb()).unwrap();
    let bomb = path.to_str().unwrap();
    let eval = |policy: &str| {
        dataslo(&[
            "eval",
            "--policy",
            policy,
            "--config",
            r#"{"min_rows":1}"#,
            "--observation",
            "examples/orders.json",
        ])
    };
    for out in [eval(bomb), dataslo(&["inspect", bomb])] {
        let text = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(
            text.contains("error[compile_limit]") && text.contains("compile_max_function_liveness"),
            "{text}"
        );
    }
    let good = guest_path("min-rows").to_str().unwrap();
    let out = eval(good);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let out = dataslo(&["inspect", good]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
}

#[test]
fn the_compile_child_stops_what_the_structure_lets_through_at_compile_time() {
    let runtime = child_runtime(
        CompileLimits {
            time: Duration::from_secs(1),
            ..structure_unbounded()
        },
        None,
    );
    let err = runtime.load("bomb.wasm", &bomb()).err().expect("refused");
    let (setting, found) = compile_limit(&err.kind);
    assert_eq!(setting, "compile_time", "{err}");
    assert!(found.contains("peak RSS"), "{found}");
    assert!(err.to_string().contains("= 1s"), "{err}");
    // The same runtime compiles the next policy in a new child.
    let policy = runtime.load("min-rows", &guest_bytes("min-rows")).unwrap();
    assert_eq!(policy.info().name, "min-rows");
}

#[test]
fn the_compile_child_stops_what_the_structure_lets_through_at_compile_memory() {
    let runtime = child_runtime(
        CompileLimits {
            memory_bytes: 96 << 20,
            ..structure_unbounded()
        },
        None,
    );
    let err = runtime.load("bomb.wasm", &bomb()).err().expect("refused");
    let (setting, found) = compile_limit(&err.kind);
    assert_eq!(setting, "compile_memory_mib", "{err}");
    assert!(found.contains("ran out of memory"), "{found}");
    assert!(err.to_string().contains("= 96"), "{err}");
    // The child spent the memory, not this process: the next compile, with
    // room for a normal policy (about 130 MiB here), loads.
    let roomy = child_runtime(structure_unbounded(), None);
    let policy = roomy.load("min-rows", &guest_bytes("min-rows")).unwrap();
    assert_eq!(policy.info().name, "min-rows");
}

#[test]
fn a_policy_compiled_in_a_child_runs_and_a_cache_hit_starts_no_child() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let runtime = child_runtime(CompileLimits::default(), Some(cache.clone()));
    let policy = runtime.load("min-rows", &guest_bytes("min-rows")).unwrap();
    let obs = crate::support::observation(r#""row_count": 50"#);
    let measured = runtime
        .evaluate(
            &policy,
            EvaluationInput {
                config: r#"{"min_rows":10}"#,
                observation: &obs,
                history: Arc::new(Vec::new()),
                now: crate::support::now(),
                limits: None,
            },
        )
        .unwrap()
        .measurements;
    assert_eq!((measured[0].good, measured[0].total), (1, 1));
    assert_eq!(runtime.cache_stats().compiled, 1);

    // A compiler that cannot start: only a cache hit loads.
    let options = EngineOptions {
        cache_dir: Some(cache),
        compile: CompileOptions {
            compiler: Compiler::Child(dir.path().join("no-such-program")),
            limits: CompileLimits::default(),
        },
        ..EngineOptions::on_demand()
    };
    let again = Runtime::with_engine(Default::default(), options).unwrap();
    again.load("min-rows", &guest_bytes("min-rows")).unwrap();
    assert_eq!(again.cache_stats().hits, 1);
    assert_eq!(again.cache_stats().compiled, 0);
    let err = again
        .load("other", &guest_bytes("wrong-version"))
        .err()
        .expect("refused");
    assert!(
        matches!(&err.kind, LoadErrorKind::CompileFailed(m) if m.contains("no-such-program")),
        "{err}"
    );
}

/// (status, JSON body) of a PUT of `body` to `url` with `token`.
fn put_policy(url: &str, token: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let (status, text) = crate::server::send("PUT", url, Some(token), "application/wasm", body);
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, json)
}

#[test]
fn serve_refuses_an_uploaded_bomb_without_growing_and_loads_the_next_policy() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = start_serve(dir.path(), "", "");
    let before = peak_rss_of(child.id());
    let (status, refused) = put_policy(&format!("{base}/v1/policies/bomb"), "acme-secret", &bomb());
    let after = peak_rss_of(child.id());
    let (status_good, stored) = put_policy(
        &format!("{base}/v1/policies/min-rows"),
        "acme-secret",
        &guest_bytes("min-rows"),
    );
    let (code, log) = stop(child, dir.path());
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"], "compile_limit", "{refused}");
    let detail = refused["detail"].as_str().unwrap();
    assert!(detail.contains("compile_max_function_liveness"), "{detail}");
    // Compiling it takes 203 MiB; refusing it, next to nothing.
    assert!(
        after - before < 64 << 20,
        "serve's peak RSS grew from {} to {} MiB",
        before >> 20,
        after >> 20
    );
    assert_eq!(status_good, 201, "{stored}\n{log}");
    assert_eq!(code, Some(0), "{log}");
}

/// The pid of a compile child of `parent`, if one runs.
fn compile_child_of(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid ...`: the comm may hold spaces, not `)`.
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let compiling = cmdline.split(|b| *b == 0).any(|arg| arg == b"__compile");
            (ppid == parent && compiling).then_some(pid)
        })
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn a_bomb_compiling_for_one_tenant_does_not_hold_up_another() {
    let dir = tempfile::tempdir().unwrap();
    // The structure lets any bomb through; the child's 10 s of CPU stop it.
    let extra = format!(
        "[engine]\ncompile_max_function_liveness = 1000000000\ncompile_time = \"10s\"\n\
         [[tenants]]\nname = \"beta\"\ntoken_sha256 = [\"{}\"]\nslo_files = [\"slo.yaml\"]\n",
        token_hash("beta-secret")
    );
    let (child, base) = start_serve(dir.path(), &extra, "");
    let serve = child.id();
    let before = peak_rss_of(serve);
    let url = format!("{base}/v1/policies/bomb");
    let acme = std::thread::spawn(move || put_policy(&url, "acme-secret", &slow_bomb()));
    let compiling = (0..600).find_map(|_| {
        compile_child_of(serve).or_else(|| {
            std::thread::sleep(Duration::from_millis(50));
            None
        })
    });
    let compiling = compiling.expect("acme's upload starts a compile child within 30 s");

    let (status, stored) = put_policy(
        &format!("{base}/v1/policies/min-rows"),
        "beta-secret",
        &guest_bytes("min-rows"),
    );
    let acme_still_compiling = alive(compiling);
    let (acme_status, refused) = acme.join().unwrap();
    let after = peak_rss_of(serve);
    let (code, log) = stop(child, dir.path());

    assert_eq!(status, 201, "{stored}\n{log}");
    assert!(
        acme_still_compiling,
        "beta's upload waited for acme's compile to end"
    );
    assert_eq!(acme_status, 422, "{refused}");
    assert_eq!(refused["error"], "compile_limit", "{refused}");
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains("compile_time") && detail.contains("peak RSS"),
        "{detail}"
    );
    // The child's memory was the child's.
    assert!(
        after - before < 64 << 20,
        "serve's peak RSS grew from {} to {} MiB: {detail}",
        before >> 20,
        after >> 20
    );
    assert_eq!(code, Some(0), "{log}");
}
