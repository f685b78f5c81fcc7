//! The floor under the emulator's refresh grant: the CPU its two RS256
//! signatures take on this machine, measured with the emulator's own signing
//! code (`KeyRing::sign`, which uses OpenSSL) on every core at once, as the
//! server signs under load. oidc-provider's CPU per refresh divided by it is
//! the most the emulator could reach per CPU-second if everything else it
//! does cost nothing.

use std::num::NonZeroUsize;

use scalekit_emulator::db::Db;
use scalekit_emulator::keys::KeyRing;
use scalekit_emulator::Storage;
use serde_json::{json, Value};

use crate::{stats, BenchResult};

/// Batches, each signed on every core; the floor is their median, so that
/// a burst of other work on the machine moves it less.
const BATCHES: usize = 5;

/// Signatures made on each core in one batch (about a tenth of a second).
const SIGNATURES_PER_THREAD: usize = 400;

/// What the two signatures of one refresh cost.
pub(super) struct SigningFloor {
    threads: usize,
    /// CPU milliseconds for two signatures, one value per batch.
    per_refresh_ms_by_batch: Vec<f64>,
}

impl SigningFloor {
    /// CPU milliseconds for the two signatures of one refresh (the median
    /// batch).
    pub(super) fn per_refresh_ms(&self) -> f64 {
        stats::Summary::of(&self.per_refresh_ms_by_batch).map_or(f64::NAN, |s| s.median)
    }

    /// The JSON kept with the run's other results.
    pub(super) fn to_json(&self, baseline_cpu_per_refresh_ms: Option<f64>) -> Value {
        json!({
            "threads": self.threads,
            "signaturesPerBatch": self.threads * SIGNATURES_PER_THREAD,
            "cpuPerRefreshMsByBatch": self.per_refresh_ms_by_batch,
            "cpuPerRefreshMs": self.per_refresh_ms(),
            "ceilingPerCpuSecond": baseline_cpu_per_refresh_ms.map(|ms| ms / self.per_refresh_ms()),
        })
    }
}

/// Signs access-token-shaped claims on every core with a fresh in-memory
/// key ring, `BATCHES` times; each thread reads its own CPU time around
/// its share.
///
/// # Errors
/// When the key ring cannot be made or a signature fails.
pub(super) async fn measure() -> BenchResult<SigningFloor> {
    let db = Db::open(&Storage::InMemory)?;
    let keys = KeyRing::load_or_create(&db).await?;
    let threads = std::thread::available_parallelism().map_or(2, NonZeroUsize::get);
    let now = 1_764_806_400_i64;
    let claims = json!({
        "iss": "http://localhost:8080",
        "aud": ["ntvc_demo"],
        "sub": "usr_102030405060708090",
        "oid": "org_102030405060708090",
        "sid": "ses_102030405060708090",
        "client_id": "ntvc_demo",
        "exp": now + 300,
        "iat": now,
        "nbf": now,
        "jti": "tkn_AbCdEfGhIjKlMnOpQrStUv",
        "scope": "openid email profile offline_access",
    });
    let mut per_refresh_ms_by_batch = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let cpu_seconds = sign_on_every_core(&keys, &claims, threads)?;
        let signatures = (threads * SIGNATURES_PER_THREAD) as f64;
        per_refresh_ms_by_batch.push(2.0 * 1000.0 * cpu_seconds / signatures);
    }
    Ok(SigningFloor {
        threads,
        per_refresh_ms_by_batch,
    })
}

/// The CPU seconds `threads` threads take to sign `SIGNATURES_PER_THREAD`
/// tokens each, all at once.
fn sign_on_every_core(keys: &KeyRing, claims: &Value, threads: usize) -> BenchResult<f64> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let before = thread_cpu_seconds()?;
                    for _ in 0..SIGNATURES_PER_THREAD {
                        std::hint::black_box(keys.sign(claims)?);
                    }
                    BenchResult::Ok(thread_cpu_seconds()? - before)
                })
            })
            .collect();
        workers.into_iter().try_fold(0.0, |total, worker| {
            let spent = worker.join().map_err(|_| "a signing thread panicked")??;
            BenchResult::Ok(total + spent)
        })
    })
}

/// The calling thread's CPU time so far, in seconds, to the nanosecond: the
/// first field of `/proc/thread-self/schedstat`.
fn thread_cpu_seconds() -> BenchResult<f64> {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    let nanos: u64 = schedstat
        .split_whitespace()
        .next()
        .and_then(|field| field.parse().ok())
        .ok_or("unreadable /proc/thread-self/schedstat")?;
    Ok(nanos as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_the_median_batch_and_the_ceiling_divides_the_baseline_by_it() {
        let floor = SigningFloor {
            threads: 2,
            per_refresh_ms_by_batch: vec![0.9, 0.5, 0.52, 0.48, 3.0],
        };
        assert!((floor.per_refresh_ms() - 0.52).abs() < 1e-9);
        let json = floor.to_json(Some(1.04));
        assert!((json["ceilingPerCpuSecond"].as_f64().unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(json["signaturesPerBatch"], 2 * SIGNATURES_PER_THREAD);
        assert!(floor.to_json(None)["ceilingPerCpuSecond"].is_null());
    }

    #[test]
    fn a_thread_s_cpu_time_counts_its_own_work_only() {
        let before = thread_cpu_seconds().unwrap();
        let busy = std::time::Instant::now();
        let mut spin = 0_u64;
        while busy.elapsed() < std::time::Duration::from_millis(30) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        let spent = thread_cpu_seconds().unwrap() - before;
        let wall = busy.elapsed().as_secs_f64();
        // Some of the spin, never more than the wall time (the machine may
        // be busy, so not all of it).
        assert!(
            spent > 0.001 && spent <= wall + 0.005,
            "{wall} s of spinning counted as {spent} s"
        );
        let idle = thread_cpu_seconds().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let slept = thread_cpu_seconds().unwrap() - idle;
        assert!(slept < 0.02, "50 ms asleep counted as {slept} s");
    }
}
