//! Evaluation on all cores: the scheduler's evaluations run on the shared
//! executor, deadlines hold when every core is busy, and one tenant's slow
//! policy does not starve another tenant's evaluations.

use crate::support::{adversary, guest_path, observation, runtime, thread_cpu_time};
use dataslo::executor::Executor;
use dataslo::ledger::Ledger;
use dataslo::model::parse_observation;
use dataslo::runtime::{EvalErrorKind, EvaluationInput, Limits, Runtime, no_history};
use dataslo::scheduler::Scheduler;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn slo(name: &str, policy: &str, config: &str, dataset: &str) -> String {
    format!(
        r#"
apiVersion: openslo/v1
kind: SLO
metadata: {{ name: {name} }}
spec:
  indicator:
    metadata: {{ name: x }}
    spec:
      thresholdMetric:
        metricSource:
          type: dataslo
          spec: {{ dataset: {{ namespace: "postgres://prod", name: {dataset} }}, policy: "{policy}", config: {config}, sli: volume, trigger: observation }}
  timeWindow: [{{ duration: 28d, isRolling: true }}]
  budgetingMethod: Occurrences
  objectives: [{{ op: gte, value: 1, target: 0.99 }}]
"#
    )
}

/// A tenant's scheduler over its own trees of `ledger`, on `executor`.
fn tenant(
    ledger: &Ledger,
    name: &str,
    yaml: &str,
    executor: &Arc<Executor>,
    limits: Limits,
) -> Scheduler {
    let catalog = dataslo::slo::parse_text(yaml, "fixture.yaml");
    assert!(catalog.errors.is_empty(), "{:#?}", catalog.errors);
    let runtime = Arc::new(Runtime::new(Limits::default()).unwrap());
    let settings = dataslo::service::SchedulerSettings {
        history_depth: 100,
        limits: Some(limits),
        executor: Some(executor.clone()),
        durable: true,
        site: None,
        oci: None,
        trust: None,
    };
    let tenant = ledger.for_tenant(name).unwrap();
    let known = Default::default();
    dataslo::service::assemble(
        &runtime,
        tenant,
        catalog.slos,
        known,
        Some(Path::new(".")),
        settings,
    )
    .unwrap_or_else(|errors| panic!("{errors:?}"))
}

fn observations(dataset: &str, n: usize) -> Vec<dataslo::model::Observation> {
    (0..n)
        .map(|i| {
            let at = jiff::Timestamp::from_second(1_780_000_000 + i as i64).unwrap();
            let text = format!(
                r#"{{"dataset":{{"namespace":"postgres://prod","name":"{dataset}"}},"observed_at":"{at}","row_count":{}}}"#,
                i + 1
            );
            parse_observation(&text, "test").unwrap()
        })
        .collect()
}

#[test]
fn a_pass_runs_on_the_executor_and_records_every_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 100).unwrap();
    let executor = Arc::new(Executor::new(2).unwrap());
    let yaml = format!(
        "{}---{}",
        slo("a", "builtin:volume", "{ min_rows: 1 }", "orders"),
        slo("b", "builtin:volume", "{ min_rows: 5 }", "orders")
    );
    let s = tenant(&ledger, "acme", &yaml, &executor, Limits::default());
    let (new, pass) = s.ingest(&observations("orders", 50)).unwrap();
    assert_eq!((new, pass.recorded, pass.errors), (50, 100, 0));
    let a = s.ledger().records(Some("a"), None).count();
    let b = s.ledger().records(Some("b"), None).count();
    assert_eq!((a, b), (50, 50));
}

#[test]
fn deadlines_hold_with_every_core_busy() {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let executor = Executor::new(cores).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Spinners keep every core busy besides the workers.
    let spinners: Vec<_> = (0..cores)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    let deadline = Duration::from_millis(50);
    let jobs: Vec<_> = (0..4 * cores)
        .map(|_| {
            move || {
                let limits = Limits {
                    deadline,
                    ..Limits::default()
                };
                let obs = observation("");
                let started = thread_cpu_time();
                let result = runtime().evaluate(
                    adversary(),
                    EvaluationInput {
                        config: r#"{"attack":"infinite-loop"}"#,
                        observation: &obs,
                        history: no_history(),
                        now: obs.observed_at,
                        limits: Some(&limits),
                    },
                );
                (
                    result.map(drop).map_err(|e| e.kind),
                    thread_cpu_time() - started,
                )
            }
        })
        .collect();
    let results = executor.run_all("attacker", jobs);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in spinners {
        s.join().unwrap();
    }
    for (result, cpu) in results {
        assert!(
            matches!(result, Err(EvalErrorKind::Deadline { .. })),
            "{result:?}"
        );
        // CPU time, not wall time: the loop ran no longer than its deadline
        // allows, however long it waited for a core.
        assert!(cpu < deadline * 3, "ran {cpu:?} of CPU");
    }
}

#[test]
fn one_tenants_slow_policy_does_not_starve_another_tenants_evaluations() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 100).unwrap();
    let executor = Arc::new(Executor::new(2).unwrap());
    let adversary_path = guest_path("adversary").display().to_string();
    let slow_limits = Limits {
        deadline: Duration::from_millis(40),
        ..Limits::default()
    };
    let slow = Arc::new(tenant(
        &ledger,
        "slow",
        &slo(
            "spin",
            &adversary_path,
            r#"{ attack: infinite-loop }"#,
            "events",
        ),
        &executor,
        slow_limits,
    ));
    let fast = tenant(
        &ledger,
        "fast",
        &slo("rows", "builtin:volume", "{ min_rows: 1 }", "orders"),
        &executor,
        Limits::default(),
    );
    let slow_pass = {
        let slow = slow.clone();
        std::thread::spawn(move || slow.ingest(&observations("events", 20)).unwrap())
    };
    // Wait until the slow tenant's evaluations occupy the workers.
    while slow.stats().evaluations() == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let (_, fast_pass) = fast.ingest(&observations("orders", 40)).unwrap();
    let slow_done_then = slow.stats().evaluations();
    assert_eq!(fast_pass.recorded, 40);
    let (_, slow_pass) = slow_pass.join().unwrap();
    assert_eq!(
        (slow_pass.recorded, slow_pass.errors),
        (20, 20),
        "every spin hit its deadline"
    );
    assert!(
        slow_done_then < 10,
        "the fast tenant waited for {slow_done_then} of the slow tenant's 20 evaluations"
    );
}
