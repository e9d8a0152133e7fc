//! Timestamps: nanoseconds since the Unix epoch, as in the WIT contract.

/// Nanoseconds since 1970-01-01T00:00:00Z.
pub type Timestamp = i64;

/// Parses an RFC 3339 timestamp such as `2026-11-26T08:00:00Z`.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    let t = humantime::parse_rfc3339_weak(text.trim_end_matches('Z'))
        .map_err(|e| format!("invalid RFC 3339 timestamp {text:?}: {e}"))?;
    let nanos = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).map_err(|_| format!("{text:?} is out of range"))?,
        Err(before) => -i64::try_from(before.duration().as_nanos())
            .map_err(|_| format!("{text:?} is out of range"))?,
    };
    Ok(nanos)
}

/// Formats a timestamp as RFC 3339 UTC, e.g. for a measurement's detail:
/// `2026-11-26T08:00:00Z`, with nanoseconds when there are any; before 1970,
/// seconds before it (`86400s before 1970`).
pub fn format_timestamp(ts: Timestamp) -> String {
    let mut text = String::with_capacity(30);
    crate::DetailText::push_timestamp(&mut text, ts);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_utc() {
        let ts = parse_timestamp("2026-11-26T08:00:00Z").unwrap();
        assert_eq!(ts, 1_795_680_000 * 1_000_000_000);
        assert_eq!(format_timestamp(ts), "2026-11-26T08:00:00Z");
    }

    #[test]
    fn rejects_text_that_is_not_a_timestamp() {
        assert!(
            parse_timestamp("yesterday")
                .unwrap_err()
                .contains("yesterday")
        );
    }
}
