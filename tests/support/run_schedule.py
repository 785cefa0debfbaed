#!/usr/bin/env python3
"""Runs the schedules of a group the way EventBridge Scheduler would: for each
schedule, the service and API action come from its universal target ARN
(arn:<partition>:scheduler:::aws-sdk:<service>:<apiAction>) and its Input JSON is
sent as that API's request, here to moto, under the schedule's execution role.

Before each call, as Scheduler and IAM would:
- the role (Target.RoleArn) must exist and its trust policy must let the service
  principal scheduler.amazonaws.com call sts:AssumeRole (request context:
  aws:SourceAccount = the account, aws:SourceArn = the schedule group's ARN, as
  Scheduler's confused-deputy guidance names them), otherwise the execution
  cannot assume the role;
- the call must be allowed by the role's permission policies (inline ones and
  attached managed ones' default versions, together: some statement allows and
  none denies), evaluated by iam_eval.authorize with the action
  "<IAM prefix>:<Action>", the resource ARN(s) of the call and the resource's
  current tags as aws:ResourceTag/<key> (plus the service's own
  <prefix>:ResourceTag/<key> where the Service Authorization Reference lists one).
A refusal prints "denied: <what>" to stderr and exits 2 (the call is not sent).
A resource that no longer exists is not authorized here: the call goes to moto
and fails (or not) as moto does.

Usage: run_schedule.py --endpoint URL --group NAME [--region us-east-1]
Prints one JSON line per schedule run: {"name", "service", "action", "input"}.
"""

import argparse
import datetime
import json
import os
import re
import sys
import urllib.parse

import boto3
import botocore.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iam_eval  # noqa: E402

# SDK service identifiers (as in universal targets) -> boto3 client names.
CLIENTS = {"elasticloadbalancingv2": "elbv2"}
# SDK service identifiers -> IAM action prefixes (Service Authorization Reference).
IAM_PREFIX = {
    "elasticloadbalancingv2": "elasticloadbalancing",
    "elasticloadbalancing": "elasticloadbalancing",
    "ec2": "ec2",
    "autoscaling": "autoscaling",
    "scheduler": "scheduler",
    "iam": "iam",
}
SCHEDULER = "scheduler.amazonaws.com"
DEFAULT_ACCOUNT = "123456789012"


class Denied(Exception):
    pass


def arn_parts(arn):
    """(partition, service, region, account, resource) of an ARN, or None."""
    p = (arn or "").split(":", 5)
    if len(p) != 6 or p[0] != "arn":
        return None
    return p[1], p[2], p[3], p[4], p[5]


def policy_doc(doc):
    """IAM answers policy documents URL-encoded; boto3 usually decodes them."""
    if isinstance(doc, dict):
        return doc
    text = urllib.parse.unquote(doc)
    return json.loads(text)


def code(err):
    return err.response.get("Error", {}).get("Code", "")


def role_policies(iam, role_name):
    """The role's permission policies: inline ones, then attached managed ones."""
    docs = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
        for name in page["PolicyNames"]:
            got = iam.get_role_policy(RoleName=role_name, PolicyName=name)
            docs.append(policy_doc(got["PolicyDocument"]))
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name):
        for att in page["AttachedPolicies"]:
            pol = iam.get_policy(PolicyArn=att["PolicyArn"])["Policy"]
            ver = iam.get_policy_version(PolicyArn=att["PolicyArn"],
                                         VersionId=pol["DefaultVersionId"])
            docs.append(policy_doc(ver["PolicyVersion"]["Document"]))
    return docs


def tag_context(tags, service_prefix=None):
    """aws:ResourceTag/<k> (and <service_prefix>:ResourceTag/<k>) for a resource's tags."""
    ctx = {}
    for t in tags or []:
        ctx[f"aws:ResourceTag/{t['Key']}"] = t.get("Value", "")
        if service_prefix:
            ctx[f"{service_prefix}:ResourceTag/{t['Key']}"] = t.get("Value", "")
    return ctx


def checks_for(service, action, payload, session, where):
    """The authorization checks AWS makes for this call: [(action, resource, context)].
    Resources that do not exist are left out (the call then fails in moto)."""
    partition, region, account = where
    prefix = IAM_PREFIX.get(service, service)
    iam_action = f"{prefix}:{action[:1].upper()}{action[1:]}"
    if (service, action) == ("elasticloadbalancingv2", "deleteLoadBalancer"):
        # SAR (list_elasticloadbalancingv2.html): DeleteLoadBalancer on loadbalancer/app|net;
        # keys aws:ResourceTag/${TagKey}, elasticloadbalancing:ResourceTag/${TagKey}.
        arn = payload.get("LoadBalancerArn")
        elbv2 = session("elbv2")
        try:
            elbv2.describe_load_balancers(LoadBalancerArns=[arn])
        except botocore.exceptions.ClientError as e:
            if code(e) in ("LoadBalancerNotFound", "ValidationError"):
                return []
            raise
        descs = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"]
        tags = descs[0].get("Tags", []) if descs else []
        return [(iam_action, arn, tag_context(tags, "elasticloadbalancing"))]
    if (service, action) == ("ec2", "terminateInstances"):
        # SAR (list_amazonec2.html): TerminateInstances on instance*;
        # arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId};
        # keys aws:ResourceTag/${TagKey}, ec2:ResourceTag/${TagKey}, ...
        ids = payload.get("InstanceIds") or []
        ec2 = session("ec2")
        found = {}
        if ids:
            pages = ec2.get_paginator("describe_instances").paginate(
                Filters=[{"Name": "instance-id", "Values": ids}])
            for page in pages:
                for r in page["Reservations"]:
                    for i in r["Instances"]:
                        found[i["InstanceId"]] = i.get("Tags", [])
        return [(iam_action, f"arn:{partition}:ec2:{region}:{account}:instance/{i}",
                 dict(tag_context(found[i], "ec2"), **{"ec2:Region": region,
                                                       "ec2:InstanceID": i}))
                for i in ids if i in found]
    if (service, action) == ("autoscaling", "deleteAutoScalingGroup"):
        # SAR (list_amazonec2autoscaling.html): DeleteAutoScalingGroup on autoScalingGroup*;
        # arn:${Partition}:autoscaling:${Region}:${Account}:autoScalingGroup:${GroupId}:
        # autoScalingGroupName/${GroupFriendlyName}; keys autoscaling:ForceDelete,
        # autoscaling:ResourceTag/${TagKey}, aws:ResourceTag/${TagKey}.
        name = payload.get("AutoScalingGroupName")
        groups = session("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[name])["AutoScalingGroups"]
        if not groups:
            return []
        g = groups[0]
        ctx = tag_context(g.get("Tags", []), "autoscaling")
        if "ForceDelete" in payload:
            ctx["autoscaling:ForceDelete"] = bool(payload["ForceDelete"])
        return [(iam_action, g["AutoScalingGroupARN"], ctx)]
    # Any other target: the action on "*" (no resource-level knowledge here).
    return [(iam_action, "*", {})]


def assume(iam, role_arn, group_arn, account):
    """The role's name and permission policies, if Scheduler may assume it."""
    parts = arn_parts(role_arn)
    if not parts or parts[1] != "iam" or not parts[4].startswith("role/"):
        raise Denied(f"{SCHEDULER} cannot assume {role_arn!r}: not a role ARN")
    role_name = parts[4].rsplit("/", 1)[-1]
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except botocore.exceptions.ClientError as e:
        if code(e) == "NoSuchEntity":
            raise Denied(f"{SCHEDULER} cannot assume {role_arn}: the role does not exist")
        raise
    trust = policy_doc(role.get("AssumeRolePolicyDocument") or {"Statement": []})
    context = {
        "aws:SourceAccount": account,
        "aws:SourceArn": group_arn,
        "aws:PrincipalServiceName": SCHEDULER,
        "aws:PrincipalIsAWSService": True,
        "aws:SecureTransport": True,
    }
    decision, reason = iam_eval.evaluate(trust, "sts:AssumeRole", role["Arn"], context,
                                         principal={"Service": SCHEDULER})
    if decision != iam_eval.ALLOW:
        raise Denied(f"{SCHEDULER} cannot assume {role_arn}: sts:AssumeRole is not "
                     f"allowed by its trust policy ({reason})")
    return role, role_policies(iam, role_name)


def session_context(role, region, account):
    """Global keys of a request made with the role's session credentials."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ctx = {
        "aws:PrincipalArn": role["Arn"],
        "aws:PrincipalAccount": account,
        "aws:PrincipalType": "AssumedRole",
        "aws:RequestedRegion": region,
        "aws:SecureTransport": True,
        "aws:ViaAWSService": False,
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
    }
    for t in role.get("Tags") or []:  # a role session carries its role's tags
        ctx[f"aws:PrincipalTag/{t['Key']}"] = t.get("Value", "")
    return ctx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--region", default="us-east-1")
    args = ap.parse_args()
    kw = dict(endpoint_url=args.endpoint, aws_access_key_id="testing",
              aws_secret_access_key="testing")
    scheduler = boto3.client("scheduler", region_name=args.region, **kw)
    iam = boto3.client("iam", region_name=args.region, **kw)
    for summary in scheduler.list_schedules(GroupName=args.group)["Schedules"]:
        s = scheduler.get_schedule(Name=summary["Name"], GroupName=args.group)
        target = s["Target"]
        m = re.fullmatch(r"arn:(aws[a-z-]*):scheduler:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)",
                         target["Arn"])
        if not m:
            raise SystemExit(f"not a universal target: {target['Arn']}")
        partition, service, action = m.groups()
        own = arn_parts(s.get("Arn")) or (partition, "scheduler", args.region, "", "")
        region = own[2] or args.region
        account = own[3] or (arn_parts(target.get("RoleArn")) or ("",) * 5)[3] \
            or DEFAULT_ACCOUNT
        group_arn = f"arn:{partition}:scheduler:{region}:{account}:schedule-group/{args.group}"
        payload = json.loads(target.get("Input") or "{}")

        def client(name, _region=region):
            return boto3.client(name, region_name=_region, **kw)

        try:
            role, policies = assume(iam, target.get("RoleArn"), group_arn, account)
            base = session_context(role, region, account)
            checks = [(a, r, dict(base, **c)) for a, r, c in
                      checks_for(service, action, payload, client, (partition, region, account))]
            refused = iam_eval.authorize(policies, checks)
            if refused:
                raise Denied(f"{refused} (role {role['Arn']}, schedule {s['Name']})")
        except Denied as e:
            print(f"denied: {e}", file=sys.stderr)
            sys.exit(2)
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()
        getattr(client(CLIENTS.get(service, service)), method)(**payload)
        print(json.dumps({"name": s["Name"], "service": service, "action": action,
                          "input": payload}))


if __name__ == "__main__":
    main()
