//! Group append on a real sled ledger, with real threads. To make callers
//! meet in one group, a test holds the lead (as a running transaction does)
//! until they have all queued, then lets them go.

use crate::ledger::group_append::GroupAppend;
use crate::ledger::{Ledger, LedgerError, ObservationReceipt, digest, keys};
use crate::model::{Observation, parse_observation};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// A hang, not a slow machine.
const HANG: Duration = Duration::from_secs(60);

fn obs(table: &str, second: u64) -> Observation {
    let at = jiff::Timestamp::from_second(1_780_000_000 + second as i64).unwrap();
    let text = format!(
        r#"{{"dataset":{{"namespace":"s3://b","name":"{table}"}},"observed_at":"{at}","row_count":{second}}}"#
    );
    parse_observation(&text, "t").unwrap()
}

fn open() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), "default", 10).unwrap();
    (dir, ledger)
}

/// Takes the lead as a running transaction would.
fn hold(ledger: &Ledger) {
    ledger.appends.lock().leading = true;
}

/// Waits until `n` requests are queued, then lets them go.
fn release_when_queued(ledger: &Ledger, n: usize) {
    wait_until_queued(&ledger.appends, n);
    ledger.appends.pass_lead();
}

fn wait_until_queued<T: Send + 'static>(append: &GroupAppend<T>, n: usize) {
    let since = Instant::now();
    while append.lock().waiting.len() < n {
        assert!(since.elapsed() < HANG, "the callers never queued");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Each request in a thread of its own, held until all have queued.
fn in_one_group(
    ledger: &Ledger,
    requests: Vec<Vec<Observation>>,
) -> Vec<Result<Vec<ObservationReceipt>, LedgerError>> {
    in_one_group_flushed(ledger, requests.into_iter().map(|r| (r, false)).collect())
}

/// [`in_one_group`], each request saying whether it wants a flush.
fn in_one_group_flushed(
    ledger: &Ledger,
    requests: Vec<(Vec<Observation>, bool)>,
) -> Vec<Result<Vec<ObservationReceipt>, LedgerError>> {
    hold(ledger);
    let n = requests.len();
    let callers: Vec<_> = requests
        .into_iter()
        .map(|(request, flushed)| {
            let ledger = ledger.clone();
            std::thread::spawn(move || match flushed {
                true => ledger.put_observations_flushed(&request),
                false => ledger.put_observations(&request),
            })
        })
        .collect();
    release_when_queued(ledger, n);
    callers.into_iter().map(|c| c.join().unwrap()).collect()
}

#[test]
fn a_group_is_flushed_once_before_it_answers_when_any_of_its_callers_asks() {
    let (_dir, ledger) = open();
    let before = ledger.commits.answered();
    let unasked = in_one_group_flushed(
        &ledger,
        vec![(vec![obs("a", 1)], false), (vec![obs("b", 1)], false)],
    );
    assert!(unasked.iter().all(Result::is_ok));
    assert_eq!(ledger.commits.answered(), before, "nobody asked");
    // Whoever leads, the one caller that asks is answered after a flush.
    let asked = in_one_group_flushed(
        &ledger,
        vec![
            (vec![obs("a", 2)], false),
            (vec![obs("b", 2)], true),
            (vec![obs("c", 2)], false),
        ],
    );
    assert!(asked.iter().all(Result::is_ok));
    assert_eq!(ledger.commits.answered(), before + 1);
    assert_eq!(ledger.appends.transactions(), 2);
}

#[test]
fn concurrent_appenders_each_get_their_own_receipts_with_no_gap_or_repeat() {
    let (_dir, ledger) = open();
    let (threads, requests) = (8u64, 40u64);
    let callers: Vec<_> = (0..threads)
        .map(|t| {
            let ledger = ledger.clone();
            std::thread::spawn(move || {
                let mut sent = Vec::new();
                for r in 0..requests {
                    // 1 to 3 observations a request, of the thread's own table.
                    let request: Vec<Observation> = (0..1 + r % 3)
                        .map(|i| obs(&format!("t{t}"), r * 10 + i))
                        .collect();
                    let receipts = ledger.put_observations(&request).unwrap();
                    sent.push((request, receipts));
                }
                sent
            })
        })
        .collect();
    let sent: Vec<_> = callers.into_iter().map(|c| c.join().unwrap()).collect();
    let logged: std::collections::HashMap<u64, Observation> = ledger
        .logged_after(0, 10_000)
        .unwrap()
        .into_iter()
        .collect();
    let mut seqs = BTreeSet::new();
    let mut total = 0;
    for caller in sent {
        for (request, receipts) in caller {
            assert_eq!(receipts.len(), request.len(), "one receipt per observation");
            let mut previous = 0;
            for (o, r) in request.iter().zip(&receipts) {
                assert!(r.new);
                assert_eq!(r.digest, digest(o), "the caller's own observation");
                let seq = r.seq.unwrap();
                assert!(seq > previous, "in the request's order");
                previous = seq;
                assert!(seqs.insert(seq), "sequence {seq} given twice");
                assert_eq!(logged.get(&seq), Some(o), "the log holds it at {seq}");
                total += 1;
            }
        }
    }
    assert_eq!(seqs, (1..=total).collect(), "no gap");
    assert_eq!(ledger.ingest_next().unwrap(), total + 1);
    assert_eq!(ledger.observations().count() as u64, total);
}

#[test]
fn requests_queued_behind_a_running_append_share_one_transaction() {
    let (_dir, ledger) = open();
    let requests: Vec<Vec<Observation>> = (0..16)
        .map(|c| vec![obs("orders", 2 * c), obs("orders", 2 * c + 1)])
        .collect();
    let answers = in_one_group(&ledger, requests.clone());
    assert_eq!(ledger.appends.transactions(), 1);
    let mut seqs: Vec<u64> = Vec::new();
    for (request, answer) in requests.iter().zip(answers) {
        let receipts = answer.unwrap();
        let digests: Vec<_> = receipts.iter().map(|r| r.digest).collect();
        assert_eq!(digests, request.iter().map(digest).collect::<Vec<_>>());
        seqs.extend(receipts.iter().map(|r| r.seq.unwrap()));
    }
    seqs.sort();
    assert_eq!(seqs, (1..=32).collect::<Vec<u64>>());
}

#[test]
fn one_observation_sent_by_two_concurrent_callers_is_stored_once() {
    let (_dir, ledger) = open();
    let same = obs("orders", 1);
    let answers = in_one_group(
        &ledger,
        vec![
            vec![same.clone(), obs("orders", 2)],
            vec![obs("orders", 3), same.clone()],
        ],
    );
    assert_eq!(ledger.appends.transactions(), 1, "they met in one group");
    let receipts: Vec<Vec<ObservationReceipt>> = answers.into_iter().map(Result::unwrap).collect();
    let of_same = [&receipts[0][0], &receipts[1][1]];
    assert!(of_same.iter().all(|r| r.digest == digest(&same)));
    assert_eq!(
        of_same.iter().filter(|r| r.new).count(),
        1,
        "one of the two stored it, the other was told it was there: {of_same:?}"
    );
    assert!(of_same.iter().all(|r| r.new == r.seq.is_some()));
    assert_eq!(ledger.observations().count(), 3);
    let logged = ledger.logged_after(0, 10).unwrap();
    assert_eq!(logged.len(), 3, "logged once: {logged:?}");
    assert_eq!(ledger.ingest_next().unwrap(), 4);
}

#[test]
fn a_failed_transaction_fails_every_caller_it_covered_and_stores_nothing() {
    let (_dir, ledger) = open();
    // The log's next number unreadable: the transaction aborts.
    ledger.meta.insert(keys::INGEST_NEXT, b"garbage").unwrap();
    let requests: Vec<Vec<Observation>> = (0..6).map(|c| vec![obs("orders", c)]).collect();
    let answers = in_one_group(&ledger, requests.clone());
    assert_eq!(ledger.appends.transactions(), 1);
    for answer in answers {
        match answer {
            Err(LedgerError::Corrupt { tree, key, .. }) => {
                assert_eq!(tree, "meta");
                assert_eq!(key, hex::encode(keys::INGEST_NEXT));
            }
            other => panic!("every covered caller fails, got {other:?}"),
        }
    }
    assert_eq!(ledger.observations().count(), 0);
    // Repaired, the retries store them all.
    ledger.meta.remove(keys::INGEST_NEXT).unwrap();
    for request in &requests {
        assert!(ledger.put_observations(request).unwrap()[0].new);
    }
    assert_eq!(ledger.observations().count(), 6);
}

#[test]
fn a_request_larger_than_a_chunk_goes_in_several_transactions() {
    let (_dir, ledger) = open();
    let request: Vec<Observation> = (0..1_200).map(|i| obs("orders", i)).collect();
    let receipts = ledger.put_observations(&request).unwrap();
    assert_eq!(ledger.appends.transactions(), 3, "500, 500 and 200");
    let seqs: Vec<u64> = receipts.iter().map(|r| r.seq.unwrap()).collect();
    assert_eq!(seqs, (1..=1_200).collect::<Vec<u64>>());
}

/// A runtime with one thread: a task that held it while its append waited
/// would keep every other task from even queueing.
fn one_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

async fn queued(ledger: &Ledger, n: usize) {
    let since = Instant::now();
    while ledger.appends.lock().waiting.len() < n {
        assert!(since.elapsed() < HANG, "the tasks never queued");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[test]
fn tasks_wait_for_their_append_without_holding_the_runtime_and_share_one_transaction() {
    let (_dir, ledger) = open();
    hold(&ledger);
    let requests: Vec<Vec<Observation>> = (0..16).map(|c| vec![obs("orders", c)]).collect();
    let answers = one_thread().block_on(async {
        let tasks: Vec<_> = requests
            .iter()
            .cloned()
            .map(|request| {
                let ledger = ledger.clone();
                tokio::spawn(async move { ledger.put_observations_awaited(&request, true).await })
            })
            .collect();
        queued(&ledger, requests.len()).await;
        ledger.appends.pass_lead();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    });
    assert_eq!(
        ledger.appends.transactions(),
        1,
        "one group, led off the runtime"
    );
    let mut seqs = BTreeSet::new();
    for (request, answer) in requests.iter().zip(answers) {
        let receipts = answer.unwrap();
        assert_eq!(receipts[0].digest, digest(&request[0]), "its own receipt");
        assert!(seqs.insert(receipts[0].seq.unwrap()));
    }
    assert_eq!(seqs, (1..=16).collect());
}

#[test]
fn threads_and_tasks_appending_together_each_get_their_own_receipts() {
    let (_dir, ledger) = open();
    hold(&ledger);
    let thread_requests: Vec<Vec<Observation>> = (0..4).map(|c| vec![obs("a", c)]).collect();
    let task_requests: Vec<Vec<Observation>> = (0..4).map(|c| vec![obs("b", c)]).collect();
    let threads: Vec<_> = thread_requests
        .iter()
        .cloned()
        .map(|request| {
            let ledger = ledger.clone();
            std::thread::spawn(move || ledger.put_observations(&request))
        })
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tasks: Vec<_> = task_requests
        .iter()
        .cloned()
        .map(|request| {
            let ledger = ledger.clone();
            runtime.spawn(async move { ledger.put_observations_awaited(&request, false).await })
        })
        .collect();
    release_when_queued(&ledger, 8);
    let mut answered = Vec::new();
    for (request, thread) in thread_requests.iter().zip(threads) {
        answered.push((request, thread.join().unwrap().unwrap()));
    }
    for (request, task) in task_requests.iter().zip(tasks) {
        answered.push((request, runtime.block_on(task).unwrap().unwrap()));
    }
    let mut seqs = BTreeSet::new();
    for (request, receipts) in answered {
        assert_eq!(receipts[0].digest, digest(&request[0]));
        assert!(seqs.insert(receipts[0].seq.unwrap()));
    }
    assert_eq!(seqs, (1..=8).collect());
}

#[test]
fn no_leader_holds_a_ledger_once_its_tasks_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    // One runtime throughout: its blocking pool outlives every handle.
    let runtime = one_thread();
    for round in 0..20u64 {
        let ledger = crate::ledger::reopen(dir.path());
        runtime.block_on(async {
            let tasks: Vec<_> = (0..4)
                .map(|c| {
                    let ledger = ledger.clone();
                    let request = vec![obs("orders", round * 10 + c)];
                    tokio::spawn(
                        async move { ledger.put_observations_awaited(&request, true).await },
                    )
                })
                .collect();
            for task in tasks {
                assert!(task.await.unwrap().unwrap()[0].new);
            }
        });
        // The leader on the blocking pool let go of the database before
        // its last answer: this handle is the last. (sled's own I/O threads
        // may still hold the file a moment: `reopen` waits for them.)
        assert_eq!(std::sync::Arc::strong_count(&ledger.appends), 1);
        drop(ledger);
    }
    let ledger = crate::ledger::reopen(dir.path());
    assert_eq!(ledger.observations().count(), 80);
}

#[test]
fn a_panicking_transaction_fails_its_callers_and_the_next_group_still_runs() {
    let append = std::sync::Arc::new(GroupAppend::new(
        10,
        Box::new(|items: &[u32], _flush| {
            assert!(!items.contains(&0), "a commit that panics on purpose");
            Ok(items.iter().map(|i| Some(u64::from(*i))).collect())
        }),
    ));
    match append.append(vec![0, 1], false) {
        Err(LedgerError::Storage(message)) => assert!(message.contains("panicked"), "{message}"),
        other => panic!("the caller fails, got {other:?}"),
    }
    assert_eq!(append.append(vec![7], false).unwrap(), vec![Some(7)]);
    assert_eq!(append.transactions(), 2);
}

#[test]
fn a_thread_that_led_hands_the_lead_to_a_waiting_task() {
    let (_dir, ledger) = open();
    hold(&ledger);
    // 400 and 200 do not fit one transaction of 500: two groups.
    let first: Vec<Observation> = (0..400).map(|i| obs("a", i)).collect();
    let second: Vec<Observation> = (0..200).map(|i| obs("b", i)).collect();
    let thread = {
        let (ledger, first) = (ledger.clone(), first.clone());
        std::thread::spawn(move || ledger.put_observations(&first))
    };
    wait_until_queued(&ledger.appends, 1);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let task = {
        let (ledger, second) = (ledger.clone(), second.clone());
        runtime.spawn(async move { ledger.put_observations_awaited(&second, false).await })
    };
    // The thread, first in the queue, leads; the task waits behind it.
    release_when_queued(&ledger, 2);
    let answered = thread.join().unwrap().unwrap();
    let task_answered = runtime.block_on(task).unwrap().unwrap();
    assert_eq!(answered.len(), 400);
    assert_eq!(task_answered.len(), 200);
    assert!(task_answered.iter().all(|r| r.new));
    assert_eq!(
        ledger.appends.transactions(),
        2,
        "the thread's, then the task's"
    );
    assert_eq!(ledger.observations().count(), 600);
}

#[test]
fn a_leader_that_never_ran_fails_the_waiting_requests_and_gives_the_lead_up() {
    use crate::ledger::group_append::Leader;
    let append = std::sync::Arc::new(GroupAppend::new(
        10,
        Box::new(|items: &[u32], _flush| Ok(items.iter().map(|i| Some(u64::from(*i))).collect())),
    ));
    append.lock().leading = true;
    let waiting = {
        let append = append.clone();
        std::thread::spawn(move || append.append(vec![1], false))
    };
    wait_until_queued(&append, 1);
    // As a runtime shutting down drops a blocking task it never ran.
    drop(Leader(Some(append.clone())));
    match waiting.join().unwrap() {
        Err(LedgerError::Storage(message)) => assert!(message.contains("no thread"), "{message}"),
        other => panic!("the waiting caller fails, got {other:?}"),
    }
    assert_eq!(append.append(vec![7], false).unwrap(), vec![Some(7)]);
}
