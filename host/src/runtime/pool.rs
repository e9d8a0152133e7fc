//! A counting semaphore in front of instantiation: with the pooling allocator
//! a full pool makes calls wait for a slot instead of failing.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Hands out at most `capacity` permits at once.
pub struct Slots {
    count: Mutex<Count>,
    freed: Condvar,
}

struct Count {
    free: usize,
    /// Callers waiting: a release wakes one only if there is one, because a
    /// notify is a syscall and most releases have nobody to wake.
    waiting: usize,
}

/// One slot, held for a call's (or a session's) duration; released when
/// dropped, on every path (errors, traps and panics included).
pub struct Permit {
    slots: Arc<Slots>,
}

impl Slots {
    pub fn new(capacity: usize) -> Self {
        Slots {
            count: Mutex::new(Count {
                free: capacity,
                waiting: 0,
            }),
            freed: Condvar::new(),
        }
    }

    // The counter stays consistent even if a holder panicked: only this
    // module touches it and never panics while holding the lock.
    fn lock(&self) -> MutexGuard<'_, Count> {
        self.count.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until a slot is free and takes it.
    pub fn acquire(self: &Arc<Self>) -> Permit {
        let mut count = self.lock();
        while count.free == 0 {
            count.waiting += 1;
            count = self.freed.wait(count).unwrap_or_else(|p| p.into_inner());
            count.waiting -= 1;
        }
        count.free -= 1;
        Permit {
            slots: self.clone(),
        }
    }

    /// Free slots now.
    pub fn available(&self) -> usize {
        self.lock().free
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut count = self.slots.lock();
        count.free += 1;
        if count.waiting > 0 {
            self.slots.freed.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn permits_are_returned_even_when_the_holder_panics() {
        let slots = Arc::new(Slots::new(1));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _permit = slots.acquire();
            panic!("a trap in disguise");
        }));
        assert!(result.is_err());
        assert_eq!(slots.available(), 1);
    }

    #[test]
    fn waiters_queue_and_never_exceed_the_capacity() {
        let slots = Arc::new(Slots::new(2));
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..50 {
                        let _permit = slots.acquire();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert!(most.load(Ordering::SeqCst) <= 2);
        assert_eq!(slots.available(), 2);
    }
}
