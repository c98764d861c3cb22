//! Backups being read in this process outside of a run (an HTTP or CLI
//! download): the purge leaves them for the next prune. Runs that read a
//! backup (restore, verify) are visible to every instance through the queue;
//! a download is not, hence this registry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
pub struct Holds(Mutex<HashMap<String, usize>>);

/// Held until dropped.
#[derive(Debug)]
pub struct Hold {
    holds: Arc<Holds>,
    id: String,
}

impl Holds {
    pub fn hold(self: &Arc<Self>, id: &str) -> Hold {
        *self.lock().entry(id.to_string()).or_default() += 1;
        Hold {
            holds: self.clone(),
            id: id.to_string(),
        }
    }

    pub fn is_held(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        let mut map = self.holds.lock();
        if let Some(n) = map.get_mut(&self.id) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_until_the_last_hold_is_dropped() {
        let holds = Arc::new(Holds::default());
        let a = holds.hold("b1");
        let b = holds.hold("b1");
        assert!(holds.is_held("b1") && !holds.is_held("b2"));
        drop(a);
        assert!(holds.is_held("b1"));
        drop(b);
        assert!(!holds.is_held("b1"));
    }
}
