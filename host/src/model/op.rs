//! The comparison of a threshold objective. It is defined by the SLO file
//! and stored with the ledger's record of how an objective counts, so it
//! lives in the model.

use serde::{Deserialize, Serialize};

/// Comparison of a threshold objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// value < threshold
    Lt,
    /// value <= threshold
    Lte,
    /// value > threshold
    Gt,
    /// value >= threshold
    Gte,
}

impl Op {
    /// Reads `lt`, `lte`, `gt` or `gte`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "lt" => Ok(Op::Lt),
            "lte" => Ok(Op::Lte),
            "gt" => Ok(Op::Gt),
            "gte" => Ok(Op::Gte),
            other => Err(format!("{other:?} is not one of lt, lte, gt, gte")),
        }
    }

    /// Its name in SLO files.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
        }
    }

    /// Whether `value` meets `threshold` under this op.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Lt => value < threshold,
            Op::Lte => value <= threshold,
            Op::Gt => value > threshold,
            Op::Gte => value >= threshold,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_reads_back_from_its_name_in_files_and_in_json() {
        for op in [Op::Lt, Op::Lte, Op::Gt, Op::Gte] {
            assert_eq!(Op::parse(op.as_str()), Ok(op));
            let json = serde_json::to_string(&op).unwrap();
            assert_eq!(json, format!("\"{}\"", op.as_str()));
        }
        assert!(Op::parse("le").is_err());
    }
}
