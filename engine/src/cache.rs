//! The in-memory cache behind cached licenses and sessions: entries live for a short
//! time-to-live, are refreshed ahead of it, and never come back from a read that raced a
//! write.
//!
//! - An entry past half its time-to-live is *due*: the first caller to see it claims the
//!   refresh ([`Hit::claim_refresh`]) and reloads it in the background while the others keep
//!   using it, so many concurrent requests never reload one entry at once.
//! - Every [`TtlCache::forget`] bumps a generation (one of 64 stripes, by key), and
//!   [`TtlCache::insert`] drops a load that began before it: a read that started before a
//!   write cannot put the old value back.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const STRIPES: usize = 64;

pub(crate) struct TtlCache<K, V> {
    entries: RwLock<HashMap<K, Entry<V>>>,
    generations: [AtomicU64; STRIPES],
    ttl: Duration,
    /// Past this many entries, expired ones are swept out on insert.
    sweep_above: usize,
}

struct Entry<V> {
    value: V,
    loaded_at: Instant,
    refreshing: Arc<AtomicBool>,
}

/// A fresh entry, and whether it is due for a refresh.
pub(crate) struct Hit<V> {
    pub value: V,
    pub due: bool,
    refreshing: Arc<AtomicBool>,
}

impl<V> Hit<V> {
    /// Whether this caller should refresh the entry: it is due and nobody has started yet.
    pub fn claim_refresh(&self) -> bool {
        self.due && !self.refreshing.swap(true, Ordering::AcqRel)
    }
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, sweep_above: usize) -> Self {
        Self { entries: RwLock::default(), generations: std::array::from_fn(|_| AtomicU64::new(0)), ttl, sweep_above }
    }

    /// The entry, if younger than the time-to-live.
    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<Hit<V>>
    where
        K: Borrow<Q>,
    {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(key).filter(|e| e.loaded_at.elapsed() < self.ttl)?;
        Some(Hit { value: entry.value.clone(), due: entry.loaded_at.elapsed() >= self.ttl / 2, refreshing: entry.refreshing.clone() })
    }

    /// Read before loading a value, and handed back to [`insert`](Self::insert).
    pub fn generation<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.stripe(key).load(Ordering::SeqCst)
    }

    /// Stores a load that began at `generation`, unless its key was forgotten since.
    pub fn insert(&self, generation: u64, key: K, value: V) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if self.generation(&key) != generation {
            return;
        }
        if entries.len() >= self.sweep_above {
            entries.retain(|_, e| e.loaded_at.elapsed() < self.ttl);
        }
        entries.insert(key, Entry { value, loaded_at: Instant::now(), refreshing: Arc::default() });
    }

    pub fn forget<Q: Hash + Eq + ?Sized>(&self, key: &Q)
    where
        K: Borrow<Q>,
    {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        self.stripe(key).fetch_add(1, Ordering::SeqCst);
        entries.remove(key);
    }

    /// Forgets every entry whose value matches; loads in flight for any key are not stored.
    pub fn forget_where(&self, matches: impl Fn(&V) -> bool) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        for stripe in &self.generations {
            stripe.fetch_add(1, Ordering::SeqCst);
        }
        entries.retain(|_, e| !matches(&e.value));
    }

    fn stripe<Q: Hash + ?Sized>(&self, key: &Q) -> &AtomicU64 {
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        &self.generations[(hash % STRIPES as u64) as usize]
    }
}
