//! One compiled component per distinct bytes in the process. Tenants that
//! arm the same built-in, or upload the same component, share it: one
//! compile (or cache read) instead of one per tenant, one copy of its code in
//! memory, and instances that find the pool's slots already laid out for it.
//! Held weakly: the code goes with the last policy running it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use wasmtime::component::Component;

#[derive(Default)]
pub(super) struct SharedCode {
    loaded: Mutex<HashMap<[u8; 32], Weak<Component>>>,
}

impl SharedCode {
    /// The component of the bytes hashing to `sha256`: the one a live
    /// policy runs, else `compile`'s.
    pub fn get_or_compile<E>(
        &self,
        sha256: &[u8; 32],
        compile: impl FnOnce() -> Result<Component, E>,
    ) -> Result<Arc<Component>, E> {
        if let Some(component) = self.lock().get(sha256).and_then(Weak::upgrade) {
            return Ok(component);
        }
        // Compiled outside the lock: two first loads of the same bytes at
        // once both compile, and the later one is kept.
        let component = Arc::new(compile()?);
        let mut loaded = self.lock();
        loaded.retain(|_, code| code.strong_count() > 0);
        loaded.insert(*sha256, Arc::downgrade(&component));
        Ok(component)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Weak<Component>>> {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
