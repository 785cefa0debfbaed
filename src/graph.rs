//! A small dependency-graph runner: every step starts as soon as the steps it
//! depends on are done, so independent steps run at the same time without a
//! hand-written stage per resource. The first failure stops the run (steps
//! under way are dropped, which abandons their in-flight calls; everything is
//! tagged when created, so a re-run or cleanup finds it).

use std::future::Future;
use std::pin::Pin;

use anyhow::Result;
use futures_util::stream::{FuturesUnordered, StreamExt};

/// A step's work, started once its dependencies are done.
pub type Work<'a> = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Result<()>> + 'a>> + 'a>;

/// One step of the graph.
pub struct Step<'a, K> {
    /// Which step.
    pub key: K,
    /// What it waits for (steps not in the graph count as done).
    pub deps: &'a [K],
    /// Its work.
    pub work: Work<'a>,
}

impl<'a, K> Step<'a, K> {
    /// A step of `key` after `deps`, doing `work`.
    pub fn new<F, Fut>(key: K, deps: &'a [K], work: F) -> Step<'a, K>
    where
        F: FnOnce() -> Fut + 'a,
        Fut: Future<Output = Result<()>> + 'a,
    {
        Step {
            key,
            deps,
            work: Box::new(move || Box::pin(work())),
        }
    }
}

/// Runs every step once its dependencies are done; returns the order in which
/// the steps started (for tests) or the first failure.
pub async fn run<K: Copy + PartialEq + std::fmt::Debug>(steps: Vec<Step<'_, K>>) -> Result<Vec<K>> {
    let keys: Vec<K> = steps.iter().map(|s| s.key).collect();
    let mut waiting = steps;
    let mut done: Vec<K> = Vec::new();
    let mut started = Vec::new();
    let mut running = FuturesUnordered::new();
    loop {
        let ready = |s: &Step<'_, K>| s.deps.iter().all(|d| done.contains(d) || !keys.contains(d));
        let (now, later): (Vec<_>, Vec<_>) = waiting.into_iter().partition(|s| ready(s));
        waiting = later;
        for s in now {
            started.push(s.key);
            let key = s.key;
            let fut = (s.work)();
            running.push(async move { (key, fut.await) });
        }
        match running.next().await {
            Some((key, Ok(()))) => done.push(key),
            Some((_, Err(e))) => return Err(e),
            None if waiting.is_empty() => return Ok(started),
            None => anyhow::bail!(
                "steps {:?} wait for steps that never finish",
                waiting.iter().map(|s| s.key).collect::<Vec<_>>()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

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
        let order = run(vec![
            step("c", &["a", "b"], 10),
            step("a", &[], 100),
            step("b", &[], 50),
            step("d", &["b", "missing"], 100),
        ])
        .await
        .unwrap();
        assert_eq!(order, ["a", "b", "d", "c"]);
        // a and b at once, d after b, c after a: 100 + 10 ms, not 260.
        assert_eq!(t0.elapsed(), Duration::from_millis(150));
        let log = log.into_inner().unwrap();
        let at = |e: &str| log.iter().position(|x| x == e).unwrap();
        assert!(at("end a") < at("start c") && at("end b") < at("start c"));
        assert!(at("end b") < at("start d"));
    }

    #[tokio::test]
    async fn the_first_failure_stops_the_run_and_a_cycle_is_an_error() {
        let r = run(vec![
            Step::new(1, &[], || async { anyhow::bail!("boom") }),
            Step::new(2, &[1], || async { Ok(()) }),
        ])
        .await;
        assert_eq!(r.unwrap_err().to_string(), "boom");
        let r = run(vec![
            Step::new(1, &[2], || async { Ok(()) }),
            Step::new(2, &[1], || async { Ok(()) }),
        ])
        .await;
        assert!(r.unwrap_err().to_string().contains("never finish"));
    }
}
