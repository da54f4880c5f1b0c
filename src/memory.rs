//! Where memory goes: the engine's query memory pool with a high-water mark ([`PeakPool`],
//! so `c360 run` reports the most each model held), the process's resident size and its peak
//! since a mark (Linux `/proc`), and sizes as people read them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::common::Result;
use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};
use datafusion::prelude::SessionContext;

/// A memory pool in front of the engine's, remembering the most it held since the last
/// [`mark`](Self::mark). Kept as a session extension: [`PeakPool::of`] finds it.
#[derive(Debug)]
pub struct PeakPool {
    inner: Arc<dyn MemoryPool>,
    peak: AtomicUsize,
}

impl PeakPool {
    /// A pool over `inner`.
    pub fn new(inner: Arc<dyn MemoryPool>) -> Self {
        Self {
            inner,
            peak: AtomicUsize::new(0),
        }
    }

    /// The pool of `ctx`'s session, when it has one.
    pub fn of(ctx: &SessionContext) -> Option<Arc<Self>> {
        ctx.state().config().get_extension::<Self>()
    }

    /// Start a new high-water mark at what is held now.
    pub fn mark(&self) {
        self.peak.store(self.inner.reserved(), Ordering::Relaxed);
    }

    /// The most held since the last mark.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed).max(self.inner.reserved())
    }

    fn note(&self) {
        self.peak
            .fetch_max(self.inner.reserved(), Ordering::Relaxed);
    }
}

impl std::fmt::Display for PeakPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} bytes reserved, peak {} since the mark)",
            self.inner.name(),
            self.inner.reserved(),
            self.peak()
        )
    }
}

impl MemoryPool for PeakPool {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.inner.register(consumer);
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.inner.unregister(consumer);
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.inner.grow(reservation, additional);
        self.note();
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.inner.shrink(reservation, shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        self.inner.try_grow(reservation, additional)?;
        self.note();
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.inner.reserved()
    }

    fn memory_limit(&self) -> MemoryLimit {
        self.inner.memory_limit()
    }
}

/// The process's resident memory now, where the system tells it (Linux).
pub fn resident() -> Option<u64> {
    status_kib("VmRSS:").map(|kib| kib * 1024)
}

/// The process's peak resident memory since the last [`mark_resident_peak`] (or its start).
pub fn resident_peak() -> Option<u64> {
    status_kib("VmHWM:").map(|kib| kib * 1024)
}

/// Start a new resident high-water mark at the current size (Linux: `/proc/self/clear_refs`).
pub fn mark_resident_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// `n` bytes as people read them (`1.4 GiB`, `512 MiB`).
pub fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use datafusion::execution::memory_pool::GreedyMemoryPool;

    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(8 * 1024 * 1024 * 1024), "8.0 GiB");
    }

    #[test]
    fn the_peak_is_the_most_held_since_the_mark() {
        let own = Arc::new(PeakPool::new(Arc::new(GreedyMemoryPool::new(1 << 20))));
        let shared: Arc<dyn MemoryPool> = own.clone();
        let b = MemoryConsumer::new("b").register(&shared);
        b.try_grow(5000).expect("fits");
        b.shrink(4000);
        assert_eq!(own.peak(), 5000);
        own.mark();
        assert_eq!(own.peak(), 1000);
        b.grow(500);
        assert_eq!(own.peak(), 1500);
        assert!(b.try_grow(2 << 20).is_err(), "the inner pool's limit holds");
        assert_eq!(own.peak(), 1500);
    }
}
