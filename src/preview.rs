//! `--plan`: what `deploy` or `cleanup` would do, read from the account, with
//! nothing created, changed or deleted. Each row names the resource as deploy's
//! summary does, so a plan can be compared with the run that follows it.

use anyhow::{bail, Result};
use serde::Serialize;

use crate::aws::Ctx;
use crate::plan::{Plan, LB_TO_WEB_DESCRIPTION, SSH_RULE_DESCRIPTION, WEB_PORT};
use crate::resources::secgroup::{self, Rule};
use crate::resources::{instance, keypair, loadbalancer, network, publicip, targetgroup, Outcome};

/// One planned change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Kind, as in deploy's summary.
    pub kind: &'static str,
    /// Name, as in deploy's summary.
    pub name: String,
    /// `create`, `exists`, `update`, `replace`, `stop` (deploy would stop) or `delete`.
    pub action: &'static str,
    /// What is there now, or why.
    pub detail: String,
}

fn row(kind: &'static str, name: &str, outcome: Outcome, detail: String) -> Change {
    Change {
        kind,
        name: name.to_string(),
        action: outcome.plan_word(),
        detail,
    }
}

/// The lb group's rules, as deploy wants them.
pub fn lb_rules(plan: &Plan) -> Vec<Rule> {
    plan.lb_rules
        .iter()
        .map(|r| Rule::Cidr {
            port: r.port,
            cidr: r.cidr.clone(),
            description: r.description.to_string(),
        })
        .collect()
}

/// The web group's rules, as deploy wants them.
pub fn web_rules(lb_group_id: &str, ssh_cidr: Option<&str>) -> Vec<Rule> {
    let mut rules = vec![Rule::Group {
        port: WEB_PORT,
        group_id: lb_group_id.to_string(),
        description: LB_TO_WEB_DESCRIPTION.into(),
    }];
    if let Some(c) = ssh_cidr {
        rules.push(Rule::Cidr {
            port: 22,
            cidr: c.to_string(),
            description: SSH_RULE_DESCRIPTION.into(),
        });
    }
    rules
}

/// What deploy would do.
pub async fn deploy(ctx: &Ctx, plan: &Plan, replace_key_pair: bool) -> Result<Vec<Change>> {
    let (key, net, image, ssh, tg, lb, (current, others)) = tokio::try_join!(
        keypair::find_any(ctx, plan),
        network::find(ctx, plan),
        instance::find_image(ctx, plan),
        async { Ok(publicip::ssh_cidr(plan).await.ok()) },
        targetgroup::find(ctx, plan),
        loadbalancer::find(ctx, plan),
        instance::find_live(ctx, plan),
    )?;
    let mut rows = Vec::new();

    // The same decision deploy makes (keypair::decide).
    rows.push(
        match keypair::decide(plan, key.as_ref(), replace_key_pair)? {
            keypair::KeyAction::Create => {
                row("key pair", &plan.key_name, Outcome::Created, String::new())
            }
            keypair::KeyAction::ImportExisting(_) => row(
                "key pair",
                &plan.key_name,
                Outcome::Created,
                format!("imported from {}", plan.pem_path.display()),
            ),
            keypair::KeyAction::Keep => row(
                "key pair",
                &plan.key_name,
                Outcome::Existing,
                key.map(|k| k.id).unwrap_or_default(),
            ),
            keypair::KeyAction::Replace => row(
                "key pair",
                &plan.key_name,
                Outcome::Replaced,
                key.map(|k| k.id).unwrap_or_default(),
            ),
            keypair::KeyAction::Stop(why) => Change {
                kind: "key pair",
                name: plan.key_name.clone(),
                action: "stop",
                detail: why,
            },
        },
    );

    let (lb_sg, lb_sg_outcome) = secgroup::preview(
        ctx,
        plan,
        &net.vpc_id,
        &plan.lb_sg_name,
        Some(&lb_rules(plan)),
    )
    .await?;
    let web_wanted = lb_sg.as_ref().map(|g| web_rules(&g.id, ssh.as_deref()));
    let (web_sg, web_outcome) = secgroup::preview(
        ctx,
        plan,
        &net.vpc_id,
        &plan.web_sg_name,
        web_wanted.as_deref(),
    )
    .await?;
    for (name, g, o) in [
        (&plan.lb_sg_name, lb_sg, lb_sg_outcome),
        (&plan.web_sg_name, web_sg, web_outcome),
    ] {
        rows.push(row(
            "security group",
            name,
            o,
            g.map(|g| g.id).unwrap_or_default(),
        ));
    }

    rows.push(match &tg {
        Some(t) => row(
            "target group",
            &plan.tg_name,
            Outcome::Existing,
            t.arn.clone(),
        ),
        None => row(
            "target group",
            &plan.tg_name,
            Outcome::Created,
            String::new(),
        ),
    });

    let current = current.as_ref();
    let others: Vec<&str> = others.iter().map(|i| i.id.as_str()).collect();
    rows.push(match (current, others.is_empty()) {
        (Some(c), true) if instance::is_stopped(c) => row(
            "instance",
            &plan.instance_name,
            Outcome::Updated,
            format!("{} is {}: deploy starts it", c.id, c.state),
        ),
        (Some(c), true) => row(
            "instance",
            &plan.instance_name,
            Outcome::Existing,
            c.id.clone(),
        ),
        (None, true) => row(
            "instance",
            &plan.instance_name,
            Outcome::Created,
            format!("{} from {}", plan.instance_type, image.id),
        ),
        (_, false) => row(
            "instance",
            &plan.instance_name,
            Outcome::Replaced,
            format!(
                "{} takes the place of {}",
                plan.instance_type,
                others.join(", ")
            ),
        ),
    });

    let registered = match (current, &tg) {
        (Some(c), Some(t)) => targetgroup::targets(ctx, t)
            .await?
            .iter()
            .any(|(id, _)| *id == c.id),
        _ => false,
    };
    rows.push(row(
        "target",
        &plan.instance_name,
        if registered {
            Outcome::Existing
        } else {
            Outcome::Updated
        },
        current.map(|c| c.id.clone()).unwrap_or_default(),
    ));

    let listener_name = format!("HTTP :{}", plan.listener_port);
    match &lb {
        None => {
            rows.push(row(
                "load balancer",
                &plan.lb_name,
                Outcome::Created,
                String::new(),
            ));
            rows.push(row(
                "listener",
                &listener_name,
                Outcome::Created,
                String::new(),
            ));
        }
        Some(l) => {
            rows.push(row(
                "load balancer",
                &plan.lb_name,
                Outcome::Existing,
                l.dns_name.clone(),
            ));
            let found = loadbalancer::find_listener(ctx, plan, l).await?;
            rows.push(match (found, &tg) {
                (None, _) => row("listener", &listener_name, Outcome::Created, String::new()),
                (Some((arn, to)), Some(t)) if to.as_deref() == Some(t.arn.as_str()) => {
                    row("listener", &listener_name, Outcome::Existing, arn)
                }
                (Some((arn, _)), _) => row("listener", &listener_name, Outcome::Updated, arn),
            });
        }
    }
    Ok(rows)
}

/// What cleanup would delete.
pub async fn cleanup(ctx: &Ctx, plan: &Plan) -> Result<Vec<Change>> {
    let crate::status::Scan { found, errors, .. } = crate::status::scan(ctx, plan).await;
    if !errors.is_empty() {
        bail!("could not read everything: {}", errors.join("; "));
    }
    Ok(found
        .into_iter()
        .map(|f| Change {
            kind: f.kind,
            name: f.name,
            action: "delete",
            detail: f.detail,
        })
        .collect())
}

/// The rows as a table.
pub fn to_text(rows: &[Change]) -> String {
    if rows.is_empty() {
        return "Nothing to do.\n".to_string();
    }
    let mut s = String::new();
    for r in rows {
        s.push_str(&format!(
            "  {:<8} {:<15} {:<28} {}\n",
            r.action, r.kind, r.name, r.detail
        ));
    }
    s
}
