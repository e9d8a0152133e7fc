//! Group append: concurrent appends to the ingest log share one sled
//! transaction. A caller queues its observations; if no transaction runs it
//! leads: it takes the queue (up to a chunk), commits it in one transaction
//! and hands each caller its own results, in order. Callers that arrived
//! meanwhile are the next group, led by one of them. sled serialises its
//! transactions anyway, so one per request made them wait for each other;
//! one per group costs the same for 1 caller and 1/n of it for n.
//!
//! A caller may ask for its items to be durable on return: then the leader
//! flushes ([`super::Ledger::flush`], itself shared) after the transaction
//! and before handing out, so each such caller is woken once. A failed
//! transaction or flush fails every caller it covered, with its error.

use super::LedgerError;
use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, PoisonError};

/// What a transaction gave each item: its sequence number when new.
pub(super) type Seqs = Vec<Option<u64>>;

struct Queue<T> {
    /// Requests not yet taken by a leader, oldest first.
    waiting: VecDeque<Request<T>>,
    /// Results of taken requests, until their caller picks them up.
    done: HashMap<u64, Result<Seqs, LedgerError>>,
    /// Whether a leader is committing a group now.
    leading: bool,
    next_ticket: u64,
    /// Transactions committed (or failed), for the tests and the profile.
    transactions: u64,
}

/// One caller's items, and whether it wants them flushed before it returns.
struct Request<T> {
    ticket: u64,
    items: Vec<T>,
    flushed: bool,
}

/// One per tenant's ledger handle (clones share it).
pub(super) struct GroupAppend<T> {
    queue: Mutex<Queue<T>>,
    finished: Condvar,
}

impl<T> Default for GroupAppend<T> {
    fn default() -> Self {
        GroupAppend {
            queue: Mutex::new(Queue {
                waiting: VecDeque::new(),
                done: HashMap::new(),
                leading: false,
                next_ticket: 0,
                transactions: 0,
            }),
            finished: Condvar::new(),
        }
    }
}

impl<T> GroupAppend<T> {
    /// Commits `items` with those of concurrent callers, at most `limit`
    /// items to a transaction (a caller's own are never split: pass at most
    /// `limit`), through `commit`, which returns one result per item and
    /// flushes when told to: when this caller or another of the group asked
    /// for `flushed`.
    pub(super) fn append(
        &self,
        items: Vec<T>,
        limit: usize,
        flushed: bool,
        commit: impl Fn(&[T], bool) -> Result<Seqs, LedgerError>,
    ) -> Result<Seqs, LedgerError> {
        let mut q = self.lock();
        let ticket = q.next_ticket;
        q.next_ticket += 1;
        q.waiting.push_back(Request {
            ticket,
            items,
            flushed,
        });
        loop {
            if let Some(result) = q.done.remove(&ticket) {
                return result;
            }
            if q.leading {
                q = self
                    .finished
                    .wait(q)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Lead one group: the oldest requests, up to the limit (the
            // caller's own may be in a later group; then it leads again).
            q.leading = true;
            let mut group = Vec::new();
            let mut count = 0;
            while let Some(request) = q.waiting.front() {
                if !group.is_empty() && count + request.items.len() > limit {
                    break;
                }
                count += request.items.len();
                group.extend(q.waiting.pop_front());
            }
            drop(q);
            let flush = group.iter().any(|r| r.flushed);
            let (tickets, sizes, all) = flatten(group);
            let unwinding = Unwinding {
                append: self,
                tickets: &tickets,
            };
            let result = commit(&all, flush);
            std::mem::forget(unwinding);
            drop(all);
            q = self.lock();
            q.transactions += 1;
            hand_out(&mut q.done, &tickets, &sizes, result);
            q.leading = false;
            self.finished.notify_all();
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

/// Should `commit` panic, the callers of its group fail rather than wait
/// for a leader that is gone.
struct Unwinding<'a, T> {
    append: &'a GroupAppend<T>,
    tickets: &'a [u64],
}

impl<T> Drop for Unwinding<'_, T> {
    fn drop(&mut self) {
        let mut q = self.append.lock();
        for ticket in self.tickets {
            let error = LedgerError::Storage("the append transaction panicked".into());
            q.done.insert(*ticket, Err(error));
        }
        q.leading = false;
        self.append.finished.notify_all();
    }
}

/// The group's tickets, each request's size and all items in order.
fn flatten<T>(group: Vec<Request<T>>) -> (Vec<u64>, Vec<usize>, Vec<T>) {
    let mut tickets = Vec::with_capacity(group.len());
    let mut sizes = Vec::with_capacity(group.len());
    let mut all = Vec::with_capacity(group.iter().map(|r| r.items.len()).sum());
    for request in group {
        tickets.push(request.ticket);
        sizes.push(request.items.len());
        all.extend(request.items);
    }
    (tickets, sizes, all)
}

/// Each caller's slice of the results, or the error for every one.
fn hand_out(
    done: &mut HashMap<u64, Result<Seqs, LedgerError>>,
    tickets: &[u64],
    sizes: &[usize],
    result: Result<Seqs, LedgerError>,
) {
    match result {
        Ok(seqs) => {
            let mut seqs = seqs.into_iter();
            for (ticket, size) in tickets.iter().zip(sizes) {
                done.insert(*ticket, Ok(seqs.by_ref().take(*size).collect()));
            }
        }
        Err(e) => {
            for ticket in tickets {
                done.insert(*ticket, Err(e.clone()));
            }
        }
    }
}

#[cfg(test)]
#[path = "group_append_tests.rs"]
mod tests;
