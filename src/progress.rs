//! Progress on stderr: one spinner line per step with its elapsed time when
//! stderr is a terminal (indicatif), plain timestamped lines otherwise (CI,
//! pipes). Log lines from `tracing` go through [`LogWriter`], which suspends the
//! bars so they do not tear. Every step's end is kept ([`Progress::close`]):
//! when a run stops early (an error, Ctrl-C, SIGTERM) the history is printed
//! as plain lines, each step as it ended, the unfinished ones `interrupted`.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// The progress display of one run.
#[derive(Clone)]
pub struct Progress {
    inner: Arc<Inner>,
}

struct Inner {
    multi: Option<MultiProgress>,
    start: Instant,
    quiet: bool,
    /// Every step started: its name and how it ended (`None`: not yet).
    history: Mutex<Vec<(String, Option<String>)>>,
    /// [`Progress::close`] ran: lines are plain from then on.
    closed: std::sync::atomic::AtomicBool,
}

/// What an unfinished step says when the run stops (not a state of what it
/// was working on: "stopped" would read like an instance's).
pub const INTERRUPTED: &str = "interrupted";

impl Progress {
    /// Spinners when stderr is a terminal, plain lines otherwise.
    pub fn new(quiet: bool) -> Progress {
        let multi = (!quiet && std::io::stderr().is_terminal()).then(MultiProgress::new);
        Progress {
            inner: Arc::new(Inner {
                multi,
                start: Instant::now(),
                quiet,
                history: Mutex::new(Vec::new()),
                closed: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// Plain lines, whatever stderr is (for tests).
    pub fn plain() -> Progress {
        Progress {
            inner: Arc::new(Inner {
                multi: None,
                start: Instant::now(),
                quiet: false,
                history: Mutex::new(Vec::new()),
                closed: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    fn history(&self) -> std::sync::MutexGuard<'_, Vec<(String, Option<String>)>> {
        self.inner.history.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ended(&self, index: usize, how: String) {
        if let Some(entry) = self.history().get_mut(index) {
            entry.1.get_or_insert(how);
        }
    }

    /// The run stops early: on a terminal the bars are cleared and every
    /// step is printed as it ended (the unfinished ones [`INTERRUPTED`]), so
    /// nothing that happened is lost from the screen; in plain mode only the
    /// unfinished steps get their line.
    pub fn close(&self) {
        if self.inner.quiet {
            return;
        }
        if self
            .inner
            .closed
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        let history = self.history().clone();
        // The bars first (they lock stderr themselves to draw), then stderr.
        if let Some(m) = &self.inner.multi {
            let _ = m.clear();
            m.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let mut out = std::io::stderr().lock();
        match &self.inner.multi {
            Some(_) => {
                for (name, how) in &history {
                    let how = how.as_deref().unwrap_or(INTERRUPTED);
                    let _ = writeln!(out, "  {name:<22} {how}");
                }
            }
            None => {
                let secs = self.elapsed().as_secs_f64();
                for (name, _) in history.iter().filter(|(_, how)| how.is_none()) {
                    let _ = writeln!(out, "[{secs:6.1}s] {name}: {INTERRUPTED}");
                }
            }
        }
        for entry in self.history().iter_mut() {
            entry.1.get_or_insert_with(|| INTERRUPTED.to_string());
        }
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.inner.start.elapsed()
    }

    /// Starts a step.
    pub fn step(&self, name: &str) -> Step {
        let bar = self.inner.multi.as_ref().map(|m| {
            let b = m.add(ProgressBar::new_spinner());
            b.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {prefix:<22} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.set_prefix(name.to_string());
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        let index = {
            let mut h = self.history();
            h.push((name.to_string(), None));
            h.len() - 1
        };
        Step {
            name: name.to_string(),
            bar,
            progress: self.clone(),
            last: Mutex::new(String::new()),
            start: Instant::now(),
            index,
            finished: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A line that is printed even when quiet (plainly, then): who a
    /// command acts as.
    pub fn note(&self, line: &str) {
        match self.inner.quiet {
            true => {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
            false => self.println(line),
        }
    }

    /// A line above the steps (with the elapsed time when not on a terminal);
    /// nothing when quiet.
    pub fn println(&self, line: &str) {
        if self.inner.quiet {
            return;
        }
        let closed = self.inner.closed.load(std::sync::atomic::Ordering::SeqCst);
        match &self.inner.multi {
            Some(_) if closed => {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
            Some(m) => {
                let _ = m.println(line);
            }
            None => {
                let secs = self.elapsed().as_secs_f64();
                let _ = writeln!(std::io::stderr(), "[{secs:6.1}s] {line}");
            }
        }
    }

    /// Runs `f` with the bars hidden, for log output.
    fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.inner.multi {
            Some(m) => m.suspend(f),
            None => f(),
        }
    }
}

/// One step's line.
pub struct Step {
    name: String,
    bar: Option<ProgressBar>,
    progress: Progress,
    last: Mutex<String>,
    start: Instant,
    index: usize,
    finished: std::sync::atomic::AtomicBool,
}

impl Step {
    /// Shows what the step is doing or waiting for; plain mode prints only changes.
    pub fn set(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.set_message(msg.to_string()),
            None => {
                let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
                if *last != msg {
                    *last = msg.to_string();
                    self.progress.println(&format!("{}: {msg}", self.name));
                }
            }
        }
    }

    /// Shows a wait's state with the time spent so far.
    pub fn waiting(&self, state: &str, elapsed: Duration) {
        match &self.bar {
            Some(b) => b.set_message(format!("{state}, waited {}s", elapsed.as_secs())),
            None => self.set(state),
        }
    }

    /// Shows a refusal AWS says will pass ("not yet": a dependency still
    /// holds the resource) while it is retried.
    pub fn refused(&self, e: &anyhow::Error, elapsed: Duration) {
        let code = crate::aws::code(e).unwrap_or("refused");
        self.waiting(&format!("{code} (still in use), retrying"), elapsed);
    }

    /// Ends the step with its result (and the time it took).
    pub fn done(&self, msg: &str) {
        let secs = self.start.elapsed().as_secs_f64();
        let line = format!("{msg} (took {secs:.1}s)");
        self.progress.ended(self.index, line.clone());
        self.finished
            .store(true, std::sync::atomic::Ordering::SeqCst);
        match &self.bar {
            Some(b) => {
                b.set_style(
                    ProgressStyle::with_template("  {prefix:<22.green} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                b.finish_with_message(line);
            }
            None => self.progress.println(&format!("{}: {line}", self.name)),
        }
    }

    /// Ends the step with a failure.
    pub fn fail(&self, msg: &str) {
        self.progress.ended(self.index, format!("failed: {msg}"));
        self.finished
            .store(true, std::sync::atomic::Ordering::SeqCst);
        match &self.bar {
            Some(b) => {
                b.set_style(
                    ProgressStyle::with_template("  {prefix:<22.red} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                b.finish_with_message(format!("failed: {msg}"));
            }
            None => self
                .progress
                .println(&format!("{}: failed: {msg}", self.name)),
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if self.finished.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        // Dropped unfinished: the run stopped while it worked.
        self.progress.ended(self.index, INTERRUPTED.to_string());
        match &self.bar {
            Some(b) => b.abandon_with_message(INTERRUPTED),
            None => self
                .progress
                .println(&format!("{}: {INTERRUPTED}", self.name)),
        }
    }
}

/// A `tracing` writer that prints to stderr without tearing the bars.
#[derive(Clone)]
pub struct LogWriter(pub Progress);

/// One log record's buffer; flushed as a whole on drop.
pub struct LogLine {
    progress: Progress,
    buf: Vec<u8>,
}

impl Write for LogLine {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.progress.suspend(|| {
            let _ = std::io::stderr().write_all(&buf);
        });
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogLine;
    fn make_writer(&'a self) -> Self::Writer {
        LogLine {
            progress: self.0.clone(),
            buf: Vec::new(),
        }
    }
}
