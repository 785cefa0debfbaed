//! Build-order helper, no code of its own: see `sitedeploy-ec2-first`.
pub use sitedeploy_ec2_first;
