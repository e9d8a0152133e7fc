//! The parent's side of a compile child: start it, limit it, feed it, time
//! it, reap it, and say which limit ended it.
//!
//! The limits are set with `prlimit` after the child starts and before it
//! is sent the component: it reads the whole component before compiling, so
//! nothing is compiled unlimited, and no `pre_exec` hook forces a `fork` of
//! a parent with a large address space.

use super::CompileLimits;
use super::entry::{EXIT_MISMATCH, EXIT_REFUSED, child_args};
use crate::runtime::error::LoadErrorKind;
use crate::runtime::options::EngineOptions;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kept of the child's stderr, for the error.
const STDERR_BYTES: u64 = 16 << 10;

/// How the child ended.
enum End {
    Exited(i32),
    Signalled(i32),
    /// Killed by us at the wall-clock limit.
    TimedOut,
}

/// What the child used, from `wait4`.
struct Usage {
    peak_rss: u64,
    cpu: Duration,
    wall: Duration,
}

impl Usage {
    fn describe(&self) -> String {
        format!(
            "{:.1} s of CPU in {:.1} s, peak RSS {} MiB",
            self.cpu.as_secs_f64(),
            self.wall.as_secs_f64(),
            self.peak_rss >> 20
        )
    }
}

/// Compiles `bytes` in a child running `exe`, within `limits`, with an
/// engine of `options` whose key is `key`. The compiled artifact, for
/// `Component::deserialize` by the engine of `key`.
pub fn compile(
    exe: &Path,
    options: &EngineOptions,
    key: &[u8; 32],
    bytes: &[u8],
    limits: &CompileLimits,
) -> Result<Vec<u8>, LoadErrorKind> {
    let failed = |what: String| LoadErrorKind::CompileFailed(what);
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args(child_args(options, key))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("cannot start {}: {e}", exe.display())))?;
    let pid = child.id() as libc::pid_t;
    if let Err(e) = set_limits(pid, limits) {
        kill(pid);
        let _ = child.wait();
        return Err(failed(format!("cannot limit the compile child: {e}")));
    }
    let (Some(mut stdin), Some(mut stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        kill(pid);
        let _ = child.wait();
        return Err(failed("the compile child has no pipes".into()));
    };
    std::thread::scope(|scope| {
        // A child that dies early closes its end: the write error is moot,
        // its exit says why.
        scope.spawn(move || {
            no_sigpipe_here();
            drop(stdin.write_all(bytes))
        });
        let artifact = scope.spawn(move || {
            let mut out = Vec::new();
            stdout.read_to_end(&mut out).map(|_| out)
        });
        let messages = scope.spawn(move || {
            // Keep the head; drain the rest, so a chatty child never blocks
            // on a full pipe nor dies of a closed one.
            let mut head = Vec::new();
            let mut stderr = stderr;
            let _ = (&mut stderr).take(STDERR_BYTES).read_to_end(&mut head);
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
            String::from_utf8_lossy(&head).into_owned()
        });
        // Reaped here, never through `child`, so the pid stays ours until then.
        let deadline = started
            .checked_add(wall_limit(limits))
            .unwrap_or_else(|| started + Duration::from_secs(365 * 86_400));
        let (end, mut usage) = reap(pid, deadline);
        usage.wall = started.elapsed();
        let artifact = artifact.join().ok().and_then(Result::ok);
        let messages = messages.join().unwrap_or_default();
        classify(end, &usage, artifact, messages.trim(), limits)
    })
}

/// When a child is killed on the wall clock: at three times its CPU time.
/// The CPU time bounds the work; on a busy machine a compile takes two or
/// three times as long on the wall clock (measured), and one that is stuck
/// or starved still ends.
pub fn wall_limit(limits: &CompileLimits) -> Duration {
    limits.time.saturating_mul(3)
}

/// Sets the child's memory, CPU and core dump limits.
fn set_limits(pid: libc::pid_t, limits: &CompileLimits) -> std::io::Result<()> {
    let cpu = limits.time.as_secs() + u64::from(limits.time.subsec_nanos() > 0);
    let set = |resource, soft: u64, hard: u64| {
        let limit = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: prlimit on our own child, with a valid new limit and no
        // old one asked for.
        if unsafe { libc::prlimit(pid, resource, &limit, std::ptr::null_mut()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    };
    set(libc::RLIMIT_DATA, limits.memory_bytes, limits.memory_bytes)?;
    // SIGXCPU at the limit; the kernel's SIGKILL a second later if ignored.
    set(libc::RLIMIT_CPU, cpu.max(1), cpu.max(1) + 1)?;
    // A child that runs out of memory aborts: no core file of it.
    set(libc::RLIMIT_CORE, 0, 0)
}

/// Blocks SIGPIPE in this thread: a write to a child that died fails with
/// `EPIPE` instead of killing a process that restored SIGPIPE's default
/// (`eval` and `inspect` do, to end quietly under `| head`).
fn no_sigpipe_here() {
    // SAFETY: changes only the calling thread's signal mask, with a valid set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

fn kill(pid: libc::pid_t) {
    // SAFETY: signalling our own child, not yet reaped.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Waits for the child, killing it at `deadline`; how it ended and its usage.
fn reap(pid: libc::pid_t, deadline: Instant) -> (End, Usage) {
    let mut pause = Duration::from_millis(1);
    let mut timed_out = false;
    loop {
        let mut status = 0;
        // SAFETY: all-zero is a valid rusage; wait4 fills it in.
        let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
        let flags = if timed_out { 0 } else { libc::WNOHANG };
        // SAFETY: waits for our own child, with valid out-pointers.
        let done = unsafe { libc::wait4(pid, &mut status, flags, &mut rusage) };
        if done == pid {
            let usage = Usage {
                peak_rss: u64::try_from(rusage.ru_maxrss).unwrap_or(0) << 10,
                cpu: time(rusage.ru_utime) + time(rusage.ru_stime),
                wall: Duration::ZERO,
            };
            let end = if timed_out {
                End::TimedOut
            } else if libc::WIFEXITED(status) {
                End::Exited(libc::WEXITSTATUS(status))
            } else {
                End::Signalled(libc::WTERMSIG(status))
            };
            return (end, usage);
        }
        if done < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return (
                End::Exited(EXIT_MISMATCH),
                Usage {
                    peak_rss: 0,
                    cpu: Duration::ZERO,
                    wall: Duration::ZERO,
                },
            );
        }
        if !timed_out && Instant::now() >= deadline {
            kill(pid);
            timed_out = true;
            continue;
        }
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

fn time(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

/// Whether the child's messages say an allocation failed.
fn out_of_memory(messages: &str) -> bool {
    [
        "memory allocation of",
        "out of memory",
        "Cannot allocate memory",
        "os error 12",
        "failed to allocate",
        // A thread's stack counts toward RLIMIT_DATA: past it, pthread_create
        // fails with EAGAIN and Rust's spawn panics with this text.
        "failed to spawn thread",
        "Resource temporarily unavailable",
    ]
    .iter()
    .any(|m| messages.contains(m))
}

/// The artifact, or which limit (or what else) ended the child.
fn classify(
    end: End,
    usage: &Usage,
    artifact: Option<Vec<u8>>,
    messages: &str,
    limits: &CompileLimits,
) -> Result<Vec<u8>, LoadErrorKind> {
    let time_limit = |what: &str| LoadErrorKind::CompileLimit {
        setting: "compile_time",
        limit: humantime::format_duration(limits.time).to_string(),
        found: format!("the compile child {what} ({})", usage.describe()),
    };
    let memory_limit = || LoadErrorKind::CompileLimit {
        setting: "compile_memory_mib",
        limit: (limits.memory_bytes >> 20).to_string(),
        found: format!("the compile child ran out of memory ({})", usage.describe()),
    };
    let last_line = messages.lines().last().unwrap_or("no message");
    match end {
        End::Exited(0) => artifact.ok_or_else(|| {
            LoadErrorKind::CompileFailed("the compile child's output could not be read".into())
        }),
        End::TimedOut => Err(time_limit(&format!(
            "was still compiling after {} on the wall clock",
            humantime::format_duration(wall_limit(limits))
        ))),
        End::Signalled(libc::SIGXCPU) => Err(time_limit("used its CPU time")),
        End::Signalled(libc::SIGKILL) if usage.cpu >= limits.time => {
            Err(time_limit("used its CPU time"))
        }
        // Before the memory markers: a refusal quotes the component's names.
        End::Exited(EXIT_REFUSED) => Err(LoadErrorKind::Corrupt(messages.to_string())),
        _ if out_of_memory(messages) => Err(memory_limit()),
        End::Signalled(libc::SIGABRT | libc::SIGSEGV | libc::SIGBUS)
            if !messages.contains("overflowed its stack") =>
        {
            Err(memory_limit())
        }
        End::Exited(code) => Err(LoadErrorKind::CompileFailed(format!(
            "the compile child exited with code {code}: {last_line}"
        ))),
        End::Signalled(signal) => Err(LoadErrorKind::CompileFailed(format!(
            "the compile child was killed by signal {signal}: {last_line}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage() -> Usage {
        Usage {
            peak_rss: 300 << 20,
            cpu: Duration::from_secs(2),
            wall: Duration::from_secs(3),
        }
    }

    fn ended(end: End, messages: &str) -> Result<Vec<u8>, LoadErrorKind> {
        let limits = CompileLimits {
            time: Duration::from_secs(2),
            memory_bytes: 256 << 20,
            ..CompileLimits::default()
        };
        classify(end, &usage(), Some(b"artifact".to_vec()), messages, &limits)
    }

    fn setting(result: Result<Vec<u8>, LoadErrorKind>) -> String {
        match result {
            Err(LoadErrorKind::CompileLimit {
                setting,
                limit,
                found,
            }) => format!("{setting}={limit}: {found}"),
            other => panic!("not a limit: {other:?}"),
        }
    }

    #[test]
    fn each_way_a_child_ends_names_its_limit_or_says_what_happened() {
        assert_eq!(ended(End::Exited(0), ""), Ok(b"artifact".to_vec()));
        let cpu = setting(ended(End::Signalled(libc::SIGXCPU), ""));
        assert!(
            cpu.starts_with("compile_time=2s: ") && cpu.contains("CPU time"),
            "{cpu}"
        );
        assert!(cpu.contains("peak RSS 300 MiB"), "{cpu}");
        let killed = setting(ended(End::Signalled(libc::SIGKILL), ""));
        assert!(killed.starts_with("compile_time=2s"), "{killed}");
        let wall = setting(ended(End::TimedOut, ""));
        assert!(wall.contains("after 6s on the wall clock"), "{wall}");
        let oom = "memory allocation of 46434096 bytes failed";
        let memory = setting(ended(End::Signalled(libc::SIGABRT), oom));
        assert!(memory.starts_with("compile_memory_mib=256: "), "{memory}");
        let refused = ended(End::Exited(EXIT_REFUSED), "failed to parse WebAssembly");
        assert!(matches!(refused, Err(LoadErrorKind::Corrupt(m)) if m.contains("parse")));
        let crashed = ended(End::Exited(101), "thread 'main' panicked\nbad thing");
        assert!(
            matches!(&crashed, Err(LoadErrorKind::CompileFailed(m)) if m.contains("code 101: bad thing")),
            "{crashed:?}"
        );
        let overflow = ended(End::Signalled(libc::SIGABRT), "has overflowed its stack");
        assert!(
            matches!(overflow, Err(LoadErrorKind::CompileFailed(_))),
            "{overflow:?}"
        );
    }
}
