//! The allocator of a guest built without WASI (`wasm32-unknown-unknown`).
//!
//! std's allocator on that target grows linear memory on its first
//! allocation, ignoring the free tail of the initial memory (between
//! `__heap_base` and the end of the data the module starts with). In a pooled
//! slot a grown memory costs two `mprotect`s per fresh instance (up on the
//! grow, down when the slot is reused) and their TLB shootdowns: more than the
//! whole call. This allocator serves from that tail first, as wasi-libc's
//! malloc does under wasip2, and hands everything else to std's.
//!
//! The tail is a bump region. Blocks that outlive the call (the parsed config
//! a reused instance keeps) are made inside [`keep`] and form one run; when
//! the call's last other block is freed, the region resets to just above that
//! run (to the start once the run is freed too), so a reused instance serves
//! every call from the same few bytes. A fresh instance touches the pages it
//! would touch without the run. A config that changes is kept above that
//! call's blocks, so each change moves the run up the tail (a session serves
//! one SLO, so changes are rare). Whatever does not fit goes to std's
//! allocator, which grows memory once and reuses it after. Single threaded:
//! this target has no threads.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

unsafe extern "C" {
    /// Where the linker placed the end of the static data and stack.
    static __heap_base: u8;
}

/// Serves from the initial memory's free tail, then from std's allocator.
pub struct Heap {
    /// The next free byte of the tail, and its end; 0 until first used.
    next: Cell<usize>,
    end: Cell<usize>,
    /// Blocks of the call not yet freed.
    live: Cell<usize>,
    /// The kept run `[kept_low, kept_high)` and its blocks not yet freed.
    kept_low: Cell<usize>,
    kept_high: Cell<usize>,
    kept_live: Cell<usize>,
    /// Inside [`keep`].
    keeping: Cell<bool>,
}

// SAFETY: wasm32-unknown-unknown guests are single threaded.
unsafe impl Sync for Heap {}

impl Heap {
    /// An allocator that has not looked at memory yet.
    pub const fn new() -> Self {
        Heap {
            next: Cell::new(0),
            end: Cell::new(0),
            live: Cell::new(0),
            kept_low: Cell::new(0),
            kept_high: Cell::new(0),
            kept_live: Cell::new(0),
            keeping: Cell::new(false),
        }
    }

    fn start() -> usize {
        // Only the symbol's address is taken.
        core::ptr::addr_of!(__heap_base) as usize
    }

    fn in_tail(&self, ptr: *mut u8) -> bool {
        let at = ptr as usize;
        at >= Self::start() && at < self.end.get()
    }

    fn in_kept(&self, ptr: *mut u8) -> bool {
        let at = ptr as usize;
        at >= self.kept_low.get() && at < self.kept_high.get()
    }

    /// Where the tail resets to once the call's blocks are freed.
    fn reset(&self) {
        self.next.set(match self.kept_live.get() {
            0 => Self::start(),
            _ => self.kept_high.get(),
        });
    }

    /// A block from the tail, if it fits. A kept block must extend the kept
    /// run, so that no block of the call lies inside it.
    fn bump(&self, layout: Layout) -> Option<usize> {
        let at = self.next.get().next_multiple_of(layout.align());
        let stop = at.checked_add(layout.size())?;
        if stop > self.end.get() {
            return None;
        }
        if !self.keeping.get() {
            self.live.set(self.live.get() + 1);
        } else if self.kept_live.get() == 0 {
            self.kept_low.set(at);
            self.kept_live.set(1);
        } else if self.kept_high.get() == self.next.get() {
            self.kept_live.set(self.kept_live.get() + 1);
        } else {
            return None;
        }
        if self.keeping.get() {
            self.kept_high.set(stop);
        }
        self.next.set(stop);
        Some(at)
    }
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `f` with its allocations kept apart from the call's: for what
/// outlives the call, so that the call's blocks can reset under it.
pub fn keep<R>(f: impl FnOnce() -> R) -> R {
    let outer = crate::HEAP.keeping.replace(true);
    let result = f();
    crate::HEAP.keeping.set(outer);
    result
}

unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.end.get() == 0 {
            // The initial memory's end; std's allocator grows beyond it.
            self.end.set(core::arch::wasm32::memory_size(0) * 65536);
            self.next.set(Self::start());
        }
        match self.bump(layout) {
            Some(at) => at as *mut u8,
            // SAFETY: the caller's layout is passed on unchanged.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !self.in_tail(ptr) {
            // SAFETY: `ptr` came from `System.alloc` with this layout.
            return unsafe { System.dealloc(ptr, layout) };
        }
        let kept = self.in_kept(ptr);
        let live = match kept {
            true => &self.kept_live,
            false => &self.live,
        };
        live.set(live.get().saturating_sub(1));
        if live.get() > 0 {
            return;
        }
        if kept {
            self.kept_low.set(0);
            self.kept_high.set(0);
        }
        if self.live.get() == 0 {
            self.reset();
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The call's last block grows or shrinks in place (a string being
        // formatted, a vector being filled).
        let at = ptr as usize;
        if self.in_tail(ptr)
            && !self.in_kept(ptr)
            && !self.keeping.get()
            && at + layout.size() == self.next.get()
            && at
                .checked_add(new_size)
                .is_some_and(|stop| stop <= self.end.get())
        {
            self.next.set(at + new_size);
            return ptr;
        }
        // SAFETY: as `GlobalAlloc::realloc`'s own default: a new block, the
        // bytes copied, the old block freed.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let new = self.alloc(new_layout);
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}
