//! sitedeploy: put a templated website on AWS (an EC2 instance behind an
//! Application Load Balancer) and take it down again.
//!
//! The binaries in `src/bin/` only parse flags and call [`cli`]; the work is in
//! [`deploy`] and [`cleanup`], over one table of the deployment's resources
//! ([`table`]: observe, decide, the rows every view prints) and one module per
//! AWS resource in [`resources`].

pub mod aws;
pub mod cleanup;
pub mod cli;
pub mod config;
pub mod console;
pub mod cost;
pub mod deploy;
pub mod plan;
pub mod preflight;
pub mod preview;
pub mod progress;
pub mod regions;
pub mod resources;
pub mod site;
pub mod status;
pub mod table;
