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

/// The variable both windows write their start-up time to (see `src-tauri/ready_mark.rs`).
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
    /// Their private (unshared) memory, KiB.
    pub uss_kib: u64,
    /// Per process.
    pub processes: Vec<ProcessMemory>,
}

/// Starts each subject `starts` times, alternating which goes first, and
/// returns per subject the start-up and memory summaries.
///
/// # Errors
/// When a window does not report readiness in time.
pub fn measure(subjects: &[Subject], starts: usize, dir: &Path) -> BenchResult<Value> {
    let mut samples: Vec<Vec<Start>> = vec![Vec::new(); subjects.len()];
    for round in 0..starts {
        // Rotate who goes first, so that drift in the machine's load spreads evenly.
        let mut order: Vec<usize> = (0..subjects.len()).collect();
        order.rotate_left(round % subjects.len().max(1));
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
    let uss: Vec<f64> = starts.iter().map(|s| s.uss_kib as f64 / 1024.0).collect();
    // Per process name: the median start's breakdown is enough to explain it.
    let mut by_pss: Vec<&Start> = starts.iter().collect();
    by_pss.sort_by_key(|s| s.pss_kib);
    let breakdown = by_pss.get(by_pss.len() / 2).map_or(Value::Null, |s| {
        Value::Array(
            s.processes
                .iter()
                .map(|p| {
                    json!({"process": p.name, "pssMiB": p.pss_kib as f64 / 1024.0, "ussMiB": p.uss_kib as f64 / 1024.0})
                })
                .collect(),
        )
    });
    json!({
        "spawnToReadyMs": summary_json(&spawn),
        "mainToReadyMs": summary_json(&main),
        "pssMiB": summary_json(&pss),
        "ussMiB": summary_json(&uss),
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
    // For a look at what a window printed: `PASSKEYS_BENCH_LOGS=<dir>`.
    if let Some(logs) = std::env::var_os("PASSKEYS_BENCH_LOGS") {
        let name = ready_file.file_name().unwrap_or_default().to_string_lossy();
        let log = std::fs::File::create(Path::new(&logs).join(format!("{name}.log")))?;
        command.stderr(log);
    }
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
    // For a look at where the memory goes: `PASSKEYS_BENCH_SMAPS=<dir>` keeps
    // every process's `/proc/<pid>/smaps` at the moment it is measured.
    if let Some(smaps) = std::env::var_os("PASSKEYS_BENCH_SMAPS") {
        keep_smaps(child.pid(), Path::new(&smaps), ready_file)?;
    }
    let pss_kib = processes.iter().map(|p| p.pss_kib).sum();
    let uss_kib = processes.iter().map(|p| p.uss_kib).sum();
    child.stop();
    Ok(Start {
        spawn_to_ready_ms: ready.duration_since(spawned).as_secs_f64() * 1000.0,
        main_to_ready_ms,
        pss_kib,
        uss_kib,
        processes,
    })
}

/// Copies `/proc/<pid>/smaps` of `root` and its descendants into `dir`, one
/// file per process named after the start and the process's command name.
fn keep_smaps(root: u32, dir: &Path, ready_file: &Path) -> BenchResult<()> {
    let start = ready_file.file_name().unwrap_or_default().to_string_lossy();
    let mut pids = descendants(root);
    pids.insert(root);
    for pid in pids {
        let (Ok(name), Ok(smaps)) = (
            std::fs::read_to_string(format!("/proc/{pid}/comm")),
            std::fs::read_to_string(format!("/proc/{pid}/smaps")),
        ) else {
            continue;
        };
        std::fs::write(dir.join(format!("{start}.{}.smaps", name.trim())), smaps)?;
    }
    Ok(())
}

/// The memory of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessMemory {
    /// Its command name (`/proc/<pid>/comm`).
    pub name: String,
    /// Proportional set size, KiB.
    pub pss_kib: u64,
    /// Private (unshared) pages, KiB.
    pub uss_kib: u64,
}

/// The memory of `root` and every descendant, largest PSS first.
pub fn process_tree_pss(root: u32) -> Vec<ProcessMemory> {
    let mut pids = descendants(root);
    pids.insert(root);
    let mut processes: Vec<ProcessMemory> = pids
        .into_iter()
        .filter_map(|pid| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            Some(ProcessMemory {
                name: name.trim().to_owned(),
                pss_kib: rollup_kib(&rollup, "Pss")?,
                uss_kib: rollup_kib(&rollup, "Private_Clean")?
                    + rollup_kib(&rollup, "Private_Dirty")?,
            })
        })
        .collect();
    processes.sort_by_key(|p| std::cmp::Reverse(p.pss_kib));
    processes
}

/// A `<field>:` line of `smaps_rollup`, in KiB.
fn rollup_kib(rollup: &str, field: &str) -> Option<u64> {
    rollup.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pss_from_smaps_rollup() {
        let rollup = "55f0-7ffd ---p 00000000 00:00 0 [rollup]\nRss:              102400 kB\nPss:               51234 kB\nPss_Anon:          40000 kB\nPrivate_Clean:       100 kB\n";
        assert_eq!(rollup_kib(rollup, "Pss"), Some(51_234));
        assert_eq!(rollup_kib(rollup, "Private_Clean"), Some(100));
        assert_eq!(rollup_kib("Rss: 1 kB\n", "Pss"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_has_a_pss() {
        let processes = process_tree_pss(std::process::id());
        assert!(processes.iter().any(|p| p.pss_kib > 0), "{processes:?}");
    }
}
