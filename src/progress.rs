//! Progress on stderr: one spinner line per step with its elapsed time when
//! stderr is a terminal (indicatif), plain timestamped lines otherwise (CI,
//! pipes). Log lines from `tracing` go through [`LogWriter`], which suspends the
//! bars so they do not tear.

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
}

impl Progress {
    /// Spinners when stderr is a terminal, plain lines otherwise.
    pub fn new(quiet: bool) -> Progress {
        let multi = (!quiet && std::io::stderr().is_terminal()).then(MultiProgress::new);
        Progress {
            inner: Arc::new(Inner {
                multi,
                start: Instant::now(),
                quiet,
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
            }),
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
        Step {
            name: name.to_string(),
            bar,
            progress: self.clone(),
            last: Mutex::new(String::new()),
            start: Instant::now(),
        }
    }

    /// Prints a line above the bars (or plainly).
    pub fn println(&self, line: &str) {
        if self.inner.quiet {
            return;
        }
        match &self.inner.multi {
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

    /// Ends the step with its result.
    pub fn done(&self, msg: &str) {
        let secs = self.start.elapsed().as_secs_f64();
        match &self.bar {
            Some(b) => {
                b.set_style(
                    ProgressStyle::with_template("  {prefix:<22.green} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                b.finish_with_message(format!("{msg} ({secs:.1}s)"));
            }
            None => self
                .progress
                .println(&format!("{}: {msg} ({secs:.1}s)", self.name)),
        }
    }

    /// Ends the step with a failure.
    pub fn fail(&self, msg: &str) {
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
        if let Some(b) = &self.bar {
            if !b.is_finished() {
                b.abandon_with_message("stopped");
            }
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
