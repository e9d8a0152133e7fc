//! Error budgets and burn rates, computed from the ledger's minute buckets only:
//! the cost grows with the window's length in minutes, not with the events.
//!
//! Time is counted in whole minutes. A window is the inclusive range of minutes
//! `from..=to`, where `to` is the minute of the query time. Rolling windows of
//! length `W` start at `to - W + 1`; calendar windows at the first minute of the
//! period holding the query time. Timeslices are aligned to the Unix epoch
//! (rolling) or restart at each calendar period's start with their civil
//! length in its time zone (calendar: see [`Slicer`]); a slice counts in a
//! window when its first minute is inside, with its minutes up to `to`. A
//! slice without events is "no data": neither good nor bad.
//!
//! Buckets hold events per objective in the order of the SLO's series, which
//! [`sync_series`] keeps in step with its definition (DESIGN.md, "SLO
//! identity").
//!
//! Depends on [`crate::slo`], [`crate::ledger`] and [`crate::model`].

mod compute;
mod series;
mod slices;
mod source;
mod window;

pub use compute::{BURN_WINDOWS, ObjectiveFigures, Tally, objective_figures, tally};
pub use series::{series_of, series_start, sync_series};
pub use slices::{Slice, Slicer};
pub use source::{MinuteSpan, Tallies};
pub use window::{MinuteRange, window_at};
