//! Observation input as callers send it: one JSON object, a JSON array, or
//! NDJSON (one object per line, errors naming the line).

use super::{ModelError, Observation, parse_history, parse_observation, parse_observation_at};

/// Parses `text` from `source`: an object, an array, or one object per line.
pub fn parse_observations(text: &str, source: &str) -> Result<Vec<Observation>, ModelError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return parse_history(text, source);
    }
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    if lines.len() <= 1 || serde_json::from_str::<serde_json::Value>(text).is_ok() {
        return parse_observation(text, source).map(|o| vec![o]);
    }
    lines
        .into_iter()
        .map(|(i, line)| parse_observation_at(line, source, i + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str =
        r#"{"dataset":{"namespace":"n","name":"a"},"observed_at":"2026-11-26T08:00:00Z"}"#;

    #[test]
    fn object_array_and_ndjson_are_all_accepted() {
        assert_eq!(parse_observations(A, "x").unwrap().len(), 1);
        assert_eq!(
            parse_observations(&format!("[{A},{A}]"), "x")
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            parse_observations(&format!("{A}\n\n{A}\n"), "x")
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn an_ndjson_error_names_the_line() {
        let err = parse_observations(&format!("{A}\n{{\"dataset\":1}}\n"), "in.ndjson")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("in.ndjson:2:"), "{err}");
    }
}
