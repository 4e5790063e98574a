//! A small map whose entries are reused for a fixed time: what authentication reads from the
//! database (agents, API keys) is cached this way.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

type Entries<K, V> = HashMap<K, (Instant, V)>;

#[derive(Clone)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    max_entries: usize,
    entries: Arc<Mutex<Entries<K, V>>>,
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            entries: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The value stored under `key` less than the TTL ago.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().expect("poisoned");
        let (stored, value) = entries.get(key)?;
        (stored.elapsed() < self.ttl).then(|| value.clone())
    }

    /// Stores `value`; a full cache is emptied first (it refills from the database).
    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.entries.lock().expect("poisoned");
        if entries.len() >= self.max_entries {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), value));
    }

    pub fn remove(&self, key: &K) {
        self.entries.lock().expect("poisoned").remove(key);
    }

    pub fn clear(&self) {
        self.entries.lock().expect("poisoned").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let cache = TtlCache::new(Duration::from_millis(50), 2);
        cache.insert("kim", 1);
        assert_eq!(cache.get(&"kim"), Some(1));
        cache.remove(&"kim");
        assert_eq!(cache.get(&"kim"), None);
        cache.insert("lee", 2);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&"lee"), None, "expired");
    }
}
