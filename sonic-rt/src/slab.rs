//! A generational slab: stable small keys for tasks, I/O sources and timers.
//!
//! Rules:
//! - A key is `(index, generation)`. Removing an entry bumps the slot's generation, so a key that
//!   outlived its entry never reaches the entry that reuses the slot: `get` returns `None`.
//! - Vacant slots form a free list; inserting reuses the most recently freed slot, so a steady
//!   state of inserts and removes allocates nothing once the vector has grown.

/// A key into a [`Slab`]. Packs into a `u64` for use as an epoll/kqueue token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl Key {
    pub(crate) fn to_u64(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    pub(crate) fn from_u64(raw: u64) -> Key {
        Key {
            index: raw as u32,
            generation: (raw >> 32) as u32,
        }
    }
}

#[derive(Debug)]
enum Entry<T> {
    Occupied(T),
    Vacant { next_free: u32 },
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    entry: Entry<T>,
}

const NONE: u32 = u32::MAX;

#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free_head: u32,
    len: usize,
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Slab<T> {
        Slab {
            slots: Vec::new(),
            free_head: NONE,
            len: 0,
        }
    }

    pub(crate) fn with_capacity(cap: usize) -> Slab<T> {
        Slab {
            slots: Vec::with_capacity(cap),
            free_head: NONE,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Inserts `value`, returning its key. Fails only when 2^32 - 1 entries are live.
    pub(crate) fn insert(&mut self, value: T) -> Option<Key> {
        self.len += 1;
        if self.free_head != NONE {
            let index = self.free_head;
            let slot = &mut self.slots[index as usize];
            match slot.entry {
                Entry::Vacant { next_free } => self.free_head = next_free,
                Entry::Occupied(_) => unreachable!("free list points at an occupied slot"),
            }
            slot.entry = Entry::Occupied(value);
            return Some(Key {
                index,
                generation: slot.generation,
            });
        }
        let index = self.slots.len();
        if index >= NONE as usize {
            self.len -= 1;
            return None;
        }
        self.slots.push(Slot {
            generation: 0,
            entry: Entry::Occupied(value),
        });
        Some(Key {
            index: index as u32,
            generation: 0,
        })
    }

    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        match self.slots.get(key.index as usize) {
            Some(Slot {
                generation,
                entry: Entry::Occupied(v),
            }) if *generation == key.generation => Some(v),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slots.get_mut(key.index as usize) {
            Some(Slot {
                generation,
                entry: Entry::Occupied(v),
            }) if *generation == key.generation => Some(v),
            _ => None,
        }
    }

    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation || matches!(slot.entry, Entry::Vacant { .. }) {
            return None;
        }
        let old = std::mem::replace(
            &mut slot.entry,
            Entry::Vacant {
                next_free: self.free_head,
            },
        );
        slot.generation = slot.generation.wrapping_add(1);
        self.free_head = key.index;
        self.len -= 1;
        match old {
            Entry::Occupied(v) => Some(v),
            Entry::Vacant { .. } => None,
        }
    }

    /// Removes and returns every live entry (used at shutdown).
    /// The occupied entries, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|slot| match &slot.entry {
            Entry::Occupied(v) => Some(v),
            Entry::Vacant { .. } => None,
        })
    }

    pub(crate) fn drain(&mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        for index in 0..self.slots.len() {
            let key = Key {
                index: index as u32,
                generation: self.slots[index].generation,
            };
            if let Some(v) = self.remove(key) {
                out.push(v);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_key_misses_reused_slot() {
        let mut slab = Slab::new();
        let a = slab.insert("a").unwrap();
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b").unwrap();
        assert_eq!(a.index, b.index, "slot reused");
        assert_ne!(a.generation, b.generation);
        assert_eq!(slab.get(a), None);
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.get(b), Some(&"b"));
        assert_eq!(Key::from_u64(b.to_u64()), b);
    }

    #[test]
    fn drain_returns_live_entries() {
        let mut slab = Slab::new();
        let keys: Vec<_> = (0..10).map(|i| slab.insert(i).unwrap()).collect();
        for k in keys.iter().step_by(2) {
            slab.remove(*k);
        }
        let mut rest = slab.drain();
        rest.sort();
        assert_eq!(rest, vec![1, 3, 5, 7, 9]);
        assert!(slab.is_empty());
    }
}
