//! How many requests go out at once: at most so many in all, and at most so many to one host.
//! Feed fetching and link resolving both ask here, so both take their permits the same way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit};

/// A global limit and a limit per host, the host's semaphore made on first use.
#[derive(Debug)]
pub(crate) struct HostLimits {
    global: Semaphore,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Both permits of one request; dropping it gives them back.
#[derive(Debug)]
pub(crate) struct Permits<'a> {
    _host: OwnedSemaphorePermit,
    _global: SemaphorePermit<'a>,
}

impl HostLimits {
    pub(crate) fn new(global: usize, per_host: usize) -> HostLimits {
        HostLimits {
            global: Semaphore::new(global),
            per_host,
            hosts: Mutex::default(),
        }
    }

    /// Waits for a permit for `host`, then for a global one: a request queued behind its
    /// host holds no global slot, so one slow host cannot stall requests to the others.
    pub(crate) async fn acquire(&self, host: &str) -> Result<Permits<'_>, AcquireError> {
        let limit = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts
                .entry(host.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
                .clone()
        };
        let host = limit.acquire_owned().await?;
        let global = self.global.acquire().await?;
        Ok(Permits {
            _host: host,
            _global: global,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::HostLimits;

    /// A host at its limit holds no global slot: another host still gets one.
    #[tokio::test]
    async fn a_busy_host_leaves_the_global_slots_to_others() {
        let limits = HostLimits::new(2, 1);
        let _a = limits.acquire("a.example").await.unwrap();
        let queued = limits.acquire("a.example");
        tokio::pin!(queued);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), &mut queued).await;
        assert!(waited.is_err(), "a second permit for a full host");
        let other = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            limits.acquire("b.example"),
        )
        .await;
        assert!(other.is_ok(), "another host waited behind a full one");
    }
}
