//! sitedeploy: put a templated website on AWS (an EC2 instance behind an
//! Application Load Balancer) and take it down again.
//!
//! The binaries in `src/bin/` only parse flags and call [`cli`]. Every command
//! works from one observation ([`observe`]) of the deployment's resources,
//! each kind with its spec ([`spec`]) and module ([`resources`]); deploy and
//! `--plan` add one decision ([`table`]), which deploy applies as a graph
//! ([`apply`], [`graph`]) before it proves the site ([`rollout`]).

pub mod apply;
pub mod aws;
pub mod cleanup;
pub mod cli;
pub mod config;
pub mod console;
pub mod cost;
pub mod deploy;
pub mod graph;
pub mod initsite;
pub mod observe;
pub mod output;
pub mod plan;
pub mod preflight;
pub mod preview;
pub mod progress;
pub mod regions;
pub mod resources;
pub mod rollout;
pub mod shell;
pub mod site;
pub mod sitedir;
pub mod spec;
pub mod status;
pub mod summary;
pub mod table;
pub mod tags;
