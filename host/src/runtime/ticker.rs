//! The epoch ticker: a thread that advances the engine's epoch, so that a
//! store's deadline, counted in ticks, interrupts a running guest.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::Engine;

/// How often the epoch advances: the granularity of every deadline.
pub const TICK: Duration = Duration::from_millis(2);

/// Stops its thread when dropped.
pub struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    pub fn start(engine: &Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("dataslo-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        Ok(Ticker {
            stop,
            thread: Some(thread),
        })
    }

    /// Ticks needed so that at least `deadline` passes before interruption.
    pub fn ticks_for(deadline: Duration) -> u64 {
        let tick = TICK.as_nanos();
        let ticks = deadline.as_nanos().div_ceil(tick).max(1);
        // One more: the current tick may be about to end.
        u64::try_from(ticks).unwrap_or(u64::MAX / 2) + 1
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
