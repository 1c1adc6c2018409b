//! The lock-free storage of a bounded FIFO `Queue`: a fixed ring of slots, each carrying a
//! stamp that says whose turn it is.
//!
//! A position is a lap number and an index, packed as `lap * LAP + index` with `LAP` a power of
//! two above `capacity` (so `index` never reaches it). Slot `i` starts stamped `i`, the first
//! lap's position for writing. A producer owns a slot once its stamp equals the tail position
//! it claimed; it writes the value and stamps the slot `position + 1`, which is the mark a
//! consumer looks for. The consumer takes the value and stamps the slot with the same index
//! one lap later: the next producer's turn. Producers and consumers meet only on the slot they
//! hand over and on their own end (head or tail); there is no shared count to move between
//! cores.
//!
//! A closed bit, which positions never use, retires the ring: set in the tail, it makes every
//! later push fail; set in the head, every later pop. `close_and_drain` sets both and carries
//! the values away, waiting for pushes that had already claimed a slot. The queue does that
//! when it moves its items to the locked core (`shutdown`, `set_maxsize`).
//!
//! Ring positions wrap around `usize` (`wrapping_add`); after `usize::MAX / LAP` laps the lap
//! number starts again from zero, which is harmless because only equality of stamps is
//! compared.

use super::rt::{AtomicUsize, Backoff, CachePadded, Ordering, UnsafeCell, seqcst_pair, thread};
use std::mem::MaybeUninit;

struct Slot<T> {
    /// See the module docs: `position` when the slot is free for the producer of
    /// `position`, `position + 1` once that producer has published its value.
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// What [`Ring::try_pop`] found.
pub(super) enum Pop<T> {
    Item(T),
    /// Nothing published (momentarily, for a ring still open).
    Empty,
    /// Nothing published and the ring is closed: nothing ever will be.
    Closed,
    /// A producer has claimed the head's position and not yet published its value.
    Pending,
}

/// Why [`Ring::try_push`] gave its value back.
pub(super) enum Refused<T> {
    Full(T),
    Closed(T),
    /// The tail's slot is still being read by a consumer.
    Pending(T),
}

pub(super) struct Ring<T> {
    /// The next position to take from.
    head: CachePadded<AtomicUsize>,
    /// The next position to fill, with the [`Ring::closed_bit`] once closed.
    tail: CachePadded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    /// `capacity.next_power_of_two()` strictly above the largest index: also the closed bit.
    closed_bit: usize,
    /// One lap: `2 * closed_bit`, so that lap numbers never touch the closed bit.
    lap: usize,
}

// SAFETY: a `Ring` hands each value from exactly one producer to exactly one consumer (a slot's
// stamp gives it to one thread at a time, see `try_push`/`try_pop`), so sharing the ring moves
// `T`s between threads, which `T: Send` allows; no `&T` is ever shared.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// A ring of `capacity` slots (`capacity >= 1`).
    pub(super) fn new(capacity: usize) -> Ring<T> {
        debug_assert!(capacity >= 1);
        let closed_bit = (capacity + 1).next_power_of_two();
        let slots = (0..capacity)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ring {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            slots,
            closed_bit,
            lap: closed_bit * 2,
        }
    }

    #[inline]
    pub(super) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The position after `pos`: the next index, or index 0 of the next lap.
    #[inline]
    fn next(&self, pos: usize) -> usize {
        let index = pos & (self.closed_bit - 1);
        if index + 1 < self.slots.len() {
            pos + 1
        } else {
            (pos & !(self.lap - 1)).wrapping_add(self.lap)
        }
    }

    #[inline]
    fn slot(&self, pos: usize) -> &Slot<T> {
        &self.slots[pos & (self.closed_bit - 1)]
    }

    /// Stores `value` at the tail unless the ring is full or closed.
    ///
    /// `Pending` (the value comes back) when the tail's slot is still being read by the
    /// consumer of the previous lap: after a short spin, the caller decides whether to wait
    /// ([`push_settled`](Self::push_settled)). `Full` is decided from a `SeqCst` read of the
    /// head, which pairs with the consumers' `SeqCst` CAS of it (see `rt::seqcst_pair`).
    pub(super) fn try_push(&self, value: T) -> Result<(), Refused<T>> {
        let backoff = Backoff::new();
        let mut tail = self.tail.load(Ordering::Acquire);
        loop {
            if tail & self.closed_bit != 0 {
                return Err(Refused::Closed(value));
            }
            let slot = self.slot(tail);
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp == tail {
                // The slot is free for this position: claim the position.
                match self.tail.compare_exchange(
                    tail,
                    self.next(tail),
                    Ordering::SeqCst,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {
                        // The CAS is the store of the producer's store-then-load pair with a
                        // sleeping consumer (the load: the caller's read of the sleepers'
                        // count); the stamp store below is not part of it (see `pop_settled`).
                        seqcst_pair();
                        // SAFETY: the successful CAS made this thread the only producer of
                        // `tail`, and the stamp (read after the previous lap's consumer
                        // stored it, Release) says that consumer is done with the slot; no
                        // consumer touches it until the store below publishes it.
                        slot.value
                            .with_mut(|p| unsafe { p.write(MaybeUninit::new(value)) });
                        slot.stamp.store(tail.wrapping_add(1), Ordering::Release);
                        return Ok(());
                    }
                    Err(current) => tail = current,
                }
            } else if (tail.wrapping_sub(stamp) as isize) > 0 {
                // The slot still holds (or is still being given) the previous lap's value:
                // full, unless that value's consumer has claimed it and is reading it.
                let head = self.head.load(Ordering::SeqCst);
                if head.wrapping_add(self.lap) == tail {
                    return Err(Refused::Full(value));
                }
                if backoff.is_completed() {
                    return Err(Refused::Pending(value));
                }
                backoff.snooze();
                tail = self.tail.load(Ordering::Acquire);
            } else {
                // The stamp is ahead: another producer has taken `tail` since it was read.
                backoff.spin();
                tail = self.tail.load(Ordering::Acquire);
            }
        }
    }

    /// Takes the value at the head if one is published.
    ///
    /// `Pending` when a producer has claimed the head's position but not published its value
    /// yet (after a short spin; see [`pop_settled`](Self::pop_settled)). `Empty` is decided
    /// from a `SeqCst` read of the tail, which pairs with the producers' `SeqCst` CAS of it.
    pub(super) fn try_pop(&self) -> Pop<T> {
        let backoff = Backoff::new();
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            if head & self.closed_bit != 0 {
                return Pop::Closed;
            }
            let slot = self.slot(head);
            let stamp = slot.stamp.load(Ordering::Acquire);
            let published = head.wrapping_add(1);
            if stamp == published {
                // Published: claim the position.
                match self.head.compare_exchange(
                    head,
                    self.next(head),
                    Ordering::SeqCst,
                    Ordering::Acquire,
                ) {
                    Ok(_) => {
                        // As in `try_push`: the CAS pairs with a sleeping producer.
                        seqcst_pair();
                        // SAFETY: the successful CAS made this thread the only consumer of
                        // `head`, and the stamp (paired with the producer's Release store) says
                        // the value was written in full; no producer writes the slot until the
                        // store below hands it to the next lap.
                        let value = slot.value.with(|p| unsafe { p.read().assume_init() });
                        slot.stamp
                            .store(head.wrapping_add(self.lap), Ordering::Release);
                        return Pop::Item(value);
                    }
                    Err(current) => head = current,
                }
            } else if (published.wrapping_sub(stamp) as isize) > 0 {
                // Not published for this position: empty, unless a producer has claimed it.
                let tail = self.tail.load(Ordering::SeqCst);
                if tail & !self.closed_bit == head {
                    return if tail & self.closed_bit != 0 {
                        Pop::Closed
                    } else {
                        Pop::Empty
                    };
                }
                if backoff.is_completed() {
                    return Pop::Pending;
                }
                backoff.snooze();
                head = self.head.load(Ordering::Acquire);
            } else {
                // The stamp is ahead: another consumer has taken `head` since it was read.
                backoff.spin();
                head = self.head.load(Ordering::Acquire);
            }
        }
    }

    /// [`try_push`](Self::try_push), waiting out `Pending` by yielding: never `Pending`.
    ///
    /// Only for a thread that holds the queue's lock (and has counted itself in as a
    /// sleeper): the consumer it waits for needs no lock to finish, and holding the lock keeps
    /// this the only thread that waits on another without a bound.
    pub(super) fn push_settled(&self, mut value: T) -> Result<(), Refused<T>> {
        loop {
            match self.try_push(value) {
                Err(Refused::Pending(back)) => {
                    value = back;
                    thread::yield_now();
                }
                other => return other,
            }
        }
    }

    /// [`try_pop`](Self::try_pop), waiting out `Pending` by yielding: never `Pending`. Only for
    /// a thread that holds the queue's lock, as [`push_settled`](Self::push_settled).
    pub(super) fn pop_settled(&self) -> Pop<T> {
        loop {
            match self.try_pop() {
                Pop::Pending => thread::yield_now(),
                other => return other,
            }
        }
    }

    /// How many positions producers have claimed since the ring was made: every successful
    /// push, counted from the moment its producer claimed the tail (before it publishes).
    /// Wraps around (inconsistently with a plain counter) only after at least `2^61` pushes.
    #[inline]
    pub(super) fn pushes(&self) -> usize {
        let tail = self.tail.load(Ordering::SeqCst) & !self.closed_bit;
        let laps = tail / self.lap;
        laps.wrapping_mul(self.slots.len())
            .wrapping_add(tail & (self.closed_bit - 1))
    }

    /// Closes the ring for pushes and then for pops, and hands back what it holds, oldest
    /// first; `None` if it was closed already. Pops that claimed a value before the close
    /// finish with it (it was older); no pop claims one after, so no value still in the ring
    /// can be overtaken by a newer one while this one carries them away. Waits (yielding) for
    /// pushes that claimed a slot before the close to publish, so the caller must hold the
    /// queue's lock, as for [`pop_settled`](Self::pop_settled).
    pub(super) fn close_and_drain(&self) -> Option<Vec<T>> {
        let tail = self.tail.fetch_or(self.closed_bit, Ordering::SeqCst);
        if tail & self.closed_bit != 0 {
            return None;
        }
        let mut pos = self.head.fetch_or(self.closed_bit, Ordering::SeqCst);
        let mut values = Vec::new();
        while pos != tail {
            let slot = self.slot(pos);
            // Claimed by a push before the close: it publishes without a lock.
            while slot.stamp.load(Ordering::Acquire) != pos.wrapping_add(1) {
                thread::yield_now();
            }
            // SAFETY: the closed head makes this thread the only consumer of every position
            // from `head` to `tail`, and the stamp says the value was written in full.
            values.push(slot.value.with(|p| unsafe { p.read().assume_init() }));
            slot.stamp
                .store(pos.wrapping_add(self.lap), Ordering::Release);
            pos = self.next(pos);
        }
        Some(values)
    }

    /// The number of values claimed for and not yet claimed from, while the ring is open: a
    /// snapshot of the tail and the head at one instant (the tail read again after the head
    /// has not moved), exact when no other thread is pushing or popping. `None` once the ring
    /// is closed (also while `close_and_drain` is carrying its values away): its count then
    /// belongs to the caller, which is moving them (see the queue's `qsize`).
    pub(super) fn open_len(&self) -> Option<usize> {
        loop {
            let tail = self.tail.load(Ordering::SeqCst);
            if tail & self.closed_bit != 0 {
                return None;
            }
            let head = self.head.load(Ordering::SeqCst);
            // Consistent only if the tail did not move while the head was read. The head is
            // closed only after the tail, so an open tail read after it means an open head.
            if self.tail.load(Ordering::SeqCst) != tail {
                continue;
            }
            debug_assert_eq!(head & self.closed_bit, 0);
            let mask = self.closed_bit - 1;
            let (h, t) = (head & mask, tail & mask);
            return Some(if h < t {
                t - h
            } else if h > t {
                self.slots.len() - h + t
            } else if tail == head {
                0
            } else {
                // Same index, another lap: full.
                self.slots.len()
            });
        }
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        /// Drops what is left when a value's `Drop` panicked, as the unwinding passes: every
        /// value is dropped, as a `Vec` drops its elements (a second panic aborts, as there).
        struct DropRest<'a, T>(&'a Ring<T>);
        impl<T> Drop for DropRest<'_, T> {
            fn drop(&mut self) {
                while let Pop::Item(value) = self.0.try_pop() {
                    drop(value);
                }
            }
        }
        // `&mut self`: no push is in flight (nothing is `Pending`), so popping until empty
        // drops every value left.
        let rest = DropRest(self);
        while let Pop::Item(value) = rest.0.try_pop() {
            drop(value);
        }
    }
}
