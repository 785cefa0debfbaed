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
use crate::aws::{
    code, is_access_denied, poll_until, retry_not_yet, unless_gone, AwsError, Check, Ctx,
};
use crate::plan::Plan;
use crate::resources::distribution::Distribution;
use crate::tags::{acm_pairs, Owner};

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
    /// The zone it is in.
    pub zone: Zone,
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
    /// The distribution's alias when deploy.toml names another domain (the
    /// domain was changed): its alias records go.
    pub old: Option<String>,
    /// This deployment's certificates (always looked for: one left "in use"
    /// by an earlier run is found whatever deploy.toml says now).
    pub certificates: Vec<Certificate>,
    /// The names other certificates of the account cover (their DNS
    /// validation records may be the same as ours: ACM's record belongs to
    /// the name and the account).
    pub others: Vec<String>,
    /// The record sets at the domain, the old alias and the certificates'
    /// validation names.
    pub records: Vec<Record>,
    /// The look-up failed (cleanup then proves nothing ours and deletes
    /// nothing that would make records unprovable).
    pub failed: bool,
}

impl Found {
    /// The alias records at `name` that point at distribution `cdn`.
    fn aliases_at(&self, name: Option<&str>, cdn: Option<&str>) -> Vec<&Record> {
        self.records
            .iter()
            .filter(|r| Some(r.name.as_str()) == name && cdn.is_some() && r.alias.as_deref() == cdn)
            .collect()
    }

    /// Certificate `c`'s validation record, when it carries `c`'s value and
    /// no other certificate of the account may rely on it.
    fn validation_of(&self, c: &Certificate) -> Option<&Record> {
        let v = c.validation.as_ref()?;
        if self.others.contains(&c.domain) {
            return None;
        }
        self.records
            .iter()
            .find(|r| r.kind == "CNAME" && r.name == v.name && r.values == [v.value.clone()])
    }

    /// Our certificates' validation records no other certificate may rely on.
    pub fn validations(&self) -> Vec<&Record> {
        let mut out: Vec<&Record> = Vec::new();
        for r in self
            .certificates
            .iter()
            .filter_map(|c| self.validation_of(c))
        {
            if !out.contains(&r) {
                out.push(r);
            }
        }
        out
    }

    /// Every record this deployment wrote that is there (cleanup deletes
    /// them; `cdn`: its distribution's domain name).
    pub fn ours(&self, cdn: Option<&str>) -> Vec<&Record> {
        let mut out = self.aliases_at(self.domain.as_deref(), cdn);
        out.extend(self.aliases_at(self.old.as_deref(), cdn));
        out.extend(self.validations());
        out
    }
}

/// A DNS name as Route 53 and ACM compare it: lowercase, no trailing dot.
fn norm(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// What exists: this deployment's certificates, and for the domain
/// (deploy.toml's, or `hint`: the distribution's alias, or a certificate's)
/// its zone and records; with `hint` another name than deploy.toml's, that
/// name's records too.
pub async fn observe(ctx: &Ctx, spec: &Spec, hint: Option<&str>) -> Result<Found> {
    let (certs, zone) = tokio::join!(certificates(ctx, &spec.owner), async {
        match spec.domain.as_deref().or(hint) {
            Some(d) => zone_of(ctx, d).await.map(Some),
            None => Ok(None),
        }
    });
    let ((certificates, others), zone) = (certs?, zone?);
    let domain = spec
        .domain
        .clone()
        .or(hint.map(str::to_string))
        .or_else(|| certificates.first().map(|c| c.domain.clone()));
    let Some(domain) = domain else {
        return Ok(Found {
            certificates,
            others,
            ..Found::default()
        });
    };
    let zone = match zone {
        Some(z) => z,
        None => zone_of(ctx, &domain).await?,
    };
    let old = match (&spec.domain, hint) {
        (Some(d), Some(h)) if d != h => Some(h.to_string()),
        _ => None,
    };
    let mut records = Vec::new();
    for name in names_to_read(&domain, old.as_deref(), &certificates) {
        // The zone of the domain, or (another name) its own.
        let z = match &zone {
            Some(z) if name == z.name || name.ends_with(&format!(".{}", z.name)) => Some(z.clone()),
            _ => zone_of(ctx, &name).await?,
        };
        if let Some(z) = z {
            records.extend(records_at(ctx, &z, &name).await?);
        }
    }
    Ok(Found {
        domain: Some(domain),
        zone,
        old,
        certificates,
        others,
        records,
        failed: false,
    })
}

/// The names whose records are read: the domain, the old alias, the
/// certificates' validation names; each once (certificates of one name share
/// a validation name, and need not be listed side by side).
fn names_to_read(domain: &str, old: Option<&str>, certificates: &[Certificate]) -> Vec<String> {
    let validations = certificates.iter().filter_map(|c| c.validation.as_ref());
    let all = [Some(domain), old]
        .into_iter()
        .flatten()
        .chain(validations.map(|v| v.name.as_str()));
    let mut names: Vec<String> = Vec::new();
    for name in all {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// This deployment's certificates: the account's us-east-1 certificates
/// whose tags are this deployment's (the policy lets the tool read only its
/// own certificates' tags: one it may not read is not its own).
async fn certificates(ctx: &Ctx, owner: &Owner) -> Result<(Vec<Certificate>, Vec<String>)> {
    let mut summaries = Vec::new();
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
        summaries.extend(out.certificate_summary_list().iter().filter_map(|c| {
            let names = c
                .subject_alternative_name_summaries()
                .iter()
                .map(|n| norm(n))
                .chain(c.domain_name().map(norm));
            Some((c.certificate_arn()?.to_string(), names.collect::<Vec<_>>()))
        }));
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let (mut ours, mut others) = (Vec::new(), Vec::new());
    for (arn, names) in summaries {
        let res = ctx
            .acm
            .list_tags_for_certificate()
            .certificate_arn(&arn)
            .send()
            .await
            .map_err(AwsError::from);
        let not_ours = |e: &anyhow::Error| is_access_denied(e) || is_gone(e);
        let out = unless_gone(res, not_ours, || {
            format!("failed to read the tags of {arn}")
        })?;
        let tags = out.map(|o| acm_pairs(o.tags())).unwrap_or_default();
        match owner.owns(&tags) {
            true => ours.extend(describe(ctx, &arn).await?),
            false => others.extend(names),
        }
    }
    Ok((ours, others))
}

fn is_gone(e: &anyhow::Error) -> bool {
    code(e) == Some("ResourceNotFoundException")
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
    let Some(out) = unless_gone(res, is_gone, || format!("failed to read certificate {arn}"))?
    else {
        return Ok(None);
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
            zone: z.clone(),
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
    /// Ours, but its validation record is not in the zone (a run stopped
    /// before writing it, or it was deleted: ACM issues and renews with it):
    /// written, then waited for as `Keep`.
    Revalidate(Certificate),
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
    /// The alias records of a domain deploy.toml no longer names (it was
    /// changed): deleted with the records' step.
    pub old: Vec<Record>,
}

/// Decides (pure); `cdn`: the distribution deploy keeps (`None`: a new one
/// is made).
pub fn decide(spec: &Spec, found: &Found, cdn: Option<&Distribution>) -> Action {
    let cdn_name = cdn.map(|d| d.domain.as_str());
    let Some(domain) = spec.domain.as_deref() else {
        // The domain was removed: its aliases and, with the certificates
        // (all stale now), their validation records.
        let gone: Vec<Record> = found.ours(cdn_name).into_iter().cloned().collect();
        return Action {
            cert: Cert::None,
            stale: found.certificates.clone(),
            dns: match gone.is_empty() {
                true => Dns::None,
                false => Dns::Delete(gone),
            },
            old: Vec::new(),
        };
    };
    let Some(zone) = &found.zone else {
        let why = no_zone(domain);
        return Action {
            cert: Cert::Stop(why.clone()),
            stale: Vec::new(),
            dns: Dns::Stop(why),
            old: Vec::new(),
        };
    };
    // The one the distribution uses, else an issued one, else a pending one.
    let in_use = cdn.and_then(|d| d.certificate.as_deref());
    let mut usable: Vec<&Certificate> = found
        .certificates
        .iter()
        .filter(|c| c.domain == domain && c.usable())
        .collect();
    usable.sort_by_key(|c| (Some(c.arn.as_str()) != in_use, c.status != "ISSUED"));
    let current = usable.first().copied();
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
            Some(r) if cdn_name.is_some() && r.alias.as_deref() == cdn_name => {}
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
    // Its validation record is not in the zone (or, pending, not known yet).
    let needs_record = |c: &Certificate| match &c.validation {
        None => c.status != "ISSUED",
        Some(v) => !found
            .records
            .iter()
            .any(|r| r.kind == "CNAME" && r.name == v.name && r.values == [v.value.clone()]),
    };
    Action {
        cert: match current {
            Some(c) if needs_record(c) => Cert::Revalidate(c.clone()),
            Some(c) => Cert::Keep(c.clone()),
            None => Cert::Request,
        },
        stale,
        dns,
        // A changed domain's aliases, and the validation records of the
        // certificates of other names that go.
        old: found
            .aliases_at(found.old.as_deref(), cdn_name)
            .into_iter()
            .chain(
                found
                    .certificates
                    .iter()
                    .filter(|c| c.domain != domain)
                    .filter_map(|c| found.validation_of(c)),
            )
            .cloned()
            .collect(),
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
    /// The certificate deploy keeps (its ARN is known before applying).
    pub fn kept(&self) -> Option<&Certificate> {
        match self {
            Cert::Keep(c) | Cert::Revalidate(c) => Some(c),
            _ => None,
        }
    }

    /// The plan's verb (`None` has no row).
    pub fn verb(&self) -> Verb {
        match self {
            Cert::None | Cert::Keep(_) => Verb::Keep,
            Cert::Revalidate(_) => Verb::Update,
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
            Cert::Revalidate(c) => format!(
                "{domain} {}: its validation record written (ACM issues and renews with it)",
                c.status.to_ascii_lowercase()
            ),
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

/// Requests the certificate (when asked), writes its validation record
/// (when asked) and waits (at most `limit`) until ACM has issued it.
/// `None`: no domain.
pub async fn apply_certificate(
    ctx: &Ctx,
    spec: &Spec,
    action: &Cert,
    zone: Option<&Zone>,
    limit: Duration,
    mut on_wait: impl FnMut(&str, Duration),
) -> Result<Option<Certificate>> {
    let domain = spec.domain.as_deref().unwrap_or_default();
    let no_zone = "no hosted zone was found";
    let (arn, v) = match action {
        Cert::None => return Ok(None),
        Cert::Stop(why) => bail!("{why}"),
        Cert::Keep(c) if c.status == "ISSUED" => return Ok(Some(c.clone())),
        // Pending, its record in the zone: only the wait.
        Cert::Keep(c) if c.validation.is_some() => (c.arn.clone(), c.validation.clone()),
        Cert::Request | Cert::Revalidate(_) | Cert::Keep(_) => {
            let arn = match action {
                Cert::Revalidate(c) | Cert::Keep(c) => c.arn.clone(),
                _ => request(ctx, spec, domain).await?,
            };
            let z = zone.context(no_zone)?;
            let c = write_validation(ctx, &arn, z, limit, &mut on_wait).await?;
            if c.status == "ISSUED" {
                return Ok(Some(c));
            }
            (arn, c.validation)
        }
    };
    let (zone, v) = (zone.context(no_zone)?, v.context("no validation record")?);
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

/// Waits (at most `limit`) until ACM gives certificate `arn`'s validation
/// record, then UPSERTs it in `zone`; the certificate as then described.
async fn write_validation(
    ctx: &Ctx,
    arn: &str,
    zone: &Zone,
    limit: Duration,
    on_wait: &mut impl FnMut(&str, Duration),
) -> Result<Certificate> {
    // ACM makes the validation record (and may not even describe the new
    // certificate) a few seconds after the request.
    let c = poll_until(
        ctx.poll,
        &format!("the validation record of certificate {arn}"),
        limit,
        &mut *on_wait,
        || async {
            let waiting = || Check::Waiting("waiting for its validation record".into());
            // Not found, or (the policy's tag condition) not yet readable.
            let c = match describe(ctx, arn).await {
                Ok(Some(c)) => c,
                Ok(None) => return Ok(waiting()),
                Err(e) if is_access_denied(&e) => return Ok(waiting()),
                Err(e) => return Err(e),
            };
            Ok(match (c.status.as_str(), &c.validation) {
                ("ISSUED", _) | (_, Some(_)) => Check::Done(c),
                _ => waiting(),
            })
        },
    )
    .await?;
    let v = c.validation.clone().context("no validation record")?;
    let set = r53::ResourceRecordSet::builder()
        .name(&v.name)
        .r#type(r53::RrType::Cname)
        .ttl(300)
        .resource_records(r53::ResourceRecord::builder().value(&v.value).build()?)
        .build()?;
    change(ctx, zone, r53::ChangeAction::Upsert, vec![set]).await?;
    Ok(c)
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
/// name server has them, or deletes those of a domain deploy.toml dropped;
/// then deletes `old` (a changed domain's aliases).
pub async fn apply_records(
    ctx: &Ctx,
    spec: &Spec,
    action: &Action,
    zone: Option<&Zone>,
    cdn: &str,
    limit: Duration,
    on_wait: impl FnMut(&str, Duration),
) -> Result<()> {
    match &action.dns {
        Dns::None | Dns::Keep => {}
        Dns::Stop(why) => bail!("{why}"),
        Dns::Delete(r) => delete(ctx, r).await.map(|_| ())?,
        Dns::Write(types) => {
            let zone = zone.context("no hosted zone was found")?;
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
            let id = change(ctx, zone, r53::ChangeAction::Upsert, sets).await?;
            in_sync(ctx, &id, limit, on_wait).await?;
        }
    }
    delete(ctx, &action.old).await.map(|_| ())
}

/// Deletes record sets exactly as they were read, one batch per zone. A
/// batch is all or nothing, and Route 53 refuses it (`InvalidChangeBatch`)
/// when one of them is gone or changed meanwhile: then each is tried alone,
/// and one refused so is no longer what was read (not ours to delete).
async fn delete(ctx: &Ctx, records: &[Record]) -> Result<Deleted> {
    let mut out = Deleted::Absent;
    let mut zones: Vec<&Zone> = records.iter().map(|r| &r.zone).collect();
    zones.dedup();
    for z in zones {
        let here: Vec<&Record> = records.iter().filter(|r| &r.zone == z).collect();
        let all = here.iter().map(|r| r.set.clone()).collect();
        match change(ctx, z, r53::ChangeAction::Delete, all).await {
            Ok(_) => out = Deleted::Deleted,
            Err(e) if code(&e) == Some("InvalidChangeBatch") => {
                for r in here {
                    match change(ctx, z, r53::ChangeAction::Delete, vec![r.set.clone()]).await {
                        Ok(_) => out = Deleted::Deleted,
                        Err(e) if code(&e) == Some("InvalidChangeBatch") => {
                            tracing::debug!("{} changed or gone meanwhile: {e:#}", r.describe());
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
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
/// at its distribution `cdn` and its certificates' validation records no
/// other certificate may rely on. A look-up that failed proves nothing.
pub async fn delete_records(ctx: &Ctx, found: &Found, cdn: Option<&str>) -> Result<Deleted> {
    if found.failed {
        bail!("the domain's certificates and records could not be read");
    }
    let ours: Vec<Record> = found.ours(cdn).into_iter().cloned().collect();
    delete(ctx, &ours).await
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
        Err(e) if is_gone(&e) => Ok(Deleted::Absent),
        Err(e) => Err(e.context(format!("failed to delete certificate {}", c.arn))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINE: &str = "d1.cloudfront.net";

    fn spec(domain: Option<&str>) -> Spec {
        Spec {
            domain: domain.map(str::to_string),
            cert_name: "site-cert".into(),
            records_name: "site-dns".into(),
            owner: Owner::new("site", &Default::default()),
        }
    }

    fn zone() -> Zone {
        Zone {
            id: "Z1".into(),
            name: "example.com".into(),
        }
    }

    /// This deployment's distribution, using certificate `cert`.
    fn cdn(cert: Option<&str>) -> Distribution {
        Distribution {
            id: "E1".into(),
            arn: "arn:aws:cloudfront::1:distribution/E1".into(),
            domain: MINE.into(),
            deployed: true,
            enabled: true,
            origin: "lb.example".into(),
            port: 80,
            secret: None,
            aliases: vec!["www.example.com".into()],
            certificate: cert.map(str::to_string),
            etag: "E1TAG".into(),
            tags: Vec::new(),
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
            zone: zone(),
        }
    }

    fn cname(value: &str) -> Record {
        Record {
            kind: "CNAME".into(),
            alias: None,
            values: vec![value.into()],
            ..alias("_a.www.example.com", "CNAME", "")
        }
    }

    fn cert(domain: &str, status: &str) -> Certificate {
        Certificate {
            arn: format!("arn:aws:acm:us-east-1:1:certificate/{domain}-{status}"),
            domain: domain.into(),
            status: status.into(),
            validation: Some(Cname {
                name: "_a.www.example.com".into(),
                value: "_b.acm-validations.aws".into(),
            }),
            failure: None,
        }
    }

    fn found(records: Vec<Record>, certificates: Vec<Certificate>) -> Found {
        Found {
            domain: Some("www.example.com".into()),
            zone: Some(zone()),
            certificates,
            records,
            ..Found::default()
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
        let mine = cdn(None);
        let both = vec![
            alias("www.example.com", "A", MINE),
            alias("www.example.com", "AAAA", MINE),
            cname("_b.acm-validations.aws"),
        ];
        let f = found(both, vec![cert("www.example.com", "ISSUED")]);
        let a = decide(&s, &f, Some(&mine));
        assert_eq!(a.dns, Dns::Keep);
        assert!(matches!(a.cert, Cert::Keep(_)) && a.stale.is_empty());
        // The same records with a new distribution: not provably ours.
        assert!(matches!(decide(&s, &f, None).dns, Dns::Stop(_)));
        let f = found(
            vec![alias("www.example.com", "A", "elsewhere.example")],
            vec![],
        );
        assert!(matches!(decide(&s, &f, Some(&mine)).dns, Dns::Stop(_)));
        let f = found(vec![alias("www.example.com", "AAAA", MINE)], vec![]);
        assert_eq!(decide(&s, &f, Some(&mine)).dns, Dns::Write(vec!["A"]));
        assert_eq!(decide(&s, &f, Some(&mine)).cert, Cert::Request);
    }

    #[test]
    fn the_certificate_kept_is_the_one_in_use_else_an_issued_one_and_its_record_comes_back() {
        let s = spec(Some("www.example.com"));
        let (pending, issued) = (
            cert("www.example.com", "PENDING_VALIDATION"),
            cert("www.example.com", "ISSUED"),
        );
        let records = vec![cname("_b.acm-validations.aws")];
        let f = found(records, vec![pending.clone(), issued.clone()]);
        let a = decide(&s, &f, None);
        assert_eq!(a.cert, Cert::Keep(issued.clone()));
        assert_eq!(a.stale, std::slice::from_ref(&pending));
        let a = decide(&s, &f, Some(&cdn(Some(&pending.arn))));
        assert_eq!(a.cert, Cert::Keep(pending));
        // An issued certificate whose validation record was deleted: the
        // record is written again (renewal needs it).
        let f = found(vec![], vec![issued.clone()]);
        assert_eq!(decide(&s, &f, None).cert, Cert::Revalidate(issued));
    }

    #[test]
    fn without_the_domain_its_records_and_certificates_go() {
        let issued = cert("www.example.com", "ISSUED");
        let f = found(
            vec![
                alias("www.example.com", "A", MINE),
                alias("www.example.com", "AAAA", "someone.else.example"),
                cname("_b.acm-validations.aws"),
            ],
            vec![issued.clone()],
        );
        let a = decide(&spec(None), &f, Some(&cdn(None)));
        // Its A alias and its validation record; not another's AAAA.
        let Dns::Delete(gone) = &a.dns else {
            panic!("{a:?}")
        };
        let kinds: Vec<&str> = gone.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["A", "CNAME"]);
        assert_eq!(a.stale.len(), 1);
        assert_eq!(a.cert, Cert::None);
        // Another certificate of the account for the same name may rely on
        // the validation record: it stays.
        let shared = Found {
            others: vec!["www.example.com".into()],
            ..f.clone()
        };
        let Dns::Delete(gone) = decide(&spec(None), &shared, Some(&cdn(None))).dns else {
            panic!("no delete")
        };
        assert_eq!(gone.len(), 1);
        // A CNAME of that name with another value is not ours.
        let f = found(vec![cname("_other.example")], vec![issued]);
        assert_eq!(decide(&spec(None), &f, Some(&cdn(None))).dns, Dns::None);
        // A failed certificate is replaced; the failed one is stale.
        let f = found(vec![], vec![cert("www.example.com", "FAILED")]);
        let a = decide(&spec(Some("www.example.com")), &f, None);
        assert_eq!(a.cert, Cert::Request);
        assert_eq!(a.stale.len(), 1);
    }

    #[test]
    fn a_changed_domain_deletes_the_old_names_aliases() {
        let f = Found {
            old: Some("old.example.com".into()),
            ..found(
                vec![
                    alias("old.example.com", "A", MINE),
                    alias("old.example.com", "AAAA", "someone.else.example"),
                ],
                vec![],
            )
        };
        let a = decide(&spec(Some("www.example.com")), &f, Some(&cdn(None)));
        assert_eq!(a.old.len(), 1);
        assert_eq!(a.old[0].kind, "A");
        assert_eq!(a.dns, Dns::Write(vec!["A", "AAAA"]));
    }

    #[test]
    fn each_name_is_read_once() {
        let mut shop = cert("shop.example.com", "ISSUED");
        shop.validation = Some(Cname {
            name: "_s.shop.example.com".into(),
            value: "_t.acm-validations.aws".into(),
        });
        let certs = [
            cert("www.example.com", "ISSUED"),
            shop,
            cert("www.example.com", "PENDING_VALIDATION"),
        ];
        assert_eq!(
            names_to_read("www.example.com", Some("old.example.com"), &certs),
            [
                "www.example.com",
                "old.example.com",
                "_a.www.example.com",
                "_s.shop.example.com"
            ]
        );
    }

    #[test]
    fn names_compare_without_case_or_trailing_dot() {
        assert_eq!(norm("WWW.Example.com."), "www.example.com");
    }
}
