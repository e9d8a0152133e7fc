//! The pool and its fair queue.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send>;

/// How far a tenant may run ahead of the least charged tenant with jobs
/// queued (plus the jobs it has running, charged when they end). Within it,
/// tenants are served in the order their work arrived, so one caller's
/// batch runs to its end while the others wait their turn. Served in strict
/// turns instead, every caller's batch ended at the same moment: the ledger's
/// transactions that follow (sled runs one at a time in the whole process)
/// then queued up while the workers idled (BENCHMARKS.md, round two's fourth
/// sitting).
const QUANTUM: Duration = Duration::from_millis(10);

#[derive(Default)]
struct TenantQueue {
    jobs: VecDeque<Job>,
    /// When its queue last went from idle to busy (a count, not a time).
    arrived: u64,
    /// Wall time charged so far (the tenant's virtual time).
    charged: Duration,
    /// Jobs of this tenant running now.
    running: usize,
}

#[derive(Default)]
struct State {
    tenants: BTreeMap<String, TenantQueue>,
    /// Idle queues turned busy so far.
    arrivals: u64,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
    /// [`QUANTUM`], but for the tests.
    quantum: Duration,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A fixed pool of workers serving tenants' jobs fairly.
pub struct Executor {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("workers", &self.workers.len())
            .finish()
    }
}

impl Executor {
    /// A pool of `workers` threads (at least one).
    pub fn new(workers: usize) -> std::io::Result<Self> {
        Executor::with_quantum(workers, QUANTUM)
    }

    fn with_quantum(workers: usize, quantum: Duration) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            work: Condvar::new(),
            quantum,
        });
        let workers = (0..workers.max(1))
            .map(|i| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("dataslo-eval-{i}"))
                    .spawn(move || work(&shared))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Executor { shared, workers })
    }

    /// A pool sized by the `workers` setting: `workers` threads, or one per
    /// core when it is 0.
    pub fn with_workers(workers: usize) -> std::io::Result<Self> {
        match workers {
            0 => Executor::new(std::thread::available_parallelism().map_or(1, |n| n.get())),
            n => Executor::new(n),
        }
    }

    /// Jobs of `tenant` queued, not yet taken by a worker.
    #[cfg(test)]
    fn queued(&self, tenant: &str) -> usize {
        self.shared
            .lock()
            .tenants
            .get(tenant)
            .map_or(0, |q| q.jobs.len())
    }

    /// How many workers it has.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Runs `jobs` for `tenant` on the pool and returns their results in
    /// order, once all have run. Call it from outside the pool.
    pub fn run_all<T, F>(&self, tenant: &str, jobs: Vec<F>) -> Vec<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let n = jobs.len();
        let gather = Arc::new(Gather {
            state: Mutex::new(Gathered {
                results: (0..n).map(|_| None).collect(),
                missing: n,
            }),
            all_in: Condvar::new(),
        });
        {
            let mut state = self.shared.lock();
            let floor = least_charged_busy(&state);
            let State {
                tenants, arrivals, ..
            } = &mut *state;
            let queue = tenants.entry(tenant.to_string()).or_default();
            if queue.jobs.is_empty() && queue.running == 0 {
                queue.charged = queue.charged.max(floor);
                *arrivals += 1;
                queue.arrived = *arrivals;
            }
            for (index, job) in jobs.into_iter().enumerate() {
                let slot = Slot {
                    gather: gather.clone(),
                    index,
                    value: None,
                };
                queue.jobs.push_back(Box::new(move || slot.fill(job())));
            }
        }
        self.shared.work.notify_all();
        let mut gathered = gather.lock();
        while gathered.missing > 0 {
            gathered = gather
                .all_in
                .wait(gathered)
                .unwrap_or_else(PoisonError::into_inner);
        }
        // A job that panicked (or was dropped unrun) left its result empty.
        std::mem::take(&mut gathered.results)
            .into_iter()
            .map(|v| v.unwrap_or_else(|| panic!("an evaluation job of tenant {tenant} panicked")))
            .collect()
    }
}

/// Where one `run_all`'s jobs leave their results. The caller is woken once,
/// by the last job, not once per job: on two cores those wake-ups were a
/// context switch per evaluation.
struct Gather<T> {
    state: Mutex<Gathered<T>>,
    all_in: Condvar,
}

struct Gathered<T> {
    results: Vec<Option<T>>,
    missing: usize,
}

impl<T> Gather<T> {
    fn lock(&self) -> MutexGuard<'_, Gathered<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One job's place in its [`Gather`], owned by the job. Filled in when the
/// job returns; if it panics or is dropped unrun, it reports empty, so the
/// caller is never left waiting.
struct Slot<T> {
    gather: Arc<Gather<T>>,
    index: usize,
    value: Option<T>,
}

impl<T> Slot<T> {
    fn fill(mut self, value: T) {
        self.value = Some(value);
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        let mut gathered = self.gather.lock();
        gathered.results[self.index] = self.value.take();
        gathered.missing -= 1;
        if gathered.missing == 0 {
            self.gather.all_in.notify_one();
        }
    }
}

/// The least wall time charged to a tenant with work queued or running.
fn least_charged_busy(state: &State) -> Duration {
    state
        .tenants
        .values()
        .filter(|q| !q.jobs.is_empty() || q.running > 0)
        .map(|q| q.charged)
        .min()
        .unwrap_or_default()
}

/// The tenant a free worker serves: of those with jobs queued and charged
/// within `quantum` of the least, the one whose work arrived first.
fn next_tenant(state: &State, quantum: Duration) -> Option<String> {
    let waiting = || state.tenants.iter().filter(|(_, q)| !q.jobs.is_empty());
    let least = waiting().map(|(_, q)| q.charged).min()?;
    waiting()
        .min_by_key(|(_, q)| (q.charged > least + quantum, q.arrived, q.charged))
        .map(|(name, _)| name.clone())
}

fn work(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if state.shutdown {
            return;
        }
        let next = next_tenant(&state, shared.quantum);
        let Some(tenant) = next else {
            state = shared
                .work
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            continue;
        };
        let Some(queue) = state.tenants.get_mut(&tenant) else {
            continue;
        };
        let Some(job) = queue.jobs.pop_front() else {
            continue;
        };
        queue.running += 1;
        drop(state);
        let started = Instant::now();
        // A panicking job must not take the worker with it; its caller sees
        // the missing result.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        let took = started.elapsed();
        state = shared.lock();
        if let Some(queue) = state.tenants.get_mut(&tenant) {
            queue.running -= 1;
            queue.charged += took;
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.work.notify_all();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_workers_setting_of_zero_is_one_worker_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(Executor::with_workers(0).unwrap().workers(), cores);
        assert_eq!(Executor::with_workers(3).unwrap().workers(), 3);
    }

    #[test]
    fn results_come_back_in_order_from_every_worker() {
        let pool = Executor::new(3).unwrap();
        let jobs: Vec<_> = (0..100).map(|i| move || i * 2).collect();
        assert_eq!(
            pool.run_all("t", jobs),
            (0..100).map(|i| i * 2).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_tenant_of_quick_jobs_is_not_stuck_behind_a_slow_one() {
        let pool = Arc::new(Executor::new(2).unwrap());
        let finished = Arc::new(AtomicUsize::new(0));
        let slow_done = Arc::new(AtomicUsize::new(0));
        let slow = {
            let (pool, finished, slow_done) = (pool.clone(), finished.clone(), slow_done.clone());
            std::thread::spawn(move || {
                let jobs: Vec<_> = (0..20)
                    .map(|_| {
                        let (finished, slow_done) = (finished.clone(), slow_done.clone());
                        move || {
                            std::thread::sleep(Duration::from_millis(30));
                            finished.fetch_add(1, Ordering::SeqCst);
                            slow_done.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                    .collect();
                pool.run_all("slow", jobs);
            })
        };
        // Let the slow tenant's queue fill and its first jobs start.
        while finished.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let jobs: Vec<_> = (0..40).map(|i| move || i).collect();
        pool.run_all("quick", jobs);
        let slow_when_quick_finished = slow_done.load(Ordering::SeqCst);
        slow.join().unwrap();
        assert!(
            slow_when_quick_finished < 10,
            "the quick tenant waited for {slow_when_quick_finished} of 20 slow jobs"
        );
    }

    #[test]
    fn batches_within_the_quantum_run_to_their_end_in_the_order_they_arrived() {
        // A quantum no preemption of the test's threads can use up.
        let pool = Arc::new(Executor::with_quantum(1, Duration::from_secs(3600)).unwrap());
        // The one worker is held while both batches queue.
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(AtomicUsize::new(0));
        let holder = {
            let (pool, held) = (pool.clone(), held.clone());
            std::thread::spawn(move || {
                let hold = move || {
                    held.store(1, Ordering::SeqCst);
                    let _ = gate.recv();
                };
                pool.run_all("holder", vec![hold]);
            })
        };
        while held.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let order = Arc::new(Mutex::new(Vec::new()));
        let batch = |tenant: &'static str| {
            let (queue, order) = (pool.clone(), order.clone());
            let caller = std::thread::spawn(move || {
                let jobs: Vec<_> = (0..20)
                    .map(|i| {
                        let order = order.clone();
                        move || order.lock().unwrap().push((tenant, i))
                    })
                    .collect();
                queue.run_all(tenant, jobs);
            });
            while pool.queued(tenant) < 20 {
                std::thread::sleep(Duration::from_millis(1));
            }
            caller
        };
        let first = batch("first");
        let second = batch("second");
        release.send(()).unwrap();
        for caller in [holder, first, second] {
            caller.join().unwrap();
        }
        let order = order.lock().unwrap().clone();
        let expected: Vec<_> = ["first", "second"]
            .into_iter()
            .flat_map(|tenant| (0..20).map(move |i| (tenant, i)))
            .collect();
        assert_eq!(order, expected);
    }

    #[test]
    fn a_panicking_job_is_reported_and_the_pool_goes_on() {
        let pool = Arc::new(Executor::new(1).unwrap());
        let p = pool.clone();
        let caught = std::thread::spawn(move || {
            let boom = || -> u8 { panic!("boom") };
            p.run_all("t", vec![boom])
        })
        .join();
        assert!(caught.is_err());
        assert_eq!(pool.run_all("t", vec![|| 7]), vec![7]);
    }
}
