//! The `buffer.memory` bound: bytes of records the engine may hold before `send` has to wait.
//!
//! Every record takes its charge from the pool when it is sent — two copies of its encoded bytes, at
//! their largest (its batch, and the request buffer rskafka's connection writes from), plus its
//! latency slot — and gives it back, exactly once, when its batch reaches a final state (acked or
//! failed); a batch split in two hands each half its share. When the
//! pool is empty `send` waits: the generator slows to the speed Kafka accepts, and nothing is ever
//! dropped. So `buffer_memory` bounds all record memory the engine holds, which keeps a long run's
//! RSS flat.

use tokio::sync::Semaphore;

/// A pool of bytes shared by every handle and partition.
#[derive(Debug)]
pub(crate) struct MemoryPool {
    permits: Semaphore,
    capacity: usize,
}

/// The pool was closed because the producer is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the producer's buffer is closed")]
pub(crate) struct PoolClosed;

impl MemoryPool {
    pub(super) fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Semaphore::new(capacity),
            capacity,
        }
    }

    /// Takes `bytes` from the pool, waiting while it is short. A record larger than the whole
    /// pool takes the whole pool (so it can still be sent, alone).
    pub(super) async fn acquire(&self, bytes: usize) -> Result<usize, PoolClosed> {
        let bytes = bytes.min(self.capacity);
        let n = u32::try_from(bytes).unwrap_or(u32::MAX);
        match self.permits.try_acquire_many(n) {
            Ok(permit) => permit.forget(),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(PoolClosed),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                self.permits
                    .acquire_many(n)
                    .await
                    .map_err(|_| PoolClosed)?
                    .forget();
            }
        }
        Ok(n as usize)
    }

    /// Gives back bytes taken by [`acquire`](Self::acquire).
    pub(super) fn release(&self, bytes: usize) {
        if bytes > 0 {
            self.permits.add_permits(bytes);
        }
    }

    /// Bytes currently taken.
    pub(super) fn in_use(&self) -> usize {
        self.capacity
            .saturating_sub(self.permits.available_permits())
    }

    /// Bytes not taken: `capacity` exactly once everything was given back (once).
    #[cfg(test)]
    pub(super) fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// The pool's size.
    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Wakes every waiting `acquire` with [`PoolClosed`].
    pub(super) fn close(&self) {
        self.permits.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{sync::Arc, time::Duration};

    #[tokio::test]
    async fn acquire_waits_until_bytes_are_released() {
        let pool = Arc::new(MemoryPool::new(100));
        assert_eq!(pool.acquire(60).await, Ok(60));
        assert_eq!(pool.in_use(), 60);
        let waiter = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.acquire(60).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "60 + 60 > 100 must wait");
        pool.release(60);
        assert_eq!(waiter.await.unwrap(), Ok(60));
        assert_eq!(pool.in_use(), 60);
    }

    #[tokio::test]
    async fn oversized_request_takes_the_whole_pool_and_close_wakes_waiters() {
        let pool = Arc::new(MemoryPool::new(100));
        assert_eq!(pool.acquire(1_000).await, Ok(100));
        let waiter = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.acquire(1).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        pool.close();
        assert_eq!(waiter.await.unwrap(), Err(PoolClosed));
    }
}
