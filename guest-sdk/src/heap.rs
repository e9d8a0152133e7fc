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
//! The tail is a bump region: it is reset when its last allocation is freed,
//! and once full (a reused instance that keeps its parsed config, a large
//! observation) the rest goes to std's allocator, which grows memory once and
//! reuses it after. Single threaded: this target has no threads.

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
    /// Allocations from the tail not yet freed.
    live: Cell<usize>,
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
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.end.get() == 0 {
            // The initial memory's end; std's allocator grows beyond it.
            self.end.set(core::arch::wasm32::memory_size(0) * 65536);
            self.next.set(Self::start());
        }
        let at = self.next.get().next_multiple_of(layout.align());
        match at.checked_add(layout.size()) {
            Some(stop) if stop <= self.end.get() => {
                self.next.set(stop);
                self.live.set(self.live.get() + 1);
                at as *mut u8
            }
            // SAFETY: the caller's layout is passed on unchanged.
            _ => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.in_tail(ptr) {
            let live = self.live.get().saturating_sub(1);
            self.live.set(live);
            if live == 0 {
                self.next.set(Self::start());
            }
        } else {
            // SAFETY: `ptr` came from `System.alloc` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The tail's last allocation grows or shrinks in place (a string
        // being formatted, a vector being filled).
        let at = ptr as usize;
        if self.in_tail(ptr)
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
