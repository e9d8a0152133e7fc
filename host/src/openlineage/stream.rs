//! A body of events: one JSON value, or several one after the other (NDJSON),
//! each an event or an array of events. Events are read one value at a time.

use super::event::read_event;
use super::{Lineage, OpenLineageError};
use serde_json::Value;

/// Reads one event, a JSON array of events, or NDJSON, from `source_name`.
/// Errors name the event: `body[2]` in an array, `body:3` on line 3.
pub fn read_events(text: &str, source_name: &str) -> Result<Lineage, OpenLineageError> {
    let not_json = |reason: String| OpenLineageError {
        source_name: source_name.into(),
        field: String::new(),
        reason,
    };
    let mut out = Lineage::default();
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut line = 1;
    let mut counted_to = 0;
    let mut read = 0;
    loop {
        let before = values.byte_offset();
        let Some(value) = values.next() else { break };
        let value = value.map_err(|e| not_json(format!("not JSON: {e}")))?;
        // The value starts after the whitespace that followed the last one.
        let rest = &text[before..];
        let start = before + (rest.len() - rest.trim_start().len());
        line += text[counted_to..start].matches('\n').count();
        counted_to = start;
        let single = read == 0 && text[values.byte_offset()..].trim().is_empty();
        let name = if single {
            source_name.to_string()
        } else {
            format!("{source_name}:{line}")
        };
        read += 1;
        match value {
            Value::Array(events) => {
                for (i, event) in events.iter().enumerate() {
                    read_event(event, &format!("{name}[{i}]"), &mut out)?;
                }
            }
            event => read_event(&event, &name, &mut out)?,
        }
    }
    if read == 0 {
        return Err(not_json("the body holds no event".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"eventType":"COMPLETE","eventTime":"2024-01-01T00:00:00Z","run":{"runId":"r"},"job":{"namespace":"j","name":"n"},"outputs":[{"namespace":"n","name":"a"}]}"#;

    #[test]
    fn one_event_an_array_and_ndjson_are_read_alike() {
        let one = read_events(EVENT, "body").unwrap();
        assert_eq!(one.observations.len(), 1);
        let array = read_events(&format!("[{EVENT},{EVENT}]"), "body").unwrap();
        assert_eq!(array.observations.len(), 2);
        let lines = read_events(&format!("{EVENT}\n\n{EVENT}\n"), "body").unwrap();
        assert_eq!(lines.observations.len(), 2);
    }

    #[test]
    fn an_ndjson_error_names_its_line() {
        let bad = EVENT.replace("\"eventTime\":\"2024-01-01T00:00:00Z\",", "");
        let err = read_events(&format!("{EVENT}\n\n{bad}\n"), "body")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "body:3: eventTime: is required");
        let err = read_events(&format!("{EVENT}\n{{oops\n"), "body")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("body: not JSON:") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn an_array_error_names_the_event() {
        let err = read_events(
            r#"[{"eventTime":"2024-01-01T00:00:00Z","inputs":[{"namespace":"n"}]}]"#,
            "req",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "req[0]: inputs[0]: a dataset needs a namespace and a name"
        );
    }

    #[test]
    fn an_empty_body_is_refused() {
        let err = read_events(" \n", "body").unwrap_err().to_string();
        assert_eq!(err, "body: the body holds no event");
    }
}
