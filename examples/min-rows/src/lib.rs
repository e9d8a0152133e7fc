use dataslo_guest::prelude::*;

/// Good when the table has at least `min_rows` rows.
#[derive(Deserialize)]
#[serde(crate = "dataslo_guest::serde")]
struct MinRows {
    min_rows: u64,
}

impl Policy for MinRows {
    const NAME: &'static str = "min-rows";
    const DESCRIPTION: &'static str = "Good when row_count >= min_rows.";
    const SLIS: &'static [&'static str] = &["min_rows"];

    fn evaluate(&self, obs: &Observation, _ctx: &Context) -> Result<Vec<Measurement>, PolicyError> {
        let rows = obs.require_row_count()?;
        let detail = format!("{rows} rows, need {}", self.min_rows);
        Ok(vec![
            Measurement::check("min_rows", rows >= self.min_rows, detail).with_value(rows as f64),
        ])
    }
}

export_policy!(MinRows);
