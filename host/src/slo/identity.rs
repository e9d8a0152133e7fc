//! An objective's identity (DESIGN.md, "SLO identity"): a digest of what
//! decides good and bad, so that records count for an objective, not for a
//! position in a list, and a display name can change without starting a new
//! series.
//!
//! What goes in: the indicator (threshold or ratio), the threshold's `op` and
//! `value`, the target, the budgeting method and the slice settings. What
//! stays out: the display name and the objective's place in the file.

use super::definition::{FieldError, Objective};
use sha2::{Digest, Sha256};

impl Objective {
    /// The objective's identity: the first 16 hex digits of the sha256 of
    /// [`Objective::canonical`].
    pub fn identity(&self) -> String {
        let digest = Sha256::digest(self.canonical().as_bytes());
        hex::encode(&digest[..8])
    }

    /// What decides good and bad, as stable text: one `key=value` per line,
    /// numbers in their shortest round-trip form. Its first line names the
    /// form, so that a later form never collides with this one.
    pub fn canonical(&self) -> String {
        let mut text = String::from("dataslo objective v1\n");
        match self.threshold {
            Some((op, value)) => text.push_str(&format!(
                "indicator=threshold\nop={}\nvalue={}\n",
                op.as_str(),
                number(value)
            )),
            None => text.push_str("indicator=ratio\n"),
        }
        text.push_str(&format!("target={}\n", number(self.target)));
        match self.slice {
            Some((length, slice_target)) => text.push_str(&format!(
                "budgeting=Timeslices\nslice_seconds={}\nslice_target={}\n",
                length.as_secs(),
                number(slice_target)
            )),
            None => text.push_str("budgeting=Occurrences\n"),
        }
        text
    }
}

/// The shortest text that reads back as `v`; −0 as 0, since both compare alike.
fn number(v: f64) -> String {
    if v == 0.0 { "0".into() } else { v.to_string() }
}

/// Refuses two objectives of one SLO with the same identity: they would be
/// one series under two names.
pub(super) fn check_distinct(objectives: &[Objective]) -> Result<(), FieldError> {
    for (i, o) in objectives.iter().enumerate() {
        let id = o.identity();
        if let Some(first) = objectives[..i].iter().position(|p| p.identity() == id) {
            return Err((
                format!("spec.objectives[{i}]"),
                format!(
                    "decides good and bad exactly as spec.objectives[{first}] does (same op, value, target and slices)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Op;
    use std::time::Duration;

    fn threshold(op: Op, value: f64, target: f64) -> Objective {
        Objective {
            name: "objective 1".into(),
            target,
            threshold: Some((op, value)),
            slice: None,
        }
    }

    #[test]
    fn the_identity_is_16_hex_digits_of_the_canonical_text() {
        let o = threshold(Op::Lte, 7200.0, 0.9);
        assert_eq!(
            o.canonical(),
            "dataslo objective v1\nindicator=threshold\nop=lte\nvalue=7200\ntarget=0.9\nbudgeting=Occurrences\n"
        );
        let id = o.identity();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            id,
            hex::encode(&Sha256::digest(o.canonical().as_bytes())[..8])
        );
    }

    #[test]
    fn the_display_name_is_not_part_of_it() {
        let a = threshold(Op::Gte, 1000.0, 0.99);
        let mut b = a.clone();
        b.name = "at least a thousand rows".into();
        assert_eq!(a.identity(), b.identity());
    }

    #[test]
    fn everything_that_decides_good_and_bad_is() {
        let base = threshold(Op::Gte, 1000.0, 0.99);
        let mut changed = vec![
            threshold(Op::Gt, 1000.0, 0.99),
            threshold(Op::Gte, 3000.0, 0.99),
            threshold(Op::Gte, 1000.0, 0.999),
        ];
        changed.push(Objective {
            threshold: None,
            ..base.clone()
        });
        let sliced = Objective {
            slice: Some((Duration::from_secs(300), 0.9)),
            ..base.clone()
        };
        changed.push(sliced.clone());
        changed.push(Objective {
            slice: Some((Duration::from_secs(600), 0.9)),
            ..base.clone()
        });
        changed.push(Objective {
            slice: Some((Duration::from_secs(300), 0.95)),
            ..base.clone()
        });
        let mut seen = std::collections::HashSet::from([base.identity()]);
        for o in &changed {
            assert!(seen.insert(o.identity()), "{o:?} collides");
        }
        assert_eq!(
            threshold(Op::Lt, 0.0, 0.5).identity(),
            threshold(Op::Lt, -0.0, 0.5).identity()
        );
    }
}
