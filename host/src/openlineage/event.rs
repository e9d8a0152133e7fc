//! One event: what its datasets share (time, job, run, its facets), and which
//! of its datasets become observations (the rules of the module doc).

use super::facets::{Fail, apply_facets, has_measurement};
use super::{Lineage, MAX_ERROR_MESSAGE_BYTES, MAX_NAME_BYTES, OpenLineageError};
use crate::model::{DatasetRef, Observation, RunState, SharedText};
use serde_json::Value;
use std::collections::BTreeMap;

/// What every observation of one event carries, read once.
struct Shared {
    time: jiff::Timestamp,
    event_type: Option<String>,
    // Shared: each observation of the event holds these, not a copy.
    attributes: BTreeMap<String, SharedText>,
    partition: Option<String>,
}

/// What becomes of a dataset of an event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// An observation, with `last_modified` = the event's time.
    Written,
    /// An observation.
    Observed,
    /// An observation when it carries a quality or statistics facet.
    IfMeasured,
    /// Counted as ignored.
    Ignored,
}

/// Reads `event` into `out`, or says why it is refused.
pub(super) fn read_event(
    event: &Value,
    source_name: &str,
    out: &mut Lineage,
) -> Result<(), OpenLineageError> {
    let refuse = |(field, reason): Fail| OpenLineageError {
        source_name: source_name.into(),
        field,
        reason,
    };
    if !event.is_object() {
        return Err(refuse((String::new(), "an event is a JSON object".into())));
    }
    let shared = shared(event).map_err(refuse)?;
    let is_run = event.get("run").is_some() || event.get("eventType").is_some();
    let (inputs, outputs) = match (is_run, shared.event_type.as_deref()) {
        (true, Some("COMPLETE")) => (Rule::IfMeasured, Rule::Written),
        (true, Some("FAIL")) => (Rule::IfMeasured, Rule::IfMeasured),
        _ => (Rule::Ignored, Rule::Ignored),
    };
    if let Some(dataset) = event.get("dataset") {
        read_dataset(dataset, "dataset".into(), Rule::Observed, &shared, out).map_err(refuse)?;
    }
    for (side, rule) in [("inputs", inputs), ("outputs", outputs)] {
        let list = match event.get(side) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(list)) => list,
            Some(_) => return Err(refuse((side.into(), "must be an array".into()))),
        };
        for (i, dataset) in list.iter().enumerate() {
            read_dataset(dataset, format!("{side}[{i}]"), rule, &shared, out).map_err(refuse)?;
        }
    }
    Ok(())
}

fn read_dataset(
    dataset: &Value,
    field: String,
    rule: Rule,
    shared: &Shared,
    out: &mut Lineage,
) -> Result<(), Fail> {
    let name_at = |key: &str| -> Result<Option<&str>, Fail> {
        match dataset.get(key).and_then(Value::as_str) {
            Some(text) if !text.is_empty() => {
                bounded(text, &format!("{field}.{key}"))?;
                Ok(Some(text))
            }
            _ => Ok(None),
        }
    };
    let (Some(namespace), Some(name)) = (name_at("namespace")?, name_at("name")?) else {
        return Err((field, "a dataset needs a namespace and a name".into()));
    };
    let mut obs = Observation {
        dataset: DatasetRef {
            namespace: namespace.into(),
            name: name.into(),
        },
        observed_at: shared.time,
        last_modified: (rule == Rule::Written).then_some(shared.time),
        row_count: None,
        byte_size: None,
        schema: None,
        columns: BTreeMap::new(),
        partition: shared.partition.clone(),
        attributes: BTreeMap::new(),
        assertions: Vec::new(),
        run_state: shared
            .event_type
            .as_deref()
            .and_then(RunState::from_event_type),
    };
    // Facets are checked for every dataset, observed or not.
    apply_facets(&mut obs, dataset, &field)?;
    let observed = match rule {
        Rule::Written | Rule::Observed => true,
        Rule::IfMeasured => has_measurement(dataset),
        Rule::Ignored => false,
    };
    if observed {
        for (key, value) in &shared.attributes {
            obs.attributes.insert(key.clone(), value.clone());
        }
        out.observations.push(obs);
    } else {
        out.ignored += 1;
    }
    Ok(())
}

/// Refuses a name over [`MAX_NAME_BYTES`]: it would be copied into every
/// observation of the event.
fn bounded(text: &str, field: &str) -> Result<(), Fail> {
    if text.len() > MAX_NAME_BYTES {
        return Err((
            field.into(),
            format!(
                "is {} bytes long; names are at most {MAX_NAME_BYTES} bytes",
                text.len()
            ),
        ));
    }
    Ok(())
}

/// The time, the event type and the attributes every observation of `event`
/// carries.
fn shared(event: &Value) -> Result<Shared, Fail> {
    let time_text = event
        .get("eventTime")
        .and_then(Value::as_str)
        .ok_or_else(|| ("eventTime".to_string(), "is required".to_string()))?;
    let time = parse_time(time_text).ok_or_else(|| {
        (
            "eventTime".to_string(),
            format!("{time_text:?} is not an ISO 8601 time"),
        )
    })?;
    let event_type = event
        .get("eventType")
        .and_then(Value::as_str)
        .map(|t| bounded(t, "eventType").map(|()| t.to_string()))
        .transpose()?;
    let mut attributes: BTreeMap<String, SharedText> = BTreeMap::new();
    if let Some(kind) = &event_type {
        attributes.insert("openlineage.event_type".to_string(), kind.as_str().into());
    }
    if let Some(job) = event.get("job") {
        let part = |key: &str| -> Result<&str, Fail> {
            let text = job.get(key).and_then(Value::as_str).unwrap_or("");
            bounded(text, &format!("job.{key}")).map(|()| text)
        };
        let job_name = format!("{}/{}", part("namespace")?, part("name")?);
        attributes.insert("openlineage.job".into(), job_name.into());
    }
    if let Some(run_id) = event.pointer("/run/runId").and_then(Value::as_str) {
        bounded(run_id, "run.runId")?;
        attributes.insert("openlineage.run_id".into(), run_id.into());
    }
    let facets = event.pointer("/run/facets");
    if let Some(message) = facets
        .and_then(|f| f.pointer("/errorMessage/message"))
        .and_then(Value::as_str)
    {
        attributes.insert(
            "openlineage.error_message".into(),
            cut(message, MAX_ERROR_MESSAGE_BYTES).into(),
        );
    }
    let mut partition = None;
    if let Some(nominal) = facets.and_then(|f| f.get("nominalTime")) {
        for (key, attribute) in [
            ("nominalStartTime", "openlineage.nominal_start_time"),
            ("nominalEndTime", "openlineage.nominal_end_time"),
        ] {
            let Some(value) = nominal.get(key).filter(|v| !v.is_null()) else {
                continue;
            };
            let field = format!("run.facets.nominalTime.{key}");
            let text = value
                .as_str()
                .ok_or_else(|| (field.clone(), "must be a time as text".to_string()))?;
            let at = parse_time(text)
                .ok_or_else(|| (field, format!("{text:?} is not an ISO 8601 time or date")))?;
            attributes.insert(attribute.into(), at.to_string().into());
            if key == "nominalStartTime" {
                partition = Some(at.to_string());
            }
        }
    }
    Ok(Shared {
        time,
        event_type,
        attributes,
        partition,
    })
}

/// `text` cut to at most `max` bytes at a character boundary, marked `…`.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// RFC 3339, an offset-less ISO 8601 time (seen in real events) or a date
/// (seen in `nominalTime`), the last two read as UTC.
pub(super) fn parse_time(text: &str) -> Option<jiff::Timestamp> {
    let utc = |civil: jiff::civil::DateTime| {
        civil
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    };
    text.parse::<jiff::Timestamp>()
        .ok()
        .or_else(|| utc(text.parse().ok()?))
        .or_else(|| {
            utc(text
                .parse::<jiff::civil::Date>()
                .ok()?
                .to_datetime(jiff::civil::Time::midnight()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_without_an_offset_are_utc_and_dates_are_midnight() {
        assert_eq!(
            parse_time("2021-11-03T10:53:52.427343")
                .unwrap()
                .to_string(),
            "2021-11-03T10:53:52.427343Z"
        );
        assert_eq!(
            parse_time("2020-01-01").unwrap().to_string(),
            "2020-01-01T00:00:00Z"
        );
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn a_long_message_is_cut_at_a_character_boundary() {
        let cut_text = cut(&"é".repeat(1000), 11);
        assert_eq!(cut_text, "éééé…");
        assert!(cut_text.len() <= 11);
        assert_eq!(cut("short", 11), "short");
    }
}
