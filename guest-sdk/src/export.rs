//! Glue between [`crate::export_policy!`] and the WIT exports. Not part of the API.

use crate::{
    Context, Measurement, Observation, Policy, PolicyError, PolicyInfo, Timestamp, parse_config,
};
use std::any::Any;
use std::cell::RefCell;

/// The wit-bindgen runtime, reached through this crate so authors need no
/// dependency on wit-bindgen.
pub use wit_bindgen::rt;

/// `describe` for `P`.
pub fn describe<P: Policy>() -> PolicyInfo {
    report_panics();
    info::<P>()
}

/// Without WASI (`wasm32-unknown-unknown`) std has no stderr, so a panic's
/// message would be lost: it goes to the host's `panic-bytes` instead, eight
/// bytes a call, where the host finds it as it finds std's stderr line under
/// wasip2. Not through `log`: an import that takes a string makes the
/// component three core instances, and every evaluation would pay for them.
/// A wasip2 guest keeps std's own hook.
fn report_panics() {
    #[cfg(all(target_arch = "wasm32", not(target_os = "wasi")))]
    {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                let message = info.to_string();
                for (bytes, len) in panic_chunks(&message) {
                    crate::bindings::dataslo::policy::host::panic_bytes(bytes, len);
                }
            }))
        });
    }
}

/// The most of a panic message sent to the host; it keeps less.
const PANIC_BYTES: usize = 4096;

/// `message`, at most [`PANIC_BYTES`] of it, as `panic-bytes` takes it: eight
/// bytes little-endian per chunk and how many of them count.
#[cfg_attr(
    not(all(target_arch = "wasm32", not(target_os = "wasi"))),
    allow(
        dead_code,
        reason = "the hook is Wasm's; the encoding is tested natively"
    )
)]
fn panic_chunks(message: &str) -> impl Iterator<Item = (u64, u8)> + '_ {
    let bytes = &message.as_bytes()[..message.len().min(PANIC_BYTES)];
    bytes.chunks(8).map(|chunk| {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        (u64::from_le_bytes(word), chunk.len() as u8)
    })
}

/// The [`PolicyInfo`] of `P`, natively too.
pub fn info<P: Policy>() -> PolicyInfo {
    PolicyInfo {
        name: P::NAME.into(),
        version: P::VERSION.into(),
        description: P::DESCRIPTION.into(),
        slis: P::SLIS.iter().map(|s| (*s).into()).collect(),
        config_schema: P::CONFIG_SCHEMA.into(),
    }
}

/// `validate-config` for `P`.
pub fn validate_config<P: Policy>(config: &str) -> Result<(), PolicyError> {
    report_panics();
    parse_config::<P>(config).map(drop)
}

/// `evaluate` for `P`, at the `now` the host passes through the contract.
///
/// A reused instance (the host's session) is mostly called with the same
/// config text: the parsed config is kept and reused while the text is equal.
/// A fresh instance parses once, as before.
pub fn evaluate<P: Policy + 'static>(
    config: &str,
    obs: Observation,
    now: Timestamp,
) -> Result<Vec<Measurement>, PolicyError> {
    report_panics();
    let ctx = Context::host(now);
    with_config::<P, _>(config, |policy| policy.evaluate(&obs, &ctx))
}

/// The last config text parsed and what it parsed to. Wasm guests are single
/// threaded, so a thread local is the instance's own.
type Kept = Option<(String, Box<dyn Any>)>;

/// Allocates what outlives the call apart from the call's own blocks (see
/// `heap.rs`); natively, as anything else.
#[cfg(all(target_arch = "wasm32", not(target_os = "wasi")))]
use crate::heap::keep;
#[cfg(not(all(target_arch = "wasm32", not(target_os = "wasi"))))]
fn keep<R>(f: impl FnOnce() -> R) -> R {
    f()
}

thread_local! {
    static KEPT: RefCell<Kept> = const { RefCell::new(None) };
}

/// Runs `f` on the config `text` parses to, parsing only when the text differs
/// from the last one's. A text that fails to parse is not kept.
fn with_config<P: Policy + 'static, R>(
    text: &str,
    f: impl FnOnce(&P) -> Result<R, PolicyError>,
) -> Result<R, PolicyError> {
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        let hit = kept
            .as_ref()
            .is_some_and(|(last, parsed)| last == text && parsed.is::<P>());
        if !hit {
            // Dropped first: a config that fails must not leave the old one.
            *kept = None;
            let parsed = keep(|| parse_config::<P>(text))?;
            *kept = Some(keep(|| (text.to_owned(), Box::new(parsed) as Box<dyn Any>)));
        }
        match kept
            .as_ref()
            .and_then(|(_, parsed)| parsed.downcast_ref::<P>())
        {
            Some(policy) => f(policy),
            None => Err(PolicyError::Internal("the parsed config was lost".into())),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        static PARSES: Cell<u32> = const { Cell::new(0) };
    }

    /// Counts how often its config is parsed.
    struct Counted(u64);

    impl<'de> serde::Deserialize<'de> for Counted {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            PARSES.with(|n| n.set(n.get() + 1));
            u64::deserialize(d).map(Counted)
        }
    }

    impl Policy for Counted {
        const NAME: &'static str = "counted";
        const DESCRIPTION: &'static str = "test";
        const SLIS: &'static [&'static str] = &["counted"];
        fn evaluate(&self, _: &Observation, _: &Context) -> Result<Vec<Measurement>, PolicyError> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn a_panic_message_goes_in_chunks_of_eight_bytes_and_their_length() {
        let message = "panicked at é!"; // 15 bytes: é is two
        let chunks: Vec<(u64, u8)> = panic_chunks(message).collect();
        assert_eq!(chunks.iter().map(|c| c.1).collect::<Vec<_>>(), [8, 7]);
        let mut back = Vec::new();
        for (word, len) in chunks {
            back.extend_from_slice(&word.to_le_bytes()[..len as usize]);
        }
        assert_eq!(back, message.as_bytes());
    }

    #[test]
    fn a_long_panic_message_is_cut_before_it_is_sent() {
        let message = "x".repeat(PANIC_BYTES + 100);
        let sent: usize = panic_chunks(&message).map(|c| c.1 as usize).sum();
        assert_eq!(sent, PANIC_BYTES);
    }

    fn value(text: &str) -> Result<u64, PolicyError> {
        with_config::<Counted, _>(text, |c| Ok(c.0))
    }

    #[test]
    fn an_equal_config_text_is_parsed_once_and_a_new_one_again() {
        let before = PARSES.with(Cell::get);
        assert_eq!(value("1").ok(), Some(1));
        assert_eq!(value("1").ok(), Some(1));
        assert_eq!(PARSES.with(Cell::get) - before, 1);
        assert_eq!(value("2").ok(), Some(2));
        assert_eq!(PARSES.with(Cell::get) - before, 2);
    }

    #[test]
    fn a_config_that_fails_is_not_kept_and_is_reported_each_time() {
        assert_eq!(value("7").ok(), Some(7));
        for _ in 0..2 {
            assert!(matches!(value("x"), Err(PolicyError::InvalidConfig(_))));
        }
        let before = PARSES.with(Cell::get);
        assert_eq!(value("7").ok(), Some(7));
        assert_eq!(PARSES.with(Cell::get) - before, 1);
    }
}
