//! config/iam-policy.json allows every AWS operation the code calls, and the
//! destructive ones only on resources tagged ManagedBy=sitedeploy.

mod common;

use std::path::Path;

/// `ctx.ec2 . describe_key_pairs()` -> ("ec2", "DescribeKeyPairs"), for every
/// client call in src/.
fn operations_in_source() -> Vec<(String, String)> {
    let mut ops = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            for (client, prefix) in [
                (".ec2", "ec2"),
                (".elb", "elasticloadbalancing"),
                (".asg", "autoscaling"),
                (".scheduler", "scheduler"),
                (".iam", "iam"),
                (".sts", "sts"),
                (".tagging", "tag"),
                (".cloudfront", "cloudfront"),
                (".acm", "acm"),
                (".route53", "route53"),
                (".s3", "s3"),
            ] {
                for (i, _) in text.match_indices(client) {
                    let after = &text[i + client.len()..];
                    if after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = after.trim_start();
                    let Some(rest) = rest.strip_prefix('.') else {
                        continue;
                    };
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    // A call (`ctx.x.op()`), not a name (`d.cloudfront.net`).
                    if !rest[name.len()..].starts_with('(') {
                        continue;
                    }
                    let pascal: String = name
                        .split('_')
                        .map(|w| {
                            let mut c = w.chars();
                            c.next()
                                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                                .unwrap_or_default()
                        })
                        .collect();
                    // IAM authorizes CreateDistributionWithTags as
                    // CreateDistribution (and TagResource).
                    // S3 authorizes most calls under another action name
                    // (Service Authorization Reference, Amazon S3 actions).
                    let pascal = match pascal.as_str() {
                        "CreateDistributionWithTags" => "CreateDistribution",
                        "HeadBucket" | "ListObjectsV2" => "ListBucket",
                        "GetPublicAccessBlock" => "GetBucketPublicAccessBlock",
                        "PutPublicAccessBlock" => "PutBucketPublicAccessBlock",
                        "PutBucketEncryption" => "PutEncryptionConfiguration",
                        "PutBucketLifecycleConfiguration" => "PutLifecycleConfiguration",
                        "GetBucketLifecycleConfiguration" => "GetLifecycleConfiguration",
                        // And s3:GetObject on the source, which the manifest
                        // read needs too.
                        "CopyObject" => "PutObject",
                        "DeleteObjects" => "DeleteObject",
                        other => other,
                    }
                    .to_string();
                    ops.push((prefix.to_string(), pascal));
                }
            }
        }
    }
    ops.sort();
    ops.dedup();
    ops
}

#[test]
fn policy_allows_every_operation_the_code_calls() {
    let allowed = allowed_actions();
    let ops = operations_in_source();
    assert!(ops.len() >= 25, "found only {ops:?}");
    // GetCallerIdentity needs no permission (STS API reference: "No
    // permissions are required to perform this operation").
    let needs_none = ["sts:GetCallerIdentity"];
    let missing: Vec<String> = ops
        .iter()
        .map(|(p, o)| format!("{p}:{o}"))
        .filter(|a| !allowed.contains(a) && !needs_none.contains(&a.as_str()))
        .collect();
    for client in [
        "ec2",
        "elasticloadbalancing",
        "autoscaling",
        "scheduler",
        "iam",
        "sts",
        "tag",
        "cloudfront",
        "acm",
        "route53",
        "s3",
    ] {
        assert!(
            ops.iter().any(|(p, _)| p == client),
            "no {client} call found in src/: the scan is broken"
        );
    }
    assert!(
        missing.is_empty(),
        "not in config/iam-policy.json: {missing:?}"
    );
    assert!(
        !allowed.iter().any(|a| a.contains('*')),
        "no wildcard actions"
    );
}

#[test]
fn destructive_actions_need_the_managed_by_tag() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/iam-policy.json"),
    )
    .unwrap();
    let policy: serde_json::Value = serde_json::from_str(&text).unwrap();
    for st in policy["Statement"].as_array().unwrap() {
        let actions: Vec<String> = match &st["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            serde_json::Value::Array(a) => {
                a.iter().map(|x| x.as_str().unwrap().to_string()).collect()
            }
            _ => vec![],
        };
        for a in actions {
            let name = a.split(':').nth(1).unwrap();
            if a == "scheduler:DeleteSchedule" {
                // Schedules carry no tags (only groups do): scoped to this
                // tool's groups by name, and reached only through
                // DeleteScheduleGroup, which needs the group's tag.
                assert_eq!(
                    st["Resource"], "arn:aws:scheduler:*:*:schedule/sitedeploy-*/*",
                    "{a}"
                );
                continue;
            }
            if a.starts_with("s3:") {
                // S3 evaluates aws:ResourceTag only with ABAC turned on for
                // the bucket (S3 User Guide, "Enabling ABAC for general
                // purpose buckets"), which this tool does not: its S3
                // actions are scoped to its own buckets by name.
                let res: Vec<String> = match &st["Resource"] {
                    serde_json::Value::String(r) => vec![r.clone()],
                    serde_json::Value::Array(r) => {
                        r.iter().map(|x| x.as_str().unwrap().to_string()).collect()
                    }
                    _ => vec![],
                };
                assert!(
                    !res.is_empty()
                        && res
                            .iter()
                            .all(|r| r.starts_with("arn:aws:s3:::sitedeploy-")),
                    "{a} on {res:?}"
                );
                continue;
            }
            if name.starts_with("Delete")
                || name.starts_with("Terminate")
                || name.starts_with("Modify")
                || name.starts_with("Revoke")
            {
                assert_eq!(
                    st["Condition"]["StringEquals"]["aws:ResourceTag/ManagedBy"], "sitedeploy",
                    "{a} is allowed without the ManagedBy tag condition"
                );
            }
        }
    }
}

/// Every action some statement of config/iam-policy.json allows (every
/// statement must be an Allow with a string or list Action).
fn allowed_actions() -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/iam-policy.json"),
    )
    .unwrap();
    let policy: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut allowed = Vec::new();
    for st in policy["Statement"].as_array().unwrap() {
        assert_eq!(st["Effect"], "Allow");
        match &st["Action"] {
            serde_json::Value::String(a) => allowed.push(a.clone()),
            serde_json::Value::Array(a) => {
                allowed.extend(a.iter().map(|x| x.as_str().unwrap().to_string()))
            }
            other => panic!("odd Action {other}"),
        }
    }
    allowed
}

/// The "Elastic Load Balancing API permissions" page (Elastic Load Balancing
/// User Guide, "API permissions"): besides the ELB action itself, the caller
/// needs these EC2 (and IAM) permissions, which ELB checks on its behalf.
const ELB_CALLER_NEEDS: &[(&str, &[&str])] = &[
    (
        "CreateLoadBalancer",
        &[
            "ec2:DescribeAccountAttributes",
            "ec2:DescribeAddresses",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "iam:CreateServiceLinkedRole",
        ],
    ),
    (
        "CreateTargetGroup",
        &["ec2:DescribeInternetGateways", "ec2:DescribeVpcs"],
    ),
    (
        "RegisterTargets",
        &[
            "ec2:DescribeInstances",
            "ec2:DescribeInternetGateways",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
        ],
    ),
    ("SetSecurityGroups", &["ec2:DescribeSecurityGroups"]),
    ("SetSubnets", &["ec2:DescribeSubnets"]),
];

#[test]
fn policy_has_what_elb_checks_on_the_caller() {
    let allowed = allowed_actions();
    let called = operations_in_source();
    let mut checked = 0;
    for (elb_action, needs) in ELB_CALLER_NEEDS {
        if !called
            .iter()
            .any(|(p, o)| p == "elasticloadbalancing" && o == elb_action)
        {
            continue;
        }
        checked += 1;
        for n in *needs {
            assert!(
                allowed.iter().any(|a| a == n),
                "elasticloadbalancing:{elb_action} needs {n} on the caller, and \
                 config/iam-policy.json lacks it"
            );
        }
    }
    assert!(
        checked >= 3,
        "the code calls fewer ELB actions than expected"
    );
}

/// The evaluator the tests run every request through (tests/support/iam_eval.py)
/// refuses a policy with a misspelled condition key, as IAM's validation does:
/// the policy as written is accepted, one letter off is not.
#[test]
fn a_misspelled_condition_key_is_refused() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("config/iam-policy.json")).unwrap();
    let validate = |text: &str| {
        let file = std::env::temp_dir().join(format!(
            "sd-policy-{}-{}.json",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&file, text).unwrap();
        let args = [std::ffi::OsStr::new("validate"), file.as_os_str()];
        let r = common::script("tests/support/iam_eval.py", &args);
        (r.code == 0, r.stdout)
    };
    let (ok, out) = validate(&text);
    assert!(ok, "the policy itself: {out}");
    for (key, typo) in [
        ("ec2:CreateAction", "ec2:CreateActon"),
        ("iam:PassedToService", "iam:PassedToServce"),
        ("aws:TagKeys", "aws:TagKey"),
        ("aws:RequestTag/", "aws:RequestTg/"),
    ] {
        assert!(text.contains(key), "{key}");
        let (ok, out) = validate(&text.replacen(key, typo, 1));
        assert!(!ok, "{typo} accepted");
        assert!(out.contains(typo), "{typo} not named: {out}");
    }
}
