//! Where memory goes: the engine's query memory pool with a high-water mark ([`PeakPool`],
//! so `c360 run` reports the most each model held), what c360's own operators hold outside
//! DataFusion's ([`Held`]: a table read whole for training, the rows of a k-means fit, a
//! snapshot), the process's resident size and its peak since a mark (Linux `/proc`), and sizes
//! as people read them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::arrow::array::RecordBatch;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};
use datafusion::prelude::{DataFrame, SessionContext};
use futures::StreamExt;

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

/// Memory a c360 operator holds itself, reserved in the session's memory pool under the
/// operator's name (`train_classifier('churn') reading 'churn_training'`): past the memory
/// limit the operator fails with "resources exhausted" naming itself, instead of holding memory
/// no limit sees. Released when dropped.
#[derive(Debug)]
pub struct Held {
    what: String,
    reservation: MemoryReservation,
}

impl Held {
    /// Nothing held yet by `what`, in `ctx`'s pool.
    pub fn new(ctx: &SessionContext, what: impl Into<String>) -> Self {
        let what = what.into();
        let reservation =
            MemoryConsumer::new(what.clone()).register(&ctx.runtime_env().memory_pool);
        Self { what, reservation }
    }

    /// Hold `bytes` more, or fail with "resources exhausted" naming the operator.
    pub fn grow(&mut self, bytes: usize) -> Result<()> {
        self.reservation.try_grow(bytes).map_err(|e| {
            DataFusionError::ResourcesExhausted(format!(
                "{} needs more memory than the memory limit leaves ({} held, {} more asked): \
                 give it fewer rows or columns, or raise [engine] memory_limit ({})",
                self.what,
                human(self.reservation.size() as u64),
                human(bytes as u64),
                crate::error::strip_context(&e)
            ))
        })
    }

    /// Hold `bytes` less (what the operator dropped).
    pub fn shrink(&mut self, bytes: usize) {
        self.reservation.shrink(bytes.min(self.reservation.size()));
    }

    /// What is held now (bytes).
    pub fn size(&self) -> usize {
        self.reservation.size()
    }

    /// Run `frame` to its end, holding each batch as it arrives.
    pub async fn collect(&mut self, frame: DataFrame) -> Result<Vec<RecordBatch>> {
        self.collect_stream(frame.execute_stream().await?).await
    }

    /// Read `stream` to its end, holding each batch as it arrives.
    pub async fn collect_stream(
        &mut self,
        mut stream: SendableRecordBatchStream,
    ) -> Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            self.grow(batch.get_array_memory_size())?;
            batches.push(batch);
        }
        Ok(batches)
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

    #[tokio::test]
    async fn held_memory_counts_against_the_limit_and_names_the_operator() {
        let runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
            .with_memory_limit(1 << 20, 1.0)
            .build_arc()
            .expect("runtime");
        let ctx = SessionContext::new_with_config_rt(Default::default(), runtime);
        let mut held = Held::new(&ctx, "kmeans_segments reading 'big'");
        held.grow(600 << 10).expect("fits");
        let e = held.grow(600 << 10).expect_err("past the limit");
        assert!(matches!(e, DataFusionError::ResourcesExhausted(_)), "{e}");
        assert!(
            e.to_string().contains("kmeans_segments reading 'big'"),
            "{e}"
        );
        let frame = ctx
            .sql("SELECT repeat('x', 1000) AS s FROM generate_series(1, 1000)")
            .await
            .expect("plan");
        let e = held.collect(frame).await.expect_err("a megabyte more");
        assert!(e.to_string().contains("memory_limit"), "{e}");
        held.shrink(usize::MAX);
        assert_eq!(held.size(), 0);
    }

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
