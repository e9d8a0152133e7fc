//! An objective's identity: a digest of what decides good and bad, so that a
//! record, a series or a label belongs to an objective and not to its place in
//! the file or its display name (DESIGN.md, "SLO identity").

use super::definition::{FieldError, Objective, Op};
use sha2::{Digest, Sha256};

impl Objective {
    /// The first 16 hex digits of the sha256 of [`Objective::canonical`].
    /// Renaming an objective or moving it in its list keeps it; changing its
    /// indicator, comparison, threshold, target, budgeting or slices does not.
    pub fn identity(&self) -> String {
        let digest = Sha256::digest(self.canonical().as_bytes());
        hex::encode(&digest[..8])
    }

    /// The text the identity digests, one `key=value` a line. The indicator
    /// and budgeting method are those the objective's own settings imply: a
    /// threshold objective has an op and value and a ratio one has none; a
    /// Timeslices objective has slices and an Occurrences one has none.
    fn canonical(&self) -> String {
        let mut lines = vec!["dataslo-objective/1".to_string()];
        match self.threshold {
            Some((op, value)) => {
                lines.push("indicator=threshold".into());
                lines.push(format!("op={}", op_name(op)));
                lines.push(format!("value={}", number(value)));
            }
            None => lines.push("indicator=ratio".into()),
        }
        lines.push(format!("target={}", number(self.target)));
        match self.slice {
            Some((length, slice_target)) => {
                lines.push("budgeting=Timeslices".into());
                lines.push(format!("slice_seconds={}", length.as_secs()));
                lines.push(format!("slice_target={}", number(slice_target)));
            }
            None => lines.push("budgeting=Occurrences".into()),
        }
        lines.join("\n")
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Lt => "lt",
        Op::Lte => "lte",
        Op::Gt => "gt",
        Op::Gte => "gte",
    }
}

/// The shortest text that reads back as `x` (Rust's `Display`), with −0
/// written as 0: the same threshold, so the same objective.
fn number(x: f64) -> String {
    if x == 0.0 { "0".into() } else { x.to_string() }
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
    use std::time::Duration;

    fn threshold(name: &str, op: Op, value: f64, target: f64) -> Objective {
        Objective {
            name: name.into(),
            target,
            threshold: Some((op, value)),
            slice: None,
        }
    }

    #[test]
    fn the_identity_is_the_sha256_of_the_canonical_text_cut_to_16_hex_digits() {
        let o = threshold("at least 10 rows", Op::Gte, 10.0, 0.9);
        assert_eq!(
            o.canonical(),
            "dataslo-objective/1\nindicator=threshold\nop=gte\nvalue=10\ntarget=0.9\nbudgeting=Occurrences"
        );
        let full = hex::encode(Sha256::digest(o.canonical().as_bytes()));
        assert_eq!(o.identity(), full[..16]);
        assert_eq!(o.identity().len(), 16);
    }

    #[test]
    fn renaming_an_objective_keeps_its_identity() {
        let a = threshold("objective 1", Op::Gte, 10.0, 0.9);
        let b = threshold("enough rows", Op::Gte, 10.0, 0.9);
        assert_eq!(a.identity(), b.identity());
    }

    #[test]
    fn what_decides_good_and_bad_changes_the_identity() {
        let base = threshold("x", Op::Lte, 1000.0, 0.99);
        let ratio = Objective {
            threshold: None,
            ..base.clone()
        };
        let sliced = Objective {
            slice: Some((Duration::from_secs(300), 0.95)),
            ..base.clone()
        };
        let variants = [
            threshold("x", Op::Lt, 1000.0, 0.99),
            threshold("x", Op::Lte, 3000.0, 0.99),
            threshold("x", Op::Lte, 1000.0, 0.999),
            ratio,
            sliced.clone(),
            Objective {
                slice: Some((Duration::from_secs(60), 0.95)),
                ..base.clone()
            },
            Objective {
                slice: Some((Duration::from_secs(300), 0.9)),
                ..base.clone()
            },
        ];
        let mut seen = std::collections::BTreeSet::from([base.identity()]);
        for v in &variants {
            assert!(seen.insert(v.identity()), "{}", v.canonical());
        }
    }

    #[test]
    fn a_threshold_of_minus_zero_is_the_threshold_zero() {
        let a = threshold("x", Op::Gt, 0.0, 0.9);
        let b = threshold("x", Op::Gt, -0.0, 0.9);
        assert_eq!(a.identity(), b.identity());
    }

    #[test]
    fn two_objectives_that_decide_alike_are_refused_naming_both() {
        let objectives = [
            threshold("a", Op::Gte, 10.0, 0.9),
            threshold("b", Op::Gte, 20.0, 0.9),
            threshold("c", Op::Gte, 10.0, 0.9),
        ];
        let (field, message) = check_distinct(&objectives).unwrap_err();
        assert_eq!(field, "spec.objectives[2]");
        assert!(message.contains("spec.objectives[0]"), "{message}");
        assert!(check_distinct(&objectives[..2]).is_ok());
    }
}
