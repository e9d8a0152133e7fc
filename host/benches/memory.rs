//! E6: resident memory with 1,000 distinct loaded policies (1,000 components
//! whose bytes differ: `builtin:volume` with a numbered custom section, each
//! compiled and pre-instantiated on its own), then with 10,000 SLOs armed
//! over 100 of them. Prints the figures; `--quick` (as `cargo bench --
//! --quick` passes it) uses a quarter of each.
//!
//! Like `dataslo run` and `serve` by default, the runtime uses a compile
//! cache (here in a temporary folder, empty at the start): every load is a
//! miss, and each policy runs from the entry its compile wrote. `--no-cache`
//! loads without one (code in anonymous memory). On Linux it prints where
//! the resident memory went, from `/proc/self/smaps`. `--floor` measures
//! wasmtime alone instead: the same components compiled with the same
//! config, compiled in a child, mapped back from files (copied with
//! `--no-cache`), pre-instantiated and instantiated once, no dataslo.
//!
//! Compiles run in a child (`dataslo __compile`), as in `run` and `serve`,
//! so the compiler's own memory is not the runtime's; `--in-process`
//! compiles in the bench's process instead (the library's default).
//!
//! `cargo bench -p dataslo --bench memory [-- --quick] [--no-cache] [--in-process] [--floor]`

use dataslo::model::PolicyRef;
use dataslo::runtime::{
    CompileOptions, Compiler, EngineOptions, Known, Limits, Runtime, builtin_bytes,
};
use dataslo::scheduler::{Armed, Scheduler};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Resident KiB by kind of mapping, from `/proc/self/smaps` (empty where
/// there is none), plus the memfd copy-on-write images held open (their
/// pages are resident but outside RSS until an instance maps them).
fn breakdown() -> BTreeMap<&'static str, f64> {
    let mut kinds = BTreeMap::new();
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let mut kind = "";
    // The end of the previous mapping if it was an anonymous guard (---p).
    let mut guard_end = None;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            let perms = fields.next().unwrap_or("");
            let path = fields.nth(3).unwrap_or("");
            let exec = perms.contains('x');
            let (start, end) = first.split_once('-').unwrap_or(("", ""));
            let after_guard = guard_end == Some(start);
            guard_end = (perms == "---p" && path.is_empty()).then_some(end);
            kind = match path {
                p if p.starts_with("/memfd:") => "memfd (copy-on-write images, mapped)",
                p if p.contains(".cwasm") && exec => "cache entries: code (file)",
                p if p.contains(".cwasm") => "cache entries: metadata (file)",
                p if p.starts_with('/') => "program and libraries (file)",
                "" | "[heap]" if exec => "anonymous r-x (compiled code)",
                "" | "[heap]" if perms.starts_with("r--") => "anonymous r-- (compiled metadata)",
                // The pool's slots: wasm memories, stacks, tables between guards.
                "" if after_guard => "anonymous rw- after a guard (pool slots)",
                "" | "[heap]" => "anonymous rw- (heap: wasmtime, dataslo)",
                _ => "other ([stack], [vdso] ...)",
            };
        } else if first == "Rss:" {
            let kib: f64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
            *kinds.entry(kind).or_insert(0.0) += kib;
        }
    }
    let memfd: f64 = std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| target.to_string_lossy().starts_with("/memfd:"))
        })
        .filter_map(|fd| std::fs::metadata(fd.path()).ok())
        .map(|meta| std::os::unix::fs::MetadataExt::blocks(&meta) as f64 / 2.0)
        .sum();
    if memfd > 0.0 {
        kinds.insert("memfd images held (outside RSS)", memfd);
    }
    kinds
}

/// Prints what grew between two breakdowns, per policy.
fn print_growth(
    before: &BTreeMap<&'static str, f64>,
    after: &BTreeMap<&'static str, f64>,
    n: usize,
) {
    if after.is_empty() {
        return;
    }
    println!("E6 resident growth by kind ({n} policies; MiB, KiB each):");
    for (kind, kib) in after {
        let grown = kib - before.get(kind).copied().unwrap_or(0.0);
        if grown.abs() >= 64.0 {
            println!(
                "    {kind:<42} {:>7.1} MiB {:>7.1} KiB",
                grown / 1024.0,
                grown / n as f64
            );
        }
    }
}

/// The mean size of the cache entries in `dir`, in KiB.
fn mean_entry_kib(dir: &Path) -> f64 {
    let sizes: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .collect();
    sizes.iter().sum::<u64>() as f64 / sizes.len().max(1) as f64 / 1024.0
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// `bytes` with a custom section named `dataslo-bench` holding `n`.
fn variant(bytes: &[u8], n: usize) -> Vec<u8> {
    let name = b"dataslo-bench";
    let payload = n.to_le_bytes();
    let mut section = vec![name.len() as u8];
    section.extend_from_slice(name);
    section.extend_from_slice(&payload);
    let mut out = bytes.to_vec();
    out.push(0); // custom section id
    out.push(section.len() as u8); // its size, < 128
    out.extend_from_slice(&section);
    out
}

fn slo(i: usize, policy: usize) -> String {
    format!(
        r#"apiVersion: openslo/v1
kind: SLO
metadata: {{ name: slo-{i} }}
spec:
  indicator:
    metadata: {{ name: x }}
    spec:
      thresholdMetric:
        metricSource: {{ type: dataslo, spec: {{ dataset: {{ namespace: "postgres://prod", name: "t{i}" }}, policy: "p{policy}", config: {{ min_rows: {i} }}, sli: volume, trigger: observation }} }}
  timeWindow: [{{ duration: 28d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ op: gte, value: 1, target: 0.99 }}]
"#
    )
}

/// Compiles `policies` variants with dataslo's engine config into
/// `dir/N.cwasm`: the floor's compile, run in a child so that the
/// compiler's memory is not the measured process's.
fn floor_compile(dir: &Path, policies: usize) {
    let engine =
        wasmtime::Engine::new(&EngineOptions::default().wasmtime_config()).expect("engine");
    let volume = builtin_bytes("volume").expect("volume is built in");
    for n in 0..policies {
        let component =
            wasmtime::component::Component::new(&engine, variant(volume, n)).expect("compiles");
        let bytes = component.serialize().expect("serializes");
        std::fs::write(dir.join(format!("{n}.cwasm")), bytes).expect("writes");
    }
}

/// wasmtime alone: `policies` variants compiled (in a child) with
/// dataslo's engine config, mapped from their files (with `no_cache`
/// copied into memory), pre-instantiated and instantiated once, and held.
fn floor(policies: usize, no_cache: bool) {
    let engine =
        wasmtime::Engine::new(&EngineOptions::default().wasmtime_config()).expect("engine");
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let status = std::process::Command::new(std::env::current_exe().expect("this bench"))
        .arg("--floor-compile")
        .arg(dir.path())
        .arg(policies.to_string())
        .status()
        .expect("runs the compile child");
    assert!(status.success(), "the floor's compile child failed");
    let compiled = started.elapsed().as_secs_f64();
    let before = rss_mib();
    let kinds = breakdown();
    let held: Vec<wasmtime::component::InstancePre<()>> = (0..policies)
        .map(|n| {
            let path = dir.path().join(format!("{n}.cwasm"));
            // SAFETY: serialized by this program's engine config, in our own tempdir.
            let component = unsafe {
                if no_cache {
                    let bytes = std::fs::read(&path).expect("reads");
                    wasmtime::component::Component::deserialize(&engine, bytes)
                } else {
                    wasmtime::component::Component::deserialize_file(&engine, &path)
                }
            }
            .expect("deserializes");
            // Pre-instantiated and instantiated once, as a load does
            // (dataslo's then calls describe()).
            let mut linker = wasmtime::component::Linker::new(&engine);
            linker
                .define_unknown_imports_as_traps(&component)
                .expect("links");
            let pre = linker
                .instantiate_pre(&component)
                .expect("pre-instantiates");
            let mut store = wasmtime::Store::new(&engine, ());
            store.set_epoch_deadline(u64::MAX >> 1);
            pre.instantiate(&mut store).expect("instantiates");
            pre
        })
        .collect();
    let after = rss_mib();
    println!(
        "E6 floor: wasmtime alone, {policies} distinct components compiled in a child ({compiled:.1} s) and {}: RSS {before:.0} MiB → {after:.0} MiB (+{:.0} MiB, {:.2} MiB each)",
        if no_cache {
            "copied into memory"
        } else {
            "mapped from their files"
        },
        after - before,
        (after - before) / policies as f64
    );
    println!(
        "E6 floor: entries of {:.0} KiB each",
        mean_entry_kib(dir.path())
    );
    print_growth(&kinds, &breakdown(), policies);
    drop(held);
}

fn main() {
    // As the `dataslo` binary runs.
    dataslo::process::without_huge_pages();
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let quick = flag("--quick");
    let no_cache = flag("--no-cache");
    let (policies, slos) = if quick { (250, 2_500) } else { (1_000, 10_000) };
    if let Some(i) = args.iter().position(|a| a == "--floor-compile") {
        let dir = Path::new(&args[i + 1]);
        return floor_compile(dir, args[i + 2].parse().expect("a count"));
    }
    if flag("--floor") {
        return floor(policies, no_cache);
    }
    let cache = tempfile::tempdir().expect("tempdir");
    // As `run` and `serve`: compiled in a child (`dataslo __compile`), so
    // the compiler's memory is the child's; `--in-process` compiles here.
    let compiler = if flag("--in-process") {
        Compiler::InProcess
    } else {
        Compiler::Child(env!("CARGO_BIN_EXE_dataslo").into())
    };
    let options = EngineOptions {
        cache_dir: (!no_cache).then(|| cache.path().to_path_buf()),
        compile: CompileOptions {
            compiler,
            ..CompileOptions::default()
        },
        ..EngineOptions::default()
    };
    let runtime = Arc::new(Runtime::with_engine(Limits::default(), options).expect("runtime"));
    match runtime.cache() {
        Some(cache) => println!(
            "E6 with a compile cache in {} (every load a miss, run from its entry), as `run` and `serve` by default",
            cache.dir().display()
        ),
        None => println!("E6 without a compile cache (--no-cache): code in anonymous memory"),
    }
    match &runtime.engine_options().compile.compiler {
        Compiler::Child(exe) => println!(
            "E6 compiled in a child ({}), as `run` and `serve`",
            exe.display()
        ),
        Compiler::InProcess => println!("E6 compiled in this process (--in-process)"),
    }
    let volume = builtin_bytes("volume").expect("volume is built in");
    let before = rss_mib();
    let kinds = breakdown();

    let started = Instant::now();
    let loaded: Vec<_> = (0..policies)
        .map(|n| {
            Arc::new(
                runtime
                    .load(&format!("p{n}"), &variant(volume, n))
                    .expect("loads"),
            )
        })
        .collect();
    let distinct: std::collections::BTreeSet<_> = loaded.iter().map(|p| p.sha256()).collect();
    assert_eq!(distinct.len(), policies, "every component's bytes differ");
    let with_policies = rss_mib();
    println!(
        "E6 {policies} distinct policies loaded in {:.1} s: RSS {:.0} MiB → {:.0} MiB (+{:.0} MiB, {:.2} MiB each)",
        started.elapsed().as_secs_f64(),
        before,
        with_policies,
        with_policies - before,
        (with_policies - before) / policies as f64
    );
    if runtime.cache().is_some() {
        println!("E6 entries of {:.0} KiB each", mean_entry_kib(cache.path()));
    }
    print_growth(&kinds, &breakdown(), policies);

    let started = Instant::now();
    // 100 SLOs a file: one file of 10,000 would pass the 1 MiB YAML limit.
    let files: Vec<(String, String)> = (0..slos)
        .collect::<Vec<_>>()
        .chunks(100)
        .enumerate()
        .map(|(f, chunk)| {
            let text = chunk
                .iter()
                .map(|&i| slo(i, i % 100))
                .collect::<Vec<_>>()
                .join("---\n");
            (format!("bench-{f}.yaml"), text)
        })
        .collect();
    let catalog = dataslo::slo::parse_texts(&files);
    assert!(catalog.errors.is_empty(), "{:?}", catalog.errors.first());
    let known: Known = loaded
        .iter()
        .take(100)
        .enumerate()
        .map(|(i, p)| (PolicyRef::File(format!("p{i}").into()), p.clone()))
        .collect();
    drop(loaded);
    let (armed, errors) = Armed::with_known(&runtime, catalog.slos, None, known, None);
    assert!(errors.is_empty(), "{:?}", errors.first());
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dataslo::ledger::Ledger::open(dir.path(), "default", 100).expect("ledger");
    let scheduler = Scheduler::new(runtime.clone(), ledger, armed, 100);
    let with_slos = rss_mib();
    println!(
        "E6 {} SLOs over 100 policies armed in {:.1} s ({} policies dropped): RSS {:.0} MiB",
        scheduler.slos().len(),
        started.elapsed().as_secs_f64(),
        policies - 100,
        with_slos
    );
}
