//! Group append: concurrent appends to the ingest log share one sled
//! transaction. A caller queues its observations; whoever leads takes the
//! queue (up to a chunk), commits it in one transaction and answers each
//! caller with its own results, in order. sled serialises its transactions
//! anyway, so one per request made them wait for each other; one per group
//! costs the same for 1 caller and 1/n of it for n.
//!
//! A caller is woken once, with its answer or with the lead, never to find
//! that another's group finished: a thread parks on a slot of its own, a task
//! awaits a channel. A thread that finds nobody leading leads until its own
//! request is answered, then hands the lead to the oldest waiting caller: a
//! thread is woken to lead, a task gets a leader on the blocking pool, which
//! leads until the queue is empty. So an HTTP handler holds no thread while
//! its append waits.
//!
//! A caller may ask for its items to be durable on return: then the leader
//! flushes after the transaction and before answering. A failed (or
//! panicking) transaction or flush fails every caller it covered.

use super::LedgerError;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use tokio::sync::oneshot;

/// What a transaction gave each item: its sequence number when new.
pub(super) type Seqs = Vec<Option<u64>>;

type Outcome = Result<Seqs, LedgerError>;

/// Commits a group's items, flushing when told to; one result per item.
pub(super) type Commit<T> = Box<dyn Fn(&[T], bool) -> Outcome + Send + Sync>;

struct Queue<T> {
    /// Requests not yet taken by a leader, oldest first.
    waiting: VecDeque<Request<T>>,
    /// Whether someone leads (commits, or is about to).
    leading: bool,
    /// Transactions committed (or failed), for the tests and the profile.
    transactions: u64,
}

/// One caller's items, whether it wants them flushed, and where it waits.
struct Request<T> {
    items: Vec<T>,
    flushed: bool,
    reply: Reply,
}

enum Reply {
    /// A thread parked on its own slot.
    Parked(Arc<Slot>),
    /// A task awaiting its answer.
    Awaited(oneshot::Sender<Outcome>),
}

/// What wakes a parked thread.
enum Wake {
    Answered(Outcome),
    Lead,
}

#[derive(Default)]
struct Slot {
    wake: Mutex<Option<Wake>>,
    ready: Condvar,
}

impl Slot {
    fn wake(&self, wake: Wake) {
        *self.wake.lock().unwrap_or_else(PoisonError::into_inner) = Some(wake);
        self.ready.notify_one();
    }

    fn wait(&self) -> Wake {
        let mut slot = self.wake.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(wake) = slot.take() {
                return wake;
            }
            slot = self
                .ready
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn take(&self) -> Option<Wake> {
        self.wake
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// One per tenant's ledger handle (clones share it).
pub(super) struct GroupAppend<T> {
    queue: Mutex<Queue<T>>,
    /// Items to a transaction at most (a caller's own are never split).
    limit: usize,
    commit: Commit<T>,
}

impl<T: Send + 'static> GroupAppend<T> {
    pub(super) fn new(limit: usize, commit: Commit<T>) -> Self {
        GroupAppend {
            queue: Mutex::new(Queue {
                waiting: VecDeque::new(),
                leading: false,
                transactions: 0,
            }),
            limit,
            commit,
        }
    }

    /// Commits `items` (at most the limit) with those of concurrent callers
    /// and returns this caller's results, flushed first when `flushed`.
    pub(super) fn append(self: &Arc<Self>, items: Vec<T>, flushed: bool) -> Outcome {
        let slot = Arc::new(Slot::default());
        let reply = Reply::Parked(slot.clone());
        if !self.queue_request(items, flushed, reply) {
            match slot.wait() {
                Wake::Answered(outcome) => return outcome,
                Wake::Lead => {}
            }
        }
        // Leading: this caller's request is queued until a group takes it,
        // so the queue is never empty before it is answered.
        loop {
            self.commit_group().answer();
            if let Some(Wake::Answered(outcome)) = slot.take() {
                self.pass_lead();
                return outcome;
            }
        }
    }

    /// [`GroupAppend::append`] for a task: no thread waits for the answer.
    pub(super) async fn append_awaited(self: &Arc<Self>, items: Vec<T>, flushed: bool) -> Outcome {
        let (reply, answer) = oneshot::channel();
        if self.queue_request(items, flushed, Reply::Awaited(reply)) {
            self.spawn_leader();
        }
        answer.await.unwrap_or_else(|_| {
            Err(LedgerError::Storage(
                "the append's leader stopped before answering".into(),
            ))
        })
    }

    /// Queues a request; true when nobody led, and now the caller does.
    fn queue_request(&self, items: Vec<T>, flushed: bool, reply: Reply) -> bool {
        let mut q = self.lock();
        q.waiting.push_back(Request {
            items,
            flushed,
            reply,
        });
        !std::mem::replace(&mut q.leading, true)
    }

    /// Takes the oldest requests (up to the limit) and commits them.
    fn commit_group(&self) -> Answers {
        let mut group = Vec::new();
        let mut count = 0;
        {
            let mut q = self.lock();
            while let Some(request) = q.waiting.front() {
                if !group.is_empty() && count + request.items.len() > self.limit {
                    break;
                }
                count += request.items.len();
                group.extend(q.waiting.pop_front());
            }
        }
        let flush = group.iter().any(|r| r.flushed);
        let mut replies = Vec::with_capacity(group.len());
        let mut all = Vec::with_capacity(count);
        for request in group {
            replies.push((request.reply, request.items.len()));
            all.extend(request.items);
        }
        // A panic fails the group's callers rather than leave them waiting.
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.commit)(&all, flush)))
                .unwrap_or_else(|_| {
                    Err(LedgerError::Storage(
                        "the append transaction panicked".into(),
                    ))
                });
        self.lock().transactions += 1;
        Answers { replies, outcome }
    }

    /// Gives the lead up: to the oldest waiting caller, or to nobody.
    pub(super) fn pass_lead(self: &Arc<Self>) {
        let mut q = self.lock();
        match q.waiting.front() {
            None => q.leading = false,
            Some(Request {
                reply: Reply::Parked(slot),
                ..
            }) => slot.wake(Wake::Lead),
            Some(_) => {
                drop(q);
                self.spawn_leader();
            }
        }
    }

    /// A leader for waiting tasks, on the blocking pool when there is one.
    /// Should it never run (a runtime shutting down drops it, or no thread
    /// can be had), the requests waiting fail rather than wait for ever.
    fn spawn_leader(self: &Arc<Self>) {
        let leader = Leader(Some(self.clone()));
        let lead = move || leader.lead();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            // tokio panics when it cannot start a thread; `Leader`'s drop
            // has failed the requests by then.
            let spawn = std::panic::AssertUnwindSafe(|| drop(runtime.spawn_blocking(lead)));
            drop(std::panic::catch_unwind(spawn));
            return;
        }
        // A failed spawn drops `lead`, and `Leader` with it.
        drop(
            std::thread::Builder::new()
                .name("dataslo-append".into())
                .spawn(lead),
        );
    }

    /// Fails every waiting request and gives the lead up.
    fn abandon(&self, why: &str) {
        let mut q = self.lock();
        let waiting: Vec<_> = q.waiting.drain(..).collect();
        q.leading = false;
        drop(q);
        let error = LedgerError::Storage(why.into());
        for request in waiting {
            request.reply.send(Err(error.clone()));
        }
    }

    fn lead_until_empty(self: Arc<Self>) {
        loop {
            let answers = self.commit_group();
            let mut q = self.lock();
            if q.waiting.is_empty() {
                q.leading = false;
                drop(q);
                // Let go of the ledger before the last answer: a caller that
                // closes it next leaves no handle of ours open (sled's own
                // I/O threads may hold the file a moment longer).
                drop(self);
                answers.answer();
                return;
            }
            drop(q);
            answers.answer();
        }
    }

    /// Transactions run so far.
    #[cfg(test)]
    pub(super) fn transactions(&self) -> u64 {
        self.lock().transactions
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue<T>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A spawned leader: leads until the queue is empty, or, dropped before it
/// ran, fails the queue.
struct Leader<T: Send + 'static>(Option<Arc<GroupAppend<T>>>);

impl<T: Send + 'static> Leader<T> {
    fn lead(mut self) {
        if let Some(append) = self.0.take() {
            append.lead_until_empty();
        }
    }
}

impl<T: Send + 'static> Drop for Leader<T> {
    fn drop(&mut self) {
        if let Some(append) = self.0.take() {
            append.abandon("no thread could be had to append with");
        }
    }
}

/// A committed group's callers and its outcome.
struct Answers {
    replies: Vec<(Reply, usize)>,
    outcome: Outcome,
}

impl Answers {
    /// Each caller its slice of the results, or the error.
    fn answer(self) {
        match self.outcome {
            Ok(seqs) => {
                let mut seqs = seqs.into_iter();
                for (reply, size) in self.replies {
                    reply.send(Ok(seqs.by_ref().take(size).collect()));
                }
            }
            Err(e) => {
                for (reply, _) in self.replies {
                    reply.send(Err(e.clone()));
                }
            }
        }
    }
}

impl Reply {
    fn send(self, outcome: Outcome) {
        match self {
            Reply::Parked(slot) => slot.wake(Wake::Answered(outcome)),
            // A task that stopped waiting (its client left) needs no answer:
            // what it sent is stored all the same, and a retry finds it.
            Reply::Awaited(task) => drop(task.send(outcome)),
        }
    }
}

#[cfg(test)]
#[path = "group_append_tests.rs"]
mod tests;
