//! Each kind's small spec, derived once from the plan: what deploy.toml asks
//! of every resource (names, tags, rules, sizes). Observation, decision and
//! apply take these, never the whole plan.

use crate::aws::Identity;
use crate::plan::Plan;
use crate::resources::{
    autoscaling, bucket, distribution, domain, expiry, instance, keypair, launchtemplate, listener,
    loadbalancer, network, profile, secgroup, targetgroup,
};

/// Every kind's spec.
#[derive(Debug, Clone)]
pub struct Specs {
    /// The deployment's name.
    pub name: String,
    /// The key pair.
    pub key: keypair::Spec,
    /// The load balancer's security group.
    pub lb_group: secgroup::Spec,
    /// Its rules.
    pub lb_rules: Vec<secgroup::Rule>,
    /// The web servers' security group.
    pub web_group: secgroup::Spec,
    /// The target group.
    pub target_group: targetgroup::Spec,
    /// The load balancer.
    pub load_balancer: loadbalancer::Spec,
    /// Its listener.
    pub listener: listener::Spec,
    /// The CloudFront distribution (`[https]`).
    pub distribution: distribution::Spec,
    /// Its domain's certificate and records (`[https] domain`).
    pub domain: domain::Spec,
    /// What a web server is launched from.
    pub launch: instance::Spec,
    /// The launch template (`count > 1`).
    pub template: launchtemplate::Spec,
    /// The Auto Scaling group (`count > 1`).
    pub fleet: autoscaling::Spec,
    /// The expiry.
    pub expiry: expiry::Spec,
    /// The network.
    pub network: network::Spec,
    /// Web servers; more than one run in the Auto Scaling group.
    pub count: usize,
    /// The SSH rule's source.
    pub ssh: crate::resources::publicip::Spec,
    /// What the web servers' marker says.
    pub marker: crate::site::Expected,
    /// The template's zip URL the web servers download (checked first).
    pub template_url: Option<String>,
    /// The bucket and the folder's content (`[site]`).
    pub bucket: bucket::Spec,
    /// The web servers' instance profile (`[site]`).
    pub profile: profile::Spec,
}

impl Specs {
    /// The specs of `plan` in `region`, deployed by `who`; `replace_key_pair`:
    /// `deploy --replace-key-pair`.
    pub fn new(plan: &Plan, region: &str, who: &Identity, replace_key_pair: bool) -> Specs {
        let bucket = bucket::Spec::new(plan, &who.account, region);
        let profile = profile::Spec::new(plan, region, &bucket.bucket, who.partition());
        let user_data = plan.user_data_for(&bucket.bucket, region, &who.account);
        let launch = instance::Spec::new(
            plan,
            user_data,
            profile.wanted.then(|| profile.name.clone()),
        );
        Specs {
            name: plan.name.clone(),
            key: keypair::Spec::new(plan, replace_key_pair),
            lb_group: secgroup::Spec::lb(plan),
            lb_rules: secgroup::lb_rules(plan),
            web_group: secgroup::Spec::web(plan),
            target_group: targetgroup::Spec::new(plan),
            load_balancer: loadbalancer::Spec::new(plan),
            listener: listener::Spec::new(plan),
            distribution: distribution::Spec::new(plan, region),
            domain: domain::Spec::new(plan),
            template: launchtemplate::Spec::new(plan, &launch),
            fleet: autoscaling::Spec::new(plan, &launch),
            launch,
            expiry: expiry::Spec::new(plan, region, &who.account, &who.arn),
            network: network::Spec::new(plan),
            count: plan.count,
            ssh: crate::resources::publicip::Spec::new(plan),
            marker: crate::site::Expected::new(plan),
            template_url: plan.template_url.clone(),
            bucket,
            profile,
        }
    }
}
