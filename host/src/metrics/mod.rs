//! Prometheus exposition (`GET /metrics`) through prometheus-client: each
//! SLO's events, budget, burn rates (fixed windows, and each alert rule's own
//! windows under the rule's name) and alert states, read from the ledger at
//! scrape time, and each scheduler's evaluation counts and durations.
//!
//! Depends on scheduler, budget, alert, slo, ledger and model (escaping label
//! values); the server depends on it.

mod encode;
mod snapshot;

pub use snapshot::{Scope, Snapshot};

/// The content type of OpenMetrics text, what [`render`] writes.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The content type of the Prometheus text format, what [`to_prometheus_text`] writes.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metrics of `scopes` at `at`, as OpenMetrics text.
pub fn render(
    scopes: &[Scope<'_>],
    at: jiff::Timestamp,
) -> Result<String, crate::ledger::LedgerError> {
    let snapshot = Snapshot::take(scopes, at)?;
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(snapshot));
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    Ok(out)
}

/// OpenMetrics text as the Prometheus text format (0.0.4), for scrapers and
/// tools (promtool, curl) that do not ask for OpenMetrics. The two differ
/// here only in that a counter family is named with its `_total` suffix, and
/// in the `# EOF` line.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::BTreeSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 64);
    for line in openmetrics.lines() {
        if line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|tag| {
            let rest = line.strip_prefix(tag)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{tag}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_families_take_their_total_name_in_the_prometheus_format() {
        let om = "# HELP a_events Events.\n# TYPE a_events counter\na_events_total{x=\"1\"} 3\n\
                  # HELP b Level.\n# TYPE b gauge\nb 1.0\n# EOF\n";
        assert_eq!(
            to_prometheus_text(om),
            "# HELP a_events_total Events.\n# TYPE a_events_total counter\na_events_total{x=\"1\"} 3\n\
             # HELP b Level.\n# TYPE b gauge\nb 1.0\n"
        );
    }
}
