//! The child's side: `dataslo __compile KEY ALLOCATOR MEMORY_BYTES COW`
//! reads a component on stdin, compiles it with an engine built from the
//! same options as its parent's, and writes the compiled artifact to stdout.
//! The parent set its limits before sending the first byte.

use crate::runtime::cache::engine_key;
use crate::runtime::engine::wasmtime_config;
use crate::runtime::options::{Allocator, EngineOptions};
use std::io::{Read, Write};
use wasmtime::{Engine, InstanceAllocationStrategy};

/// The first argument that makes the `dataslo` binary a compile child. Not a
/// command: the binary checks for it before parsing its command line.
pub const COMPILE_CHILD_ARG: &str = "__compile";

/// wasmtime refused the bytes; stderr says why.
pub(super) const EXIT_REFUSED: i32 = 2;
/// The child could not build an engine matching its parent's.
pub(super) const EXIT_MISMATCH: i32 = 3;

/// What the parent passes: its engine key and the options compiled code
/// depends on. The pool's sizes do not matter to the code.
pub(super) fn child_args(options: &EngineOptions, key: &[u8; 32]) -> Vec<String> {
    vec![
        COMPILE_CHILD_ARG.to_string(),
        hex::encode(key),
        match options.allocator {
            Allocator::Pooling => "pooling".to_string(),
            Allocator::OnDemand => "on-demand".to_string(),
        },
        options.memory_bytes.to_string(),
        options.copy_on_write.to_string(),
    ]
}

/// The options `args` (after [`COMPILE_CHILD_ARG`]) describe, and the key
/// the parent's engine has.
fn parse(args: &[String]) -> Option<(String, EngineOptions)> {
    let [key, allocator, memory, cow] = args else {
        return None;
    };
    let allocator = match allocator.as_str() {
        "pooling" => Allocator::Pooling,
        "on-demand" => Allocator::OnDemand,
        _ => return None,
    };
    let options = EngineOptions {
        allocator,
        memory_bytes: memory.parse().ok()?,
        copy_on_write: cow.parse().ok()?,
        ..EngineOptions::default()
    };
    Some((key.clone(), options))
}

/// The engine a compile child compiles with: the parent's config, but with
/// no pool (it would reserve address space the child's limits count, and
/// the allocator is not part of the code's compatibility).
pub(super) fn compile_engine(options: &EngineOptions) -> wasmtime::Result<Engine> {
    let mut config = wasmtime_config(options);
    config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
    Engine::new(&config)
}

/// Runs the compile child with `args` (those after the program name);
/// returns its exit code.
pub fn child_main(args: &[String]) -> i32 {
    // SAFETY: prctl(PR_SET_PDEATHSIG) only sets this process's own parent
    // death signal. A compile whose parent is gone is waste.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    let Some((key, options)) = args
        .split_first()
        .filter(|(first, _)| *first == COMPILE_CHILD_ARG)
        .and_then(|(_, rest)| parse(rest))
    else {
        eprintln!("{COMPILE_CHILD_ARG}: bad arguments {args:?}");
        return EXIT_MISMATCH;
    };
    let engine = match compile_engine(&options) {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("{COMPILE_CHILD_ARG}: cannot build the engine: {e:#}");
            return EXIT_MISMATCH;
        }
    };
    let own = hex::encode(engine_key(&engine));
    if own != key {
        eprintln!(
            "{COMPILE_CHILD_ARG}: this engine's compatibility key {own} differs from the parent's {key}"
        );
        return EXIT_MISMATCH;
    }
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        eprintln!("{COMPILE_CHILD_ARG}: cannot read the component: {e}");
        return EXIT_MISMATCH;
    }
    match engine.precompile_component(&bytes) {
        Ok(artifact) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(&artifact).and_then(|()| out.flush()) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("{COMPILE_CHILD_ARG}: cannot write the artifact: {e}");
                    EXIT_MISMATCH
                }
            }
        }
        Err(e) => {
            eprintln!("{e:#}");
            EXIT_REFUSED
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compile_engine_makes_code_the_runtimes_engine_loads() {
        let pooling = EngineOptions {
            max_instances: 2,
            ..EngineOptions::default()
        };
        let small = EngineOptions {
            memory_bytes: 16 << 20,
            copy_on_write: false,
            ..pooling.clone()
        };
        for options in [pooling, small, EngineOptions::on_demand()] {
            let runtime = Engine::new(&wasmtime_config(&options)).unwrap();
            let key = engine_key(&runtime);
            let args = child_args(&options, &key);
            let (passed, parsed) = parse(&args[1..]).unwrap();
            assert_eq!(passed, hex::encode(key));
            let child = compile_engine(&parsed).unwrap();
            assert_eq!(engine_key(&child), key, "{options:?}");
        }
    }

    #[test]
    fn arguments_it_does_not_know_are_refused() {
        assert!(parse(&[]).is_none());
        let args = ["k", "slab", "1", "true"].map(String::from);
        assert!(parse(&args).is_none());
    }
}
