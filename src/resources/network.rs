//! The network the deployment lives in: the default VPC (or the configured one)
//! and, only when something is to be created in a zone, where it may go: one
//! subnet per availability zone (in a VPC of the user's, only subnets routed
//! to an internet gateway) and the zones that offer the instance type. The load
//! balancer takes the first `load_balancer.zones` (default 2: each zone adds a
//! billed public IPv4 address), preferring zones that offer the type; the web
//! servers then go to the zones it was actually given. Read-only: this tool
//! creates no networking.

use std::collections::BTreeMap;

use anyhow::{bail, Context, Result};
use aws_sdk_ec2::types as ec2t;

use crate::aws::{unless_not_found, AwsError, Ctx};
use crate::plan::Plan;
use crate::tags::ec2_filter;

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

/// A zone the load balancer spans, and its subnet there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Zone name.
    pub name: String,
    /// Subnet id.
    pub subnet: String,
}

/// What deploy.toml asks of the network.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The VPC of one's own, or `None` for the default VPC.
    pub vpc_id: Option<String>,
    /// The web servers' instance type (zones that offer it are preferred).
    pub instance_type: String,
}

impl Spec {
    /// The network of `plan`.
    pub fn new(plan: &Plan) -> Spec {
        Spec {
            vpc_id: plan.vpc_id.clone(),
            instance_type: plan.instance_type.clone(),
        }
    }
}

/// The VPC the deployment lives in: the configured one (checked to exist), or
/// the default VPC; fails with a plain explanation when there is none.
pub async fn vpc(ctx: &Ctx, spec: &Spec) -> Result<String> {
    if let Some(id) = &spec.vpc_id {
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
        return Ok(id.clone());
    }
    let out = ctx
        .ec2
        .describe_vpcs()
        .filters(ec2_filter("is-default", "true"))
        .send()
        .await
        .map_err(AwsError::from)
        .context("failed to look up the default VPC")?;
    match out.vpcs().first().and_then(|v| v.vpc_id()) {
        Some(id) => Ok(id.to_string()),
        None => bail!(
            "the account has no default VPC in {}: create one with \
             `aws ec2 create-default-vpc --region {}`, or set vpc_id in deploy.toml",
            ctx.region,
            ctx.region
        ),
    }
}

/// Where new things may go, looked up only when something is to be created
/// in a zone: one subnet per zone, and the zones that offer the instance type.
#[derive(Debug, Clone, Default)]
pub struct Places {
    /// One subnet per availability zone, sorted by zone; with `vpc_id` set,
    /// only subnets whose route table sends 0.0.0.0/0 to an internet gateway.
    pub subnets: Vec<Subnet>,
    /// The zones that offer the web servers' instance type.
    pub offered: Vec<String>,
}

/// The subnets of `vpc_id` and the zones offering the type, at once.
pub async fn places(ctx: &Ctx, spec: &Spec, vpc_id: &str) -> Result<Places> {
    let (subnets, offered) = tokio::try_join!(subnets(ctx, spec, vpc_id), offered(ctx, spec))?;
    if !subnets.iter().any(|s| offered.contains(&s.zone)) {
        bail!(
            "instance type {} is not offered in any zone of VPC {vpc_id} ({}); choose another \
             instance.type in deploy.toml",
            spec.instance_type,
            subnets
                .iter()
                .map(|s| s.zone.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(Places { subnets, offered })
}

async fn offered(ctx: &Ctx, spec: &Spec) -> Result<Vec<String>> {
    let out = ctx
        .ec2
        .describe_instance_type_offerings()
        .location_type(ec2t::LocationType::AvailabilityZone)
        .filters(ec2_filter("instance-type", &spec.instance_type))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to look up where {} is offered", spec.instance_type))?;
    Ok(out
        .instance_type_offerings()
        .iter()
        .filter_map(|o| o.location().map(str::to_string))
        .collect())
}

impl Places {
    /// The load balancer's subnets in order of preference: zones that offer
    /// the instance type first (so the web servers can follow it), then the
    /// rest; the first `load_balancer.zones` are asked for.
    pub fn lb_candidates(&self) -> Vec<Subnet> {
        let (offering, rest): (Vec<&Subnet>, Vec<&Subnet>) = self
            .subnets
            .iter()
            .partition(|s| self.offered.contains(&s.zone));
        offering.into_iter().chain(rest).cloned().collect()
    }

    /// Where the web servers go: the zones the load balancer actually spans
    /// (a target in a zone it does not serve is never used) that offer the
    /// instance type, in the load balancer's order.
    pub fn for_servers(&self, lb_zones: &[Zone]) -> Result<Vec<Subnet>> {
        let found: Vec<Subnet> = lb_zones
            .iter()
            .filter(|z| self.offered.contains(&z.name))
            .filter_map(|z| {
                self.subnets
                    .iter()
                    .find(|s| s.id == z.subnet || s.zone == z.name)
            })
            .cloned()
            .collect();
        if found.is_empty() {
            bail!(
                "none of the load balancer's zones ({}) offers the instance type: choose \
                 another instance.type in deploy.toml",
                lb_zones
                    .iter()
                    .map(|z| z.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(found)
    }
}

/// One subnet per zone of `vpc_id` (in a VPC of one's own, only those routed
/// to an internet gateway); fails with a plain explanation for fewer than two.
async fn subnets(ctx: &Ctx, spec: &Spec, vpc_id: &str) -> Result<Vec<Subnet>> {
    let mut subnet_query = ctx
        .ec2
        .describe_subnets()
        .filters(ec2_filter("vpc-id", vpc_id));
    if spec.vpc_id.is_none() {
        subnet_query = subnet_query.filters(ec2_filter("default-for-az", "true"));
    }
    let subnets = subnet_query
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to list subnets of {vpc_id}"))?;
    // A default subnet always routes to the default VPC's internet gateway; in a
    // VPC of the user's, only subnets whose route table does are usable.
    let public = match spec.vpc_id {
        None => None,
        Some(_) => Some(internet_routed(ctx, vpc_id).await?),
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
        let why = if spec.vpc_id.is_none() {
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
            if spec.vpc_id.is_none() {
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
    Ok(by_zone.into_values().collect())
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
    fn offering_zones_first_and_servers_follow_the_load_balancer() {
        let places = Places {
            subnets: ["a", "b", "c", "d"].iter().map(|z| sn(z)).collect(),
            offered: vec!["b".into(), "d".into()],
        };
        let zones: Vec<String> = places.lb_candidates().into_iter().map(|s| s.zone).collect();
        assert_eq!(zones, ["b", "d", "a", "c"]);
        // AWS accepted d and a (b refused): the servers go to d only.
        let lb = [("d", "subnet-d"), ("a", "subnet-a")].map(|(z, s)| Zone {
            name: z.into(),
            subnet: s.into(),
        });
        let servers: Vec<String> = places
            .for_servers(&lb)
            .unwrap()
            .into_iter()
            .map(|s| s.zone)
            .collect();
        assert_eq!(servers, ["d"]);
        let none = [Zone {
            name: "a".into(),
            subnet: "subnet-a".into(),
        }];
        assert!(places.for_servers(&none).is_err());
    }
}
