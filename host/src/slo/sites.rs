//! `sites:` in a dataslo source: the agents a scheduled SLO ticks at. With
//! none listed it ticks at central (the replica holding the tick lease).

use super::definition::{FieldError, Slo, Trigger};

/// The site of central's own records: no agent takes it.
const CENTRAL: &str = "central";

/// `sites`, checked: each 1-64 of `a-z 0-9 - _` (an agent's `[agent] site`),
/// not `central`, and only on a scheduled SLO (an observation-triggered one
/// is evaluated where its observation enters).
pub(super) fn checked(
    sites: Option<Vec<String>>,
    trigger: Trigger,
    spec_field: &str,
) -> Result<Vec<String>, FieldError> {
    let Some(sites) = sites else {
        return Ok(Vec::new());
    };
    let field = format!("{spec_field}.sites");
    if trigger == Trigger::Observation && !sites.is_empty() {
        return Err((
            field,
            "only a scheduled SLO names sites: an observation-triggered one is evaluated where its observation enters".into(),
        ));
    }
    for (i, site) in sites.iter().enumerate() {
        let ok = (1..=64).contains(&site.len())
            && site
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            return Err((
                format!("{field}[{i}]"),
                format!(
                    "a site is 1 to 64 lowercase letters, digits, dashes and underscores, not {site:?}"
                ),
            ));
        }
        if site == CENTRAL {
            return Err((
                format!("{field}[{i}]"),
                "\"central\" is no agent's site: leave sites out to tick at central".into(),
            ));
        }
    }
    Ok(sites)
}

impl Slo {
    /// Whether its scheduled ticks run at `site` (an agent's), or at central
    /// when `site` is `None`.
    pub fn ticks_at(&self, site: Option<&str>) -> bool {
        match site {
            Some(site) => self.sites.iter().any(|s| s == site),
            None => self.sites.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::slo::parse_text;

    fn slo(trigger: &str, sites: &str) -> String {
        format!(
            r#"
apiVersion: openslo/v1
kind: SLO
metadata: {{ name: fresh }}
spec:
  indicator:
    metadata: {{ name: f }}
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: {{ dataset: {{ namespace: "postgres://prod", name: orders }}, policy: "builtin:freshness", config: {{ max_age: 2h }}, sli: freshness, trigger: {trigger}{sites} }}
  timeWindow: [{{ duration: 1d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ op: lte, value: 7200, target: 0.9 }}]
"#
        )
    }

    #[test]
    fn a_scheduled_slo_ticks_at_its_listed_sites_or_else_at_central() {
        let listed = parse_text(
            &slo("{ schedule: 1m }", ", sites: [plant-7, plant_8]"),
            "f.yaml",
        );
        assert!(listed.errors.is_empty(), "{:?}", listed.errors);
        let listed = &listed.slos[0];
        assert_eq!(listed.sites, ["plant-7", "plant_8"]);
        assert!(listed.ticks_at(Some("plant-7")));
        assert!(!listed.ticks_at(Some("plant-9")));
        assert!(!listed.ticks_at(None), "central leaves it to its sites");
        let central = &parse_text(&slo("{ schedule: 1m }", ""), "f.yaml").slos[0];
        assert!(central.ticks_at(None));
        assert!(!central.ticks_at(Some("plant-7")));
    }

    #[test]
    fn a_bad_site_is_refused_naming_the_slo_and_the_field() {
        for (trigger, sites, field) in [
            ("{ schedule: 1m }", ", sites: [Plant-7]", "sites[0]"),
            ("{ schedule: 1m }", ", sites: [ok, \"a.b\"]", "sites[1]"),
            ("{ schedule: 1m }", ", sites: [central]", "sites[0]"),
            ("observation", ", sites: [plant-7]", "sites"),
        ] {
            let parsed = parse_text(&slo(trigger, sites), "f.yaml");
            let error = parsed.errors.first().expect("refused");
            assert!(
                error.field.ends_with(&format!("metricSource.spec.{field}")),
                "{error}"
            );
            assert!(error.to_string().contains("`fresh`"), "{error}");
        }
    }
}
