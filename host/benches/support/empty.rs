//! wasmtime's floor for one fresh instance: an empty component in the shape
//! of a guest (one core instance, a memory as large as a Rust guest's first
//! one, 17 pages, one exported function), run as a store, an instance from
//! the pool, one call and the store dropped.

use std::hint::black_box;
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Engine, Store};

const EMPTY_COMPONENT: &str = r#"(component
  (core module $m
    (memory (export "memory") 17)
    (func (export "run")))
  (core instance $i (instantiate $m))
  (func (export "run") (canon lift (core func $i "run"))))"#;

/// The empty component pre-instantiated on `engine`.
pub fn pre(engine: &Engine) -> InstancePre<()> {
    let bytes = wat::parse_str(EMPTY_COMPONENT).expect("wat");
    let component = Component::new(engine, bytes).expect("component");
    Linker::<()>::new(engine)
        .instantiate_pre(&component)
        .expect("pre-instantiates")
}

/// One fresh instance: store, instantiation, call, drop.
pub fn run_once(engine: &Engine, pre: &InstancePre<()>) {
    let mut store = Store::new(engine, ());
    store.set_epoch_deadline(1 << 40);
    let instance = pre.instantiate(&mut store).expect("instantiates");
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .expect("run");
    run.call(&mut store, ()).expect("runs");
    black_box(store);
}
