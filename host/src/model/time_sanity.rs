//! Time sanity (DESIGN.md, "Ingest"): an observation dated more than
//! `max_future_skew` ahead of the receiver's clock is refused, naming the
//! field. Every entry point (`/v1/observations`, `/api/v1/lineage`,
//! `dataslo observe`, the spool) calls [`TimeSanity`], with its own clock
//! passed in so that tests can fix it.

use super::{ModelError, Observation};
use jiff::Timestamp;
use std::time::Duration;

/// Where the times of observations came from, for the error to name the
/// field the sender wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFields {
    /// The observation format: `observed_at` and `last_modified`.
    Observation,
    /// OpenLineage events: both times are the event's `eventTime`.
    OpenLineage,
}

/// The receiver's clock and how far ahead of it an observation may be dated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSanity {
    /// The receiver's clock.
    pub now: Timestamp,
    /// How far ahead of `now` a time may be.
    pub max_future_skew: Duration,
}

impl TimeSanity {
    /// The rule at `now`.
    pub fn new(now: Timestamp, max_future_skew: Duration) -> Self {
        TimeSanity {
            now,
            max_future_skew,
        }
    }

    /// Refuses `time`, the value of `field` in `source_name`, when it is more
    /// than `max_future_skew` ahead of the clock.
    pub fn check(&self, time: Timestamp, field: &str, source_name: &str) -> Result<(), ModelError> {
        let skew = jiff::SignedDuration::try_from(self.max_future_skew)
            .unwrap_or(jiff::SignedDuration::MAX);
        let latest = self.now.checked_add(skew).unwrap_or(Timestamp::MAX);
        if time <= latest {
            return Ok(());
        }
        let ahead = time.duration_since(self.now);
        Err(ModelError::Invalid {
            source_name: source_name.into(),
            field: field.into(),
            reason: format!(
                "{time} is {} ahead of the receiver's clock ({}); at most max_future_skew = {} is allowed",
                rounded(ahead),
                self.now.round(jiff::Unit::Second).unwrap_or(self.now),
                humantime::format_duration(self.max_future_skew)
            ),
        })
    }

    /// Checks every observation's `observed_at` and `last_modified`; with
    /// several, the source names the one refused by its index (not for
    /// OpenLineage, whose observations are not the events the sender counts).
    pub fn check_observations(
        &self,
        observations: &[Observation],
        source_name: &str,
        fields: TimeFields,
    ) -> Result<(), ModelError> {
        let (observed, modified) = match fields {
            TimeFields::Observation => ("observed_at", "last_modified"),
            TimeFields::OpenLineage => ("eventTime", "eventTime"),
        };
        for (i, obs) in observations.iter().enumerate() {
            let source = match (observations.len(), fields) {
                (1, _) | (_, TimeFields::OpenLineage) => source_name.to_string(),
                _ => format!("{source_name}[{i}]"),
            };
            self.check(obs.observed_at, observed, &source)?;
            if let Some(t) = obs.last_modified {
                self.check(t, modified, &source)?;
            }
        }
        Ok(())
    }
}

/// A skew for humans: whole seconds up to a day, whole days past it.
fn rounded(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs().max(1) as u64;
    if secs < 86_400 {
        humantime::format_duration(Duration::from_secs(secs)).to_string()
    } else {
        format!("{} days", secs / 86_400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_observation;

    const NOW: &str = "2026-12-01T12:00:00Z";

    fn sanity() -> TimeSanity {
        TimeSanity::new(NOW.parse().unwrap(), Duration::from_secs(300))
    }

    fn obs(at: &str) -> Observation {
        parse_observation(
            &format!(r#"{{"dataset":{{"namespace":"n","name":"d"}},"observed_at":"{at}"}}"#),
            "t",
        )
        .unwrap()
    }

    #[test]
    fn a_time_up_to_the_skew_ahead_of_the_clock_is_accepted() {
        for at in ["2020-01-01T00:00:00Z", NOW, "2026-12-01T12:05:00Z"] {
            assert!(
                sanity().check(at.parse().unwrap(), "f", "s").is_ok(),
                "{at}"
            );
        }
    }

    #[test]
    fn a_time_further_ahead_is_refused_naming_the_field_the_clock_and_the_skew() {
        let e = sanity()
            .check(
                "2026-12-01T12:05:01Z".parse().unwrap(),
                "observed_at",
                "body",
            )
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "body: observed_at: 2026-12-01T12:05:01Z is 5m 1s ahead of the receiver's clock \
             (2026-12-01T12:00:00Z); at most max_future_skew = 5m is allowed"
        );
    }

    #[test]
    fn observations_are_refused_by_index_with_the_senders_field_name() {
        let list = [obs(NOW), obs("2200-01-01T00:00:00Z")];
        let e = sanity()
            .check_observations(&list, "body", TimeFields::Observation)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("body[1]: observed_at: 2200-01-01T00:00:00Z is 63217 days ahead"),
            "{e}"
        );
        let e = sanity()
            .check_observations(&list, "event.json", TimeFields::OpenLineage)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("event.json: eventTime: 2200-01-01T00:00:00Z"),
            "{e}"
        );
        let mut modified = obs(NOW);
        modified.last_modified = Some("2027-01-01T00:00:00Z".parse().unwrap());
        let e = sanity()
            .check_observations(&[modified], "x", TimeFields::Observation)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x: last_modified: "), "{e}");
        assert!(
            sanity()
                .check_observations(&list[..1], "x", TimeFields::Observation)
                .is_ok()
        );
    }

    #[test]
    fn an_unbounded_skew_accepts_every_time() {
        let open = TimeSanity::new(NOW.parse().unwrap(), Duration::MAX);
        assert!(open.check(Timestamp::MAX, "f", "s").is_ok());
    }
}
