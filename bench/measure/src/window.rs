//! Start-up and idle memory of a window process: started directly (no
//! WebDriver), timed from spawning it to its readiness report, then its
//! proportional set size with all its WebKit helpers 5 s later.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use passkeys_e2e::process::{descendants, ChildGuard};
use serde_json::{json, Value};

use crate::stats::summary_json;
use crate::BenchResult;

/// The variable both windows write their start-up time to (see `ready.rs`).
pub const READY_FILE_VAR: &str = "PASSKEYS_READY_FILE";
/// How long after readiness the memory is read.
pub const IDLE_AFTER_READY: Duration = Duration::from_secs(5);
/// Longest wait for a window to report readiness.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A program to start and the environment to start it in.
#[derive(Debug, Clone)]
pub struct Subject {
    /// `app` or `baseline`.
    pub name: &'static str,
    /// The binary.
    pub binary: PathBuf,
    /// Its environment (on top of this process's).
    pub env: Vec<(String, String)>,
}

/// One start of one window.
#[derive(Debug, Clone)]
pub struct Start {
    /// Spawn → readiness file seen, as measured from outside (includes exec
    /// and dynamic linking).
    pub spawn_to_ready_ms: f64,
    /// `main` → readiness, as the process measured itself.
    pub main_to_ready_ms: f64,
    /// Proportional set size of the process and its descendants, KiB.
    pub pss_kib: u64,
    /// The same per process: (command name, KiB).
    pub processes: Vec<(String, u64)>,
}

/// Starts each subject `starts` times, alternating which goes first, and
/// returns per subject the start-up and memory summaries.
///
/// # Errors
/// When a window does not report readiness in time.
pub fn measure(subjects: &[Subject], starts: usize, dir: &Path) -> BenchResult<Value> {
    let mut samples: Vec<Vec<Start>> = vec![Vec::new(); subjects.len()];
    for round in 0..starts {
        let mut order: Vec<usize> = (0..subjects.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for index in order {
            let ready_file = dir.join(format!("ready-{}-{round}", subjects[index].name));
            let start = start_once(&subjects[index], &ready_file)?;
            eprintln!(
                "bench: {} start {}: {:.0} ms, {} KiB",
                subjects[index].name,
                round + 1,
                start.spawn_to_ready_ms,
                start.pss_kib
            );
            samples[index].push(start);
        }
    }
    let mut out = serde_json::Map::new();
    for (subject, starts) in subjects.iter().zip(&samples) {
        out.insert(subject.name.to_owned(), summarise(starts));
    }
    Ok(Value::Object(out))
}

fn summarise(starts: &[Start]) -> Value {
    let spawn: Vec<f64> = starts.iter().map(|s| s.spawn_to_ready_ms).collect();
    let main: Vec<f64> = starts.iter().map(|s| s.main_to_ready_ms).collect();
    let pss: Vec<f64> = starts.iter().map(|s| s.pss_kib as f64 / 1024.0).collect();
    // Per process name: the median start's breakdown is enough to explain it.
    let mut by_pss: Vec<&Start> = starts.iter().collect();
    by_pss.sort_by_key(|s| s.pss_kib);
    let breakdown = by_pss.get(by_pss.len() / 2).map_or(Value::Null, |s| {
        Value::Array(
            s.processes
                .iter()
                .map(|(name, kib)| json!({"process": name, "pssMiB": *kib as f64 / 1024.0}))
                .collect(),
        )
    });
    json!({
        "spawnToReadyMs": summary_json(&spawn),
        "mainToReadyMs": summary_json(&main),
        "pssMiB": summary_json(&pss),
        "processes": breakdown,
    })
}

/// Starts the window, waits for its readiness report, reads its memory 5 s
/// later and stops it (and its helpers).
///
/// # Errors
/// When it does not report readiness in time or the report is not a number.
pub fn start_once(subject: &Subject, ready_file: &Path) -> BenchResult<Start> {
    let _ = std::fs::remove_file(ready_file);
    let mut command = Command::new(&subject.binary);
    command
        .envs(subject.env.iter().map(|(key, value)| (key, value)))
        .env(READY_FILE_VAR, ready_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let spawned = Instant::now();
    let mut child = ChildGuard::spawn(subject.name, command);
    let ready = loop {
        if ready_file.exists() {
            break Instant::now();
        }
        if spawned.elapsed() > READY_TIMEOUT || child.has_exited() {
            return Err(format!(
                "{} did not report readiness (exited: {})",
                subject.name,
                child.has_exited()
            )
            .into());
        }
        std::thread::sleep(Duration::from_micros(500));
    };
    let main_to_ready_ms: f64 = std::fs::read_to_string(ready_file)?.trim().parse()?;
    std::thread::sleep(IDLE_AFTER_READY.saturating_sub(ready.elapsed()));
    let processes = process_tree_pss(child.pid());
    let pss_kib = processes.iter().map(|(_, kib)| kib).sum();
    child.stop();
    Ok(Start {
        spawn_to_ready_ms: ready.duration_since(spawned).as_secs_f64() * 1000.0,
        main_to_ready_ms,
        pss_kib,
        processes,
    })
}

/// PSS of `root` and every descendant: (command name, KiB), largest first.
pub fn process_tree_pss(root: u32) -> Vec<(String, u64)> {
    let mut pids = descendants(root);
    pids.insert(root);
    let mut processes: Vec<(String, u64)> = pids
        .into_iter()
        .filter_map(|pid| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            Some((name.trim().to_owned(), pss_kib(&rollup)?))
        })
        .collect();
    processes.sort_by_key(|(_, kib)| std::cmp::Reverse(*kib));
    processes
}

/// The `Pss:` line of `smaps_rollup`, in KiB.
fn pss_kib(rollup: &str) -> Option<u64> {
    rollup.lines().find_map(|line| {
        let rest = line.strip_prefix("Pss:")?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pss_from_smaps_rollup() {
        let rollup = "55f0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:              102400 kB\nPss:               51234 kB\nPss_Anon:          40000 kB\n";
        assert_eq!(pss_kib(rollup), Some(51_234));
        assert_eq!(pss_kib("Rss: 1 kB\n"), None);
    }

    #[test]
    fn this_process_has_a_pss() {
        let processes = process_tree_pss(std::process::id());
        assert!(processes.iter().any(|(_, kib)| *kib > 0), "{processes:?}");
    }
}
