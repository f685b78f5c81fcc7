//! Child processes that are always cleaned up: each runs in its own process
//! group, and dropping the guard kills the whole group (including whatever
//! the child started, such as WebKit's helper processes or Chromium) and
//! waits until every one of them is gone.

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::wait::{poll, Deadline};

/// A running child process (and its process group), killed on drop.
#[derive(Debug)]
pub struct ChildGuard {
    name: String,
    child: Option<Child>,
}

impl ChildGuard {
    /// Starts `command` in a new process group.
    ///
    /// # Panics
    /// When the program cannot be started.
    #[track_caller]
    pub fn spawn(name: &str, mut command: Command) -> ChildGuard {
        command.process_group(0);
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {name} ({command:?}): {error}"));
        ChildGuard {
            name: name.to_owned(),
            child: Some(child),
        }
    }

    /// The child's process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Takes the child's piped stdout (once).
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.as_mut().and_then(|child| child.stdout.take())
    }

    /// Takes the child's piped stderr (once).
    pub fn take_stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.child.as_mut().and_then(|child| child.stderr.take())
    }

    /// Takes the child's piped stdin (once); dropping it closes it.
    pub fn take_stdin(&mut self) -> Option<std::process::ChildStdin> {
        self.child.as_mut().and_then(|child| child.stdin.take())
    }

    /// Whether the child itself has exited (its group may live on).
    pub fn has_exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|child| !matches!(child.try_wait(), Ok(None)))
    }

    /// Stops the child and everything it started, and waits until all of
    /// them are gone: SIGTERM first, SIGKILL for whatever is left after a
    /// few seconds.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
        let mut family = descendants(child.id());
        family.insert(child.id());
        let _ = killpg(group, Signal::SIGTERM);
        let gone = poll(Deadline::after(Duration::from_secs(5)), || {
            let _ = child.try_wait();
            family.retain(|pid| is_alive(*pid));
            family.is_empty().then_some(())
        });
        if gone.is_none() {
            eprintln!("e2e: {} did not stop on SIGTERM; killing it", self.name);
            let _ = killpg(group, Signal::SIGKILL);
            for pid in &family {
                let _ = nix::sys::signal::kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
            }
            let _ = child.wait();
            let _ = poll(Deadline::after(Duration::from_secs(5)), || {
                family.retain(|pid| is_alive(*pid));
                family.is_empty().then_some(())
            });
        }
        let _ = child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether a process exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Every process descending from `root` (children, grandchildren…).
pub fn descendants(root: u32) -> BTreeSet<u32> {
    let mut parents = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let parent = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|ppid| ppid.parse::<u32>().ok());
            if let Some(parent) = parent {
                parents.push((pid, parent));
            }
        }
    }
    let mut found = BTreeSet::new();
    let mut frontier = vec![root];
    while let Some(current) = frontier.pop() {
        for (pid, parent) in &parents {
            if *parent == current && found.insert(*pid) {
                frontier.push(*pid);
            }
        }
    }
    found
}

/// Processes descending from `root` whose executable is `program` (also
/// when the file was replaced by a new build since they started).
pub fn descendants_running(root: u32, program: &std::path::Path) -> Vec<u32> {
    let wanted = std::fs::canonicalize(program).unwrap_or_else(|_| program.to_path_buf());
    descendants(root)
        .into_iter()
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| {
                let exe = exe.to_string_lossy();
                exe.strip_suffix(" (deleted)").unwrap_or(&exe) == wanted.to_string_lossy()
            })
        })
        .collect()
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// # Panics
/// When no port can be bound at all.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// Reads a server child's first stdout line as its base URL (the emulator and
/// the broker print it once they accept connections), and keeps echoing the
/// rest, prefixed with `name`, so the pipe never fills.
pub fn read_base_url(child: &mut ChildGuard, name: &str) -> url::Url {
    let [line] = read_first_lines::<1>(child, name);
    url::Url::parse(line.trim()).unwrap_or_else(|error| {
        panic!("the {name}'s first line is not its base URL ({line:?}): {error}")
    })
}

/// The first `N` lines of the child's stdout (the emulator's: its base URL,
/// then its dev mailbox's address); the rest goes on to this process's
/// stderr, prefixed with `name`.
///
/// # Panics
/// When the child exits first or prints them too late.
#[track_caller]
pub fn read_first_lines<const N: usize>(child: &mut ChildGuard, name: &str) -> [String; N] {
    use std::io::{BufRead as _, BufReader};
    let stdout = child.take_stdout().expect("piped stdout");
    let (first_lines, receive) = std::sync::mpsc::channel();
    let prefix = name.to_string();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first: Vec<String> = lines.by_ref().take(N).map_while(Result::ok).collect();
        if let Ok(first) = <[String; N]>::try_from(first) {
            let _ = first_lines.send(first);
        }
        for line in lines.map_while(Result::ok) {
            eprintln!("{prefix}: {line}");
        }
    });
    let lines = crate::wait::wait_for(
        &format!("the {name}'s first {N} lines on its stdout"),
        Duration::from_secs(60),
        || {
            receive
                .try_recv()
                .ok()
                .map(Some)
                .or_else(|| child.has_exited().then_some(None))
        },
    );
    lines.unwrap_or_else(|| panic!("the {name} exited before printing {N} lines"))
}
