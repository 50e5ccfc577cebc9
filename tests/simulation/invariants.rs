//! What the engine reported, and the checks after every run: each acknowledged record on the log
//! once, order per partition, every record ended, the counters adding up.

use std::sync::Mutex;

use shoe_producer::producer::{
    delivery::StatsSnapshot, partitioner::java_partition_for_key, seam::BatchTap,
};

use crate::{broker::World, Scenario};

/// What the engine reported, batch by batch.
#[derive(Debug, Default)]
pub(crate) struct Reports {
    pub(crate) acked: Vec<(i32, i64, usize)>,
    pub(crate) failed: Vec<(i32, u64, String)>,
}

#[derive(Debug, Default)]
pub(crate) struct Observer(pub(crate) Mutex<Reports>);

impl BatchTap for Observer {
    fn acked(&self, partition: i32, base_offset: i64, records: u32) {
        self.0
            .lock()
            .unwrap()
            .acked
            .push((partition, base_offset, records as usize));
    }
    fn failed(&self, partition: i32, records: u32, reason: &str) {
        self.0
            .lock()
            .unwrap()
            .failed
            .push((partition, u64::from(records), reason.to_owned()));
    }
}

pub(crate) fn check(
    world: &World,
    reports: &Reports,
    snap: &StatsSnapshot,
    sent: u64,
    scenario: &Scenario,
) -> Result<(), String> {
    let fail = |what: String| Err(format!("{what}\nsnapshot: {snap:#?}"));
    if snap.sent != sent || snap.acked + snap.failed != sent || snap.in_flight_records != 0 {
        return fail(format!("records unaccounted for: sent {sent}"));
    }
    if snap.buffered_bytes != 0 || snap.requests_in_flight != 0 {
        return fail("memory or requests left over after close".to_owned());
    }
    let reported_failed: u64 = reports.failed.iter().map(|(_, n, _)| n).sum();
    let by_reason: u64 = snap.failed_by_reason.iter().map(|(_, n)| n).sum();
    if reported_failed != snap.failed || by_reason != snap.failed {
        return fail(format!(
            "failures do not add up: observer {reported_failed}, by reason {by_reason}"
        ));
    }
    if let Some((_, _, reason)) = reports.failed.iter().find(|(_, _, r)| r.is_empty()) {
        return fail(format!("a failure without a reason: {reason:?}"));
    }
    // Each ack names a batch on the log: its records, acked once.
    let mut acked = vec![0u32; sent as usize];
    let mut acked_records = 0u64;
    for &(partition, base_offset, n) in &reports.acked {
        let log = &world.logs[partition as usize];
        let start = usize::try_from(base_offset)
            .map_err(|_| format!("partition {partition}: an ack without an offset"))?;
        let Some(batch) = log.get(start..start + n) else {
            return fail(format!(
                "partition {partition}: ack of {n} records at offset {base_offset} beyond the log ({})",
                log.len()
            ));
        };
        if batch.iter().any(|e| e.batch != batch[0].batch)
            || (start > 0 && log[start - 1].batch == batch[0].batch)
            || log
                .get(start + n)
                .is_some_and(|e| e.batch == batch[0].batch)
        {
            return fail(format!(
                "partition {partition}: ack of {n} records at offset {base_offset} is not one batch"
            ));
        }
        for entry in batch {
            if java_partition_for_key(entry.key.to_string().as_bytes(), scenario.partitions)
                != partition
            {
                return fail(format!("record {} on the wrong partition", entry.key));
            }
            acked[entry.key as usize] += 1;
        }
        acked_records += n as u64;
    }
    if acked_records != snap.acked {
        return fail(format!(
            "acks reported {acked_records} records, the snapshot {}",
            snap.acked
        ));
    }
    let acked_twice: u64 = acked.iter().map(|&n| u64::from(n.saturating_sub(1))).sum();
    let distinct_acked = acked.iter().filter(|&&n| n > 0).count() as u64;
    if distinct_acked + snap.failed + acked_twice != sent {
        return fail(format!(
            "{distinct_acked} distinct records acked, {} failed, of {sent}",
            snap.failed
        ));
    }
    // The logs: each record once (a second copy only where a possible duplicate was counted), and
    // each partition's records in send order.
    let mut copies = vec![0u32; sent as usize];
    for (partition, log) in world.logs.iter().enumerate() {
        let mut last = None;
        for entry in log {
            let key = entry.key as usize;
            copies[key] += 1;
            if copies[key] == 1 {
                if last.is_some_and(|last| last > entry.key) {
                    return fail(format!(
                        "partition {partition}: record {} after record {}",
                        entry.key,
                        last.unwrap()
                    ));
                }
                last = Some(entry.key);
            }
        }
    }
    // An acked record may be written more than once only if it was counted (once) as a possible
    // duplicate; without idempotence each retry after an unknown outcome may add a copy.
    // (A failed record's outcome is unknown: it may be on the log, even twice.)
    let duplicates = (0..sent as usize)
        .filter(|&k| acked[k] > 0 && copies[k] > 1)
        .count() as u64;
    if duplicates > snap.possible_duplicates || acked_twice > snap.possible_duplicates {
        return fail(format!(
            "{duplicates} records on the log more than once, {acked_twice} records acked twice, {} counted as possible duplicates",
            snap.possible_duplicates
        ));
    }
    if let Some(key) = (0..sent as usize).find(|&k| acked[k] > 0 && copies[k] == 0) {
        return fail(format!("record {key} acked but not on the log"));
    }
    Ok(())
}
