#!/usr/bin/env python3
"""Makes a learner's IAM user in moto and turns moto's IAM enforcement on.

Usage: iam_user.py --endpoint http://127.0.0.1:PORT --policy config/iam-policy.json
       iam_user.py --endpoint http://127.0.0.1:PORT --off   (enforcement off again)
       iam_user.py --endpoint http://127.0.0.1:PORT --on    (on again, same user)

Creates the user `sitedeploy-learner`, attaches a policy made from the given
document, creates an access key, and then POSTs /moto-api/reset-auth with 0, so
from then on moto authenticates every request (signature and access key) and
allows only the actions that user's policy allows. Prints the key as JSON:
{"access_key": ..., "secret_key": ...}.

moto evaluates Action and Effect only. Its access_control.py says "TODO add
support for the Resource and Condition parts of IAM policies": it checks every
action against the resource "*", and a Condition it cannot evaluate turns an
Allow into a Deny. So the policy given to moto is the document's action view:
the same statements and actions (plus moto's names for the tagging API's and
CloudFront's CreateDistributionWithTags), Resource "*", no Condition. The resource ARNs
and tag conditions of the real document are evaluated by tests/support/awsproxy.py
(`iam_policy`) in front of moto.
"""

import argparse
import json
import urllib.request

import boto3


def action_view(document):
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    out = []
    for s in statements:
        view = {k: v for k, v in s.items() if k not in ("Resource", "NotResource", "Condition")}
        view["Resource"] = "*"
        # moto names an action by the request's SigV4 signing name, which for
        # the Resource Groups Tagging API is `tagging`; IAM's prefix is `tag`.
        actions = view.get("Action", [])
        if isinstance(actions, str):
            actions = [actions]
        view["Action"] = actions + ["tagging:" + a[4:] for a in actions if a.startswith("tag:")]
        # ... and by the operation's name, where IAM's action differs: CloudFront's
        # CreateDistributionWithTags is authorized as cloudfront:CreateDistribution
        # (and cloudfront:TagResource) by AWS.
        view["Action"] += [a + "WithTags" for a in actions if a == "cloudfront:CreateDistribution"]
        # ... and S3's HeadBucket, which AWS authorizes as s3:ListBucket, moto as
        # s3:HeadBucket.
        view["Action"] += ["s3:HeadBucket" for a in actions if a == "s3:ListBucket"]
        out.append(view)
    return {"Version": document.get("Version", "2012-10-17"), "Statement": out}


def reset_auth(endpoint, count):
    """moto authenticates every request after `count` more requests."""
    req = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=count,
                                 headers={"Content-Type": "text/plain"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--policy")
    ap.add_argument("--off", action="store_true")
    ap.add_argument("--on", action="store_true")
    args = ap.parse_args()
    if args.off or args.on:
        reset_auth(args.endpoint, b"inf" if args.off else b"0")
        return
    with open(args.policy) as f:
        document = json.load(f)
    iam = boto3.client("iam", endpoint_url=args.endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    user = "sitedeploy-learner"
    iam.create_user(UserName=user)
    arn = iam.create_policy(PolicyName="sitedeploy",
                            PolicyDocument=json.dumps(action_view(document)))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    reset_auth(args.endpoint, b"0")
    print(json.dumps({"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}))


if __name__ == "__main__":
    main()
