//! E7: one fresh-instance evaluation of a large, realistic observation.
//!
//! 500 columns, each with a null count, distinct count, sum, count, min, max
//! and five quantiles, a 500-field schema, and a history of 50 earlier
//! observations of the same shape, through `builtin:null-rate` (every column:
//! 500 measurements back) and `builtin:schema-drift` in `previous` mode (asks
//! the host for 16 earlier observations). The cost is mostly copying records
//! and lists across the component boundary; see BENCHMARKS.md.
//!
//! `cargo bench -p dataslo --bench large_observation` (add `-- --quick`)

use criterion::{Criterion, criterion_group, criterion_main};
use dataslo::model::{Observation, parse_observation};
use dataslo::runtime::{EvaluationInput, History, Limits, Runtime};
use std::fmt::Write;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

// The same allocator as the `dataslo` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const COLUMNS: usize = 500;
const HISTORY: usize = 50;

/// An observation `hours_ago` hours before the bench's now, as JSON text
/// parsed by the host's own parser.
fn observation(hours_ago: usize) -> Observation {
    let observed = 1_795_680_000 - hours_ago as i64 * 3600;
    let at = jiff::Timestamp::from_second(observed).expect("timestamp");
    let rows = 1_000_000 + hours_ago as u64 * 10;
    let mut schema = String::new();
    let mut columns = String::new();
    for i in 0..COLUMNS {
        let sep = if i == 0 { "" } else { "," };
        let ty = ["BIGINT", "TEXT", "DOUBLE", "TIMESTAMPTZ"][i % 4];
        write!(
            schema,
            r#"{sep}{{"name":"column_{i:03}","type":"{ty}","nullable":true}}"#
        )
        .expect("write");
        let nulls = (i as u64 * 37 + hours_ago as u64) % 2000;
        write!(
            columns,
            r#"{sep}"column_{i:03}":{{"null_count":{nulls},"distinct_count":{},"sum":{}.5,"count":{rows},"min":0.25,"max":{}.75,"quantiles":{{"0.01":1.5,"0.25":10.5,"0.5":42.0,"0.75":90.25,"0.99":810.0}}}}"#,
            rows / (i as u64 + 1),
            rows * 3,
            i * 1000
        )
        .expect("write");
    }
    let text = format!(
        r#"{{"dataset":{{"namespace":"postgres://prod:5432","name":"analytics.events"}},"observed_at":"{at}","last_modified":"{at}","row_count":{rows},"byte_size":{},"schema":[{schema}],"columns":{{{columns}}},"partition":"ds=2026-11-26","attributes":{{"source":"airflow","dag":"events_hourly"}}}}"#,
        rows * 40
    );
    parse_observation(&text, "large").expect("large observation parses")
}

fn large_observation(c: &mut Criterion) {
    // A long deadline, so that it also runs under valgrind; the deadline
    // costs nothing per call.
    let limits = Limits {
        deadline: Duration::from_secs(10),
        ..Limits::default()
    };
    let runtime = Runtime::new(limits).expect("runtime");
    let now: jiff::Timestamp = "2026-11-26T08:00:00Z".parse().expect("timestamp");
    let current = observation(0);
    let history: History = Arc::new((1..=HISTORY).map(observation).collect::<Vec<_>>());
    let cases = [
        (
            "null-rate",
            r#"{"columns":"*","max_null_fraction":0.01}"#,
            COLUMNS,
        ),
        ("schema-drift", r#"{"mode":"previous"}"#, 1),
    ];

    let mut group = c.benchmark_group("large_observation_500_columns_50_history");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (name, config, expected) in cases {
        let policy = runtime.load_builtin(name).expect("built-in loads");
        let input = || EvaluationInput {
            config,
            observation: &current,
            history: history.clone(),
            now,
            limits: None,
        };
        let eval = runtime.evaluate(&policy, input()).expect("evaluates");
        assert_eq!(eval.measurements.len(), expected, "{name}");
        group.bench_function(format!("{name}/fresh_instance"), |b| {
            b.iter(|| black_box(runtime.evaluate(&policy, input()).expect("evaluates")))
        });
    }
    group.finish();
}

criterion_group!(benches, large_observation);
criterion_main!(benches);
