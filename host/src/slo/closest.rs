//! The closest valid name to a misspelt one, for "did you mean" hints.

/// The candidate nearest to `word`, when it is near enough to be a typo: at
/// most a third of the longer name's characters differ (one at least), case
/// ignored. Ties go to the first candidate.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(distance, c)| {
            let longer = lower.chars().count().max(c.chars().count());
            *distance <= (longer / 3).max(1)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn a_typo_finds_its_name_and_a_stranger_finds_none() {
        let keys = ["max_age", "columns", "max_null_fraction"];
        assert_eq!(closest("max_ag", keys), Some("max_age"));
        assert_eq!(closest("maxage", keys), Some("max_age"));
        assert_eq!(
            closest("max_null_fractoin", keys),
            Some("max_null_fraction")
        );
        assert_eq!(closest("Slo", ["SLO", "SLI"]), Some("SLO"));
        assert_eq!(closest("Prometheus", ["dataslo"]), None);
        assert_eq!(closest("x", ["max_age"]), None);
        assert_eq!(closest("max_age", keys), None, "a valid name needs no hint");
    }
}
