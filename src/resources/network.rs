//! The network the deployment lives in: the default VPC (or the configured one),
//! one subnet per availability zone (in a VPC of the user's, only subnets routed
//! to an internet gateway), and, only when something is to be created, where it
//! goes: the instance in a zone that offers its type, the load balancer in that
//! zone plus the next ones (`load_balancer.zones`, default 2: each zone adds a
//! billed public IPv4 address). Read-only: this tool creates no networking.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types as ec2t;

use super::ec2_filter;
use crate::aws::{unless_not_found, AwsError, Ctx};
use crate::plan::Plan;

/// A subnet the deployment may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// Availability zone name.
    pub zone: String,
    /// Subnet id.
    pub id: String,
    /// Whether instances launched here get a public IPv4 address by themselves.
    pub maps_public_ip: bool,
}

/// The VPC and its usable subnets.
#[derive(Debug, Clone)]
pub struct Network {
    /// VPC id.
    pub vpc_id: String,
    /// One subnet per availability zone, sorted by zone; with `vpc_id` set, only
    /// subnets whose route table sends 0.0.0.0/0 to an internet gateway.
    pub subnets: Vec<Subnet>,
}

/// Where things go: the instance's subnet, and the load balancer's subnets in
/// order of preference (the instance's zone first, then zones offering the
/// instance type, then the rest); the first `lb_zones` are used.
#[derive(Debug, Clone)]
pub struct Placement {
    /// The instance's subnet.
    pub instance: Subnet,
    /// Load balancer subnet candidates, most preferred first.
    pub lb_candidates: Vec<Subnet>,
}

/// Finds the VPC and its subnets; fails with a plain explanation when the
/// account has no default VPC or fewer than two zones.
pub async fn find(ctx: &Ctx, plan: &Plan) -> Result<Network> {
    let vpc_id = match &plan.vpc_id {
        Some(id) => {
            let res = ctx
                .ec2
                .describe_vpcs()
                .vpc_ids(id)
                .send()
                .await
                .map_err(AwsError::from);
            let out = unless_not_found(res, || format!("failed to look up VPC {id}"))?;
            if out.is_none_or(|o| o.vpcs().is_empty()) {
                bail!(
                    "VPC {id} (vpc_id in deploy.toml) does not exist in {}: check the id and \
                     the region, or remove vpc_id to use the default VPC",
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
    // A default subnet always routes to the default VPC's internet gateway; in a
    // VPC of the user's, only subnets whose route table does are usable.
    let public = match plan.vpc_id {
        None => None,
        Some(_) => Some(internet_routed(ctx, &vpc_id).await?),
    };

    // One subnet per zone: the lowest subnet id, so the choice is stable.
    let mut by_zone: BTreeMap<String, Subnet> = BTreeMap::new();
    let mut private = 0;
    for s in subnets.subnets() {
        let (Some(zone), Some(id)) = (s.availability_zone(), s.subnet_id()) else {
            continue;
        };
        if let Some(p) = &public {
            if !p.routes(id) {
                private += 1;
                continue;
            }
        }
        let subnet = Subnet {
            zone: zone.to_string(),
            id: id.to_string(),
            maps_public_ip: s.map_public_ip_on_launch().unwrap_or(false),
        };
        let e = by_zone
            .entry(zone.to_string())
            .or_insert_with(|| subnet.clone());
        if subnet.id < e.id {
            *e = subnet;
        }
    }
    if by_zone.len() < 2 {
        let why = if plan.vpc_id.is_none() {
            "create the missing default subnets with `aws ec2 create-default-subnet \
             --availability-zone <zone>`"
                .to_string()
        } else if private > 0 {
            format!(
                "{private} subnet(s) were passed over because their route table has no route \
                 0.0.0.0/0 to an internet gateway (the load balancer must be reachable from \
                 the internet, and the instance must reach it to download the template)"
            )
        } else {
            "add a subnet in a second zone".to_string()
        };
        bail!(
            "an Application Load Balancer needs subnets in at least two availability zones, \
             but VPC {vpc_id} has {} in {}: {why}",
            if plan.vpc_id.is_none() {
                "default subnets"
            } else {
                "internet-routed subnets"
            },
            if by_zone.len() == 1 {
                "one zone only"
            } else {
                "no zone"
            },
        );
    }
    Ok(Network {
        subnets: by_zone.into_values().collect(),
        vpc_id,
    })
}

/// Which subnets of a VPC route 0.0.0.0/0 to an internet gateway.
struct InternetRouted {
    /// Subnets explicitly associated with a table: whether it routes out.
    explicit: BTreeMap<String, bool>,
    /// Whether the VPC's main table (used by every other subnet) routes out.
    main: bool,
}

impl InternetRouted {
    fn routes(&self, subnet: &str) -> bool {
        self.explicit.get(subnet).copied().unwrap_or(self.main)
    }
}

async fn internet_routed(ctx: &Ctx, vpc_id: &str) -> Result<InternetRouted> {
    let out = ctx
        .ec2
        .describe_route_tables()
        .filters(ec2_filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to read the route tables of {vpc_id}"))?;
    let mut r = InternetRouted {
        explicit: BTreeMap::new(),
        main: false,
    };
    for t in out.route_tables() {
        let out_route = t.routes().iter().any(|route| {
            route.destination_cidr_block() == Some("0.0.0.0/0")
                && route.gateway_id().is_some_and(|g| g.starts_with("igw-"))
        });
        for a in t.associations() {
            if a.main() == Some(true) {
                r.main = out_route;
            } else if let Some(s) = a.subnet_id() {
                r.explicit.insert(s.to_string(), out_route);
            }
        }
    }
    Ok(r)
}

/// Chooses the instance's subnet (the first zone, in name order, that offers
/// the instance type) and orders the load balancer's candidates.
pub async fn place(ctx: &Ctx, plan: &Plan, net: &Network) -> Result<Placement> {
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
    order(net, &offered).ok_or_else(|| {
        anyhow::anyhow!(
            "instance type {} is not offered in any zone of VPC {} ({}); choose another \
             instance.type in deploy.toml",
            plan.instance_type,
            net.vpc_id,
            net.subnets
                .iter()
                .map(|s| s.zone.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Pure part of [`place`]: the instance in the first offering zone; the load
/// balancer's candidates in the order instance zone, other offering zones,
/// the rest.
pub fn order(net: &Network, offered: &[&str]) -> Option<Placement> {
    let instance = net
        .subnets
        .iter()
        .find(|s| offered.contains(&s.zone.as_str()))?
        .clone();
    let mut lb_candidates = vec![instance.clone()];
    let (offering, rest): (Vec<&Subnet>, Vec<&Subnet>) = net
        .subnets
        .iter()
        .filter(|s| s.id != instance.id)
        .partition(|s| offered.contains(&s.zone.as_str()));
    lb_candidates.extend(offering.into_iter().chain(rest).cloned());
    Some(Placement {
        instance,
        lb_candidates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sn(zone: &str) -> Subnet {
        Subnet {
            zone: zone.into(),
            id: format!("subnet-{zone}"),
            maps_public_ip: true,
        }
    }

    #[test]
    fn instance_zone_first_then_offering_zones() {
        let net = Network {
            vpc_id: "vpc-1".into(),
            subnets: ["a", "b", "c", "d"].iter().map(|z| sn(z)).collect(),
        };
        let p = order(&net, &["b", "d"]).unwrap();
        assert_eq!(p.instance.zone, "b");
        let zones: Vec<&str> = p.lb_candidates.iter().map(|s| s.zone.as_str()).collect();
        assert_eq!(zones, ["b", "d", "a", "c"]);
        assert!(order(&net, &["x"]).is_none());
    }
}
