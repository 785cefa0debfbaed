//! The network the deployment lives in: the default VPC (or the configured one),
//! one default subnet per availability zone for the load balancer, and (only
//! when an instance is to be launched) the subnet for it, in a zone that offers
//! its type. Read-only: this tool creates
//! no networking.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types as ec2t;

use super::ec2_filter;
use crate::aws::{AwsError, Ctx};
use crate::plan::Plan;

/// The VPC and subnets in use.
#[derive(Debug, Clone)]
pub struct Network {
    /// VPC id.
    pub vpc_id: String,
    /// One subnet per availability zone, sorted by zone: `(zone, subnet id)`.
    pub lb_subnets: Vec<(String, String)>,
}

/// Finds the VPC and its subnets; fails with a plain explanation when the
/// account has no default VPC or fewer than two zones.
pub async fn find(ctx: &Ctx, plan: &Plan) -> Result<Network> {
    let vpc_id = match &plan.vpc_id {
        Some(id) => {
            let out = ctx
                .ec2
                .describe_vpcs()
                .vpc_ids(id)
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to look up VPC {id}"))?;
            if out.vpcs().is_empty() {
                bail!(
                    "VPC {id} (vpc_id in deploy.toml) does not exist in {}",
                    ctx.region
                );
            }
            id.clone()
        }
        None => {
            let out = ctx
                .ec2
                .describe_vpcs()
                .filters(ec2_filter("is-default", "true"))
                .send()
                .await
                .map_err(AwsError::from)
                .context("failed to look up the default VPC")?;
            match out.vpcs().first().and_then(|v| v.vpc_id()) {
                Some(id) => id.to_string(),
                None => bail!(
                    "the account has no default VPC in {}: create one with \
                     `aws ec2 create-default-vpc --region {}`, or set vpc_id in deploy.toml",
                    ctx.region,
                    ctx.region
                ),
            }
        }
    };

    let mut subnet_query = ctx
        .ec2
        .describe_subnets()
        .filters(ec2_filter("vpc-id", &vpc_id));
    if plan.vpc_id.is_none() {
        subnet_query = subnet_query.filters(ec2_filter("default-for-az", "true"));
    }
    let subnets = subnet_query
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to list subnets of {vpc_id}"))?;

    // One subnet per zone: the lowest subnet id, so the choice is stable.
    let mut by_zone: BTreeMap<String, String> = BTreeMap::new();
    for s in subnets.subnets() {
        if let (Some(zone), Some(id)) = (s.availability_zone(), s.subnet_id()) {
            let e = by_zone
                .entry(zone.to_string())
                .or_insert_with(|| id.to_string());
            if id < e.as_str() {
                *e = id.to_string();
            }
        }
    }
    if by_zone.len() < 2 {
        bail!(
            "an Application Load Balancer needs subnets in at least two availability zones, \
             but VPC {vpc_id} has {} in {}: {}",
            if plan.vpc_id.is_none() {
                "default subnets"
            } else {
                "subnets"
            },
            if by_zone.len() == 1 {
                "one zone only"
            } else {
                "no zone"
            },
            if plan.vpc_id.is_none() {
                "create the missing default subnets with `aws ec2 create-default-subnet \
                 --availability-zone <zone>`"
            } else {
                "add a subnet in a second zone"
            }
        );
    }
    Ok(Network {
        lb_subnets: by_zone.into_iter().collect(),
        vpc_id,
    })
}

/// The instance's subnet: the first of `net`'s zones (in name order) that
/// offers the instance type. Returns `(zone, subnet id)`.
pub async fn instance_subnet(ctx: &Ctx, plan: &Plan, net: &Network) -> Result<(String, String)> {
    let offerings = ctx
        .ec2
        .describe_instance_type_offerings()
        .location_type(ec2t::LocationType::AvailabilityZone)
        .filters(ec2_filter("instance-type", &plan.instance_type))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to look up where {} is offered", plan.instance_type))?;
    let offered: Vec<&str> = offerings
        .instance_type_offerings()
        .iter()
        .filter_map(|o| o.location())
        .collect();
    match net
        .lb_subnets
        .iter()
        .find(|(zone, _)| offered.contains(&zone.as_str()))
    {
        Some((zone, subnet)) => Ok((zone.clone(), subnet.clone())),
        None => bail!(
            "instance type {} is not offered in any zone of VPC {} ({}); choose another \
             instance.type in deploy.toml",
            plan.instance_type,
            net.vpc_id,
            net.lb_subnets
                .iter()
                .map(|(z, _)| z.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
