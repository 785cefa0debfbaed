#!/usr/bin/env python3
"""Tests of iam_eval.py (plain unittest): python3 tests/support/iam_eval_test.py"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import iam_eval  # noqa: E402
from iam_eval import authorize, evaluate, validate  # noqa: E402

INSTANCE = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"
TAGGED = {"aws:ResourceTag/ManagedBy": "sitedeploy"}


def policy(*statements, version="2012-10-17"):
    p = {"Statement": list(statements)}
    if version:
        p["Version"] = version
    return p


def allow(action, resource="*", condition=None, sid=None, effect="Allow", **extra):
    st = {"Effect": effect, "Action": action, "Resource": resource}
    if condition is not None:
        st["Condition"] = condition
    if sid:
        st["Sid"] = sid
    st.update(extra)
    return st


def deny(action, resource="*", condition=None, sid=None):
    return allow(action, resource, condition, sid, effect="Deny")


def cond(op, key, values):
    """Decision of a one-condition Allow statement for a context, via evaluate."""
    p = policy(allow("ec2:RunInstances", condition={op: {key: values}}))
    return lambda context: evaluate(p, "ec2:RunInstances", "*", context)[0] == "Allow"


class Matching(unittest.TestCase):
    def test_wildcard_actions_case_insensitive(self):
        p = policy(allow(["ec2:Describe*", "elasticloadbalancing:Delete?oadBalancer"]))
        self.assertEqual(evaluate(p, "ec2:DescribeInstances", "*", {})[0], "Allow")
        self.assertEqual(evaluate(p, "EC2:describeinstances", "*", {})[0], "Allow")
        self.assertEqual(evaluate(p, "elasticloadbalancing:DeleteLoadBalancer", "*", {})[0],
                         "Allow")
        self.assertEqual(evaluate(p, "ec2:RunInstances", "*", {})[0], "ImplicitDeny")
        self.assertEqual(evaluate(policy(allow("*")), "iam:PassRole", "*", {})[0], "Allow")
        self.assertEqual(evaluate(policy(allow("ec2:*")), "ec2:RunInstances", "*", {})[0], "Allow")

    def test_wildcard_resources_case_sensitive_and_per_segment(self):
        p = policy(allow("ec2:TerminateInstances", "arn:aws:ec2:*:*:instance/*"))
        self.assertEqual(evaluate(p, "ec2:TerminateInstances", INSTANCE, {})[0], "Allow")
        upper = policy(allow("ec2:TerminateInstances", "arn:aws:ec2:*:*:Instance/*"))
        self.assertEqual(evaluate(upper, "ec2:TerminateInstances", INSTANCE, {})[0],
                         "ImplicitDeny")
        # "*" stays inside its segment: region:account is two segments.
        short = policy(allow("ec2:TerminateInstances", "arn:aws:ec2:*:instance/*"))
        self.assertEqual(evaluate(short, "ec2:TerminateInstances", INSTANCE, {})[0],
                         "ImplicitDeny")
        # "?" is one character; the resource part spans ':' and '/'.
        asg = ("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:"
               "0f1e:autoScalingGroupName/expf-asg")
        p = policy(allow("autoscaling:DeleteAutoScalingGroup",
                         "arn:aws:autoscaling:us-east-?:*:autoScalingGroup:*:"
                         "autoScalingGroupName/expf-*"))
        self.assertEqual(evaluate(p, "autoscaling:DeleteAutoScalingGroup", asg, {})[0], "Allow")
        # An action without resource types is authorized on "*": only "*" matches it.
        vpc_only = policy(allow("ec2:DescribeVpcs", "arn:aws:ec2:*:*:vpc/*"))
        self.assertEqual(evaluate(vpc_only, "ec2:DescribeVpcs", "*", {})[0], "ImplicitDeny")

    def test_explicit_deny_beats_allow(self):
        p = policy(allow("ec2:*", sid="All"), deny("ec2:TerminateInstances", sid="NoKill"))
        d, reason = evaluate(p, "ec2:TerminateInstances", INSTANCE, {})
        self.assertEqual(d, "ExplicitDeny")
        self.assertIn("NoKill", reason)
        self.assertEqual(evaluate(p, "ec2:StartInstances", INSTANCE, {}),
                         ("Allow", 'allowed by "All"'))
        self.assertEqual(authorize(p, [("ec2:StartInstances", INSTANCE, {}),
                                       ("ec2:TerminateInstances", INSTANCE, {})]),
                         f"ec2:TerminateInstances on {INSTANCE} (explicit deny by NoKill)")
        self.assertEqual(authorize(policy(allow("ec2:StartInstances")),
                                   [("ec2:TerminateInstances", INSTANCE, {})]),
                         f"ec2:TerminateInstances on {INSTANCE}")
        self.assertIsNone(authorize(p, [("ec2:StartInstances", INSTANCE, {})]))
        # The deciding statement without a Sid is named by its index.
        d, reason = evaluate(policy(allow("*"), deny("ec2:*")), "ec2:RunInstances", "*", {})
        self.assertEqual((d, reason), ("ExplicitDeny", "explicit deny by #1"))

    def test_statement_object_and_string_elements(self):
        p = {"Version": "2012-10-17",
             "Statement": {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"}}
        self.assertEqual(evaluate(p, "ec2:RunInstances", "*", {})[0], "Allow")

    def test_not_action_and_not_resource(self):
        p = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
        self.assertEqual(evaluate(p, "ec2:RunInstances", "*", {})[0], "Allow")
        self.assertEqual(evaluate(p, "iam:PassRole", "*", {})[0], "ImplicitDeny")
        p = policy({"Effect": "Allow", "Action": "ec2:TerminateInstances",
                    "NotResource": "arn:aws:ec2:*:*:instance/i-keep*"})
        self.assertEqual(evaluate(p, "ec2:TerminateInstances", INSTANCE, {})[0], "Allow")
        self.assertEqual(evaluate(p, "ec2:TerminateInstances",
                                  "arn:aws:ec2:us-east-1:1:instance/i-keep1", {})[0],
                         "ImplicitDeny")
        p = policy({"Effect": "Deny", "NotAction": "ec2:Describe*", "Resource": "*"},
                   allow("*"))
        self.assertEqual(evaluate(p, "ec2:DescribeVpcs", "*", {})[0], "Allow")
        self.assertEqual(evaluate(p, "ec2:RunInstances", "*", {})[0], "ExplicitDeny")

    def test_several_policies_together(self):
        a = policy(allow("ec2:TerminateInstances", condition={
            "StringEquals": {"aws:ResourceTag/ManagedBy": "sitedeploy"}}))
        b = policy(deny("ec2:TerminateInstances", condition={
            "StringEquals": {"aws:ResourceTag/Keep": "yes"}}, sid="Keep"))
        self.assertEqual(evaluate([a, b], "ec2:TerminateInstances", INSTANCE, TAGGED)[0],
                         "Allow")
        self.assertEqual(evaluate([a, b], "ec2:TerminateInstances", INSTANCE,
                                  dict(TAGGED, **{"aws:ResourceTag/Keep": "yes"}))[0],
                         "ExplicitDeny")
        self.assertEqual(evaluate([b], "ec2:TerminateInstances", INSTANCE, TAGGED)[0],
                         "ImplicitDeny")

    def test_policy_variables(self):
        p = policy(allow("iam:GetRole", "arn:aws:iam::*:role/${aws:PrincipalTag/team}-*"))
        ctx = {"aws:PrincipalTag/team": "web"}
        self.assertEqual(evaluate(p, "iam:GetRole", "arn:aws:iam::1:role/web-x", ctx)[0], "Allow")
        self.assertEqual(evaluate(p, "iam:GetRole", "arn:aws:iam::1:role/db-x", ctx)[0],
                         "ImplicitDeny")
        # A missing variable matches nothing; a default value stands in for it.
        self.assertEqual(evaluate(p, "iam:GetRole", "arn:aws:iam::1:role/-x", {})[0],
                         "ImplicitDeny")
        d = policy(allow("iam:GetRole", "arn:aws:iam::*:role/${aws:PrincipalTag/team, 'all'}-*"))
        self.assertEqual(evaluate(d, "iam:GetRole", "arn:aws:iam::1:role/all-x", {})[0], "Allow")
        # Before 2012-10-17 a variable is literal text.
        old = policy(allow("iam:GetRole", "arn:aws:iam::*:role/${aws:username}"),
                     version="2008-10-17")
        self.assertEqual(evaluate(old, "iam:GetRole", "arn:aws:iam::1:role/${aws:username}",
                                  {"aws:username": "bob"})[0], "Allow")
        # ${*} is a literal "*" in a Like pattern.
        star = cond("StringLike", "aws:ResourceTag/Name", "a${*}*")
        self.assertTrue(star({"aws:ResourceTag/Name": "a*bc"}))
        self.assertFalse(star({"aws:ResourceTag/Name": "abc"}))
        s = cond("StringEquals", "aws:ResourceTag/owner", "${aws:username}")
        self.assertTrue(s({"aws:ResourceTag/owner": "bob", "aws:username": "bob"}))
        self.assertFalse(s({"aws:ResourceTag/owner": "bob", "aws:username": "eve"}))


class Conditions(unittest.TestCase):
    def test_string_family(self):
        eq = cond("StringEquals", "aws:RequestTag/ManagedBy", "sitedeploy")
        self.assertTrue(eq({"aws:RequestTag/ManagedBy": "sitedeploy"}))
        self.assertFalse(eq({"aws:RequestTag/ManagedBy": "SiteDeploy"}))
        self.assertFalse(eq({}))                       # positive operator, missing key
        ne = cond("StringNotEquals", "aws:RequestTag/ManagedBy", ["a", "b"])
        self.assertTrue(ne({}))                        # negated operator, missing key
        self.assertTrue(ne({"aws:RequestTag/ManagedBy": "c"}))
        self.assertFalse(ne({"aws:RequestTag/ManagedBy": "b"}))   # matches none of a, b
        ic = cond("StringEqualsIgnoreCase", "aws:username", "JohnDoe")
        self.assertTrue(ic({"aws:username": "johndoe"}))
        nic = cond("StringNotEqualsIgnoreCase", "aws:username", "JohnDoe")
        self.assertFalse(nic({"aws:username": "JOHNDOE"}))
        self.assertTrue(nic({}))
        like = cond("StringLike", "aws:ResourceTag/Name", ["web-*", "db-??"])
        self.assertTrue(like({"aws:ResourceTag/Name": "web-1"}))
        self.assertTrue(like({"aws:ResourceTag/Name": "db-01"}))
        self.assertFalse(like({"aws:ResourceTag/Name": "db-001"}))
        self.assertFalse(like({"aws:ResourceTag/Name": "WEB-1"}))
        notlike = cond("StringNotLike", "aws:ResourceTag/Name", "web-*")
        self.assertTrue(notlike({}))
        self.assertFalse(notlike({"aws:ResourceTag/Name": "web-2"}))
        # StringEquals takes "*" literally.
        self.assertFalse(cond("StringEquals", "aws:username", "*")({"aws:username": "x"}))

    def test_values_or_keys_and_operators_and(self):
        p = policy(allow("ec2:RunInstances", condition={
            "StringEquals": {"aws:RequestTag/a": ["1", "2"], "aws:RequestTag/b": "x"},
            "Bool": {"aws:SecureTransport": "true"}}))

        def ok(ctx):
            return evaluate(p, "ec2:RunInstances", "*", ctx)[0] == "Allow"
        base = {"aws:RequestTag/a": "2", "aws:RequestTag/b": "x", "aws:SecureTransport": True}
        self.assertTrue(ok(base))
        self.assertFalse(ok(dict(base, **{"aws:RequestTag/a": "3"})))
        self.assertFalse(ok(dict(base, **{"aws:RequestTag/b": "y"})))
        self.assertFalse(ok(dict(base, **{"aws:SecureTransport": "false"})))

    def test_numeric(self):
        self.assertTrue(cond("NumericLessThanEquals", "s3:max-keys", "10")({"s3:max-keys": "10"}))
        self.assertFalse(cond("NumericLessThan", "s3:max-keys", "10")({"s3:max-keys": 10}))
        self.assertTrue(cond("NumericGreaterThan", "s3:max-keys", "1.5")({"s3:max-keys": "2"}))
        self.assertTrue(cond("NumericGreaterThanEquals", "k:n", "2")({"k:n": "2.0"}))
        self.assertTrue(cond("NumericEquals", "k:n", ["1", "3"])({"k:n": "3"}))
        self.assertFalse(cond("NumericEquals", "k:n", "3")({}))
        self.assertTrue(cond("NumericNotEquals", "k:n", "3")({}))
        self.assertFalse(cond("NumericNotEquals", "k:n", "3")({"k:n": "3"}))
        self.assertFalse(cond("NumericEquals", "k:n", "3")({"k:n": "three"}))

    def test_date(self):
        lt = cond("DateLessThan", "aws:CurrentTime", "2026-12-31T23:59:59Z")
        self.assertTrue(lt({"aws:CurrentTime": "2026-06-01T00:00:00Z"}))
        self.assertFalse(lt({"aws:CurrentTime": "2027-01-01T00:00:00Z"}))
        self.assertFalse(lt({}))
        gt = cond("DateGreaterThan", "aws:TokenIssueTime", "2020-01-01T00:00:01Z")
        self.assertTrue(gt({"aws:TokenIssueTime": "2020-06-01T00:00:00+02:00"}))
        self.assertTrue(cond("DateEquals", "aws:EpochTime", "1577836800")(
            {"aws:EpochTime": "2020-01-01T00:00:00Z"}))
        self.assertTrue(cond("DateNotEquals", "aws:CurrentTime", "2020-01-01")({}))
        self.assertTrue(cond("DateGreaterThanEquals", "aws:CurrentTime", "2020-01-01")(
            {"aws:CurrentTime": "2020-01-01T00:00:00Z"}))
        self.assertTrue(cond("DateLessThanEquals", "aws:CurrentTime", "2020-01-01")(
            {"aws:CurrentTime": "2019-12-31T23:00:00Z"}))

    def test_bool_binary_ip(self):
        b = cond("Bool", "aws:SecureTransport", "false")
        self.assertTrue(b({"aws:SecureTransport": False}))
        self.assertTrue(b({"aws:SecureTransport": "FALSE"}))
        self.assertFalse(b({"aws:SecureTransport": "true"}))
        self.assertFalse(b({}))
        self.assertTrue(cond("Bool", "autoscaling:ForceDelete", True)(
            {"autoscaling:ForceDelete": True}))
        self.assertTrue(cond("BinaryEquals", "k:b", "QmluYXJ5VmFsdWVJbkJhc2U2NA==")(
            {"k:b": b"BinaryValueInBase64"}))
        self.assertFalse(cond("BinaryEquals", "k:b", "QmluYXJ5VmFsdWVJbkJhc2U2NA==")(
            {"k:b": b"other"}))
        ip = cond("IpAddress", "aws:SourceIp", ["203.0.113.0/24", "2001:DB8:1234:5678::/64"])
        self.assertTrue(ip({"aws:SourceIp": "203.0.113.7"}))
        self.assertTrue(ip({"aws:SourceIp": "2001:db8:1234:5678::1"}))
        self.assertFalse(ip({"aws:SourceIp": "198.51.100.1"}))
        self.assertFalse(ip({}))
        one = cond("IpAddress", "aws:SourceIp", "203.0.113.7")   # no prefix: /32
        self.assertTrue(one({"aws:SourceIp": "203.0.113.7"}))
        self.assertFalse(one({"aws:SourceIp": "203.0.113.8"}))
        nip = cond("NotIpAddress", "aws:SourceIp", "203.0.113.0/24")
        self.assertTrue(nip({}))
        self.assertTrue(nip({"aws:SourceIp": "198.51.100.1"}))
        self.assertFalse(nip({"aws:SourceIp": "203.0.113.9"}))

    def test_arn_family(self):
        like = cond("ArnLike", "aws:SourceArn", "arn:aws:someservice:*:111122223333:finance/*")
        # The documented example: StringLike would match, ArnLike does not.
        value = ("arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:"
                 "finance/document.txt")
        self.assertFalse(like({"aws:SourceArn": value}))
        self.assertTrue(cond("StringLike", "aws:SourceArn",
                             "arn:aws:someservice:*:111122223333:finance/*")({"aws:SourceArn": value}))
        self.assertTrue(like({"aws:SourceArn":
                              "arn:aws:someservice:us-east-2:111122223333:finance/a/b.txt"}))
        eq = cond("ArnEquals", "aws:SourceArn", "arn:aws:scheduler:*:1:schedule-group/g")
        self.assertTrue(eq({"aws:SourceArn": "arn:aws:scheduler:us-east-1:1:schedule-group/g"}))
        self.assertFalse(eq({}))
        nl = cond("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::*:role/admin-*")
        self.assertTrue(nl({}))
        self.assertTrue(nl({"aws:PrincipalArn": "arn:aws:iam::1:role/web"}))
        self.assertFalse(nl({"aws:PrincipalArn": "arn:aws:iam::1:role/admin-x"}))
        self.assertTrue(cond("ArnNotEquals", "aws:PrincipalArn", "arn:aws:iam::1:role/a")(
            {"aws:PrincipalArn": "arn:aws:iam::1:role/b"}))

    def test_null(self):
        absent = cond("Null", "aws:TokenIssueTime", "true")
        self.assertTrue(absent({}))
        self.assertFalse(absent({"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}))
        present = cond("Null", "aws:RequestTag/ManagedBy", "false")
        self.assertTrue(present({"aws:RequestTag/ManagedBy": "x"}))
        self.assertFalse(present({}))
        self.assertFalse(present({"aws:RequestTag/ManagedBy": ""}))    # empty = null
        self.assertTrue(cond("Null", "aws:TagKeys", "false")({"aws:TagKeys": ["a"]}))
        self.assertFalse(cond("Null", "aws:TagKeys", "false")({"aws:TagKeys": []}))

    def test_if_exists(self):
        p = cond("StringEqualsIfExists", "ec2:InstanceType", ["t3.micro"])
        self.assertTrue(p({}))
        self.assertTrue(p({"ec2:InstanceType": "t3.micro"}))
        self.assertFalse(p({"ec2:InstanceType": "m5.large"}))
        n = cond("StringNotEqualsIfExists", "ec2:InstanceType", ["t3.micro"])
        self.assertTrue(n({}))
        self.assertFalse(n({"ec2:InstanceType": "t3.micro"}))
        self.assertTrue(cond("NumericLessThanIfExists", "k:n", "5")({}))
        self.assertTrue(cond("ArnLikeIfExists", "aws:SourceArn", "arn:aws:x:::y")({}))
        self.assertTrue(cond("BoolIfExists", "aws:MultiFactorAuthPresent", "true")({}))
        self.assertFalse(cond("BoolIfExists", "aws:MultiFactorAuthPresent", "true")(
            {"aws:MultiFactorAuthPresent": "false"}))

    def test_for_all_values(self):
        guard = cond("ForAllValues:StringNotEquals", "aws:TagKeys", ["ManagedBy", "Deployment"])
        self.assertTrue(guard({}))                          # missing key: true
        self.assertTrue(guard({"aws:TagKeys": []}))         # empty set: true
        self.assertTrue(guard({"aws:TagKeys": [""]}))       # null data set: true
        self.assertTrue(guard({"aws:TagKeys": ["Name", "Role"]}))
        self.assertFalse(guard({"aws:TagKeys": ["Name", "ManagedBy"]}))
        self.assertFalse(guard({"aws:TagKeys": "Deployment"}))
        subset = cond("ForAllValues:StringEquals", "dynamodb:Attributes",
                      ["PostDateTime", "Message", "Tags"])
        self.assertFalse(subset({"dynamodb:Attributes": ["PostDateTime", "UserName"]}))
        self.assertTrue(subset({"dynamodb:Attributes": ["PostDateTime", "Tags"]}))
        like = cond("ForAllValues:StringLike", "aws:TagKeys", "key1*")
        self.assertTrue(like({"aws:TagKeys": ["key1a", "key1b"]}))
        self.assertFalse(like({"aws:TagKeys": ["key1a", "key2"]}))

    def test_for_any_value(self):
        any_ = cond("ForAnyValue:StringEquals", "dynamodb:Attributes", ["ID", "PostDateTime"])
        self.assertFalse(any_({}))                          # missing key: false
        self.assertFalse(any_({"dynamodb:Attributes": []}))  # empty set: false
        self.assertTrue(any_({"dynamodb:Attributes": ["UserName", "Message", "PostDateTime"]}))
        self.assertFalse(any_({"dynamodb:Attributes": ["UserName"]}))
        neg = cond("ForAnyValue:StringNotEquals", "aws:TagKeys", ["a", "b"])
        self.assertTrue(neg({"aws:TagKeys": ["a", "c"]}))
        self.assertFalse(neg({"aws:TagKeys": ["a", "b"]}))
        self.assertFalse(neg({}))
        self.assertTrue(cond("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", "a")({}))

    def test_null_with_qualifier(self):
        self.assertTrue(cond("ForAllValues:Null", "aws:TagKeys", "false")({}))
        self.assertFalse(cond("ForAnyValue:Null", "aws:TagKeys", "true")({}))

    def test_key_names_case_insensitive_values_not(self):
        p = cond("StringEquals", "AWS:RESOURCETAG/managedby", "sitedeploy")
        self.assertTrue(p({"aws:ResourceTag/ManagedBy": "sitedeploy"}))
        self.assertFalse(p({"aws:ResourceTag/ManagedBy": "SITEDEPLOY"}))
        q = cond("StringEquals", "aws:ResourceTag/ManagedBy", "sitedeploy")
        self.assertTrue(q({"aws:resourcetag/managedby": "sitedeploy"}))
        # Two tags whose keys differ only by case: both match the key, one value
        # matches; AWS warns of "unexpected condition failures": here, no allow...
        both = {"aws:ResourceTag/ec2": "test1", "aws:ResourceTag/EC2": "test2"}
        self.assertFalse(cond("StringEquals", "aws:ResourceTag/EC2", "test1")(both))
        # ...and no way around a deny.
        p = policy(allow("*"), deny("ec2:*", condition={
            "StringEquals": {"aws:ResourceTag/EC2": "other"}}))
        self.assertEqual(evaluate(p, "ec2:TerminateInstances", INSTANCE, both)[0],
                         "ExplicitDeny")

    def test_unknown_operator_fails_closed(self):
        bad = {"StringEqualz": {"aws:ResourceTag/ManagedBy": "sitedeploy"}}
        self.assertEqual(evaluate(policy(allow("ec2:*", condition=bad)),
                                  "ec2:TerminateInstances", INSTANCE, TAGGED)[0], "ImplicitDeny")
        d, reason = evaluate(policy(allow("ec2:*"), deny("ec2:*", condition=bad, sid="D")),
                             "ec2:TerminateInstances", INSTANCE, {})
        self.assertEqual(d, "ExplicitDeny")
        self.assertIn("not evaluable", reason)
        self.assertEqual(evaluate(policy(allow("ec2:*", condition={
            "NullIfExists": {"aws:TagKeys": "true"}})), "ec2:RunInstances", "*", {})[0],
            "ImplicitDeny")

    def test_single_valued_operator_with_several_values(self):
        p = cond("StringEquals", "aws:TagKeys", "a")
        self.assertTrue(p({"aws:TagKeys": ["a"]}))
        self.assertFalse(p({"aws:TagKeys": ["a", "b"]}))

    def test_malformed_statements(self):
        self.assertEqual(evaluate(policy({"Action": "*", "Resource": "*"}), "ec2:X", "*", {})[0],
                         "ImplicitDeny")
        self.assertEqual(evaluate(policy({"Effect": "allow", "Action": "*", "Resource": "*"}),
                                  "ec2:X", "*", {})[0], "ImplicitDeny")
        self.assertEqual(evaluate(policy({"Effect": "Allow", "Action": "*"}), "ec2:X", "*", {})[0],
                         "ImplicitDeny")
        self.assertEqual(evaluate(policy(allow("*"), {"Effect": "Deny", "Action": "ec2:*"}),
                                  "ec2:X", "*", {})[0], "ExplicitDeny")

    def test_trust_policy_with_principal(self):
        trust = policy({"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}})
        role = "arn:aws:iam::123456789012:role/sitedeploy-expiry-us-east-1"
        svc = {"Service": "scheduler.amazonaws.com"}
        self.assertEqual(evaluate(trust, "sts:AssumeRole", role,
                                  {"aws:SourceAccount": "123456789012"}, principal=svc)[0],
                         "Allow")
        self.assertEqual(evaluate(trust, "sts:AssumeRole", role,
                                  {"aws:SourceAccount": "999999999999"}, principal=svc)[0],
                         "ImplicitDeny")
        self.assertEqual(evaluate(trust, "sts:AssumeRole", role,
                                  {"aws:SourceAccount": "123456789012"},
                                  principal={"Service": "lambda.amazonaws.com"})[0],
                         "ImplicitDeny")
        self.assertEqual(validate(trust, kind="trust"), [])


class Validation(unittest.TestCase):
    def assertReports(self, pol, *fragments):
        problems = validate(pol)
        for f in fragments:
            self.assertTrue(any(f in p for p in problems), f"{f!r} not in {problems}")

    def test_config_policy_is_clean(self):
        with open(os.path.join(ROOT, "config", "iam-policy.json")) as f:
            self.assertEqual(validate(json.load(f)), [])

    def test_misspelled_keys(self):
        self.assertReports(policy(allow("ec2:CreateSecurityGroup", condition={
            "StringEquals": {"aws:RequestTg/ManagedBy": "sitedeploy"}})),
            "aws:RequestTg/ManagedBy does not exist")
        self.assertReports(policy(allow("ec2:CreateTags", condition={
            "StringEquals": {"ec2:CreateActon": "RunInstances"}})),
            "ec2:CreateActon does not exist in the service ec2")
        self.assertReports(policy(allow("iam:PassRole", condition={
            "StringEquals": {"iam:PassedToServce": "scheduler.amazonaws.com"}})),
            "iam:PassedToServce does not exist in the service iam")
        self.assertReports(policy(allow("ec2:CreateTags", condition={
            "StringEquals": {"as:RequestTag/ManagedBy": "x"}})), "the service as of")
        # A known key in the wrong place.
        self.assertReports(policy(allow("ec2:DeleteKeyPair", condition={
            "StringEquals": {"aws:RequestTag/ManagedBy": "x"}})),
            "Unsupported action for condition key: the actions ec2:DeleteKeyPair")
        self.assertReports(policy(allow("ec2:RunInstances", condition={
            "StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})),
            "never in its request context")
        self.assertReports(policy(allow(["ec2:CreateTags", "ec2:DeleteTags"], condition={
            "StringEquals": {"ec2:CreateAction": "RunInstances"}})),
            "the actions ec2:DeleteTags are not supported by the condition key ec2:CreateAction")
        self.assertReports(policy(allow("ec2:CreateTags", condition={
            "StringEquals": {"aws:ResourceTag/": "x"}})), "Missing tag key")
        # Key names are case-insensitive: another case is no problem.
        self.assertEqual(validate(policy(allow("ec2:CreateTags", condition={
            "StringEquals": {"EC2:createaction": "RunInstances"}}))), [])

    def test_operators(self):
        self.assertReports(policy(allow("ec2:CreateTags", condition={
            "StringEqualz": {"ec2:CreateAction": "RunInstances"}})),
            "The condition operator StringEqualz is not valid")
        self.assertReports(policy(allow("ec2:CreateTags", condition={
            "ForEveryValue:StringEquals": {"aws:TagKeys": "a"}})), "unknown qualifier")
        self.assertReports(policy(allow("ec2:CreateTags", condition={
            "NullIfExists": {"aws:TagKeys": "true"}})), "cannot be used with the IfExists")
        self.assertReports(policy(allow("ec2:CreateTags", condition={
            "ForAllValues:StringEquals": {"aws:ResourceTag/ManagedBy": "x"}})),
            "ForAllValues with single valued key")
        self.assertReports(policy(allow("ec2:RunInstances", condition={
            "NumericLessThan": {"ec2:VolumeSize": "ten"}})), "is not a number")
        self.assertReports(policy(allow("ec2:RunInstances", condition={
            "IpAddress": {"aws:SourceIp": "300.1.1.1"}})), "is not an IP address")
        for op in ("StringNotLikeIfExists", "ForAnyValue:ArnLike", "DateGreaterThanEquals",
                   "BinaryEquals", "NotIpAddress", "Bool", "Null"):
            self.assertTrue(iam_eval.Operator(op).ok, op)

    def test_statements(self):
        self.assertReports(policy({"Action": "ec2:RunInstances", "Resource": "*"}),
                           "Missing effect")
        self.assertReports(policy({"Effect": "Permit", "Action": "ec2:RunInstances",
                                   "Resource": "*"}), "Invalid effect")
        self.assertReports(policy({"Effect": "Allow", "Action": "ec2:RunInstances"}),
                           "Missing resource")
        self.assertReports(policy(allow("ec2:RunInstance")),
                           "the action ec2:RunInstance does not exist")
        self.assertReports(policy(allow("ec2:Descrbe*")), "does not exist")
        self.assertReports(policy(allow("ec2:RunInstances", sid="bad-sid")), "Unsupported Sid")
        self.assertReports(policy(allow("ec2:RunInstances", sid="A"),
                                  allow("ec2:RunInstances", sid="A")), "Unique Sids")
        self.assertReports({"Statement": [allow("ec2:RunInstances")]}, "Missing version")
        self.assertReports(policy(allow("ec2:RunInstances", "not-an-arn")), "Invalid ARN")
        self.assertEqual(validate(policy(allow(["ec2:Describe*", "iam:PassRole",
                                                "tag:GetResources", "scheduler:*"]))), [])


SMALL = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ExpireOwn", "Effect": "Allow", "Action": "ec2:TerminateInstances",
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/ManagedBy": "sitedeploy"}}},
        {"Sid": "KeepProtected", "Effect": "Deny", "Action": "ec2:TerminateInstances",
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/Protected": "yes"}}},
    ],
}
ALLOWED = {"action": "ec2:TerminateInstances", "resource": INSTANCE,
           "context": {"aws:ResourceTag/ManagedBy": "sitedeploy"}, "decision": "Allow"}
DENIED = {"action": "ec2:TerminateInstances", "resource": INSTANCE,
          "context": {"aws:ResourceTag/ManagedBy": "sitedeploy",
                      "aws:ResourceTag/Protected": "yes"}, "decision": "ExplicitDeny"}


class Mutations(unittest.TestCase):
    def run_cli(self, pol, records=None):
        with tempfile.TemporaryDirectory() as d:
            pf = os.path.join(d, "policy.json")
            with open(pf, "w") as f:
                json.dump(pol, f)
            args = [sys.executable, os.path.join(HERE, "iam_eval.py"), "mutations", pf]
            if records is not None:
                rf = os.path.join(d, "recorded.json")
                with open(rf, "w") as f:
                    json.dump(records, f)
                args += ["--recorded", rf]
            return subprocess.run(args, capture_output=True, text=True)

    def test_variants(self):
        v = dict((x, part) for part, x in iam_eval.key_variants("aws:RequestTag/ManagedBy"))
        self.assertEqual(v["aws:RequestTg/ManagedBy"], "name")
        self.assertEqual(v["aws:RequestTag/ManagedB"], "tag key")
        self.assertEqual(v["as:RequestTag/ManagedBy"], "prefix")
        self.assertEqual(len(v), 3 + 10 + 9)   # aws, RequestTag, ManagedBy
        self.assertIn("ec2:CreateActon", [x for _, x in iam_eval.key_variants("ec2:CreateAction")])

    def test_without_evidence_tag_key_misspellings_are_reported(self):
        r = self.run_cli(SMALL)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertTrue(lines and all(x.startswith("uncaught: ") for x in lines), r.stdout)
        # Only the tag-key part slips through validate; the names are all caught.
        self.assertTrue(all("(tag key)" in x for x in lines), r.stdout)
        self.assertTrue(any("'aws:ResourceTag/ManagedB'" in x and "ALLOWED" in x for x in lines))
        self.assertTrue(any("'aws:ResourceTag/Protecte'" in x and "DENIED" in x for x in lines))

    def test_allowed_evidence_catches_only_the_allow_statement(self):
        r = self.run_cli(SMALL, [ALLOWED])
        self.assertEqual(r.returncode, 1)
        self.assertNotIn("ManagedB'", r.stdout)
        self.assertIn("KeepProtected", r.stdout)
        self.assertIn("removes the deny", r.stdout)
        self.assertIn("1 allowed, 0 denied", r.stdout)

    def test_all_caught_with_allowed_and_denied_evidence(self):
        r = self.run_cli(SMALL, {"authorized": [ALLOWED, DENIED]})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout.strip(), r"^\d+ mutations, all caught$")

    def test_a_guard_that_only_widens_needs_denied_evidence(self):
        guard = {"Version": "2012-10-17", "Statement": [{
            "Sid": "RetagNotOwner", "Effect": "Allow", "Action": "ec2:CreateTags",
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestTag/ManagedBy": "someone-else"}}}]}
        ok = {"action": "ec2:CreateTags", "resource": INSTANCE,
              "context": {"aws:RequestTag/ManagedBy": "sitedeploy"}, "decision": "Allow"}
        r = self.run_cli(guard, [ok])
        self.assertEqual(r.returncode, 1)
        self.assertIn("WIDENS", r.stdout)
        refused = {"action": "ec2:CreateTags", "resource": INSTANCE,
                   "context": {"aws:RequestTag/ManagedBy": "someone-else"},
                   "decision": "ImplicitDeny"}
        r = self.run_cli(guard, [ok, refused])
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_stale_records_are_not_evidence(self):
        stale = dict(ALLOWED, decision="ImplicitDeny")
        r = self.run_cli(SMALL, [stale, ALLOWED, DENIED])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ignored as evidence", r.stderr)

    def test_validate_cli(self):
        pf = os.path.join(ROOT, "config", "iam-policy.json")
        r = subprocess.run([sys.executable, os.path.join(HERE, "iam_eval.py"), "validate", pf],
                           capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stdout), (0, ""))
        bad = json.loads(json.dumps(SMALL))
        bad["Statement"][0]["Condition"] = {"StringEquals": {"aws:ResourceTg/ManagedBy": "x"}}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(bad, f)
        try:
            r = subprocess.run([sys.executable, os.path.join(HERE, "iam_eval.py"), "validate",
                                f.name], capture_output=True, text=True)
        finally:
            os.unlink(f.name)
        self.assertEqual(r.returncode, 1)
        self.assertIn("aws:ResourceTg/ManagedBy does not exist", r.stdout)


with open(os.path.join(ROOT, "config", "iam-policy.json")) as _f:
    CONFIG = json.load(_f)
BUCKET = "arn:aws:s3:::sitedeploy-123456789012-us-east-1"
# The site's role and instance profile: sitedeploy-site-<region>-<name>.
SITE_ROLE = "arn:aws:iam::123456789012:role/sitedeploy-site-us-east-1-web"
SITE_PROFILE = "arn:aws:iam::123456789012:instance-profile/sitedeploy-site-us-east-1-web"
REQ = {"aws:RequestTag/ManagedBy": "sitedeploy", "aws:RequestTag/Deployment": "web",
       "aws:TagKeys": ["ManagedBy", "Deployment"]}


class ConfigPolicySite(unittest.TestCase):
    """config/iam-policy.json's statements for a site folder (S3, the site's
    role and instance profile): what they allow, and that each is no broader."""

    def decide(self, action, resource, context=None):
        return evaluate(CONFIG, action, resource, context or {})[0]

    def assertAllowed(self, action, resource, context=None):
        self.assertEqual(self.decide(action, resource, context), "Allow", (action, resource, context))

    def assertDenied(self, action, resource, context=None):
        self.assertNotEqual(self.decide(action, resource, context), "Allow", (action, resource, context))

    def test_pass_role_only_site_roles_only_to_ec2(self):
        ec2 = {"iam:PassedToService": "ec2.amazonaws.com"}
        self.assertAllowed("iam:PassRole", SITE_ROLE, ec2)
        self.assertDenied("iam:PassRole", SITE_ROLE, {"iam:PassedToService": "lambda.amazonaws.com"})
        self.assertDenied("iam:PassRole", SITE_ROLE, {})
        self.assertDenied("iam:PassRole", "arn:aws:iam::123456789012:role/admin", ec2)
        # The expiry role still goes to Scheduler only, not to EC2.
        self.assertDenied("iam:PassRole", "arn:aws:iam::123456789012:role/sitedeploy-expiry-us-east-1", ec2)

    def test_s3_objects_only_in_site_buckets(self):
        obj = f"{BUCKET}/web/0123.tar.gz"
        # GetObject: the previous content's manifest, for --plan's list of files.
        for action in ("s3:PutObject", "s3:DeleteObject", "s3:GetObject"):
            self.assertAllowed(action, obj)
            self.assertDenied(action, "arn:aws:s3:::other-bucket/web/0123.tar.gz")
            self.assertDenied(action, BUCKET)  # an object action on the bucket's ARN

    def test_s3_bucket_actions_only_on_site_buckets(self):
        for action in ("s3:ListBucket", "s3:GetBucketTagging", "s3:GetBucketPublicAccessBlock",
                       "s3:GetLifecycleConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutEncryptionConfiguration",
                       "s3:PutLifecycleConfiguration", "s3:PutBucketTagging", "s3:PutBucketOwnershipControls",
                       "s3:DeleteBucket"):
            self.assertAllowed(action, BUCKET)
            self.assertDenied(action, "arn:aws:s3:::other-bucket")
        self.assertDenied("s3:PutBucketPolicy", BUCKET)
        self.assertDenied("s3:PutBucketAcl", BUCKET)
        self.assertDenied("s3:ListAllMyBuckets", "*")

    def test_create_bucket_only_with_acls_disabled(self):
        enforced = {"s3:x-amz-object-ownership": "BucketOwnerEnforced"}
        self.assertAllowed("s3:CreateBucket", BUCKET, enforced)
        self.assertDenied("s3:CreateBucket", BUCKET, {})
        self.assertDenied("s3:CreateBucket", BUCKET, {"s3:x-amz-object-ownership": "ObjectWriter"})
        self.assertDenied("s3:CreateBucket", "arn:aws:s3:::other-bucket", enforced)

    def test_retire_is_a_copy_under_retired_then_a_delete(self):
        # CopyObject: s3:GetObject on the source, s3:PutObject on the copy.
        old, copy = f"{BUCKET}/web/old.tar.gz", f"{BUCKET}/retired/web/old.tar.gz"
        self.assertAllowed("s3:GetObject", old)
        self.assertAllowed("s3:PutObject", copy,
                           {"s3:x-amz-copy-source": "sitedeploy-123456789012-us-east-1/web/old.tar.gz"})
        self.assertAllowed("s3:DeleteObject", old)
        self.assertAllowed("s3:DeleteObject", copy)  # cleanup
        self.assertAllowed("s3:ListBucket", BUCKET, {"s3:prefix": "retired/web/"})
        self.assertDenied("s3:GetObject", "arn:aws:s3:::other-bucket/web/old.tar.gz")
        self.assertDenied("s3:PutObject", "arn:aws:s3:::other-bucket/retired/web/old.tar.gz")

    def test_no_object_tagging(self):
        # The tool tags no object (retiring is a copy under retired/): no tag
        # set is allowed, the previous design's retired=true included.
        obj = f"{BUCKET}/web/old.tar.gz"
        for ctx in ({"s3:RequestObjectTag/retired": "true", "s3:RequestObjectTagKeys": ["retired"]},
                    {"s3:RequestObjectTag/retired": "false", "s3:RequestObjectTagKeys": ["retired"]},
                    {"s3:RequestObjectTagKeys": []}, {}):
            self.assertDenied("s3:PutObjectTagging", obj, ctx)
            self.assertDenied("s3:PutObjectTagging", f"{BUCKET}/retired/web/old.tar.gz", ctx)
        for action in ("s3:GetObjectTagging", "s3:DeleteObjectTagging", "s3:PutObjectVersionTagging"):
            self.assertDenied(action, obj)
        self.assertFalse([st["Sid"] for st in CONFIG["Statement"]
                          if any("Tagging" in a and a.startswith("s3:") and "Bucket" not in a
                                 for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]]))])

    def test_lifecycle_read_and_written_only_on_site_buckets(self):
        for action in ("s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"):
            self.assertAllowed(action, BUCKET)
            self.assertDenied(action, "arn:aws:s3:::other-bucket")

    def test_no_s3_read_on_every_resource(self):
        for st in CONFIG["Statement"]:
            if st.get("Resource") == "*":
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                self.assertFalse([a for a in actions if a.startswith("s3:")], st["Sid"])

    def test_site_role_created_tagged_changed_and_deleted_only_when_ours(self):
        for action in ("iam:CreateRole", "iam:TagRole"):
            self.assertAllowed(action, SITE_ROLE, REQ)
            self.assertDenied(action, SITE_ROLE, {})
            self.assertDenied(action, "arn:aws:iam::123456789012:role/other", REQ)
        ours = {"aws:ResourceTag/ManagedBy": "sitedeploy", "iam:ResourceTag/ManagedBy": "sitedeploy"}
        for action in ("iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DeleteRole"):
            self.assertAllowed(action, SITE_ROLE, ours)
            self.assertDenied(action, SITE_ROLE, {})
            self.assertDenied(action, "arn:aws:iam::123456789012:role/other", ours)
        for action in ("iam:GetRole", "iam:GetRolePolicy"):
            self.assertAllowed(action, SITE_ROLE)
            self.assertDenied(action, "arn:aws:iam::123456789012:role/other")
        self.assertDenied("iam:AttachRolePolicy", SITE_ROLE, ours)
        self.assertDenied("iam:UpdateAssumeRolePolicy", SITE_ROLE, ours)

    def test_site_profile_created_tagged_changed_and_deleted_only_when_ours(self):
        for action in ("iam:CreateInstanceProfile", "iam:TagInstanceProfile"):
            self.assertAllowed(action, SITE_PROFILE, REQ)
            self.assertDenied(action, SITE_PROFILE, {})
            self.assertDenied(action, "arn:aws:iam::123456789012:instance-profile/other", REQ)
        ours = {"aws:ResourceTag/ManagedBy": "sitedeploy"}
        for action in ("iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
                       "iam:DeleteInstanceProfile"):
            self.assertAllowed(action, SITE_PROFILE, ours)
            self.assertDenied(action, SITE_PROFILE, {})
            self.assertDenied(action, SITE_ROLE, ours)  # a profile action on a role's ARN
            self.assertDenied(action, "arn:aws:iam::123456789012:instance-profile/other", ours)
        self.assertAllowed("iam:GetInstanceProfile", SITE_PROFILE)
        self.assertDenied("iam:GetInstanceProfile", "arn:aws:iam::123456789012:instance-profile/other")

    def test_s3_and_instance_profile_keys_checked(self):
        self.assertEqual(validate(policy(allow("s3:CreateBucket", BUCKET, condition={
            "StringEquals": {"s3:x-amz-object-ownership": "BucketOwnerEnforced"}}))), [])
        problems = validate(policy(allow("s3:CreateBucket", BUCKET, condition={
            "StringEquals": {"s3:x-amz-object-ownerhip": "BucketOwnerEnforced"}})))
        self.assertTrue(any("s3:x-amz-object-ownerhip does not exist in the service s3" in p
                            for p in problems), problems)
        # Keys only some actions have (SAR).
        problems = validate(policy(allow("s3:PutBucketTagging", BUCKET, condition={
            "StringEquals": {"s3:RequestObjectTag/retired": "true"}})))
        self.assertTrue(any("Unsupported action for condition key" in p for p in problems), problems)
        problems = validate(policy(allow("s3:PutObject", BUCKET, condition={
            "StringEquals": {"s3:x-amz-object-ownership": "BucketOwnerEnforced"}})))
        self.assertTrue(any("Unsupported action for condition key" in p for p in problems), problems)
        # Instance profiles: aws:ResourceTag yes, iam:ResourceTag no (roles only).
        self.assertEqual(validate(policy(allow("iam:AddRoleToInstanceProfile", SITE_PROFILE, condition={
            "StringEquals": {"aws:ResourceTag/ManagedBy": "sitedeploy"}}))), [])
        problems = validate(policy(allow("iam:AddRoleToInstanceProfile", SITE_PROFILE, condition={
            "StringEquals": {"iam:ResourceTag/ManagedBy": "sitedeploy"}})))
        self.assertTrue(any("iam:AddRoleToInstanceProfile are not supported" in p for p in problems), problems)
        problems = validate(policy(allow("iam:DeleteInstanceProfile", SITE_PROFILE, condition={
            "StringEquals": {"aws:RequestTag/ManagedBy": "sitedeploy"}})))
        self.assertTrue(any("Unsupported action for condition key" in p for p in problems), problems)
        self.assertTrue(any(a == "PutObject" for a in iam_eval._SERVICE_INDEX["s3"]["actions"]))


if __name__ == "__main__":
    unittest.main()
