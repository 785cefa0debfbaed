//! Build-order helper, no code of its own. Cargo starts the ready crate with
//! the most crates depending on it; every AWS SDK crate of sitedeploy has the
//! same few, so cargo picks among them at random, and aws-sdk-ec2 (about two
//! thirds of a cold build) often waits 40 s behind smaller ones. Two crates
//! between sitedeploy and aws-sdk-ec2 make it the first. TECHNICAL.md, "Build
//! time", has the measurements.
pub use aws_sdk_ec2;
