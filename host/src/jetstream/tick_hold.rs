//! Whether this process may tick a tenant's scheduled SLOs and send its
//! notifications, now: shared by the tick lease's task, which writes it, and
//! the clock pass and SLO-set publisher, which ask it before each step.
//!
//! A held lease is a deadline on this process's monotonic clock, not a
//! switch: a clock pass that outlasts the lease (a notifier taking its whole
//! timeout) finds the hold gone at its next step, even if the lease's task
//! has not run since.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// A process's hold on a tenant's ticks.
#[derive(Debug)]
pub struct TickHold {
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy)]
struct State {
    until: Until,
    /// When this process, taking the lease over, last read it before the
    /// previous holder's last renewal, until its clock pass has queued what
    /// it recorded since.
    handover: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Until {
    /// The only process of its tenant (`run`, `serve` without NATS, an agent).
    Always,
    /// A central replica holding the lease: until this instant.
    Instant(Instant),
    /// A central replica not holding it.
    Not,
}

impl TickHold {
    /// The hold of a process that is the only one ticking its tenant.
    pub fn always() -> Self {
        Self::with(Until::Always)
    }

    /// A replica's hold before it has taken the lease: none.
    pub fn not_held() -> Self {
        Self::with(Until::Not)
    }

    fn with(until: Until) -> Self {
        TickHold {
            state: Mutex::new(State {
                until,
                handover: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this process holds the ticks now.
    pub fn holds(&self) -> bool {
        self.holds_at(Instant::now())
    }

    /// How much longer it holds them: `None` when it does not.
    pub fn left(&self) -> Option<std::time::Duration> {
        match self.state().until {
            Until::Always => Some(std::time::Duration::MAX),
            Until::Instant(until) => until
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero()),
            Until::Not => None,
        }
    }

    /// Whether it holds them at `at`.
    pub fn holds_at(&self, at: Instant) -> bool {
        match self.state().until {
            Until::Always => true,
            Until::Instant(until) => at < until,
            Until::Not => false,
        }
    }

    /// The lease was written at `tried` (the instant before the write was
    /// sent): this process holds until `until`. If it did not hold at
    /// `tried`, it has just taken the lease, from a holder whose last
    /// renewal was at `after` (when known): what it recorded after that is
    /// handed to its next clock pass.
    pub fn held(&self, tried: Instant, until: Instant, after: Option<jiff::Timestamp>) {
        let mut state = self.state();
        let taken = match state.until {
            Until::Always => return,
            Until::Instant(was) => was <= tried,
            Until::Not => true,
        };
        if taken && let Some(after) = after {
            // A handover not yet sent keeps its earlier start.
            state.handover = Some(state.handover.map_or(after, |h| h.min(after)));
        }
        state.until = Until::Instant(until);
    }

    /// From now on the lease decides, and it is not held yet: a process
    /// becoming one of several central replicas, before its clock starts.
    pub fn leave_to_lease(&self) {
        self.state().until = Until::Not;
    }

    /// Another replica holds the lease, or this one could not renew it.
    pub fn lost(&self) {
        let mut state = self.state();
        if state.until != Until::Always {
            state.until = Until::Not;
        }
    }

    /// When this process last read the lease before the previous holder's
    /// last renewal, if it took the lease over and has not sent what
    /// followed yet:
    /// transitions it recorded after that are its to send.
    pub fn handover(&self) -> Option<jiff::Timestamp> {
        self.state().handover
    }

    /// What followed `after` is queued: the handover is done, unless a
    /// later takeover moved it meanwhile.
    pub fn handed_over(&self, after: jiff::Timestamp) {
        let mut state = self.state();
        if state.handover == Some(after) {
            state.handover = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ts(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_hold_ends_at_its_deadline_without_anyone_saying_so() {
        let hold = TickHold::not_held();
        let t0 = Instant::now();
        assert!(!hold.holds_at(t0));
        hold.held(t0, t0 + Duration::from_secs(9), None);
        assert!(hold.holds_at(t0 + Duration::from_millis(8_999)));
        assert!(!hold.holds_at(t0 + Duration::from_secs(9)));
        hold.lost();
        assert!(!hold.holds_at(t0));
    }

    #[test]
    fn the_only_process_always_holds_until_it_leaves_its_ticks_to_the_lease() {
        let hold = TickHold::always();
        hold.lost();
        assert!(hold.holds_at(Instant::now() + Duration::from_secs(86_400)));
        hold.leave_to_lease();
        assert!(!hold.holds());
    }

    #[test]
    fn taking_the_lease_hands_over_what_followed_the_last_renewal_once() {
        let hold = TickHold::not_held();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        hold.held(t0, t0 + s(9), Some(ts("2026-12-02T00:00:00Z")));
        // A renewal inside the hold hands nothing over.
        hold.held(t0 + s(3), t0 + s(12), Some(ts("2026-12-02T00:00:03Z")));
        let after = ts("2026-12-02T00:00:00Z");
        assert_eq!(hold.handover(), Some(after));
        // Not queued yet (a failed pass): still handed over.
        assert_eq!(hold.handover(), Some(after));
        hold.handed_over(after);
        assert_eq!(hold.handover(), None);
        // Taken again after a lapse: from the last renewal before it.
        hold.held(t0 + s(20), t0 + s(29), Some(ts("2026-12-02T00:00:06Z")));
        assert_eq!(hold.handover(), Some(ts("2026-12-02T00:00:06Z")));
    }

    #[test]
    fn a_handover_not_yet_sent_keeps_its_earlier_start() {
        let hold = TickHold::not_held();
        let t0 = Instant::now();
        let s = Duration::from_secs;
        hold.held(t0, t0 + s(9), Some(ts("2026-12-02T00:00:00Z")));
        hold.lost();
        hold.held(t0 + s(10), t0 + s(19), Some(ts("2026-12-02T00:00:09Z")));
        assert_eq!(hold.handover(), Some(ts("2026-12-02T00:00:00Z")));
    }
}
