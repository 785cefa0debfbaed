//! A small dependency-graph runner: every step starts as soon as the steps it
//! depends on are done, so independent steps run at the same time without a
//! hand-written stage per resource.
//!
//! After the first failure (or an interrupt), no new step starts except those
//! marked [`OnFailure::Start`] whose dependencies are done; steps under way
//! finish unless marked [`OnFailure::Cancel`] (a wait), so what was being
//! created is created, and what must follow a creation whatever happens (the
//! expiry of what costs money) still follows it. The first failure is
//! returned once nothing is left to run.

use std::future::Future;
use std::pin::Pin;

use anyhow::Result;
use futures_util::stream::{FuturesUnordered, StreamExt};

/// A step's work, started once its dependencies are done.
pub type Work<'a> = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Result<()>> + 'a>> + 'a>;

/// What happens to a step when another one fails or the run is interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Dropped if under way (a wait that no longer matters); not started.
    Cancel,
    /// Left to finish if under way (a creation); not started.
    Finish,
    /// Left to finish, and still started once its dependencies are done.
    Start,
}

/// One step of the graph.
pub struct Step<'a, K> {
    /// Which step.
    pub key: K,
    /// What it waits for (steps not in the graph count as done).
    pub deps: &'a [K],
    /// What a failure elsewhere does to it.
    pub on_failure: OnFailure,
    /// Its work.
    pub work: Work<'a>,
}

impl<'a, K> Step<'a, K> {
    /// A step of `key` after `deps`, doing `work` (cancelled by a failure
    /// elsewhere).
    pub fn new<F, Fut>(key: K, deps: &'a [K], work: F) -> Step<'a, K>
    where
        F: FnOnce() -> Fut + 'a,
        Fut: Future<Output = Result<()>> + 'a,
    {
        Step {
            key,
            deps,
            on_failure: OnFailure::Cancel,
            work: Box::new(move || Box::pin(work())),
        }
    }

    /// The step with this failure policy.
    pub fn on_failure(mut self, policy: OnFailure) -> Self {
        self.on_failure = policy;
        self
    }
}

type Running<'a, K> = FuturesUnordered<Pin<Box<dyn Future<Output = (K, Result<()>)> + 'a>>>;

/// Runs every step once its dependencies are done; returns the order in which
/// the steps started (for tests) or the first failure. `interrupt`, when it
/// resolves, counts as a failure (`Interrupted`).
pub async fn run<'a, K: Copy + PartialEq + std::fmt::Debug + 'a>(
    steps: Vec<Step<'a, K>>,
    interrupt: impl Future<Output = ()>,
) -> Result<Vec<K>> {
    let keys: Vec<K> = steps.iter().map(|s| s.key).collect();
    let mut waiting = steps;
    let mut done: Vec<K> = Vec::new();
    let mut started = Vec::new();
    // Under way: those a failure cancels, and those it lets finish.
    let mut cancellable: Running<'a, K> = FuturesUnordered::new();
    let mut finishing: Running<'a, K> = FuturesUnordered::new();
    let mut failure: Option<anyhow::Error> = None;
    let mut interrupt = std::pin::pin!(interrupt);
    loop {
        // An interrupt that came before this round stops it from starting anything.
        if failure.is_none() && futures_util::FutureExt::now_or_never(interrupt.as_mut()).is_some()
        {
            failure = Some(Interrupted.into());
            cancellable.clear();
        }
        let ready = |s: &Step<'_, K>| {
            let may = failure.is_none() || s.on_failure == OnFailure::Start;
            may && s.deps.iter().all(|d| done.contains(d) || !keys.contains(d))
        };
        let (now, later): (Vec<_>, Vec<_>) = waiting.into_iter().partition(|s| ready(s));
        waiting = later;
        for s in now {
            started.push(s.key);
            let (key, fut) = (s.key, (s.work)());
            let fut: Pin<Box<dyn Future<Output = (K, Result<()>)> + 'a>> =
                Box::pin(async move { (key, fut.await) });
            match s.on_failure {
                OnFailure::Cancel => cancellable.push(fut),
                _ => finishing.push(fut),
            }
        }
        if cancellable.is_empty() && finishing.is_empty() {
            return match (failure, waiting.is_empty()) {
                (Some(e), _) => Err(e),
                (None, true) => Ok(started),
                (None, false) => anyhow::bail!(
                    "steps {:?} wait for steps that never finish",
                    waiting.iter().map(|s| s.key).collect::<Vec<_>>()
                ),
            };
        }
        let next = tokio::select! {
            Some(r) = cancellable.next(), if !cancellable.is_empty() => r,
            Some(r) = finishing.next(), if !finishing.is_empty() => r,
            () = &mut interrupt, if failure.is_none() => {
                failure = Some(Interrupted.into());
                cancellable.clear();
                continue;
            }
        };
        match next {
            (key, Ok(())) => done.push(key),
            (_, Err(e)) => {
                if failure.is_none() {
                    failure = Some(e);
                }
                cancellable.clear();
            }
        }
    }
}

/// The run was interrupted (Ctrl-C, SIGTERM): what was under way finished or
/// was dropped, and nothing new started but the steps that must follow a
/// creation.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    fn never() -> std::future::Pending<()> {
        std::future::pending()
    }

    #[tokio::test(start_paused = true)]
    async fn steps_start_once_their_dependencies_are_done_and_overlap_otherwise() {
        let log = Mutex::new(Vec::new());
        let step = |key: &'static str, deps: &'static [&'static str], ms: u64| {
            let log = &log;
            Step::new(key, deps, move || async move {
                log.lock().unwrap().push(format!("start {key}"));
                tokio::time::sleep(Duration::from_millis(ms)).await;
                log.lock().unwrap().push(format!("end {key}"));
                Ok(())
            })
        };
        let t0 = tokio::time::Instant::now();
        let order = run(
            vec![
                step("c", &["a", "b"], 10),
                step("a", &[], 100),
                step("b", &[], 50),
                step("d", &["b", "missing"], 100),
            ],
            never(),
        )
        .await
        .unwrap();
        assert_eq!(order, ["a", "b", "d", "c"]);
        // a and b at once, d after b, c after a: 150 ms, not 260.
        assert_eq!(t0.elapsed(), Duration::from_millis(150));
        let log = log.into_inner().unwrap();
        let at = |e: &str| log.iter().position(|x| x == e).unwrap();
        assert!(at("end a") < at("start c") && at("end b") < at("start c"));
        assert!(at("end b") < at("start d"));
    }

    #[tokio::test]
    async fn the_first_failure_stops_the_run_and_a_cycle_is_an_error() {
        let r = run(
            vec![
                Step::new(1, &[], || async { anyhow::bail!("boom") }),
                Step::new(2, &[1], || async { Ok(()) }),
            ],
            never(),
        )
        .await;
        assert_eq!(r.unwrap_err().to_string(), "boom");
        let r = run(
            vec![
                Step::new(1, &[2], || async { Ok(()) }),
                Step::new(2, &[1], || async { Ok(()) }),
            ],
            never(),
        )
        .await;
        assert!(r.unwrap_err().to_string().contains("never finish"));
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_failure_creations_finish_waits_stop_and_what_must_follow_still_runs() {
        let log = Mutex::new(Vec::<&str>::new());
        let log = &log;
        let t0 = tokio::time::Instant::now();
        let sleep = |ms| tokio::time::sleep(Duration::from_millis(ms));
        let r = run(
            vec![
                // "create" is under way when "fails" fails: it finishes, and
                // its "expiry" still starts; "wait" is dropped, "later" never starts.
                Step::new("create", &[], move || async move {
                    sleep(50).await;
                    log.lock().unwrap().push("created");
                    Ok(())
                })
                .on_failure(OnFailure::Finish),
                Step::new("fails", &[], move || async move {
                    sleep(10).await;
                    anyhow::bail!("refused")
                }),
                Step::new("wait", &[], move || async move {
                    sleep(1000).await;
                    log.lock().unwrap().push("waited");
                    Ok(())
                }),
                Step::new("later", &["create"], move || async move {
                    log.lock().unwrap().push("later");
                    Ok(())
                }),
                Step::new("expiry", &["create"], move || async move {
                    log.lock().unwrap().push("expiry");
                    Ok(())
                })
                .on_failure(OnFailure::Start),
            ],
            never(),
        )
        .await;
        assert_eq!(r.unwrap_err().to_string(), "refused");
        assert_eq!(*log.lock().unwrap(), ["created", "expiry"]);
        assert_eq!(t0.elapsed(), Duration::from_millis(50));

        // An interrupt is a failure of its own.
        let r = run(
            vec![Step::new("wait", &[], move || async move {
                sleep(1000).await;
                Ok(())
            })],
            sleep(5),
        )
        .await;
        assert!(r.unwrap_err().downcast_ref::<Interrupted>().is_some());
    }
}
