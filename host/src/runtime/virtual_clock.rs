//! The guest's monotonic clock, linked in place of WASI's: it moves only when
//! the guest waits on it, by the time it waits. A 30 s sleep returns at once
//! with the clock 30 s later; a busy loop still ends at the deadline.
//!
//! A wait ends in two polls: the first registers its deadline, the second
//! moves the clock to the earliest deadline registered, if nothing moved it
//! meanwhile. So `poll` on a 10 ms and a 1 h timer reports the first alone,
//! at 10 ms, and a non-blocking `ready` on a timer in the future is false.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime::component::{HasData, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

/// The clock, in nanoseconds from the start of the call, and the deadlines
/// waited on now.
#[derive(Clone, Default)]
pub struct VirtualClock(Arc<Shared>);

#[derive(Default)]
struct Shared {
    now: AtomicU64,
    /// Deadline → how many waits on it are in progress.
    waiting: Mutex<BTreeMap<u64, usize>>,
}

impl VirtualClock {
    /// Back to zero, for the next call of a reused store.
    pub fn reset(&self) {
        self.0.now.store(0, Ordering::Relaxed);
    }

    fn now(&self) -> u64 {
        self.0.now.load(Ordering::Relaxed)
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, usize>> {
        self.0
            .waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A pollable for the instant `at`.
    fn deadline(
        &self,
        table: &mut ResourceTable,
        at: u64,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        let deadline = table.push(VirtualDeadline {
            clock: self.clone(),
            at,
        })?;
        subscribe(table, deadline)
    }
}

/// Links [`VirtualClock`] as `wasi:clocks/monotonic-clock`.
pub struct VirtualClocks;

impl HasData for VirtualClocks {
    type Data<'a> = ClockView<'a>;
}

/// The store's clock and resource table, for the clock's host functions.
pub struct ClockView<'a> {
    pub clock: &'a VirtualClock,
    pub table: &'a mut ResourceTable,
}

impl monotonic_clock::Host for ClockView<'_> {
    fn now(&mut self) -> wasmtime::Result<u64> {
        Ok(self.clock.now())
    }

    fn resolution(&mut self) -> wasmtime::Result<u64> {
        Ok(1)
    }

    fn subscribe_instant(&mut self, when: u64) -> wasmtime::Result<Resource<DynPollable>> {
        self.clock.deadline(self.table, when)
    }

    fn subscribe_duration(&mut self, duration: u64) -> wasmtime::Result<Resource<DynPollable>> {
        let at = self.clock.now().saturating_add(duration);
        self.clock.deadline(self.table, at)
    }
}

/// A wait for the virtual clock to reach `at`.
struct VirtualDeadline {
    clock: VirtualClock,
    at: u64,
}

/// A deadline registered as waited on while this lives.
struct Waiting<'a> {
    clock: &'a VirtualClock,
    at: u64,
}

impl<'a> Waiting<'a> {
    fn new(clock: &'a VirtualClock, at: u64) -> Self {
        *clock.waiting().entry(at).or_default() += 1;
        Waiting { clock, at }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut waiting = self.clock.waiting();
        if let Some(count) = waiting.get_mut(&self.at) {
            *count -= 1;
            if *count == 0 {
                waiting.remove(&self.at);
            }
        }
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for VirtualDeadline {
    async fn ready(&mut self) {
        let clock = &self.clock;
        if clock.now() >= self.at {
            return;
        }
        let _waiting = Waiting::new(clock, self.at);
        loop {
            let seen = clock.now();
            YieldOnce::default().await;
            let now = clock.now();
            if now >= self.at {
                return;
            }
            // Another wait of this poll ended first: let the poll report it.
            if now != seen {
                continue;
            }
            let earliest = clock.waiting().keys().next().copied();
            if earliest == Some(self.at) {
                clock.0.now.fetch_max(self.at, Ordering::Relaxed);
                return;
            }
        }
    }
}

/// Pending once (waking at once), then ready.
#[derive(Default)]
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn wait(clock: &VirtualClock, at: u64) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let mut deadline = VirtualDeadline {
            clock: clock.clone(),
            at,
        };
        Box::pin(async move { deadline.ready().await })
    }

    /// Polls every wait once per pass, as `wasi:io/poll` does, until one is
    /// ready; returns which were.
    fn poll_list(waits: &mut [Pin<Box<dyn Future<Output = ()> + Send>>]) -> Vec<usize> {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..100 {
            let ready: Vec<usize> = (0..waits.len())
                .filter(|&i| waits[i].as_mut().poll(&mut cx).is_ready())
                .collect();
            if !ready.is_empty() {
                return ready;
            }
        }
        panic!("no wait ended in 100 passes")
    }

    #[test]
    fn a_poll_on_two_timers_reports_the_earlier_at_its_instant() {
        let clock = VirtualClock::default();
        let mut waits = [wait(&clock, 3_600_000_000_000), wait(&clock, 10_000_000)];
        assert_eq!(poll_list(&mut waits), vec![1]);
        assert_eq!(clock.now(), 10_000_000);
        drop(waits);
        let mut later = [wait(&clock, 3_600_000_000_000)];
        assert_eq!(poll_list(&mut later), vec![0]);
        assert_eq!(clock.now(), 3_600_000_000_000);
    }

    #[test]
    fn a_look_at_a_future_timer_neither_waits_nor_moves_the_clock() {
        let clock = VirtualClock::default();
        let mut cx = Context::from_waker(Waker::noop());
        let mut look = wait(&clock, 1_000);
        assert!(look.as_mut().poll(&mut cx).is_pending());
        drop(look);
        assert_eq!(clock.now(), 0);
        assert!(clock.waiting().is_empty(), "a dropped wait leaves nothing");
        let mut past = wait(&clock, 0);
        assert!(past.as_mut().poll(&mut cx).is_ready());
    }
}
