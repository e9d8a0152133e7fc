//! Compiles `policies/*` to components and embeds them (see `runtime/builtins.rs`).

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let workspace = manifest
        .parent()
        .expect("host/ lives in the workspace")
        .to_path_buf();
    let policies = workspace.join("policies");
    // A new policy folder must rebuild the binary too.
    println!("cargo:rerun-if-changed={}", policies.display());
    let found = dataslo_wasm_build::guests_in(&policies, "policy-");
    let guests: Vec<_> = found.iter().map(|(_, guest)| guest.clone()).collect();
    // Built-ins import no WASI (wasm32-unknown-unknown made a component):
    // E1 measured 26 % faster than the same policy for wasm32-wasip2. Set
    // DATASLO_BUILTINS_WITH_WASI=1 to build them for wasm32-wasip2 instead.
    println!("cargo:rerun-if-env-changed=DATASLO_BUILTINS_WITH_WASI");
    let shape = match std::env::var("DATASLO_BUILTINS_WITH_WASI").as_deref() {
        Ok("1") => dataslo_wasm_build::Shape::Wasip2,
        _ => dataslo_wasm_build::Shape::NoWasi,
    };
    let built = dataslo_wasm_build::build_in_build_script(&workspace, &guests, shape);

    let mut code = String::from(
        "/// Built-in policies: (name, component bytes).\npub static BUILTINS: &[(&str, &[u8])] = &[\n",
    );
    for ((name, _), path) in found.iter().zip(&built) {
        writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .expect("write to String");
    }
    code.push_str("];\n");
    // `--version` names the wasmtime that runs policies, as resolved.
    let lock = workspace.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let wasmtime = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|text| {
            let at = text.find("\nname = \"wasmtime\"\nversion = \"")?;
            let rest = &text[at + "\nname = \"wasmtime\"\nversion = \"".len()..];
            rest.split('"').next().map(str::to_string)
        })
        .unwrap_or_else(|| "48".into());
    println!("cargo:rustc-env=DATASLO_WASMTIME_VERSION={wasmtime}");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("builtins.rs"), code).expect("write builtins.rs");
    std::fs::write(out.join("builtin_cases.rs"), case_files(&found))
        .expect("write builtin_cases.rs");
    std::fs::write(out.join("scaffold_files.rs"), scaffold_files(&workspace))
        .expect("write scaffold_files.rs");
}

/// Each built-in's case files (`policies/NAME/tests/*.yaml`), embedded for
/// `slo validate`'s examples (see `authoring/builtin_cases.rs`).
fn case_files(found: &[(String, dataslo_wasm_build::Guest)]) -> String {
    let mut code = String::from(
        "/// Built-in policies' case files: (name, [(file name, YAML)]).\n\
         pub static BUILTIN_CASES: &[(&str, &[(&str, &str)])] = &[\n",
    );
    for (name, guest) in found {
        let tests = guest.dir.join("tests");
        println!("cargo:rerun-if-changed={}", tests.display());
        let mut files: Vec<PathBuf> = std::fs::read_dir(&tests)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        writeln!(code, "    ({name:?}, &[").expect("write to String");
        for file in files {
            println!("cargo:rerun-if-changed={}", file.display());
            let shown = file.file_name().map(|n| n.to_string_lossy().into_owned());
            writeln!(
                code,
                "        ({:?}, include_str!({:?})),",
                shown.unwrap_or_default(),
                file.display().to_string()
            )
            .expect("write to String");
        }
        code.push_str("    ]),\n");
    }
    code.push_str("];\n");
    code
}

/// What `dataslo new` writes into a project: the SDK's source, the WIT and
/// the workspace manifest its versions are read from (see `scaffold/`).
fn scaffold_files(workspace: &std::path::Path) -> String {
    let sdk = workspace.join("guest-sdk");
    let wit = workspace.join("wit/policy.wit");
    let manifest = workspace.join("Cargo.toml");
    for path in [&sdk, &wit, &manifest] {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let mut files = Vec::new();
    let mut todo = vec![sdk.clone()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("read guest-sdk/").flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if hidden || path.ends_with("target") {
                continue;
            }
            if path.is_dir() {
                todo.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut code = String::from(
        "/// The SDK's files: (path under guest-sdk/, bytes).\npub static SDK_FILES: &[(&str, &[u8])] = &[\n",
    );
    for path in &files {
        let relative = path.strip_prefix(&sdk).expect("under guest-sdk/");
        let relative = relative.to_string_lossy().replace('\\', "/");
        writeln!(
            code,
            "    ({relative:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .expect("write to String");
    }
    code.push_str("];\n");
    writeln!(
        code,
        "/// wit/policy.wit.\npub static WIT: &[u8] = include_bytes!({:?});\n\
         /// The workspace's Cargo.toml: the versions the SDK inherits.\n\
         pub static WORKSPACE_MANIFEST: &str = include_str!({:?});",
        wit.display().to_string(),
        manifest.display().to_string()
    )
    .expect("write to String");
    code
}
