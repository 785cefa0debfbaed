//! Your own domain for the HTTPS URL (`[https] domain`): an ACM certificate
//! for it in us-east-1 (the only region CloudFront takes certificates from),
//! validated by a DNS record, and A and AAAA alias records that send the
//! domain to the CloudFront distribution, both written in the account's
//! public Route 53 hosted zone for the domain or a parent.
//!
//! Two kinds in every view: the certificate (found by this tool's tags among
//! the account's certificates) and the DNS records (found by name in the
//! zone; this deployment's when they point at its distribution, or, for a
//! validation record, carry the value ACM gave its certificate).
//!
//! AWS's timing: a new certificate's validation record is known only after
//! "a delay of several seconds" (API_RequestCertificate); the certificate is
//! `PENDING_VALIDATION` until ACM sees that record in public DNS, then
//! `ISSUED`; a Route 53 change is `PENDING` until every name server has it
//! ("generally within 60 seconds", API_GetChange), then `INSYNC`; a
//! certificate stays in use for a while after its distribution let it go
//! (DeleteCertificate: `ResourceInUseException`).

use std::time::Duration;

use anyhow::{bail, Context, Result};
use aws_sdk_acm::types as acmt;
use aws_sdk_route53::types as r53;

use super::{Deleted, Verb};
use crate::aws::{code, poll_until, retry_not_yet, AwsError, Check, Ctx};
use crate::plan::Plan;
use crate::tags::Owner;

/// The hosted zone id every alias record to a CloudFront distribution names
/// (Route 53 API reference, AliasTarget).
pub const CLOUDFRONT_ZONE: &str = "Z2FDTNDATAQYW2";

/// The record types that send the domain to the distribution (IPv4, IPv6).
const ALIAS_TYPES: [&str; 2] = ["A", "AAAA"];

/// What deploy.toml asks of the domain.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `[https] domain`.
    pub domain: Option<String>,
    /// The certificate's name in the views.
    pub cert_name: String,
    /// The records' name in the views.
    pub records_name: String,
    /// The certificate's tags.
    pub owner: Owner,
}

impl Spec {
    /// The domain of `plan`.
    pub fn new(plan: &Plan) -> Spec {
        Spec {
            domain: plan.domain.clone(),
            cert_name: format!("{}-cert", plan.name),
            records_name: format!("{}-dns", plan.name),
            owner: plan.owner.clone(),
        }
    }
}

/// A public hosted zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Its id (without `/hostedzone/`).
    pub id: String,
    /// Its name (`example.com`, no trailing dot).
    pub name: String,
}

/// A CNAME ACM checks to validate a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cname {
    /// Its name (`_x.www.example.com`).
    pub name: String,
    /// Its value (`_y.acm-validations.aws`).
    pub value: String,
}

/// One of this tool's certificates as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// ARN (us-east-1).
    pub arn: String,
    /// The domain it is for.
    pub domain: String,
    /// `PENDING_VALIDATION`, `ISSUED`, `FAILED`...
    pub status: String,
    /// Its DNS validation record, once ACM has made it.
    pub validation: Option<Cname>,
    /// Why it failed, when it did.
    pub failure: Option<String>,
}

impl Certificate {
    fn usable(&self) -> bool {
        matches!(self.status.as_str(), "ISSUED" | "PENDING_VALIDATION")
    }
}

/// A record set in the zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its name (no trailing dot, lowercase).
    pub name: String,
    /// Its type (`A`, `CNAME`...).
    pub kind: String,
    /// Where an alias record points (no trailing dot, lowercase).
    pub alias: Option<String>,
    /// Its values (a plain record's).
    pub values: Vec<String>,
    /// The record set as Route 53 gave it (a DELETE must name it exactly).
    pub set: r53::ResourceRecordSet,
}

impl Record {
    /// What it says, for the views.
    pub fn describe(&self) -> String {
        let to = self.alias.clone().unwrap_or_else(|| self.values.join(" "));
        format!("{} {} -> {to}", self.kind, self.name)
    }
}

/// What exists of the domain's parts.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The domain looked at: deploy.toml's, or the one the distribution or a
    /// certificate of this deployment names.
    pub domain: Option<String>,
    /// Its public hosted zone (`None` with a domain: the account has none).
    pub zone: Option<Zone>,
    /// This deployment's certificates.
    pub certificates: Vec<Certificate>,
    /// The record sets at the domain and at the certificates' validation
    /// names.
    pub records: Vec<Record>,
}

impl Found {
    /// The alias records at the domain that point at distribution `cdn`.
    pub fn aliases_to(&self, cdn: &str) -> Vec<&Record> {
        let domain = self.domain.as_deref().unwrap_or_default();
        self.records
            .iter()
            .filter(|r| r.name == domain && r.alias.as_deref() == Some(cdn))
            .collect()
    }

    /// The validation records that carry a certificate's value.
    pub fn validations(&self) -> Vec<&Record> {
        self.records
            .iter()
            .filter(|r| {
                r.kind == "CNAME"
                    && self.certificates.iter().any(|c| {
                        c.validation
                            .as_ref()
                            .is_some_and(|v| v.name == r.name && r.values == [v.value.clone()])
                    })
            })
            .collect()
    }

    /// Every record this deployment wrote that is there (cleanup deletes
    /// them; `cdn`: its distribution's domain name).
    pub fn ours(&self, cdn: Option<&str>) -> Vec<&Record> {
        let mut out = cdn.map(|c| self.aliases_to(c)).unwrap_or_default();
        out.extend(self.validations());
        out
    }
}

/// A DNS name as Route 53 and ACM compare it: lowercase, no trailing dot.
fn norm(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// What exists: the certificates (when a domain is known: deploy.toml's or
/// `hint`, the distribution's alias), the zone and the records.
pub async fn observe(ctx: &Ctx, spec: &Spec, hint: Option<&str>) -> Result<Found> {
    let Some(domain) = spec.domain.clone().or(hint.map(str::to_string)) else {
        return Ok(Found::default());
    };
    let (certificates, zone) = tokio::join!(certificates(ctx, &spec.owner), zone_of(ctx, &domain));
    let (certificates, zone) = (certificates?, zone?);
    let mut records = Vec::new();
    if let Some(z) = &zone {
        let mut names = vec![domain.clone()];
        for c in &certificates {
            if let Some(v) = &c.validation {
                if !names.contains(&v.name) && v.name.ends_with(&format!(".{}", z.name)) {
                    names.push(v.name.clone());
                }
            }
        }
        for name in names {
            records.extend(records_at(ctx, z, &name).await?);
        }
    }
    Ok(Found {
        domain: Some(domain),
        zone,
        certificates,
        records,
    })
}

/// This deployment's certificates: the account's us-east-1 certificates
/// whose tags are this deployment's (the policy lets the tool read only its
/// own certificates' tags: one it may not read is not its own).
async fn certificates(ctx: &Ctx, owner: &Owner) -> Result<Vec<Certificate>> {
    let mut arns = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = ctx
            .acm
            .list_certificates()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(AwsError::from)
            .context("failed to list the ACM certificates (us-east-1)")?;
        arns.extend(
            out.certificate_summary_list()
                .iter()
                .filter_map(|c| c.certificate_arn().map(str::to_string)),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let mut ours = Vec::new();
    for arn in arns {
        let res = ctx
            .acm
            .list_tags_for_certificate()
            .certificate_arn(&arn)
            .send()
            .await
            .map_err(AwsError::from);
        let tags: Vec<(String, String)> = match res {
            Ok(out) => out
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            Err(e) => {
                let e = anyhow::Error::new(e);
                if code(&e).is_some_and(|c| c.starts_with("AccessDenied") || is_gone_code(c)) {
                    continue;
                }
                return Err(e.context(format!("failed to read the tags of {arn}")));
            }
        };
        if owner.owns(&tags) {
            if let Some(c) = describe(ctx, &arn).await? {
                ours.push(c);
            }
        }
    }
    Ok(ours)
}

fn is_gone_code(c: &str) -> bool {
    c == "ResourceNotFoundException"
}

/// DescribeCertificate (`None`: gone).
async fn describe(ctx: &Ctx, arn: &str) -> Result<Option<Certificate>> {
    let res = ctx
        .acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .map_err(AwsError::from);
    let out = match res {
        Ok(out) => out,
        Err(e) => {
            let e = anyhow::Error::new(e);
            if code(&e).is_some_and(is_gone_code) {
                return Ok(None);
            }
            return Err(e.context(format!("failed to read certificate {arn}")));
        }
    };
    let c = out
        .certificate()
        .with_context(|| format!("certificate {arn}: no certificate in the answer"))?;
    let validation = c
        .domain_validation_options()
        .iter()
        .filter_map(|o| o.resource_record())
        .find(|r| r.r#type() == &acmt::RecordType::Cname)
        .map(|r| Cname {
            name: norm(r.name()),
            value: norm(r.value()),
        });
    Ok(Some(Certificate {
        arn: arn.to_string(),
        domain: norm(c.domain_name().unwrap_or_default()),
        status: c
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        validation,
        failure: c.failure_reason().map(|f| f.as_str().to_string()),
    }))
}

/// The public hosted zone for `domain` or its nearest parent.
/// ListHostedZonesByName starts at a name (it is not a filter) and lists
/// private zones too: each name from the domain up is asked for, and only a
/// public zone of exactly that name counts.
async fn zone_of(ctx: &Ctx, domain: &str) -> Result<Option<Zone>> {
    let labels: Vec<&str> = domain.split('.').collect();
    for i in 0..labels.len().saturating_sub(1) {
        let name = labels[i..].join(".");
        let out = ctx
            .route53
            .list_hosted_zones_by_name()
            .dns_name(&name)
            .max_items(20)
            .send()
            .await
            .map_err(AwsError::from)
            .with_context(|| format!("failed to look up the Route 53 hosted zone for {name}"))?;
        let public = out
            .hosted_zones()
            .iter()
            .find(|z| norm(z.name()) == name && !z.config().is_some_and(|c| c.private_zone()));
        if let Some(z) = public {
            return Ok(Some(Zone {
                id: z.id().trim_start_matches("/hostedzone/").to_string(),
                name,
            }));
        }
    }
    Ok(None)
}

/// The record sets named `name` in zone `z`.
async fn records_at(ctx: &Ctx, z: &Zone, name: &str) -> Result<Vec<Record>> {
    let out = ctx
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(&z.id)
        .start_record_name(name)
        .max_items(20)
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to read the records of {name} in zone {}", z.name))?;
    Ok(out
        .resource_record_sets()
        .iter()
        .filter(|r| norm(r.name()) == name)
        .map(|r| Record {
            name: norm(r.name()),
            kind: r.r#type().as_str().to_string(),
            alias: r.alias_target().map(|a| norm(a.dns_name())),
            values: r
                .resource_records()
                .iter()
                .map(|v| norm(v.value()))
                .collect(),
            set: r.clone(),
        })
        .collect())
}

/// What deploy does with the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cert {
    /// No domain: none.
    None,
    /// Request one (DNS validation) and wait until it is issued.
    Request,
    /// Ours, for the domain: wait until it is issued (at once if it is).
    Keep(Certificate),
    /// Deploy stops before creating anything.
    Stop(String),
}

/// What deploy does with the alias records.
#[derive(Debug, Clone, PartialEq)]
pub enum Dns {
    /// No domain and none of ours: nothing.
    None,
    /// Write these types (UPSERT) pointing at the distribution, wait in sync.
    Write(Vec<&'static str>),
    /// They point at the distribution.
    Keep,
    /// The domain is gone from deploy.toml: delete these.
    Delete(Vec<Record>),
    /// Deploy stops before creating anything.
    Stop(String),
}

/// What deploy does with the domain's parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// The certificate for the domain.
    pub cert: Cert,
    /// This deployment's other certificates (an earlier domain's, a failed
    /// one): deleted once the distribution no longer uses them.
    pub stale: Vec<Certificate>,
    /// The alias records.
    pub dns: Dns,
}

/// Decides (pure); `cdn`: the domain name of the distribution deploy keeps
/// (`None`: a new one is made).
pub fn decide(spec: &Spec, found: &Found, cdn: Option<&str>) -> Action {
    let Some(domain) = spec.domain.as_deref() else {
        // The domain was removed: its aliases and, with the certificates
        // (all stale now), their validation records.
        let gone: Vec<Record> = found.ours(cdn).into_iter().cloned().collect();
        return Action {
            cert: Cert::None,
            stale: found.certificates.clone(),
            dns: match gone.is_empty() {
                true => Dns::None,
                false => Dns::Delete(gone),
            },
        };
    };
    let Some(zone) = &found.zone else {
        let why = no_zone(domain);
        return Action {
            cert: Cert::Stop(why.clone()),
            stale: Vec::new(),
            dns: Dns::Stop(why),
        };
    };
    let current = found
        .certificates
        .iter()
        .find(|c| c.domain == domain && c.usable());
    let stale = found
        .certificates
        .iter()
        .filter(|c| Some(*c) != current)
        .cloned()
        .collect();
    let at: Vec<&Record> = found.records.iter().filter(|r| r.name == domain).collect();
    let mut conflicts = Vec::new();
    let mut write = Vec::new();
    for t in ALIAS_TYPES {
        match at.iter().find(|r| r.kind == t) {
            None => write.push(t),
            Some(r) if cdn.is_some() && r.alias.as_deref() == cdn => {}
            Some(r) => conflicts.push(r.describe()),
        }
    }
    if let Some(r) = at.iter().find(|r| r.kind == "CNAME") {
        conflicts.push(r.describe());
    }
    let dns = match (conflicts.is_empty(), write.is_empty()) {
        (false, _) => Dns::Stop(format!(
            "{domain} already has {} in Route 53 zone {} ({}), not pointing at this \
             deployment's distribution: sitedeploy leaves it alone. Delete it, or choose \
             another [https] domain.",
            conflicts.join(" and "),
            zone.name,
            zone.id
        )),
        (true, true) => Dns::Keep,
        (true, false) => Dns::Write(write),
    };
    Action {
        cert: match current {
            Some(c) => Cert::Keep(c.clone()),
            None => Cert::Request,
        },
        stale,
        dns,
    }
}

/// What deploy says when the account has no hosted zone for the domain.
fn no_zone(domain: &str) -> String {
    let parent = domain.split_once('.').map_or(domain, |(_, p)| p);
    format!(
        "no public Route 53 hosted zone for {domain} or a parent domain in this account: \
         sitedeploy writes the domain's records there, so nothing was created. Create a \
         public hosted zone for {parent} (Route 53 console, \"Create hosted zone\") and set \
         the name servers at your domain's registrar to the four the zone lists; then run \
         deploy again. It will write in that zone: a CNAME _<token>.{domain} -> \
         _<token>.acm-validations.aws (the certificate's DNS validation; ACM gives the \
         tokens once the certificate is requested) and A and AAAA alias records {domain} -> \
         the CloudFront distribution (dxxxx.cloudfront.net). Or remove `domain` from [https] \
         to use the distribution's own https:// URL."
    )
}

impl Cert {
    /// The plan's verb (`None` has no row).
    pub fn verb(&self) -> Verb {
        match self {
            Cert::None | Cert::Keep(_) => Verb::Keep,
            Cert::Request => Verb::Create,
            Cert::Stop(_) => Verb::Stop,
        }
    }

    /// What the plan says of it.
    pub fn detail(&self, spec: &Spec, found: &Found) -> String {
        let zone = found.zone.as_ref().map(|z| z.name.as_str()).unwrap_or("?");
        let domain = spec.domain.as_deref().unwrap_or_default();
        match self {
            Cert::None => String::new(),
            Cert::Request => {
                format!("{domain} in us-east-1, validated by DNS in zone {zone}")
            }
            Cert::Keep(c) => format!("{domain} {}", c.status.to_ascii_lowercase()),
            Cert::Stop(why) => why.clone(),
        }
    }
}

impl Dns {
    /// The plan's verb (`None` has no row).
    pub fn verb(&self) -> Verb {
        match self {
            Dns::None | Dns::Keep => Verb::Keep,
            Dns::Write(_) => Verb::Create,
            Dns::Delete(_) => Verb::Delete,
            Dns::Stop(_) => Verb::Stop,
        }
    }

    /// What the plan says of them.
    pub fn detail(&self, spec: &Spec, found: &Found) -> String {
        let zone = found.zone.as_ref().map(|z| z.name.as_str()).unwrap_or("?");
        let domain = spec.domain.as_deref().unwrap_or_default();
        match self {
            Dns::None => String::new(),
            Dns::Write(t) => format!(
                "{} {domain} -> the distribution, in zone {zone}",
                t.join(", ")
            ),
            Dns::Keep => format!("A, AAAA {domain} -> the distribution, in zone {zone}"),
            Dns::Delete(r) => {
                let all: Vec<String> = r.iter().map(Record::describe).collect();
                format!("[https] domain is gone: {}", all.join("; "))
            }
            Dns::Stop(why) => why.clone(),
        }
    }
}

/// Requests the certificate (when asked), writes its validation record and
/// waits (at most `limit`) until ACM has issued it. `None`: no domain.
pub async fn apply_certificate(
    ctx: &Ctx,
    spec: &Spec,
    action: &Cert,
    zone: Option<&Zone>,
    limit: Duration,
    mut on_wait: impl FnMut(&str, Duration),
) -> Result<Option<Certificate>> {
    let domain = spec.domain.as_deref().unwrap_or_default();
    let arn = match action {
        Cert::None => return Ok(None),
        Cert::Stop(why) => bail!("{why}"),
        Cert::Request => request(ctx, spec, domain).await?,
        Cert::Keep(c) if c.status == "ISSUED" => return Ok(Some(c.clone())),
        Cert::Keep(c) => c.arn.clone(),
    };
    let zone = zone.context("no hosted zone was found")?;
    // ACM makes the validation record (and may not even describe the new
    // certificate) a few seconds after the request.
    let c = poll_until(
        ctx.poll,
        &format!("the validation record of certificate {arn}"),
        limit,
        &mut on_wait,
        || async {
            let waiting = || Check::Waiting("waiting for its validation record".into());
            let Some(c) = describe(ctx, &arn).await? else {
                return Ok(waiting());
            };
            Ok(match (c.status.as_str(), &c.validation) {
                ("ISSUED", _) | (_, Some(_)) => Check::Done(c),
                _ => waiting(),
            })
        },
    )
    .await?;
    if c.status == "ISSUED" {
        return Ok(Some(c));
    }
    let v = c.validation.clone().context("no validation record")?;
    let set = r53::ResourceRecordSet::builder()
        .name(&v.name)
        .r#type(r53::RrType::Cname)
        .ttl(300)
        .resource_records(r53::ResourceRecord::builder().value(&v.value).build()?)
        .build()?;
    change(ctx, zone, r53::ChangeAction::Upsert, vec![set]).await?;
    poll_until(
        ctx.poll,
        &format!("certificate {arn} to be issued"),
        limit,
        &mut on_wait,
        || async {
            let Some(c) = describe(ctx, &arn).await? else {
                bail!("certificate {arn} disappeared");
            };
            match c.status.as_str() {
                "ISSUED" => Ok(Check::Done(c)),
                "PENDING_VALIDATION" => Ok(Check::Waiting("pending validation".into())),
                other => bail!(
                    "certificate {arn} for {domain} is {other} ({})",
                    c.failure.as_deref().unwrap_or("no reason given")
                ),
            }
        },
    )
    .await
    .with_context(|| {
        format!(
            "the certificate for {domain} did not validate. ACM looks up its record {} CNAME \
             {} in public DNS; sitedeploy wrote it in Route 53 zone {} ({}). If that zone's \
             name servers are not the ones your registrar gives for {}, ACM cannot see it: \
             set them at the registrar, then run deploy again",
            v.name, v.value, zone.name, zone.id, zone.name
        )
    })
    .map(Some)
}

/// RequestCertificate with DNS validation and the tags in one request (never
/// untagged); the idempotency token makes the SDK's own retry of a request
/// that timed out return the same certificate.
async fn request(ctx: &Ctx, spec: &Spec, domain: &str) -> Result<String> {
    let tags = spec
        .owner
        .pairs()
        .map(|(k, v)| acmt::Tag::builder().key(k).value(v).build())
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let token: String = crate::resources::distribution::Secret::random()
        .expose()
        .chars()
        .take(32)
        .collect();
    let out = ctx
        .acm
        .request_certificate()
        .domain_name(domain)
        .validation_method(acmt::ValidationMethod::Dns)
        .idempotency_token(token)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to request a certificate for {domain}"))?;
    out.certificate_arn()
        .map(str::to_string)
        .context("RequestCertificate answered without an ARN")
}

/// One ChangeResourceRecordSets of `sets`; its change id.
async fn change(
    ctx: &Ctx,
    zone: &Zone,
    action: r53::ChangeAction,
    sets: Vec<r53::ResourceRecordSet>,
) -> Result<String> {
    let changes = sets
        .into_iter()
        .map(|s| {
            r53::Change::builder()
                .action(action.clone())
                .resource_record_set(s)
                .build()
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let out = ctx
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone.id)
        .change_batch(
            r53::ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()?,
        )
        .send()
        .await
        .map_err(AwsError::from)
        .with_context(|| format!("failed to change records in Route 53 zone {}", zone.name))?;
    Ok(out
        .change_info()
        .map(|c| c.id().to_string())
        .unwrap_or_default())
}

/// Applies the records' action for distribution `cdn` (its domain name):
/// writes the alias records and waits (at most `limit`) until every Route 53
/// name server has them, or deletes those of a domain deploy.toml dropped.
pub async fn apply_records(
    ctx: &Ctx,
    spec: &Spec,
    action: &Dns,
    zone: Option<&Zone>,
    cdn: &str,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<()> {
    let (action, sets) = match action {
        Dns::None | Dns::Keep => return Ok(()),
        Dns::Stop(why) => bail!("{why}"),
        Dns::Delete(r) => (
            r53::ChangeAction::Delete,
            r.iter().map(|r| r.set.clone()).collect(),
        ),
        Dns::Write(types) => {
            let domain = spec.domain.as_deref().unwrap_or_default();
            let target = r53::AliasTarget::builder()
                .hosted_zone_id(CLOUDFRONT_ZONE)
                .dns_name(cdn)
                .evaluate_target_health(false)
                .build()?;
            let sets = types
                .iter()
                .map(|t| {
                    r53::ResourceRecordSet::builder()
                        .name(domain)
                        .r#type(r53::RrType::from(*t))
                        .alias_target(target.clone())
                        .build()
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            (r53::ChangeAction::Upsert, sets)
        }
    };
    let zone = zone.context("no hosted zone was found")?;
    let wait = action == r53::ChangeAction::Upsert;
    let id = change(ctx, zone, action, sets).await?;
    if wait {
        in_sync(ctx, &id, limit, on_wait).await?;
    }
    Ok(())
}

/// Waits until Route 53 change `id` is `INSYNC`.
async fn in_sync(
    ctx: &Ctx,
    id: &str,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<()> {
    poll_until(
        ctx.poll,
        &format!("Route 53 change {id} to reach every name server"),
        limit,
        on_wait,
        || async {
            let out = ctx
                .route53
                .get_change()
                .id(id)
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("failed to read Route 53 change {id}"))?;
            let status = out.change_info().map(|c| c.status().clone());
            Ok(match status {
                Some(r53::ChangeStatus::Insync) => Check::Done(()),
                _ => Check::Waiting("pending".into()),
            })
        },
    )
    .await
}

/// Deletes this deployment's records (cleanup): the alias records that point
/// at its distribution `cdn` and its certificates' validation records.
pub async fn delete_records(ctx: &Ctx, found: &Found, cdn: Option<&str>) -> Result<Deleted> {
    let ours: Vec<r53::ResourceRecordSet> =
        found.ours(cdn).into_iter().map(|r| r.set.clone()).collect();
    let Some(zone) = found.zone.as_ref().filter(|_| !ours.is_empty()) else {
        return Ok(Deleted::Absent);
    };
    let res = change(ctx, zone, r53::ChangeAction::Delete, ours).await;
    match res {
        Ok(_) => Ok(Deleted::Deleted),
        // Gone meanwhile (another cleanup): the batch names what is not there.
        Err(e) if code(&e) == Some("InvalidChangeBatch") => Ok(Deleted::Absent),
        Err(e) => Err(e),
    }
}

/// Deletes a certificate, retrying (at most `limit`) while CloudFront still
/// holds it ("in use" lasts a while after its distribution let it go).
pub async fn delete_certificate(
    ctx: &Ctx,
    c: &Certificate,
    limit: Duration,
    on_retry: impl FnMut(&anyhow::Error, Duration),
) -> Result<Deleted> {
    let r = retry_not_yet(
        ctx.poll,
        &format!("deleting certificate {}", c.arn),
        limit,
        |e| code(e) == Some("ResourceInUseException"),
        on_retry,
        || async {
            ctx.acm
                .delete_certificate()
                .certificate_arn(&c.arn)
                .send()
                .await
                .map_err(AwsError::from)
                .map_err(anyhow::Error::new)
        },
    )
    .await;
    match r {
        Ok(_) => Ok(Deleted::Deleted),
        Err(e) if code(&e).is_some_and(is_gone_code) => Ok(Deleted::Absent),
        Err(e) => Err(e.context(format!("failed to delete certificate {}", c.arn))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(domain: Option<&str>) -> Spec {
        Spec {
            domain: domain.map(str::to_string),
            cert_name: "site-cert".into(),
            records_name: "site-dns".into(),
            owner: Owner::new("site", &Default::default()),
        }
    }

    fn alias(name: &str, kind: &str, to: &str) -> Record {
        Record {
            name: name.into(),
            kind: kind.into(),
            alias: Some(to.into()),
            values: Vec::new(),
            set: r53::ResourceRecordSet::builder()
                .name(name)
                .r#type(r53::RrType::from(kind))
                .build()
                .unwrap(),
        }
    }

    fn cert(domain: &str, status: &str) -> Certificate {
        Certificate {
            arn: format!("arn:aws:acm:us-east-1:1:certificate/{domain}-{status}"),
            domain: domain.into(),
            status: status.into(),
            validation: None,
            failure: None,
        }
    }

    fn found(records: Vec<Record>, certificates: Vec<Certificate>) -> Found {
        Found {
            domain: Some("www.example.com".into()),
            zone: Some(Zone {
                id: "Z1".into(),
                name: "example.com".into(),
            }),
            certificates,
            records,
        }
    }

    #[test]
    fn a_domain_without_a_zone_stops_and_says_what_to_create_where() {
        let f = Found {
            zone: None,
            ..found(vec![], vec![])
        };
        let a = decide(&spec(Some("www.example.com")), &f, None);
        let Cert::Stop(why) = &a.cert else {
            panic!("{a:?}")
        };
        assert!(why.contains("hosted zone for example.com"), "{why}");
        assert!(
            why.contains("CNAME") && why.contains("A and AAAA alias"),
            "{why}"
        );
        assert_eq!(a.dns, Dns::Stop(why.clone()));
    }

    #[test]
    fn records_of_another_target_stop_and_ours_are_kept() {
        let s = spec(Some("www.example.com"));
        let mine = "d1.cloudfront.net";
        let both = vec![
            alias("www.example.com", "A", mine),
            alias("www.example.com", "AAAA", mine),
        ];
        let f = found(both, vec![cert("www.example.com", "ISSUED")]);
        let a = decide(&s, &f, Some(mine));
        assert_eq!(a.dns, Dns::Keep);
        assert!(matches!(a.cert, Cert::Keep(_)) && a.stale.is_empty());
        // The same records with a new distribution: not provably ours.
        assert!(matches!(decide(&s, &f, None).dns, Dns::Stop(_)));
        let f = found(
            vec![alias("www.example.com", "A", "elsewhere.example")],
            vec![],
        );
        assert!(matches!(decide(&s, &f, Some(mine)).dns, Dns::Stop(_)));
        let f = found(vec![alias("www.example.com", "AAAA", mine)], vec![]);
        assert_eq!(decide(&s, &f, Some(mine)).dns, Dns::Write(vec!["A"]));
        assert_eq!(decide(&s, &f, Some(mine)).cert, Cert::Request);
    }

    #[test]
    fn without_the_domain_its_records_and_certificates_go() {
        let mine = "d1.cloudfront.net";
        let mut issued = cert("www.example.com", "ISSUED");
        issued.validation = Some(Cname {
            name: "_a.www.example.com".into(),
            value: "_b.acm-validations.aws".into(),
        });
        let cname = |value: &str| Record {
            kind: "CNAME".into(),
            alias: None,
            values: vec![value.into()],
            ..alias("_a.www.example.com", "CNAME", "")
        };
        let f = found(
            vec![
                alias("www.example.com", "A", mine),
                alias("www.example.com", "AAAA", "someone.else.example"),
                cname("_b.acm-validations.aws"),
            ],
            vec![issued.clone()],
        );
        let a = decide(&spec(None), &f, Some(mine));
        // Its A alias and its validation record; not another's AAAA.
        let Dns::Delete(gone) = &a.dns else {
            panic!("{a:?}")
        };
        let kinds: Vec<&str> = gone.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["A", "CNAME"]);
        // A CNAME of that name with another value is not ours.
        let f = found(vec![cname("_other.example")], vec![issued]);
        assert_eq!(decide(&spec(None), &f, Some(mine)).dns, Dns::None);
        assert_eq!(a.stale.len(), 1);
        assert_eq!(a.cert, Cert::None);
        // A failed certificate is replaced; the failed one is stale.
        let f = found(vec![], vec![cert("www.example.com", "FAILED")]);
        let a = decide(&spec(Some("www.example.com")), &f, None);
        assert_eq!(a.cert, Cert::Request);
        assert_eq!(a.stale.len(), 1);
    }

    #[test]
    fn names_compare_without_case_or_trailing_dot() {
        assert_eq!(norm("WWW.Example.com."), "www.example.com");
    }
}
