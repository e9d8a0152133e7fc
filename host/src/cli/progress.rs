//! The progress line of the long commands (`demo`, `replay`): `LABEL 12/30`
//! on stderr, rewritten in place, when stderr is a terminal; nothing
//! otherwise, so captured output holds no carriage returns.

use std::io::{IsTerminal, Write};

/// A progress line labelled `label`: call it with (done, total); a call
/// with `done > total` clears the line. Rewritten only when the shown
/// figure changes by a thousandth of the total or more.
pub fn line(label: &'static str) -> impl FnMut(u64, u64) {
    let terminal = std::io::stderr().is_terminal();
    let mut shown: Option<u64> = None;
    move |done, total| {
        if !terminal {
            return;
        }
        let step = (total / 1000).max(1);
        if done < total && shown.is_some_and(|s| done < s + step) {
            return;
        }
        shown = Some(done);
        let mut err = std::io::stderr().lock();
        // A progress line that cannot be written is no reason to stop.
        let _ = if done <= total {
            write!(err, "\r{label} {done}/{total}")
        } else {
            write!(err, "\r\x1b[2K")
        };
        let _ = err.flush();
    }
}
