#!/usr/bin/env python3
"""Checks of tests/support/awsproxy.py and moto_aws.py: each starts moto_aws.py and
the proxy on free loopback ports (killed at the end), drives them with boto3 and
asserts AWS's answers: the refusals and the successes.

Usage: .venv/bin/python tests/support/proxy_test.py [name-substring ...]
"""

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import traceback
import urllib.request

import boto3
import tempfile
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = sys.executable
POLICY = json.load(open(os.path.join(ROOT, "config", "iam-policy.json")))
REGION = "us-east-1"
MANAGED = [{"Key": "ManagedBy", "Value": "sitedeploy"}]
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]})

sys.path.insert(0, HERE)
import awsproxy  # noqa: E402

CHILDREN = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Moto:
    def __init__(self):
        for _ in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen([PY, os.path.join(HERE, "moto_aws.py"), "-H", "127.0.0.1",
                                          "-p", str(self.port)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            CHILDREN.append(self.proc)
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).read()
                    return
                except OSError:
                    time.sleep(0.1)
            self.proc.kill()
        raise RuntimeError("moto did not start")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Proxy:
    def __init__(self, moto, config=None):
        self.proc = subprocess.Popen([PY, os.path.join(HERE, "awsproxy.py"), "--upstream", moto.url,
                                      "--config", json.dumps(config or {})],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        CHILDREN.append(self.proc)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.wait()
            raise RuntimeError(f"proxy said {line!r}: {self.proc.stderr.read()}")
        self.port = int(line.split()[1])

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stats(self):
        with urllib.request.urlopen(f"{self.url}/__proxy/stats") as r:
            return json.load(r)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def client(service, endpoint, key="testing", secret="testing", region=REGION):
    return boto3.client(service, endpoint_url=endpoint, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def s3_client(endpoint, key="testing", secret="testing", region=REGION):
    """S3 path-style against the endpoint, as the tool addresses it."""
    return boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"}))


def clients(endpoint, **kw):
    class C:
        pass
    c = C()
    for name, svc in (("ec2", "ec2"), ("elb", "elbv2"), ("asg", "autoscaling"), ("iam", "iam"),
                      ("sts", "sts"), ("sch", "scheduler"), ("tag", "resourcegroupstaggingapi"),
                      ("cf", "cloudfront"), ("r53", "route53"), ("acm", "acm")):
        setattr(c, name, client(svc, endpoint, **kw))
    return c


def refused(fn, code, status=None):
    """fn() must fail with `code` (and HTTP `status`); returns the error."""
    try:
        fn()
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {e}"
        if status is not None:
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == status, e.response
        return e
    raise AssertionError(f"expected {code}, the call succeeded")


def tagspec(kind, extra=None):
    return [{"ResourceType": kind, "Tags": MANAGED + (extra or [])}]


def basics(c):
    """(vpc, [subnet ids in two zones], image) of moto's default VPC."""
    vpc = c.ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = c.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    by_zone = {}
    for s in subnets:
        by_zone.setdefault(s["AvailabilityZone"], s["SubnetId"])
    image = c.ec2.describe_images()["Images"][0]["ImageId"]
    return vpc, sorted(by_zone.values())[:2], image


def template(c, name, image, sg, instance_tags=True, profile=None, itype="t3.micro"):
    data = {"ImageId": image, "InstanceType": itype, "SecurityGroupIds": [sg]}
    if instance_tags:
        data["TagSpecifications"] = [{"ResourceType": "instance", "Tags": MANAGED},
                                     {"ResourceType": "volume", "Tags": MANAGED}]
    if profile:
        data["IamInstanceProfile"] = {"Name": profile}
    return c.ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=data,
                                        TagSpecifications=tagspec("launch-template"))["LaunchTemplate"]["LaunchTemplateId"]


def distribution_config(ref, enabled=True):
    """A distribution in front of a load balancer (HTTP to the origin)."""
    return {"CallerReference": ref, "Comment": f"sitedeploy {ref}", "Enabled": enabled,
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "lb", "DomainName": "web-123.us-east-1.elb.amazonaws.com",
                "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "lb", "ViewerProtocolPolicy": "redirect-to-https",
                                     "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}}


def create_distribution(cf, ref, tags=MANAGED):
    """CreateDistributionWithTags: the whole answer."""
    return cf.create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": distribution_config(ref), "Tags": {"Items": tags}})


def disable(cf, did, etag):
    """UpdateDistribution with Enabled=false: the new ETag."""
    cfg = cf.get_distribution_config(Id=did)["DistributionConfig"]
    cfg["Enabled"] = False
    return cf.update_distribution(Id=did, IfMatch=etag, DistributionConfig=cfg)["ETag"]


def zone(r53, name, private=False):
    """CreateHostedZone (private: in a VPC): the zone's id, without /hostedzone/."""
    kw = {}
    if private:
        kw = dict(HostedZoneConfig={"PrivateZone": True, "Comment": "inside"},
                  VPC={"VPCRegion": REGION, "VPCId": "vpc-12345678"})
    made = r53.create_hosted_zone(Name=name, CallerReference=f"{name}-{private}", **kw)
    return made["HostedZone"]["Id"].rsplit("/", 1)[1]


CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"  # every distribution's alias target zone


def record(r53, zid, name, rtype, value=None, alias=None, action="UPSERT"):
    """ChangeResourceRecordSets of one record (a value, or an alias to a
    distribution's domain): its ChangeInfo."""
    rrset = {"Name": name, "Type": rtype}
    if alias:
        rrset["AliasTarget"] = {"HostedZoneId": CLOUDFRONT_ZONE, "DNSName": alias, "EvaluateTargetHealth": False}
    else:
        rrset.update(TTL=300, ResourceRecords=[{"Value": value}])
    return r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
        {"Action": action, "ResourceRecordSet": rrset}]})["ChangeInfo"]


def domain_config(ref, domain=None, cert=None):
    """distribution_config with an alias and an ACM certificate, as the tool
    writes them."""
    cfg = distribution_config(ref)
    if domain:
        cfg["Aliases"] = {"Quantity": 1, "Items": [domain]}
    if cert:
        cfg["ViewerCertificate"] = {"ACMCertificateArn": cert, "SSLSupportMethod": "sni-only",
                                    "MinimumProtocolVersion": "TLSv1.2_2021"}
    return cfg


def certificate(acm, arn):
    return acm.describe_certificate(CertificateArn=arn)["Certificate"]


def group_of(c, name):
    return c.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]


# --- item 1: IAM for every service -------------------------------------------------

def test_iam_every_service():
    moto = Moto()
    raw = clients(moto.url)
    # The repo's policy, without scheduler:DeleteSchedule (to see it refused).
    policy = json.loads(json.dumps(POLICY))
    policy["Statement"] = [s for s in policy["Statement"]
                           if "scheduler:DeleteSchedule" not in json.dumps(s.get("Action"))
                           or "scheduler:DeleteScheduleGroup" in json.dumps(s.get("Action"))]
    proxy = Proxy(moto, {"iam_policy": policy})
    c = clients(proxy.url)
    try:
        vpc, subnets, image = basics(c)
        # STS GetCallerIdentity needs no permission.
        assert c.sts.get_caller_identity()["Account"] == "123456789012"

        # EC2: untagged creates refused; tagged ones allowed (tag-on-create too).
        e = refused(lambda: c.ec2.create_security_group(GroupName="x", Description="x", VpcId=vpc),
                    "UnauthorizedOperation", 403)
        sg = c.ec2.create_security_group(GroupName="sitedeploy-web", Description="x", VpcId=vpc,
                                         TagSpecifications=tagspec("security-group"))["GroupId"]
        # RunInstances: the volume must be tagged too (aws:RequestTag on volume/*).
        refused(lambda: c.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                            SubnetId=subnets[0], SecurityGroupIds=[sg],
                                            TagSpecifications=tagspec("instance")),
                "UnauthorizedOperation", 403)
        iid = c.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                  SubnetId=subnets[0], SecurityGroupIds=[sg],
                                  TagSpecifications=tagspec("instance") + tagspec("volume"))["Instances"][0]["InstanceId"]
        # Resource tags are moto's current ones: ManagedBy removed behind the
        # proxy's back (straight at moto) and DeleteSecurityGroup is refused.
        raw.ec2.delete_tags(Resources=[sg], Tags=[{"Key": "ManagedBy"}])
        refused(lambda: c.ec2.delete_security_group(GroupId=sg), "UnauthorizedOperation", 403)
        raw.ec2.create_tags(Resources=[sg], Tags=MANAGED)

        # ELB: AccessDenied in ELB's XML; the EC2 checks ELB makes on the caller.
        refused(lambda: c.elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc),
                "AccessDenied", 403)
        tg = c.elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc,
                                       Tags=MANAGED)["TargetGroups"][0]["TargetGroupArn"]

        # Auto Scaling: untagged group refused (AccessDenied, query XML).
        lt = template(c, "sitedeploy-lt", image, sg)
        refused(lambda: c.asg.create_auto_scaling_group(
            AutoScalingGroupName="g0", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"},
            MinSize=1, MaxSize=1, VPCZoneIdentifier=",".join(subnets)), "AccessDenied", 403)
        # A template without instance tags: ec2:RunInstances, checked by Auto
        # Scaling on the caller, is refused.
        bare = template(c, "sitedeploy-bare", image, sg, instance_tags=False)
        refused(lambda: c.asg.create_auto_scaling_group(
            AutoScalingGroupName="g1", LaunchTemplate={"LaunchTemplateId": bare, "Version": "1"},
            MinSize=1, MaxSize=1, VPCZoneIdentifier=",".join(subnets), Tags=[
                {"Key": "ManagedBy", "Value": "sitedeploy", "PropagateAtLaunch": True}]), "AccessDenied", 403)
        assert "ec2:RunInstances on arn:aws:ec2:us-east-1:123456789012:instance/* (checked by Auto Scaling " \
               "for CreateAutoScalingGroup)" in proxy.stats()["denied"][-1], proxy.stats()["denied"]
        c.asg.create_auto_scaling_group(
            AutoScalingGroupName="g2", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"},
            MinSize=1, MaxSize=1, VPCZoneIdentifier=",".join(subnets), TargetGroupARNs=[tg],
            Tags=[{"Key": "ManagedBy", "Value": "sitedeploy", "PropagateAtLaunch": True}])
        c.asg.update_auto_scaling_group(AutoScalingGroupName="g2", MaxSize=2)
        # The group's tag removed behind the proxy's back: updates refused.
        raw.asg.delete_tags(Tags=[{"ResourceId": "g2", "ResourceType": "auto-scaling-group", "Key": "ManagedBy"}])
        refused(lambda: c.asg.update_auto_scaling_group(AutoScalingGroupName="g2", MaxSize=3), "AccessDenied", 403)

        # A template with an instance profile: iam:PassRole (ec2.amazonaws.com),
        # which the policy does not give.
        raw.iam.create_role(RoleName="sitedeploy-ec2", AssumeRolePolicyDocument="{}")
        raw.iam.create_instance_profile(InstanceProfileName="sitedeploy-prof")
        raw.iam.add_role_to_instance_profile(InstanceProfileName="sitedeploy-prof", RoleName="sitedeploy-ec2")
        prof = template(c, "sitedeploy-prof", image, sg, profile="sitedeploy-prof")
        refused(lambda: c.asg.create_auto_scaling_group(
            AutoScalingGroupName="g3", LaunchTemplate={"LaunchTemplateId": prof},
            MinSize=1, MaxSize=1, VPCZoneIdentifier=subnets[0],
            Tags=[{"Key": "ManagedBy", "Value": "sitedeploy", "PropagateAtLaunch": True}]), "AccessDenied", 403)
        assert proxy.stats()["denied"][-1].startswith(
            "iam:PassRole on arn:aws:iam::123456789012:role/sitedeploy-ec2"), proxy.stats()["denied"]

        # IAM: only sitedeploy-expiry-* roles, tagged.
        refused(lambda: c.iam.create_role(RoleName="other", AssumeRolePolicyDocument=TRUST, Tags=MANAGED),
                "AccessDenied", 403)
        role = "sitedeploy-expiry-us-east-1"
        arn = c.iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST, Tags=MANAGED)["Role"]["Arn"]
        c.iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:TerminateInstances",
                                                     "Resource": "*"}]}))

        # Scheduler: 403 AccessDeniedException; the operation named in stats.
        refused(lambda: c.sch.create_schedule_group(Name="sitedeploy-x"), "AccessDeniedException", 403)
        c.sch.create_schedule_group(Name="sitedeploy-exp", Tags=MANAGED)
        c.sch.get_schedule_group(Name="sitedeploy-exp")
        schedule = dict(ScheduleExpression="at(2030-01-01T00:00:00)", FlexibleTimeWindow={"Mode": "OFF"},
                        Target={"Arn": "arn:aws:scheduler:::aws-sdk:ec2:terminateInstances", "RoleArn": arn,
                                "Input": json.dumps({"InstanceIds": [iid]})})
        c.sch.create_schedule(Name="exp-web", GroupName="sitedeploy-exp", **schedule)
        c.sch.update_schedule(Name="exp-web", GroupName="sitedeploy-exp", **schedule)
        c.sch.get_schedule(Name="exp-web", GroupName="sitedeploy-exp")
        # iam:PassRole to a role the policy does not name.
        other = raw.iam.create_role(RoleName="other-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        refused(lambda: c.sch.create_schedule(Name="exp-2", GroupName="sitedeploy-exp",
                                              **dict(schedule, Target=dict(schedule["Target"], RoleArn=other))),
                "AccessDeniedException", 403)
        assert "iam:PassRole on arn:aws:iam::123456789012:role/other-role (for CreateSchedule)" \
            in proxy.stats()["denied"], proxy.stats()["denied"]
        # DeleteScheduleGroup needs scheduler:DeleteSchedule too.
        refused(lambda: c.sch.delete_schedule_group(Name="sitedeploy-exp"), "AccessDeniedException", 403)
        assert proxy.stats()["denied"][-1] == (
            "scheduler:DeleteSchedule on arn:aws:scheduler:us-east-1:123456789012:schedule/sitedeploy-exp/* "
            "(for DeleteScheduleGroup)"), proxy.stats()["denied"]

        # The tagging API: allowed; refused without tag:GetResources.
        c.tag.get_resources(TagFilters=[{"Key": "ManagedBy", "Values": ["sitedeploy"]}])

        stats = proxy.stats()
        for op in ("CreateScheduleGroup", "CreateSchedule", "UpdateSchedule", "GetSchedule", "GetScheduleGroup",
                   "DeleteScheduleGroup", "GetResources", "CreateRole", "PutRolePolicy",
                   "CreateAutoScalingGroup", "GetCallerIdentity"):
            assert stats["actions"].get(op, 0) >= 1, (op, stats["actions"])
        created = [r for r in stats["requests"] if r["action"] == "CreateScheduleGroup"]
        assert created[-1]["params"]["Tags"] == MANAGED, created
        assert not any(r["action"].startswith(("Describe", "Get", "List")) for r in stats["requests"])
        auth = stats["authorized"]
        assert all(set(a) == {"action", "resource", "context", "decision"} for a in auth)
        keys = {json.dumps(a, sort_keys=True) for a in auth}
        assert len(keys) == len(auth), "authorized entries are deduplicated"
        want = [("iam:PassRole", arn, "iam:PassedToService", "scheduler.amazonaws.com"),
                ("ec2:CreateTags", "arn:aws:ec2:us-east-1:123456789012:instance/*", "ec2:CreateAction",
                 "RunInstances"),
                ("scheduler:TagResource", "arn:aws:scheduler:us-east-1:123456789012:schedule-group/sitedeploy-exp",
                 "aws:RequestTag/ManagedBy", "sitedeploy"),
                ("autoscaling:CreateOrUpdateTags",
                 "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/g2",
                 "aws:RequestTag/ManagedBy", "sitedeploy"),
                ("iam:PutRolePolicy", arn, "iam:ResourceTag/ManagedBy", "sitedeploy"),
                ("elasticloadbalancing:AddTags", None, "elasticloadbalancing:CreateAction", "CreateTargetGroup"),
                ("ec2:DescribeVpcs", "*", None, None)]
        for action, resource, key, value in want:
            assert any(a["action"] == action and (resource is None or a["resource"] == resource)
                       and (key is None or a["context"].get(key) == value) and a["decision"] == "Allow"
                       for a in auth), (action, resource, key, [a for a in auth if a["action"] == action])
        assert any(a["decision"] != "Allow" for a in auth)

        # A policy without tag:GetResources: the tagging API's own error.
        moto2_policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ec2:DescribeVpcs", "Resource": "*"}]}
        p2 = Proxy(moto, {"iam_policy": moto2_policy})
        c2 = clients(p2.url)
        refused(lambda: c2.tag.get_resources(), "AccessDeniedException")
        assert c2.sts.get_caller_identity()["Account"] == "123456789012"
        refused(lambda: c2.iam.get_role(RoleName=role), "AccessDenied", 403)
        p2.stop()
    finally:
        proxy.stop()
        moto.stop()


def test_iam_policy_refused_at_start():
    moto = Moto()
    try:
        bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:RunInstances",
                                                       "Resource": "*",
                                                       "Condition": {"StringEqualz": {"aws:RequestTag/x": "y"}}}]}
        proc = subprocess.run([PY, os.path.join(HERE, "awsproxy.py"), "--upstream", moto.url, "--config",
                               json.dumps({"iam_policy": bad})], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 1, proc
        assert "PORT" not in proc.stdout and "StringEqualz" in proc.stderr, proc.stderr
    finally:
        moto.stop()


def test_iam_with_moto_enforcement():
    """moto's own IAM enforcement on (iam_user.py) and `resign`: the control route
    still answers, and the whole policy is evaluated."""
    moto = Moto()
    try:
        pub = zone(clients(moto.url).r53, "example.com")  # before enforcement: the learner's own zone
        out = subprocess.run([PY, os.path.join(HERE, "iam_user.py"), "--endpoint", moto.url, "--policy",
                              os.path.join(ROOT, "config", "iam-policy.json")],
                             capture_output=True, text=True, check=True).stdout
        keys = json.loads(out)
        proxy = Proxy(moto, {"iam_policy": POLICY, "resign": keys, "distribution_in_progress_s": 0.5})
        c = clients(proxy.url, key=keys["access_key"], secret=keys["secret_key"])
        vpc, subnets, image = basics(c)
        sg = c.ec2.create_security_group(GroupName="sitedeploy-web", Description="a b", VpcId=vpc,
                                         TagSpecifications=tagspec("security-group"))["GroupId"]
        c.ec2.authorize_security_group_ingress(GroupId=sg, IpProtocol="tcp", FromPort=80, ToPort=80,
                                               CidrIp="0.0.0.0/0")
        c.sch.create_schedule_group(Name="sitedeploy-e", Tags=MANAGED)
        # CloudFront (REST-XML; moto checks the action, the proxy the If-Match):
        # CreateDistributionWithTags is moto's name for cloudfront:CreateDistribution.
        made = create_distribution(c.cf, "web")
        did = made["Distribution"]["Id"]
        c.cf.list_distributions()
        c.cf.list_tags_for_resource(Resource=made["Distribution"]["ARN"])
        etag = disable(c.cf, did, c.cf.get_distribution(Id=did)["ETag"])
        time.sleep(0.7)
        c.cf.delete_distribution(Id=did, IfMatch=etag)
        # Route 53 (REST-XML, a query string) and ACM (JSON 1.1): the domain's calls.
        assert c.r53.list_hosted_zones_by_name(DNSName="example.com", MaxItems="1")["HostedZones"][0]["Id"] \
            == f"/hostedzone/{pub}"
        arn = c.acm.request_certificate(DomainName="www.example.com", ValidationMethod="DNS",
                                        IdempotencyToken="web", Tags=MANAGED)["CertificateArn"]
        assert certificate(c.acm, arn)["Status"] == "PENDING_VALIDATION"
        c.acm.list_certificates()
        c.acm.list_tags_for_certificate(CertificateArn=arn)
        change = record(c.r53, pub, "_x.www.example.com", "CNAME", "_y.acm-validations.aws.")
        c.r53.get_change(Id=change["Id"])
        c.r53.list_resource_record_sets(HostedZoneId=pub, StartRecordName="www.example.com", StartRecordType="A")
        c.acm.delete_certificate(CertificateArn=arn)
        # S3 (REST-XML, its parameters in headers, re-signed with them) and the
        # site's role and instance profile.
        s3 = s3_client(proxy.url, key=keys["access_key"], secret=keys["secret_key"])
        s3.create_bucket(Bucket=SITE_BUCKET, ObjectOwnership="BucketOwnerEnforced")
        s3.head_bucket(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)
        s3.get_public_access_block(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)
        s3.put_bucket_lifecycle_configuration(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER,
                                              LifecycleConfiguration=LIFECYCLE)
        s3.put_bucket_tagging(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER, Tagging={"TagSet": MANAGED})
        s3.put_object(Bucket=SITE_BUCKET, Key="web/a.tar.gz", Body=b"site", ChecksumSHA256=sha256_b64(b"site"),
                      ExpectedBucketOwner=OWNER)
        s3.get_bucket_lifecycle_configuration(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)
        assert s3.get_object(Bucket=SITE_BUCKET, Key="web/a.tar.gz", ExpectedBucketOwner=OWNER)["Body"].read() \
            == b"site"
        # Retiring: a copy under retired/, then the original deleted.
        s3.copy_object(Bucket=SITE_BUCKET, Key="retired/web/a.tar.gz", ExpectedBucketOwner=OWNER,
                       CopySource={"Bucket": SITE_BUCKET, "Key": "web/a.tar.gz"}, ExpectedSourceBucketOwner=OWNER)
        s3.delete_objects(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER, Delete={"Objects": [{"Key": "web/a.tar.gz"}]})
        assert "Contents" not in s3.list_objects_v2(Bucket=SITE_BUCKET, Prefix="web/", ExpectedBucketOwner=OWNER)
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=SITE_BUCKET, Prefix="retired/web/",
                                                     ExpectedBucketOwner=OWNER)["Contents"]] == ["retired/web/a.tar.gz"]
        s3.delete_objects(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER,
                          Delete={"Objects": [{"Key": "retired/web/a.tar.gz"}]})
        s3.delete_bucket(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)
        c.iam.create_role(RoleName=SITE_NAME, AssumeRolePolicyDocument=EC2_TRUST, Tags=SITE_TAGS)
        c.iam.put_role_policy(RoleName=SITE_NAME, PolicyName="read-site-content",
                              PolicyDocument=read_policy(SITE_NAME, "web"))
        c.iam.create_instance_profile(InstanceProfileName=SITE_NAME, Tags=SITE_TAGS)
        c.iam.add_role_to_instance_profile(InstanceProfileName=SITE_NAME, RoleName=SITE_NAME)
        c.iam.remove_role_from_instance_profile(InstanceProfileName=SITE_NAME, RoleName=SITE_NAME)
        c.iam.delete_instance_profile(InstanceProfileName=SITE_NAME)
        c.iam.delete_role_policy(RoleName=SITE_NAME, PolicyName="read-site-content")
        c.iam.delete_role(RoleName=SITE_NAME)
        # The dummy key is refused by moto itself.
        refused(lambda: clients(proxy.url).ec2.describe_vpcs(), "AuthFailure")
        refused(lambda: s3_client(proxy.url).list_objects_v2(Bucket=SITE_BUCKET), "InvalidAccessKeyId")
        stats = proxy.stats()
        assert stats["denied"] == [], stats["denied"]
        assert any(a["action"] == "ec2:AuthorizeSecurityGroupIngress"
                   and a["context"].get("aws:ResourceTag/ManagedBy") == "sitedeploy" for a in stats["authorized"])
        proxy.stop()
    finally:
        moto.stop()


# --- item 2: duplicate creates -------------------------------------------------------

def test_duplicate_creates():
    moto = Moto()
    proxy = Proxy(moto)
    c = clients(proxy.url)
    try:
        vpc, subnets, image = basics(c)
        sg = c.ec2.create_security_group(GroupName="lb", Description="x", VpcId=vpc)["GroupId"]
        hc = dict(HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=4, HealthyThresholdCount=2,
                  UnhealthyThresholdCount=2, HealthCheckPath="/")
        tg1 = c.elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc, **hc)["TargetGroups"][0]
        tg2 = c.elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc, **hc)["TargetGroups"][0]
        assert tg1["TargetGroupArn"] == tg2["TargetGroupArn"]
        e = refused(lambda: c.elb.create_target_group(Name="tg", Protocol="HTTP", Port=8080, VpcId=vpc),
                    "DuplicateTargetGroupName", 400)
        assert "A target group with the specified name already exists." in str(e)
        refused(lambda: c.elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc,
                                                  **dict(hc, HealthCheckPath="/other")), "DuplicateTargetGroupName")

        lb1 = c.elb.create_load_balancer(Name="lb", Subnets=subnets, SecurityGroups=[sg])["LoadBalancers"][0]
        lb2 = c.elb.create_load_balancer(Name="lb", Subnets=subnets, SecurityGroups=[sg])["LoadBalancers"][0]
        assert lb1["LoadBalancerArn"] == lb2["LoadBalancerArn"]
        refused(lambda: c.elb.create_load_balancer(Name="lb", Subnets=subnets, SecurityGroups=[sg],
                                                   Scheme="internal"), "DuplicateLoadBalancerName", 400)
        refused(lambda: c.elb.create_load_balancer(Name="lb", Subnets=subnets[:1] + subnets[:1],
                                                   SecurityGroups=[sg]), "DuplicateLoadBalancerName")
        assert len(c.elb.describe_load_balancers()["LoadBalancers"]) == 1

        fwd = [{"Type": "forward", "TargetGroupArn": tg1["TargetGroupArn"]}]
        l1 = c.elb.create_listener(LoadBalancerArn=lb1["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=fwd)["Listeners"][0]
        l2 = c.elb.create_listener(LoadBalancerArn=lb1["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=fwd)["Listeners"][0]
        assert l1["ListenerArn"] == l2["ListenerArn"]
        other = c.elb.create_target_group(Name="tg2", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
        e = refused(lambda: c.elb.create_listener(
            LoadBalancerArn=lb1["LoadBalancerArn"], Protocol="HTTP", Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": other["TargetGroupArn"]}]), "DuplicateListener", 400)
        assert "A listener with the specified port already exists." in str(e)

        # RunInstances: same token, same parameters -> the first launch; other
        # parameters -> IdempotentParameterMismatch.
        run = dict(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnets[0],
                   ClientToken="tok-1")
        a = c.ec2.run_instances(**run)["Instances"][0]["InstanceId"]
        b = c.ec2.run_instances(**run)["Instances"][0]["InstanceId"]
        assert a == b
        e = refused(lambda: c.ec2.run_instances(**dict(run, InstanceType="t3.small")),
                    "IdempotentParameterMismatch", 400)
        assert "inconsistent with arguments used in previous request" in str(e)
        assert proxy.stats()["injected"].get("replayed:RunInstances") == 1
    finally:
        proxy.stop()
        moto.stop()


# --- item 3: Auto Scaling -------------------------------------------------------------

def test_asg_versions_and_processes():
    moto = Moto()
    proxy = Proxy(moto, {"deregistration_delay_s": 1})
    c = clients(proxy.url)
    try:
        vpc, subnets, image = basics(c)
        sg = c.ec2.create_security_group(GroupName="web", Description="x", VpcId=vpc)["GroupId"]
        lt = template(c, "lt", image, sg)
        c.ec2.create_launch_template_version(LaunchTemplateId=lt, LaunchTemplateData={
            "ImageId": image, "InstanceType": "t3.micro", "SecurityGroupIds": [sg]})
        c.asg.create_auto_scaling_group(AutoScalingGroupName="g", LaunchTemplate={"LaunchTemplateId": lt,
                                                                                  "Version": "1"},
                                        MinSize=2, MaxSize=4, DesiredCapacity=2,
                                        VPCZoneIdentifier=",".join(subnets))
        c.asg.update_auto_scaling_group(AutoScalingGroupName="g", LaunchTemplate={"LaunchTemplateId": lt,
                                                                                  "Version": "2"},
                                        DesiredCapacity=4)
        versions = sorted(i["LaunchTemplate"]["Version"] for i in group_of(c, "g")["Instances"])
        assert versions == ["1", "1", "2", "2"], versions
        c.asg.suspend_processes(AutoScalingGroupName="g", ScalingProcesses=["AZRebalance"])
        assert [p["ProcessName"] for p in group_of(c, "g")["SuspendedProcesses"]] == ["AZRebalance"]
        c.asg.resume_processes(AutoScalingGroupName="g", ScalingProcesses=["AZRebalance"])
        assert group_of(c, "g")["SuspendedProcesses"] == []
        acts = c.asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]
        assert len(acts) == 4 and all(a["StatusCode"] == "Successful" for a in acts), acts
        assert all(a["Description"].startswith("Launching a new EC2 instance: i-") for a in acts)
    finally:
        proxy.stop()
        moto.stop()


def test_asg_launch_async():
    moto = Moto()
    n = 1.5
    proxy = Proxy(moto, {"asg_launch_s": n, "target_initial_s": 0.5})
    c = clients(proxy.url)
    try:
        vpc, subnets, image = basics(c)
        sg = c.ec2.create_security_group(GroupName="web", Description="x", VpcId=vpc)["GroupId"]
        tg = c.elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0][
            "TargetGroupArn"]
        lt = template(c, "lt", image, sg)
        t0 = time.time()
        c.asg.create_auto_scaling_group(AutoScalingGroupName="g", LaunchTemplate={"LaunchTemplateId": lt},
                                        MinSize=2, MaxSize=2, DesiredCapacity=2, TargetGroupARNs=[tg],
                                        VPCZoneIdentifier=",".join(subnets))
        g = group_of(c, "g")
        assert g["Instances"] == [] and g["DesiredCapacity"] == 2, g
        assert c.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"] == []
        assert c.ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]}])[
            "Reservations"] == []
        acts = c.asg.describe_scaling_activities(AutoScalingGroupName="g")["Activities"]
        assert acts and all(a["StatusCode"] == "InProgress" for a in acts), acts
        time.sleep(max(0, t0 + n + 0.2 - time.time()))
        g = group_of(c, "g")
        assert [i["LifecycleState"] for i in g["Instances"]] == ["Pending", "Pending"], g["Instances"]
        health = c.elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        assert len(health) == 2, health
        time.sleep(max(0, t0 + 2 * n + 0.2 - time.time()))
        g = group_of(c, "g")
        assert [i["LifecycleState"] for i in g["Instances"]] == ["InService", "InService"], g["Instances"]
        ids = [i["InstanceId"] for i in g["Instances"]]
        assert sum(len(r["Instances"]) for r in c.ec2.describe_instances(InstanceIds=ids)["Reservations"]) == 2
        # A replacement is hidden again for N s.
        c.asg.terminate_instance_in_auto_scaling_group(InstanceId=ids[0], ShouldDecrementDesiredCapacity=False)
        g = group_of(c, "g")
        assert [i["InstanceId"] for i in g["Instances"]] == ids[1:], g["Instances"]
    finally:
        proxy.stop()
        moto.stop()


def test_asg_instance_limit():
    moto = Moto()
    proxy = Proxy(moto, {"asg_instance_limit": 3})
    c = clients(proxy.url)
    try:
        vpc, subnets, image = basics(c)
        sg = c.ec2.create_security_group(GroupName="web", Description="x", VpcId=vpc)["GroupId"]
        lt = template(c, "lt", image, sg)
        c.asg.create_auto_scaling_group(AutoScalingGroupName="a", LaunchTemplate={"LaunchTemplateId": lt},
                                        MinSize=2, MaxSize=2, DesiredCapacity=2, VPCZoneIdentifier=subnets[0])
        c.asg.create_auto_scaling_group(AutoScalingGroupName="b", LaunchTemplate={"LaunchTemplateId": lt},
                                        MinSize=1, MaxSize=5, DesiredCapacity=2, VPCZoneIdentifier=subnets[0])
        b = group_of(c, "b")
        assert b["DesiredCapacity"] == 2 and len(b["Instances"]) == 1, b
        c.asg.update_auto_scaling_group(AutoScalingGroupName="b", DesiredCapacity=4)
        b = group_of(c, "b")
        assert b["DesiredCapacity"] == 4 and len(b["Instances"]) == 1, b
        acts = c.asg.describe_scaling_activities(AutoScalingGroupName="b")["Activities"]
        assert acts[0]["StatusCode"] == "Failed", acts[0]
        msg = ("You have requested more vCPU capacity than your current vCPU limit of 3 allows for the "
               "instance bucket that the specified instance type belongs to. Please visit "
               "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit. "
               "Launching EC2 instance failed.")
        assert acts[0]["StatusMessage"] == msg, acts[0]
        assert acts[0]["Description"] == "Launching a new EC2 instance.  Status Reason: " + msg
        assert acts[0]["Progress"] == 100 and acts[0]["AutoScalingGroupName"] == "b"
        assert acts[0]["Cause"].startswith("At ") and "desired: 4" in acts[0]["Cause"], acts[0]["Cause"]
        assert {"ActivityId", "StartTime", "EndTime", "AutoScalingGroupARN"} <= set(acts[0])
        assert any(a["StatusCode"] == "Successful" for a in acts)
        newest = c.asg.describe_scaling_activities(AutoScalingGroupName="b", MaxRecords=1)["Activities"]
        assert len(newest) == 1 and newest[0]["StatusCode"] == "Failed", newest
        assert len(c.ec2.describe_instances(Filters=[{"Name": "instance-state-name",
                                                      "Values": ["running"]}])["Reservations"]) >= 1
        # Room again: Auto Scaling launches the rest.
        c.asg.delete_auto_scaling_group(AutoScalingGroupName="a", ForceDelete=True)
        b = group_of(c, "b")
        assert b["DesiredCapacity"] == 4 and len(b["Instances"]) == 3, b
    finally:
        proxy.stop()
        moto.stop()


# --- items 4 and 5: Scheduler --------------------------------------------------------

def test_schedule_group_deleting_and_tags():
    moto = Moto()
    raw = clients(moto.url)
    proxy = Proxy(moto, {"schedule_group_deleting_s": 1.5})
    c = clients(proxy.url)
    # What AWS refuses, sent anyway (boto3 checks lengths itself).
    c.sch = boto3.client("scheduler", endpoint_url=proxy.url, region_name=REGION, aws_access_key_id="testing",
                         aws_secret_access_key="testing", config=Config(parameter_validation=False))
    try:
        role = raw.iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        e = refused(lambda: c.sch.create_schedule_group(Name="g", Tags=[{"Key": "ManagedBy", "Value": ""}]),
                    "ValidationException", 400)
        refused(lambda: c.sch.create_schedule_group(Name="g", Tags=[{"Key": "k" * 129, "Value": "v"}]),
                "ValidationException", 400)
        refused(lambda: c.sch.create_schedule_group(Name="g", Tags=[{"Key": "k", "Value": "v" * 257}]),
                "ValidationException", 400)
        arn = c.sch.create_schedule_group(Name="g", Tags=[{"Key": "k" * 128, "Value": "v" * 256}])[
            "ScheduleGroupArn"]
        refused(lambda: c.sch.tag_resource(ResourceArn=arn, Tags=[{"Key": "x", "Value": ""}]),
                "ValidationException", 400)
        c.sch.tag_resource(ResourceArn=arn, Tags=[{"Key": "x", "Value": "y"}])
        schedule = dict(ScheduleExpression="at(2030-01-01T00:00:00)", FlexibleTimeWindow={"Mode": "OFF"},
                        Target={"Arn": "arn:aws:scheduler:::aws-sdk:ec2:terminateInstances", "RoleArn": role,
                                "Input": "{}"})
        c.sch.create_schedule(Name="s", GroupName="g", **schedule)
        c.sch.delete_schedule_group(Name="g")
        got = c.sch.get_schedule_group(Name="g")
        assert got["State"] == "DELETING" and got["Arn"] == arn, got
        listed = {x["Name"]: x["State"] for x in c.sch.list_schedule_groups()["ScheduleGroups"]}
        assert listed.get("g") == "DELETING", listed
        refused(lambda: c.sch.create_schedule_group(Name="g"), "ConflictException", 409)
        refused(lambda: c.sch.create_schedule(Name="s2", GroupName="g", **schedule),
                "ResourceNotFoundException", 404)
        refused(lambda: c.sch.get_schedule(Name="s", GroupName="g"), "ResourceNotFoundException", 404)
        time.sleep(1.6)
        refused(lambda: c.sch.get_schedule_group(Name="g"), "ResourceNotFoundException", 404)
        assert "g" not in {x["Name"] for x in c.sch.list_schedule_groups()["ScheduleGroups"]}
        c.sch.create_schedule_group(Name="g")
        assert proxy.stats()["actions"].get("DeleteScheduleGroup") == 1
    finally:
        proxy.stop()
        moto.stop()


# --- item 6: IAM eventual consistency, Scheduler's role check --------------------------

def test_iam_eventual_and_trust():
    moto = Moto()
    proxy = Proxy(moto, {"iam_eventual_s": 1.5})
    c = clients(proxy.url)
    try:
        c.sch.create_schedule_group(Name="g")
        t0 = time.time()
        arn = c.iam.create_role(RoleName="fresh", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*",
                                                                  "Resource": "*"}]})
        e = refused(lambda: c.iam.put_role_policy(RoleName="fresh", PolicyName="p", PolicyDocument=doc),
                    "NoSuchEntity", 404)
        assert "The role with name fresh cannot be found." in str(e)
        schedule = dict(ScheduleExpression="at(2030-01-01T00:00:00)", FlexibleTimeWindow={"Mode": "OFF"},
                        Target={"Arn": "arn:aws:scheduler:::aws-sdk:ec2:terminateInstances", "RoleArn": arn,
                                "Input": "{}"})
        e = refused(lambda: c.sch.create_schedule(Name="s", GroupName="g", **schedule), "ValidationException", 400)
        assert "must allow AWS EventBridge Scheduler to assume the role" in str(e)
        time.sleep(max(0, t0 + 1.6 - time.time()))
        c.iam.put_role_policy(RoleName="fresh", PolicyName="p", PolicyDocument=doc)
        c.sch.create_schedule(Name="s", GroupName="g", **schedule)
        c.sch.update_schedule(Name="s", GroupName="g", **schedule)
        # Always: a role whose trust policy does not let Scheduler assume it.
        ec2_trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        wrong = Proxy(moto, {})
        w = clients(wrong.url)
        bad = w.iam.create_role(RoleName="ec2-only", AssumeRolePolicyDocument=ec2_trust)["Role"]["Arn"]
        refused(lambda: w.sch.create_schedule(Name="s3", GroupName="g", **dict(
            schedule, Target=dict(schedule["Target"], RoleArn=bad))), "ValidationException", 400)
        refused(lambda: w.sch.update_schedule(Name="s", GroupName="g", **dict(
            schedule, Target=dict(schedule["Target"], RoleArn=bad))), "ValidationException", 400)
        other_account = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}}}]})
        bad2 = w.iam.create_role(RoleName="other-acct", AssumeRolePolicyDocument=other_account)["Role"]["Arn"]
        refused(lambda: w.sch.create_schedule(Name="s4", GroupName="g", **dict(
            schedule, Target=dict(schedule["Target"], RoleArn=bad2))), "ValidationException", 400)
        w.iam.put_role_policy(RoleName="ec2-only", PolicyName="p", PolicyDocument=doc)  # no window here
        wrong.stop()
    finally:
        proxy.stop()
        moto.stop()


# --- item 7: GetConsoleOutput Latest -----------------------------------------------------

def test_console_latest():
    moto = Moto()
    proxy = Proxy(moto)
    c = clients(proxy.url)
    try:
        vpc, subnets, image = basics(c)
        xen = c.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t2.micro")[
            "Instances"][0]["InstanceId"]
        nitro = c.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro")[
            "Instances"][0]["InstanceId"]
        e = refused(lambda: c.ec2.get_console_output(InstanceId=xen, Latest=True), "UnsupportedOperation", 400)
        assert "not supported for this instance type" in str(e)
        c.ec2.get_console_output(InstanceId=xen)
        c.ec2.get_console_output(InstanceId=nitro, Latest=True)
        # ... also when the proxy answers the console itself.
        p2 = Proxy(moto, {"console_lines": ["hello"]})
        c2 = clients(p2.url)
        refused(lambda: c2.ec2.get_console_output(InstanceId=xen, Latest=True), "UnsupportedOperation")
        out = c2.ec2.get_console_output(InstanceId=nitro, Latest=True)["Output"]
        assert "hello" in out
        p2.stop()
    finally:
        proxy.stop()
        moto.stop()


# --- item 8: DescribeInstances by filter --------------------------------------------------

def test_describe_by_filter():
    moto = Moto()
    proxy = Proxy(moto, {"eventual_s": 1.5})
    c = clients(proxy.url)
    try:
        vpc, subnets, image = basics(c)
        old = c.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        time.sleep(1.6)
        t0 = time.time()
        new = c.ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2)["Instances"]
        new = [i["InstanceId"] for i in new]
        flt = [{"Name": "instance-id", "Values": [old] + new}]
        seen = [i["InstanceId"] for r in c.ec2.describe_instances(Filters=flt)["Reservations"]
                for i in r["Instances"]]
        assert seen == [old], seen
        refused(lambda: c.ec2.describe_instances(InstanceIds=[new[0]]), "InvalidInstanceID.NotFound")
        time.sleep(max(0, t0 + 1.6 - time.time()))
        seen = sorted(i["InstanceId"] for r in c.ec2.describe_instances(Filters=flt)["Reservations"]
                      for i in r["Instances"])
        assert seen == sorted([old] + new), seen
        stats = proxy.stats()
        assert stats["polls"].get("DescribeInstances") == 3, stats["polls"]
    finally:
        proxy.stop()
        moto.stop()


# --- item 9: CloudFront --------------------------------------------------------------

def test_prefix_list_weight_and_description():
    """A rule from CloudFront's prefix list counts 55 of a group's 60 inbound
    rules, and keeps its description."""
    moto = Moto()
    proxy = Proxy(moto)
    c = clients(proxy.url)
    try:
        vpc, _, _ = basics(c)
        pl = c.ec2.describe_managed_prefix_lists(Filters=[{
            "Name": "prefix-list-name",
            "Values": ["com.amazonaws.global.cloudfront.origin-facing"]}])["PrefixLists"][0]["PrefixListId"]

        def cidrs(gid, n, first):
            c.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
                "IpProtocol": "tcp", "FromPort": first + k, "ToPort": first + k,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}]} for k in range(n)])

        def from_list(gid, port):
            c.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
                "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                "PrefixListIds": [{"PrefixListId": pl, "Description": "mine"}]}])

        full = c.ec2.create_security_group(GroupName="full", Description="x", VpcId=vpc)["GroupId"]
        cidrs(full, 6, 8000)
        refused(lambda: from_list(full, 80), "RulesPerSecurityGroupLimitExceeded", 400)
        room = c.ec2.create_security_group(GroupName="room", Description="x", VpcId=vpc)["GroupId"]
        cidrs(room, 5, 8000)
        from_list(room, 80)
        refused(lambda: cidrs(room, 1, 9000), "RulesPerSecurityGroupLimitExceeded", 400)
        refused(lambda: from_list(room, 81), "RulesPerSecurityGroupLimitExceeded", 400)
        # The same rule again (a retried request whose answer was lost): AWS's
        # duplicate, not the quota.
        refused(lambda: from_list(room, 80), "InvalidPermission.Duplicate")
        g = c.ec2.describe_security_groups(GroupIds=[room])["SecurityGroups"][0]
        rule = [p for p in g["IpPermissions"] if p["FromPort"] == 80][0]
        assert rule["PrefixListIds"] == [{"PrefixListId": pl, "Description": "mine"}], rule
    finally:
        proxy.stop()
        moto.stop()


def test_cloudfront_status_etag_delete():
    moto = Moto()
    n = 1.5
    proxy = Proxy(moto, {"distribution_in_progress_s": n})
    c = clients(proxy.url)
    try:
        t0 = time.time()
        made = create_distribution(c.cf, "web")
        did, etag0 = made["Distribution"]["Id"], made["ETag"]
        assert made["Distribution"]["Status"] == "InProgress", made["Distribution"]["Status"]
        got = c.cf.get_distribution(Id=did)
        assert got["Distribution"]["Status"] == "InProgress" and got["ETag"] == etag0, got
        listed = {d["Id"]: d["Status"] for d in c.cf.list_distributions()["DistributionList"]["Items"]}
        assert listed == {did: "InProgress"}, listed
        # IfMatch: missing, or not the current ETag.
        cfg = c.cf.get_distribution_config(Id=did)
        assert cfg["ETag"] == etag0, cfg["ETag"]
        e = refused(lambda: c.cf.update_distribution(Id=did, DistributionConfig=cfg["DistributionConfig"]),
                    "InvalidIfMatchVersion", 400)
        assert "The If-Match version is missing or not valid for the resource." in str(e)
        e = refused(lambda: c.cf.update_distribution(Id=did, IfMatch="E0000000000000",
                                                     DistributionConfig=cfg["DistributionConfig"]),
                    "PreconditionFailed", 412)
        assert "The precondition given in one or more of the request-header fields evaluated to false." in str(e)
        # Enabled: not deletable, whatever the status.
        e = refused(lambda: c.cf.delete_distribution(Id=did, IfMatch=etag0), "DistributionNotDisabled", 409)
        assert "The distribution you are trying to delete has not been disabled." in str(e)
        time.sleep(max(0, t0 + n + 0.2 - time.time()))
        assert c.cf.get_distribution(Id=did)["Distribution"]["Status"] == "Deployed"
        assert [d["Status"] for d in c.cf.list_distributions()["DistributionList"]["Items"]] == ["Deployed"]

        # An update: InProgress again, and a new ETag everywhere.
        upd = c.cf.update_distribution(Id=did, IfMatch=etag0, DistributionConfig=cfg["DistributionConfig"])
        etag1 = upd["ETag"]
        assert etag1 != etag0 and upd["Distribution"]["Status"] == "InProgress", upd
        got = c.cf.get_distribution(Id=did)
        assert got["ETag"] == etag1 and got["Distribution"]["Status"] == "InProgress", got
        assert c.cf.get_distribution_config(Id=did)["ETag"] == etag1
        # The ETag the update replaced is stale.
        refused(lambda: c.cf.update_distribution(Id=did, IfMatch=etag0,
                                                 DistributionConfig=cfg["DistributionConfig"]),
                "PreconditionFailed", 412)

        # Disabled, and deleted at once: the disable is still propagating.
        t2 = time.time()
        etag2 = disable(c.cf, did, etag1)
        assert etag2 not in (etag0, etag1)
        refused(lambda: c.cf.delete_distribution(Id=did, IfMatch=etag2), "DistributionNotDisabled", 409)
        refused(lambda: c.cf.delete_distribution(Id=did, IfMatch=etag1), "PreconditionFailed", 412)
        refused(lambda: c.cf.delete_distribution(Id=did), "InvalidIfMatchVersion", 400)
        assert c.cf.get_distribution(Id=did)["Distribution"]["DistributionConfig"]["Enabled"] is False
        time.sleep(max(0, t2 + n + 0.2 - time.time()))
        got = c.cf.get_distribution(Id=did)
        assert got["Distribution"]["Status"] == "Deployed" and got["ETag"] == etag2, got
        c.cf.delete_distribution(Id=did, IfMatch=etag2)
        refused(lambda: c.cf.get_distribution(Id=did), "NoSuchDistribution", 404)
        assert c.cf.list_distributions()["DistributionList"]["Quantity"] == 0

        # A distribution made behind the proxy's back (straight at moto): Deployed,
        # with moto's ETag.
        other = create_distribution(clients(moto.url).cf, "other")
        oid = other["Distribution"]["Id"]
        got = c.cf.get_distribution(Id=oid)
        assert got["Distribution"]["Status"] == "Deployed" and got["ETag"] == other["ETag"], got

        stats = proxy.stats()
        for key in ("UpdateDistribution:InvalidIfMatchVersion", "UpdateDistribution:PreconditionFailed",
                    "DeleteDistribution:DistributionNotDisabled", "DeleteDistribution:PreconditionFailed",
                    "DeleteDistribution:InvalidIfMatchVersion"):
            assert stats["injected"].get(key, 0) >= 1, (key, stats["injected"])
        deletes = [r for r in stats["requests"] if r["action"] == "DeleteDistribution"]
        assert deletes[-1]["params"] == {"Id": did, "IfMatch": etag2}, deletes
        assert deletes[-1]["path"] == f"/2020-05-31/distribution/{did}", deletes
        creates = [r for r in stats["requests"] if r["action"] == "CreateDistributionWithTags"]
        assert creates[0]["params"]["Tags"] == {"ManagedBy": "sitedeploy"}, creates
        assert stats["actions"].get("GetDistribution", 0) >= 5, stats["actions"]
    finally:
        proxy.stop()
        moto.stop()


def test_iam_cloudfront():
    moto = Moto()
    raw = clients(moto.url)
    proxy = Proxy(moto, {"iam_policy": POLICY, "distribution_in_progress_s": 0.5})
    c = clients(proxy.url)
    try:
        # Untagged, or tagged as another tool's: refused (CreateDistribution
        # checks aws:RequestTag).
        refused(lambda: create_distribution(c.cf, "bare", tags=[]), "AccessDenied", 403)
        e = refused(lambda: create_distribution(c.cf, "theirs", tags=[{"Key": "ManagedBy", "Value": "other"}]),
                    "AccessDenied", 403)
        assert "cloudfront:CreateDistribution" in str(e), e
        made = create_distribution(c.cf, "web")
        did, arn = made["Distribution"]["Id"], made["Distribution"]["ARN"]
        assert arn == f"arn:aws:cloudfront::123456789012:distribution/{did}", arn
        # The tool's own calls: find (ListDistributions, ListTagsForResource, the
        # tagging API from us-east-1), read, change, retag, disable, delete.
        assert [d["Id"] for d in c.cf.list_distributions()["DistributionList"]["Items"]] == [did]
        assert c.cf.list_tags_for_resource(Resource=arn)["Tags"]["Items"] == MANAGED
        found = c.tag.get_resources(ResourceTypeFilters=["cloudfront:distribution"],
                                    TagFilters=[{"Key": "ManagedBy", "Values": ["sitedeploy"]}])
        assert [r["ResourceARN"] for r in found["ResourceTagMappingList"]] == [arn], found
        got = c.cf.get_distribution(Id=did)
        cfg = c.cf.get_distribution_config(Id=did)
        etag = c.cf.update_distribution(Id=did, IfMatch=cfg["ETag"],
                                        DistributionConfig=cfg["DistributionConfig"])["ETag"]
        c.cf.tag_resource(Resource=arn, Tags={"Items": [{"Key": "Deployment", "Value": "web"}]})
        etag = disable(c.cf, did, etag)
        time.sleep(0.7)
        c.cf.delete_distribution(Id=did, IfMatch=etag)
        stats = proxy.stats()
        assert stats["denied"] == [
            "cloudfront:CreateDistribution (for CreateDistributionWithTags) on *",
            "cloudfront:CreateDistribution (for CreateDistributionWithTags) on *"], stats["denied"]
        auth = stats["authorized"]
        want = [("cloudfront:CreateDistribution", "*", "aws:RequestTag/ManagedBy", "sitedeploy"),
                ("cloudfront:TagResource", "*", "aws:RequestTag/ManagedBy", "sitedeploy"),
                ("cloudfront:GetDistribution", arn, "aws:ResourceTag/ManagedBy", "sitedeploy"),
                ("cloudfront:GetDistributionConfig", arn, "aws:ResourceTag/ManagedBy", "sitedeploy"),
                ("cloudfront:UpdateDistribution", arn, "aws:ResourceTag/ManagedBy", "sitedeploy"),
                ("cloudfront:DeleteDistribution", arn, "aws:ResourceTag/ManagedBy", "sitedeploy"),
                ("cloudfront:ListTagsForResource", arn, "aws:ResourceTag/ManagedBy", "sitedeploy"),
                ("cloudfront:TagResource", arn, "aws:RequestTag/Deployment", "web"),
                ("cloudfront:ListDistributions", "*", None, None),
                ("tag:GetResources", "*", None, None)]
        for action, resource, key, value in want:
            assert any(a["action"] == action and a["resource"] == resource
                       and (key is None or a["context"].get(key) == value) and a["decision"] == "Allow"
                       for a in auth), (action, resource, key, [a for a in auth if a["action"] == action])
        assert any(a["context"].get("aws:TagKeys") == ["ManagedBy"] for a in auth
                   if a["action"] == "cloudfront:CreateDistribution")

        # Another's distribution (untagged, made straight at moto): not readable,
        # not changeable, not deletable, not taggable, its tags not listable.
        theirs = create_distribution(raw.cf, "theirs", tags=[])["Distribution"]
        tid, tarn = theirs["Id"], theirs["ARN"]
        e = refused(lambda: c.cf.get_distribution(Id=tid), "AccessDenied", 403)
        assert f"cloudfront:GetDistribution on resource: {tarn}" in str(e), e
        refused(lambda: c.cf.get_distribution_config(Id=tid), "AccessDenied", 403)
        refused(lambda: c.cf.delete_distribution(Id=tid, IfMatch="E0000000000000"), "AccessDenied", 403)
        refused(lambda: c.cf.list_tags_for_resource(Resource=tarn), "AccessDenied", 403)
        refused(lambda: c.cf.tag_resource(Resource=tarn, Tags={"Items": [{"Key": "x", "Value": "y"}]}),
                "AccessDenied", 403)
        assert proxy.stats()["denied"][-5:] == [
            f"cloudfront:GetDistribution on {tarn}", f"cloudfront:GetDistributionConfig on {tarn}",
            f"cloudfront:DeleteDistribution on {tarn}", f"cloudfront:ListTagsForResource on {tarn}",
            f"cloudfront:TagResource on {tarn}"], proxy.stats()["denied"]
    finally:
        proxy.stop()
        moto.stop()


# --- item 10: a custom domain: Route 53, ACM, CloudFront's aliases --------------------

def test_route53_zones_by_name_and_changes():
    moto = Moto()
    proxy = Proxy(moto, {"dns_change_pending_s": 1})
    c = clients(proxy.url)
    raw = clients(moto.url)
    try:
        pub = zone(raw.r53, "example.com")
        priv = zone(raw.r53, "example.com", private=True)
        sub = zone(raw.r53, "a.example.com")
        zone(raw.r53, "zzz.example.com")
        zone(raw.r53, "example.net")
        # DNSName is where the page starts (labels reversed: com.example.www.),
        # not a filter: a lookup by the subdomain does not find example.com.
        page = c.r53.list_hosted_zones_by_name(DNSName="www.example.com", MaxItems="10")
        assert [z["Name"] for z in page["HostedZones"]] == ["zzz.example.com.", "example.net."], page
        assert page["IsTruncated"] is False and page["DNSName"] == "www.example.com", page
        # By the zone's own name: the public and the private zone (marked), then more.
        page = c.r53.list_hosted_zones_by_name(DNSName="example.com.", MaxItems="2")
        got = {z["Id"]: (z["Name"], z["Config"]["PrivateZone"]) for z in page["HostedZones"]}
        assert got == {f"/hostedzone/{pub}": ("example.com.", False),
                       f"/hostedzone/{priv}": ("example.com.", True)}, page
        assert page["IsTruncated"] is True and page["MaxItems"] == "2", page
        assert (page["NextDNSName"], page["NextHostedZoneId"]) == ("a.example.com.", sub), page
        page = c.r53.list_hosted_zones_by_name(DNSName=page["NextDNSName"], HostedZoneId=page["NextHostedZoneId"],
                                               MaxItems="2")
        assert [z["Name"] for z in page["HostedZones"]] == ["a.example.com.", "zzz.example.com."], page
        names = [z["Name"] for z in c.r53.list_hosted_zones_by_name()["HostedZones"]]
        assert names == ["example.com.", "example.com.", "a.example.com.", "zzz.example.com.", "example.net."], names

        # A change: an id of its own, PENDING for dns_change_pending_s, then INSYNC.
        t0 = time.time()
        one = record(c.r53, pub, "www.example.com", "A", alias="d111111abcdef8.cloudfront.net")
        two = record(c.r53, pub, "www.example.com", "AAAA", alias="d111111abcdef8.cloudfront.net")
        assert one["Status"] == "PENDING" and one["Id"].startswith("/change/C") and one["Id"] != two["Id"], (one, two)
        got = c.r53.get_change(Id=one["Id"])["ChangeInfo"]
        assert got["Status"] == "PENDING" and got["Id"] == one["Id"], got
        time.sleep(max(0, t0 + 1.1 - time.time()))
        assert c.r53.get_change(Id=one["Id"])["ChangeInfo"]["Status"] == "INSYNC"
        # An id no change of this proxy has, moto's one fixed id among them.
        e = refused(lambda: c.r53.get_change(Id="C0000000000000000000"), "NoSuchChange", 404)
        assert "A change with the specified change ID does not exist." in str(e)
        behind = record(raw.r53, pub, "old.example.com", "A", "192.0.2.1")
        refused(lambda: c.r53.get_change(Id=behind["Id"]), "NoSuchChange", 404)
        # The domain's records, as the tool reads them.
        sets = c.r53.list_resource_record_sets(HostedZoneId=pub, StartRecordName="www.example.com",
                                               StartRecordType="A")["ResourceRecordSets"]
        assert [(r["Name"], r["Type"], r["AliasTarget"]["DNSName"]) for r in sets[:2]] == [
            ("www.example.com.", "A", "d111111abcdef8.cloudfront.net"),
            ("www.example.com.", "AAAA", "d111111abcdef8.cloudfront.net")], sets

        # A DELETE names a record set exactly as it is; a batch is all or nothing.
        e = refused(lambda: record(c.r53, pub, "www.example.com", "A", alias="dother.cloudfront.net",
                                   action="DELETE"), "InvalidChangeBatch", 400)
        assert "found with other values" in str(e), e
        refused(lambda: record(c.r53, pub, "gone.example.com", "A", "192.0.2.9", action="DELETE"),
                "InvalidChangeBatch", 400)
        batch = {"Changes": [
            {"Action": "DELETE", "ResourceRecordSet": {"Name": "www.example.com", "Type": "AAAA", "AliasTarget": {
                "HostedZoneId": CLOUDFRONT_ZONE, "DNSName": "d111111abcdef8.cloudfront.net",
                "EvaluateTargetHealth": False}}},
            {"Action": "DELETE", "ResourceRecordSet": {"Name": "old.example.com", "Type": "A", "TTL": 300,
                                                        "ResourceRecords": [{"Value": "192.0.2.7"}]}}]}
        refused(lambda: c.r53.change_resource_record_sets(HostedZoneId=pub, ChangeBatch=batch),
                "InvalidChangeBatch", 400)
        left = raw.r53.list_resource_record_sets(HostedZoneId=pub)["ResourceRecordSets"]
        assert ("www.example.com.", "AAAA") in [(r["Name"], r["Type"]) for r in left], left
        # Exactly as it is: deleted.
        record(c.r53, pub, "old.example.com", "A", "192.0.2.1", action="DELETE")
        left = raw.r53.list_resource_record_sets(HostedZoneId=pub)["ResourceRecordSets"]
        assert "old.example.com." not in [r["Name"] for r in left], left

        stats = proxy.stats()
        assert stats["injected"].get("GetChange:NoSuchChange") == 2, stats["injected"]
        changes = [r for r in stats["requests"] if r["action"] == "ChangeResourceRecordSets"]
        assert changes[0]["path"] == f"/2013-04-01/hostedzone/{pub}/rrset/", changes
        assert changes[0]["params"]["Changes"] == [{
            "Action": "UPSERT", "Name": "www.example.com", "Type": "A", "TTL": None, "Values": [],
            "AliasTarget": {"HostedZoneId": CLOUDFRONT_ZONE, "DNSName": "d111111abcdef8.cloudfront.net"}}], changes
        assert stats["actions"].get("ListHostedZonesByName") == 4, stats["actions"]
    finally:
        proxy.stop()
        moto.stop()


def test_acm_validation_cloudfront_and_in_use():
    moto = Moto()
    shown, linger = 1.0, 1.5
    proxy = Proxy(moto, {"dns_change_pending_s": 0.5, "certificate_record_s": shown, "certificate_issue_s": 0.5,
                         "certificate_linger_s": linger, "distribution_in_progress_s": 0.2})
    c = clients(proxy.url)
    raw = clients(moto.url)
    try:
        pub = zone(raw.r53, "example.com")
        priv = zone(raw.r53, "example.com", private=True)
        arn = c.acm.request_certificate(DomainName="www.example.com", ValidationMethod="DNS", IdempotencyToken="web",
                                        Tags=MANAGED)["CertificateArn"]
        t0 = time.time()
        # At first: no validation record yet, and no IssuedAt.
        cert = certificate(c.acm, arn)
        assert cert["Status"] == "PENDING_VALIDATION" and "IssuedAt" not in cert, cert
        options = cert["DomainValidationOptions"]
        assert [(o["DomainName"], o["ValidationStatus"]) for o in options] == [
            ("www.example.com", "PENDING_VALIDATION")], options
        assert not any("ResourceRecord" in o for o in options), options
        time.sleep(max(0, t0 + shown + 0.1 - time.time()))
        rr = certificate(c.acm, arn)["DomainValidationOptions"][0]["ResourceRecord"]
        assert rr["Type"] == "CNAME" and rr["Name"].endswith(".www.example.com."), rr
        # Pending: CloudFront refuses it.
        e = refused(lambda: c.cf.create_distribution(DistributionConfig=domain_config("early", "www.example.com", arn)),
                    "InvalidViewerCertificate", 400)
        assert "isn't in us-east-1 region, isn't valid" in str(e), e
        # The record in a private zone: ACM does not see it (and moto's own
        # timer no longer issues anything).
        record(raw.r53, priv, rr["Name"], "CNAME", rr["Value"])
        time.sleep(1.2)
        assert certificate(c.acm, arn)["Status"] == "PENDING_VALIDATION"
        # In the public zone (no trailing dot): ISSUED once the change
        # is INSYNC (0.5 s) and ACM has seen it (0.5 s more).
        t1 = time.time()
        record(c.r53, pub, rr["Name"].rstrip("."), "CNAME", rr["Value"])
        assert certificate(c.acm, arn)["Status"] == "PENDING_VALIDATION"
        time.sleep(max(0, t1 + 0.8 - time.time()))
        assert certificate(c.acm, arn)["Status"] == "PENDING_VALIDATION"
        time.sleep(max(0, t1 + 1.1 - time.time()))
        cert = certificate(c.acm, arn)
        assert cert["Status"] == "ISSUED" and "IssuedAt" in cert, cert
        assert cert["DomainValidationOptions"][0]["ValidationStatus"] == "SUCCESS", cert
        summary = [s for s in c.acm.list_certificates()["CertificateSummaryList"] if s["CertificateArn"] == arn]
        assert summary[0]["Status"] == "ISSUED" and summary[0]["InUse"] is False, summary

        # CloudFront: a certificate outside us-east-1, an alias it does not cover,
        # an alias without a certificate.
        west = client("acm", proxy.url, region="us-west-2").request_certificate(
            DomainName="www.example.com", ValidationMethod="DNS")["CertificateArn"]
        refused(lambda: c.cf.create_distribution(DistributionConfig=domain_config("west", "www.example.com", west)),
                "InvalidViewerCertificate", 400)
        e = refused(lambda: c.cf.create_distribution(DistributionConfig=domain_config("shop", "shop.example.com", arn)),
                    "InvalidViewerCertificate", 400)
        assert "doesn't cover the alternate domain name" in str(e), e
        e = refused(lambda: c.cf.create_distribution(DistributionConfig=domain_config("bare", "www.example.com")),
                    "InvalidViewerCertificate", 400)
        assert "you must attach a trusted certificate" in str(e), e
        made = c.cf.create_distribution_with_tags(DistributionConfigWithTags={
            "DistributionConfig": domain_config("web", "www.example.com", arn), "Tags": {"Items": MANAGED}})
        did, darn = made["Distribution"]["Id"], made["Distribution"]["ARN"]
        viewer = c.cf.get_distribution_config(Id=did)["DistributionConfig"]["ViewerCertificate"]
        assert viewer["ACMCertificateArn"] == arn and viewer["CloudFrontDefaultCertificate"] is False, viewer
        # The alias is taken (any case).
        e = refused(lambda: c.cf.create_distribution(DistributionConfig=domain_config("again", "WWW.example.com", arn)),
                    "CNAMEAlreadyExists", 409)
        assert "already associated with a different resource" in str(e), e

        # In use: listed, and not deletable.
        assert certificate(c.acm, arn)["InUseBy"] == [darn]
        assert [s["InUse"] for s in c.acm.list_certificates()["CertificateSummaryList"]
                if s["CertificateArn"] == arn] == [True]
        e = refused(lambda: c.acm.delete_certificate(CertificateArn=arn), "ResourceInUseException", 400)
        assert f"Certificate {arn} is in use." in str(e), e
        # The distribution lets it go (back on CloudFront's certificate): still
        # in use for certificate_linger_s.
        got = c.cf.get_distribution_config(Id=did)
        conf = got["DistributionConfig"]
        conf["Aliases"] = {"Quantity": 0}
        conf["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True}
        t2 = time.time()
        c.cf.update_distribution(Id=did, IfMatch=got["ETag"], DistributionConfig=conf)
        refused(lambda: c.acm.delete_certificate(CertificateArn=arn), "ResourceInUseException", 400)
        assert certificate(c.acm, arn)["InUseBy"] == [darn]
        time.sleep(max(0, t2 + linger + 0.1 - time.time()))
        assert certificate(c.acm, arn)["InUseBy"] == []
        c.acm.delete_certificate(CertificateArn=arn)
        refused(lambda: certificate(c.acm, arn), "ResourceNotFoundException")

        stats = proxy.stats()
        for key in ("CreateDistribution:InvalidViewerCertificate", "CreateDistribution:CNAMEAlreadyExists",
                    "DeleteCertificate:ResourceInUseException"):
            assert stats["injected"].get(key, 0) >= 1, (key, stats["injected"])
        made = [r for r in stats["requests"] if r["action"] == "CreateDistributionWithTags"]
        assert made[0]["params"]["Aliases"] == ["www.example.com"] and made[0]["params"]["ACMCertificateArn"] == arn
    finally:
        proxy.stop()
        moto.stop()


def test_iam_route53_acm():
    moto = Moto()
    raw = clients(moto.url)
    proxy = Proxy(moto, {"iam_policy": POLICY, "dns_change_pending_s": 0.2, "certificate_record_s": 0})
    c = clients(proxy.url)
    try:
        pub = zone(raw.r53, "example.com")
        # The tool's calls: find the zone, request a tagged certificate, read it,
        # write its validation CNAME and the alias records, follow the change,
        # read the domain's records, delete.
        c.r53.list_hosted_zones_by_name(DNSName="www.example.com", MaxItems="1")
        c.r53.list_hosted_zones_by_name(DNSName="example.com", MaxItems="1")
        refused(lambda: c.acm.request_certificate(DomainName="www.example.com", ValidationMethod="DNS"),
                "AccessDeniedException", 400)
        refused(lambda: c.acm.request_certificate(DomainName="www.example.com", ValidationMethod="DNS",
                                                  Tags=[{"Key": "ManagedBy", "Value": "other"}]),
                "AccessDeniedException", 400)
        arn = c.acm.request_certificate(DomainName="www.example.com", ValidationMethod="DNS", IdempotencyToken="web",
                                        Tags=MANAGED)["CertificateArn"]
        rr = certificate(c.acm, arn)["DomainValidationOptions"][0]["ResourceRecord"]
        c.acm.list_certificates()
        assert c.acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == MANAGED
        change = record(c.r53, pub, rr["Name"], "CNAME", rr["Value"])
        c.r53.get_change(Id=change["Id"])
        record(c.r53, pub, "WWW.example.com.", "A", alias="d111111abcdef8.cloudfront.net")
        record(c.r53, pub, "www.example.com", "AAAA", alias="d111111abcdef8.cloudfront.net")
        c.r53.list_resource_record_sets(HostedZoneId=pub, StartRecordName="www.example.com", StartRecordType="A")
        record(c.r53, pub, "www.example.com", "AAAA", alias="d111111abcdef8.cloudfront.net", action="DELETE")
        # Refused: another record type, and a CREATE.
        e = refused(lambda: record(c.r53, pub, "www.example.com", "TXT", '"v=spf1 -all"'), "AccessDenied", 403)
        assert f"route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/{pub}" in str(e), e
        refused(lambda: record(c.r53, pub, "new.example.com", "A", "192.0.2.1", action="CREATE"), "AccessDenied", 403)
        # Another's certificate (untagged, made straight at moto): not readable,
        # its tags not listable, not deletable.
        theirs = raw.acm.request_certificate(DomainName="shop.example.com", ValidationMethod="DNS")["CertificateArn"]
        refused(lambda: certificate(c.acm, theirs), "AccessDeniedException", 400)
        refused(lambda: c.acm.list_tags_for_certificate(CertificateArn=theirs), "AccessDeniedException", 400)
        e = refused(lambda: c.acm.delete_certificate(CertificateArn=theirs), "AccessDeniedException", 400)
        assert f"acm:DeleteCertificate on resource: {theirs}" in str(e), e
        c.acm.delete_certificate(CertificateArn=arn)

        stats = proxy.stats()
        zone_arn = f"arn:aws:route53:::hostedzone/{pub}"
        assert stats["denied"] == [
            "acm:RequestCertificate on *", "acm:RequestCertificate on *",
            f"route53:ChangeResourceRecordSets on {zone_arn}", f"route53:ChangeResourceRecordSets on {zone_arn}",
            f"acm:DescribeCertificate on {theirs}", f"acm:ListTagsForCertificate on {theirs}",
            f"acm:DeleteCertificate on {theirs}"], stats["denied"]
        auth = stats["authorized"]
        names = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
        types = "route53:ChangeResourceRecordSetsRecordTypes"
        actions = "route53:ChangeResourceRecordSetsActions"
        want = [("acm:RequestCertificate", "*", "aws:RequestTag/ManagedBy", "sitedeploy"),
                ("acm:RequestCertificate", "*", "acm:ValidationMethod", "DNS"),
                ("acm:RequestCertificate", "*", "acm:DomainNames", ["www.example.com"]),
                ("acm:AddTagsToCertificate", "*", "aws:TagKeys", ["ManagedBy"]),
                ("acm:DescribeCertificate", arn, "aws:ResourceTag/ManagedBy", "sitedeploy"),
                ("acm:ListTagsForCertificate", arn, "aws:ResourceTag/ManagedBy", "sitedeploy"),
                ("acm:DeleteCertificate", arn, "aws:ResourceTag/ManagedBy", "sitedeploy"),
                ("acm:ListCertificates", "*", None, None),
                ("route53:ListHostedZonesByName", "*", None, None),
                ("route53:GetChange", f"arn:aws:route53:::change/{change['Id'].rsplit('/', 1)[1]}", None, None),
                ("route53:ListResourceRecordSets", zone_arn, None, None),
                ("route53:ChangeResourceRecordSets", zone_arn, types, ["CNAME"]),
                ("route53:ChangeResourceRecordSets", zone_arn, names, ["www.example.com"]),
                ("route53:ChangeResourceRecordSets", zone_arn, actions, ["DELETE"])]
        for action, resource, key, value in want:
            assert any(a["action"] == action and a["resource"] == resource
                       and (key is None or a["context"].get(key) == value) and a["decision"] == "Allow"
                       for a in auth), (action, resource, key, [a for a in auth if a["action"] == action])
        assert any(a["context"].get(types) == ["TXT"] and a["decision"] != "Allow" for a in auth)
        # These checks exercise every condition of the policy's certificate and
        # record statements: each misspelled key is refused or changes one of
        # their decisions (iam_eval.py mutations).
        sys.path.insert(0, HERE)
        import iam_eval
        _, uncaught, _ = iam_eval.mutations(POLICY, auth)
        ours = ("RequestOnlyTaggedCertificates", "ReadAndDeleteOnlyOwnCertificates",
                "ChangeOnlyCertificateAndAliasRecords")
        assert not [u for u in uncaught if any(f'"{sid}"' in u for sid in ours)], uncaught
    finally:
        proxy.stop()
        moto.stop()


# --- S3 and the site's role and instance profile (issue 22) -----------------------

SITE_BUCKET = "sitedeploy-123456789012-us-east-1"
OWNER = "123456789012"
EC2_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
SITE_TAGS = MANAGED + [{"Key": "Deployment", "Value": "web"}]
# The tool's two rules: retired content (copied under retired/) expires a day
# after the copy; unfinished uploads are aborted.
LIFECYCLE = {"Rules": [
    {"ID": "expire-retired-content", "Status": "Enabled", "Filter": {"Prefix": "retired/"},
     "Expiration": {"Days": 1}},
    {"ID": "abort-unfinished-uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}
SITE_NAME = "sitedeploy-site-us-east-1-web"  # the site's role and instance profile: sitedeploy-site-<region>-<name>


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def read_policy(name, prefix, bucket=SITE_BUCKET):
    """The role's inline policy read-site-content: s3:GetObject on <bucket>/<prefix>/*."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*"}]})


def site_role(iam, name, prefix, bucket=SITE_BUCKET):
    """Role and instance profile `name` (tagged), the role able to read <prefix>/*."""
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=EC2_TRUST, Tags=SITE_TAGS)
    iam.put_role_policy(RoleName=name, PolicyName="read-site-content", PolicyDocument=read_policy(name, prefix, bucket))
    iam.create_instance_profile(InstanceProfileName=name, Tags=SITE_TAGS)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)


def test_s3_refusals_moto_lacks():
    """S3 as AWS answers where moto does not: ExpectedBucketOwner, another
    account's bucket, lifecycle rules, ChecksumSHA256, new buckets' defaults,
    binary objects and HEAD answers through the proxy; moto's own refusals
    (InvalidLocationConstraint, BucketNotEmpty) pass unchanged."""
    moto = Moto()
    proxy = Proxy(moto, {"s3_taken_buckets": {"sitedeploy-taken": "210987654321"}})
    s3 = s3_client(proxy.url)
    try:
        # us-east-1 with its own name as LocationConstraint: moto refuses as AWS does.
        refused(lambda: s3.create_bucket(Bucket="sitedeploy-lc", CreateBucketConfiguration={
            "LocationConstraint": "us-east-1"}), "InvalidLocationConstraint", 400)
        s3.create_bucket(Bucket=SITE_BUCKET, ObjectOwnership="BucketOwnerEnforced")
        # A new bucket's defaults (moto_aws.py): Block Public Access, ACLs off, SSE-S3.
        pab = s3.get_public_access_block(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)
        assert all(pab["PublicAccessBlockConfiguration"].values()), pab
        assert s3.get_bucket_ownership_controls(Bucket=SITE_BUCKET)["OwnershipControls"]["Rules"] == [
            {"ObjectOwnership": "BucketOwnerEnforced"}]
        enc = s3.get_bucket_encryption(Bucket=SITE_BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", enc
        # ExpectedBucketOwner: ours passes, another account's is AccessDenied (403),
        # on HEAD (no body) and GET alike.
        s3.head_bucket(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)
        refused(lambda: s3.head_bucket(Bucket=SITE_BUCKET, ExpectedBucketOwner="111111111111"), "403", 403)
        refused(lambda: s3.get_bucket_tagging(Bucket=SITE_BUCKET, ExpectedBucketOwner="111111111111"),
                "AccessDenied", 403)
        refused(lambda: s3.list_objects_v2(Bucket=SITE_BUCKET, ExpectedBucketOwner="111111111111"),
                "AccessDenied", 403)
        # Another account's bucket: taken for CreateBucket, closed to everything else.
        refused(lambda: s3.create_bucket(Bucket="sitedeploy-taken"), "BucketAlreadyExists", 409)
        refused(lambda: s3.head_bucket(Bucket="sitedeploy-taken", ExpectedBucketOwner=OWNER), "403", 403)
        # Lifecycle rules AWS refuses and moto accepts.
        lc = lambda rules: s3.put_bucket_lifecycle_configuration(  # noqa: E731
            Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER, LifecycleConfiguration={"Rules": rules})
        tagged = {"ID": "tagged", "Status": "Enabled", "Filter": {"Tag": {"Key": "retired", "Value": "true"}},
                  "Expiration": {"Days": 1}}
        e = refused(lambda: lc([dict(tagged, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1})]),
                    "InvalidRequest", 400)
        assert "AbortIncompleteMultipartUpload cannot be specified with Tags." in str(e)
        # ... in an And filter with a prefix as well.
        e = refused(lambda: lc([dict(tagged, Filter={"And": {"Prefix": "retired/", "Tags": [
            {"Key": "retired", "Value": "true"}]}}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1})]),
            "InvalidRequest", 400)
        assert "AbortIncompleteMultipartUpload cannot be specified with Tags." in str(e)
        e = refused(lambda: lc([dict(LIFECYCLE["Rules"][0], Expiration={"Days": 0})]), "InvalidArgument", 400)
        assert "'Days' for Expiration action must be a positive integer" in str(e)
        refused(lambda: lc([dict(LIFECYCLE["Rules"][1], AbortIncompleteMultipartUpload={"DaysAfterInitiation": 0})]),
                "InvalidArgument", 400)
        refused(lambda: lc([{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}}]), "InvalidRequest", 400)
        refused(lambda: lc([LIFECYCLE["Rules"][0], dict(LIFECYCLE["Rules"][1], ID="expire-retired-content")]),
                "InvalidArgument", 400)
        refused(lambda: lc([{"ID": "x", "Status": "Enabled", "Expiration": {"Days": 1}}]), "MalformedXML", 400)
        # The tool's two rules pass, and come back as sent (the tool reads them).
        lc(LIFECYCLE["Rules"])
        got = s3.get_bucket_lifecycle_configuration(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)["Rules"]
        assert sorted(got, key=lambda r: r["ID"]) == sorted(LIFECYCLE["Rules"], key=lambda r: r["ID"]), got
        refused(lambda: s3.get_bucket_lifecycle_configuration(Bucket=SITE_BUCKET, ExpectedBucketOwner="111111111111"),
                "AccessDenied", 403)
        # PutObject: a ChecksumSHA256 that is not the body's is BadDigest; the right
        # one stores the object, which comes back byte for byte (binary), and
        # HeadObject's Content-Length is the object's.
        data = bytes(range(256)) * 300
        refused(lambda: s3.put_object(Bucket=SITE_BUCKET, Key="web/x.tar.gz", Body=data,
                                      ChecksumSHA256=sha256_b64(b"other"), ExpectedBucketOwner=OWNER),
                "BadDigest", 400)
        s3.put_object(Bucket=SITE_BUCKET, Key="web/x.tar.gz", Body=data, ChecksumSHA256=sha256_b64(data),
                      ExpectedBucketOwner=OWNER)
        assert s3.get_object(Bucket=SITE_BUCKET, Key="web/x.tar.gz")["Body"].read() == data
        assert s3.head_object(Bucket=SITE_BUCKET, Key="web/x.tar.gz")["ContentLength"] == len(data)
        refused(lambda: s3.head_object(Bucket=SITE_BUCKET, Key="web/none"), "404", 404)
        # CopyObject (retiring content: to retired/<key> in the same bucket): an
        # ExpectedSourceBucketOwner or ExpectedBucketOwner not the bucket's owner
        # is AccessDenied, and so is a copy out of another account's bucket; the
        # right owners copy the object byte for byte.
        src = {"Bucket": SITE_BUCKET, "Key": "web/x.tar.gz"}
        for owners in ({"ExpectedSourceBucketOwner": "111111111111", "ExpectedBucketOwner": OWNER},
                       {"ExpectedSourceBucketOwner": OWNER, "ExpectedBucketOwner": "111111111111"}):
            refused(lambda: s3.copy_object(Bucket=SITE_BUCKET, Key="retired/web/x.tar.gz", CopySource=src, **owners),
                    "AccessDenied", 403)
        refused(lambda: s3.copy_object(Bucket=SITE_BUCKET, Key="retired/web/y.tar.gz",
                                       CopySource={"Bucket": "sitedeploy-taken", "Key": "web/y.tar.gz"},
                                       ExpectedBucketOwner=OWNER), "AccessDenied", 403)
        s3.copy_object(Bucket=SITE_BUCKET, Key="retired/web/x.tar.gz", CopySource=src, ExpectedBucketOwner=OWNER,
                       ExpectedSourceBucketOwner=OWNER)
        assert s3.get_object(Bucket=SITE_BUCKET, Key="retired/web/x.tar.gz")["Body"].read() == data
        # An aws-chunked body (the SDKs' streaming upload, its checksum in a trailer).
        body = b"hello world"
        chunked = (b"b\r\n" + body + b"\r\n0\r\nx-amz-checksum-sha256:" + sha256_b64(body).encode() + b"\r\n\r\n")
        got, trailers = awsproxy.s3_payload(chunked, {"content-encoding": "aws-chunked",
                                                     "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"})
        assert (got, trailers["x-amz-checksum-sha256"]) == (body, sha256_b64(body)), (got, trailers)
        # moto refuses a non-empty bucket's delete as AWS does.
        refused(lambda: s3.delete_bucket(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER), "BucketNotEmpty", 409)
        s3.delete_objects(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER, Delete={"Objects": [
            {"Key": "web/x.tar.gz"}, {"Key": "retired/web/x.tar.gz"}]})
        s3.delete_bucket(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)
        stats = proxy.stats()
        assert stats["actions"].get("PutObject") == 2 and stats["actions"].get("HeadBucket", 0) >= 2, stats["actions"]
        assert stats["injected"].get("PutObject:BadDigest") == 1, stats["injected"]
        assert stats["injected"].get("CopyObject:AccessDenied") == 3, stats["injected"]
        put = [r for r in stats["requests"] if r["action"] == "PutObject"]
        assert put[-1]["params"]["Key"] == "web/x.tar.gz" and "payload" not in put[-1]["params"], put
        assert not any(r["action"].startswith("Head") for r in stats["requests"])
    finally:
        proxy.stop()
        moto.stop()


def test_iam_s3_and_site_roles():
    """The site's calls under config/iam-policy.json, each authorized as AWS
    does (S3 on bucket or object ARNs, DeleteObjects per key, IAM's instance
    profiles with iam:PassRole), and what the policy refuses."""
    moto = Moto()
    proxy = Proxy(moto, {"iam_policy": POLICY, "instance_profile_eventual_s": 0})
    c = clients(proxy.url)
    s3 = s3_client(proxy.url)
    raw = clients(moto.url)
    try:
        # S3: a bucket only with ACLs disabled (CreateBucket's x-amz-object-ownership).
        e = refused(lambda: s3.create_bucket(Bucket=SITE_BUCKET), "AccessDenied", 403)
        assert f'on resource: "arn:aws:s3:::{SITE_BUCKET}"' in str(e), e
        s3.create_bucket(Bucket=SITE_BUCKET, ObjectOwnership="BucketOwnerEnforced")
        refused(lambda: s3.create_bucket(Bucket="other-bucket", ObjectOwnership="BucketOwnerEnforced"),
                "AccessDenied", 403)
        s3.head_bucket(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)
        s3.get_public_access_block(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)
        refused(lambda: s3.get_bucket_tagging(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER), "NoSuchTagSet", 404)
        s3.put_public_access_block(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
        s3.put_bucket_encryption(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        s3.put_bucket_lifecycle_configuration(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER,
                                              LifecycleConfiguration=LIFECYCLE)
        s3.put_bucket_tagging(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER, Tagging={"TagSet": MANAGED})
        data = b"site content"
        for key in ("web/old.tar.gz", "web/new.tar.gz", "blog/a.tar.gz"):
            s3.put_object(Bucket=SITE_BUCKET, Key=key, Body=data, ChecksumSHA256=sha256_b64(data),
                          ExpectedBucketOwner=OWNER)
        refused(lambda: s3.put_object(Bucket="other-bucket", Key="web/a", Body=data), "AccessDenied", 403)
        s3.list_objects_v2(Bucket=SITE_BUCKET, Prefix="web/", ExpectedBucketOwner=OWNER)
        s3.list_objects_v2(Bucket=SITE_BUCKET, Prefix="retired/web/", ExpectedBucketOwner=OWNER)
        # The tool reads the bucket's lifecycle rules, in its own buckets only.
        got = s3.get_bucket_lifecycle_configuration(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)["Rules"]
        assert sorted(r["ID"] for r in got) == ["abort-unfinished-uploads", "expire-retired-content"], got
        raw_s3 = s3_client(moto.url)
        raw_s3.create_bucket(Bucket="other-bucket")
        raw_s3.put_bucket_lifecycle_configuration(Bucket="other-bucket", LifecycleConfiguration=LIFECYCLE)
        refused(lambda: s3.get_bucket_lifecycle_configuration(Bucket="other-bucket"), "AccessDenied", 403)
        # Retiring older content: a copy under retired/ (s3:GetObject on the
        # source, s3:PutObject on the copy), then the original deleted.
        s3.copy_object(Bucket=SITE_BUCKET, Key="retired/web/old.tar.gz", ExpectedBucketOwner=OWNER,
                       CopySource={"Bucket": SITE_BUCKET, "Key": "web/old.tar.gz"}, ExpectedSourceBucketOwner=OWNER)
        s3.delete_objects(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER, Delete={"Objects": [{"Key": "web/old.tar.gz"}]})
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=SITE_BUCKET, Prefix="retired/web/",
                                                     ExpectedBucketOwner=OWNER)["Contents"]] == ["retired/web/old.tar.gz"]
        # ... never out of, nor into, a bucket not the tool's.
        raw_s3.put_object(Bucket="other-bucket", Key="web/x.tar.gz", Body=data)
        refused(lambda: s3.copy_object(Bucket=SITE_BUCKET, Key="retired/web/x.tar.gz",
                                       CopySource={"Bucket": "other-bucket", "Key": "web/x.tar.gz"}),
                "AccessDenied", 403)
        assert proxy.stats()["denied"][-1] == (
            "s3:GetObject on arn:aws:s3:::other-bucket/web/x.tar.gz (for CopyObject)"), proxy.stats()["denied"]
        refused(lambda: s3.copy_object(Bucket="other-bucket", Key="retired/web/new.tar.gz",
                                       CopySource={"Bucket": SITE_BUCKET, "Key": "web/new.tar.gz"}),
                "AccessDenied", 403)
        # The tool tags no object: PutObjectTagging is refused, whatever the tags
        # (retired=true too, the previous design's), and so is a copy that would
        # carry a source's tags along (x-amz-tagging-directive COPY, the default).
        for tags in ([{"Key": "retired", "Value": "true"}], [{"Key": "retired", "Value": "false"}],
                     [{"Key": "Owner", "Value": "me"}], []):
            refused(lambda: s3.put_object_tagging(Bucket=SITE_BUCKET, Key="web/new.tar.gz",
                                                  ExpectedBucketOwner=OWNER, Tagging={"TagSet": tags}),
                    "AccessDenied", 403)
        raw_s3.put_object(Bucket=SITE_BUCKET, Key="web/tagged.tar.gz", Body=data, Tagging="retired=true")
        refused(lambda: s3.copy_object(Bucket=SITE_BUCKET, Key="retired/web/tagged.tar.gz", ExpectedBucketOwner=OWNER,
                                       CopySource={"Bucket": SITE_BUCKET, "Key": "web/tagged.tar.gz"},
                                       ExpectedSourceBucketOwner=OWNER), "AccessDenied", 403)
        assert any(d.endswith("(for CopyObject)") and "ObjectTagging" in d for d in proxy.stats()["denied"]), \
            proxy.stats()["denied"]
        # The tool reads its own content (the previous manifest, for --plan),
        # in its own buckets only.
        s3.head_object(Bucket=SITE_BUCKET, Key="web/new.tar.gz")
        refused(lambda: s3.head_object(Bucket="other-bucket", Key="web/x.tar.gz"), "403", 403)
        # IAM: the site's role and profile (sitedeploy-site-<region>-<name>),
        # tagged; PassRole to EC2 of the site role only.
        name = SITE_NAME
        refused(lambda: c.iam.create_role(RoleName=name, AssumeRolePolicyDocument=EC2_TRUST), "AccessDenied", 403)
        refused(lambda: c.iam.create_instance_profile(InstanceProfileName=name), "AccessDenied", 403)
        c.iam.create_role(RoleName=name, AssumeRolePolicyDocument=EC2_TRUST, Tags=SITE_TAGS)
        c.iam.get_role(RoleName=name)
        c.iam.put_role_policy(RoleName=name, PolicyName="read-site-content", PolicyDocument=read_policy(name, "web"))
        c.iam.get_role_policy(RoleName=name, PolicyName="read-site-content")
        c.iam.create_instance_profile(InstanceProfileName=name, Tags=SITE_TAGS)
        c.iam.get_instance_profile(InstanceProfileName=name)
        # AddRoleToInstanceProfile passes the role (to EC2): a role outside
        # sitedeploy-site-* is refused.
        raw.iam.create_role(RoleName="admin-role", AssumeRolePolicyDocument=EC2_TRUST)
        refused(lambda: c.iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName="admin-role"),
                "AccessDenied", 403)
        assert proxy.stats()["denied"][-1] == (
            "iam:PassRole on arn:aws:iam::123456789012:role/admin-role (for AddRoleToInstanceProfile)"), \
            proxy.stats()["denied"]
        c.iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        vpc, subnets, image = basics(c)
        sg = c.ec2.create_security_group(GroupName="sitedeploy-web", Description="x", VpcId=vpc,
                                         TagSpecifications=tagspec("security-group"))["GroupId"]
        c.ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnets[0],
                            SecurityGroupIds=[sg], TagSpecifications=tagspec("instance") + tagspec("volume"),
                            IamInstanceProfile={"Name": name})
        lt = template(c, "sitedeploy-web", image, sg, profile=name)
        c.asg.create_auto_scaling_group(
            AutoScalingGroupName="sitedeploy-web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"},
            MinSize=1, MaxSize=1, VPCZoneIdentifier=subnets[0],
            Tags=[{"Key": "ManagedBy", "Value": "sitedeploy", "PropagateAtLaunch": True}])
        # A profile not tagged ManagedBy (made elsewhere) is not the tool's to change.
        raw.iam.create_instance_profile(InstanceProfileName="sitedeploy-site-stray")
        refused(lambda: c.iam.delete_instance_profile(InstanceProfileName="sitedeploy-site-stray"),
                "AccessDenied", 403)
        # Cleanup in the tool's order; a second RemoveRoleFromInstanceProfile is
        # NoSuchEntity (moto: an empty 500).
        c.iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=name)
        refused(lambda: c.iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=name),
                "NoSuchEntity", 404)
        c.iam.delete_instance_profile(InstanceProfileName=name)
        c.iam.delete_role_policy(RoleName=name, PolicyName="read-site-content")
        c.iam.delete_role(RoleName=name)
        s3.delete_objects(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER, Delete={"Objects": [
            {"Key": "retired/web/old.tar.gz"}, {"Key": "web/new.tar.gz"}, {"Key": "web/tagged.tar.gz"},
            {"Key": "blog/a.tar.gz"}]})
        s3.list_objects_v2(Bucket=SITE_BUCKET, MaxKeys=1, ExpectedBucketOwner=OWNER)
        s3.delete_bucket(Bucket=SITE_BUCKET, ExpectedBucketOwner=OWNER)
        stats = proxy.stats()
        auth = stats["authorized"]
        want = [
            ("s3:ListBucket", f"arn:aws:s3:::{SITE_BUCKET}", "s3:prefix", "web/"),
            ("s3:ListBucket", f"arn:aws:s3:::{SITE_BUCKET}", "s3:prefix", "retired/web/"),
            ("s3:ListBucket", f"arn:aws:s3:::{SITE_BUCKET}", "s3:max-keys", "1"),
            ("s3:CreateBucket", f"arn:aws:s3:::{SITE_BUCKET}", "s3:x-amz-object-ownership", "BucketOwnerEnforced"),
            ("s3:PutBucketOwnershipControls", f"arn:aws:s3:::{SITE_BUCKET}", None, None),
            ("s3:GetBucketPublicAccessBlock", f"arn:aws:s3:::{SITE_BUCKET}", "s3:ResourceAccount", OWNER),
            ("s3:PutEncryptionConfiguration", f"arn:aws:s3:::{SITE_BUCKET}", None, None),
            ("s3:PutLifecycleConfiguration", f"arn:aws:s3:::{SITE_BUCKET}", None, None),
            ("s3:PutObject", f"arn:aws:s3:::{SITE_BUCKET}/web/new.tar.gz", None, None),
            ("s3:GetLifecycleConfiguration", f"arn:aws:s3:::{SITE_BUCKET}", "s3:ResourceAccount", OWNER),
            ("s3:PutObject", f"arn:aws:s3:::{SITE_BUCKET}/retired/web/old.tar.gz", "s3:x-amz-copy-source",
             f"{SITE_BUCKET}/web/old.tar.gz"),
            ("s3:GetObject", f"arn:aws:s3:::{SITE_BUCKET}/web/old.tar.gz", None, None),
            ("s3:DeleteObject", f"arn:aws:s3:::{SITE_BUCKET}/web/old.tar.gz", None, None),
            ("s3:DeleteObject", f"arn:aws:s3:::{SITE_BUCKET}/retired/web/old.tar.gz", None, None),
            ("s3:DeleteObject", f"arn:aws:s3:::{SITE_BUCKET}/blog/a.tar.gz", None, None),
            ("s3:DeleteBucket", f"arn:aws:s3:::{SITE_BUCKET}", None, None),
            ("iam:CreateRole", f"arn:aws:iam::123456789012:role/{name}", "aws:RequestTag/ManagedBy", "sitedeploy"),
            ("iam:TagRole", f"arn:aws:iam::123456789012:role/{name}", "aws:RequestTag/Deployment", "web"),
            ("iam:TagInstanceProfile", f"arn:aws:iam::123456789012:instance-profile/{name}",
             "aws:RequestTag/ManagedBy", "sitedeploy"),
            ("iam:AddRoleToInstanceProfile", f"arn:aws:iam::123456789012:instance-profile/{name}",
             "aws:ResourceTag/ManagedBy", "sitedeploy"),
            ("iam:PassRole", f"arn:aws:iam::123456789012:role/{name}", "iam:PassedToService", "ec2.amazonaws.com"),
            ("iam:RemoveRoleFromInstanceProfile", f"arn:aws:iam::123456789012:instance-profile/{name}", None, None),
            ("iam:DeleteInstanceProfile", f"arn:aws:iam::123456789012:instance-profile/{name}", None, None),
            ("iam:DeleteRole", f"arn:aws:iam::123456789012:role/{name}", "iam:ResourceTag/ManagedBy", "sitedeploy")]
        for action, resource, key, value in want:
            assert any(a["action"] == action and a["resource"] == resource
                       and (key is None or a["context"].get(key) == value) and a["decision"] == "Allow"
                       for a in auth), (action, resource, key, [a for a in auth if a["action"] == action])
        # PassRole for AddRoleToInstanceProfile (with iam:AssociatedResourceArn),
        # RunInstances and Auto Scaling's check of the template (the last two the
        # same check, recorded once).
        passes = [a for a in auth if a["action"] == "iam:PassRole" and a["resource"].endswith(name)]
        assert len(passes) == 2 and any("iam:AssociatedResourceArn" in a["context"] for a in passes), passes
        assert any(d.startswith("iam:PassRole on") and "(for CreateAutoScalingGroup)" in d
                   for d in stats["denied"]) is False
        # PutObjectTagging was never allowed (the tool's policy has no statement for it).
        assert not any(a["action"] == "s3:PutObjectTagging" and a["decision"] == "Allow" for a in auth)
        # No aws:ResourceTag in an S3 context (ABAC is off).
        assert not any(a["action"].startswith("s3:") and any(k.startswith("aws:ResourceTag") for k in a["context"])
                       for a in auth)
        # Every condition of the new statements is exercised by these checks: each
        # misspelled key is refused or changes one of their decisions.
        sys.path.insert(0, HERE)
        import iam_eval
        _, uncaught, _ = iam_eval.mutations(POLICY, auth)
        ours = ("CreateSiteBucketsWithoutAcls", "CreateOnlyTaggedSiteRoles",
                "CreateOnlyTaggedSiteProfiles", "ChangeAndDeleteOnlyOwnSiteRoles",
                "ChangeAndDeleteOnlyOwnSiteProfiles", "PassSiteRoleToEc2Only")
        assert not [u for u in uncaught if any(f'"{sid}"' in u for sid in ours)], uncaught

        # DeleteObjects is decided key by key: under a policy allowing web/* only,
        # web/ keys go, the others come back as <Error> AccessDenied (200).
        narrow = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:PutObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{SITE_BUCKET}", f"arn:aws:s3:::{SITE_BUCKET}/*"]},
            {"Effect": "Allow", "Action": ["s3:DeleteObject", "s3:GetObject"],
             "Resource": f"arn:aws:s3:::{SITE_BUCKET}/web/*"}]}
        p2 = Proxy(moto, {"iam_policy": narrow})
        s3b = s3_client(p2.url)
        s3b.create_bucket(Bucket=SITE_BUCKET)
        for key in ("web/a", "web/b", "blog/c"):
            s3b.put_object(Bucket=SITE_BUCKET, Key=key, Body=b"x")
        out = s3b.delete_objects(Bucket=SITE_BUCKET, Delete={"Objects": [{"Key": k} for k in ("web/a", "blog/c", "web/b")]})
        assert sorted(d["Key"] for d in out.get("Deleted", [])) == ["web/a", "web/b"], out
        assert [(e["Key"], e["Code"]) for e in out.get("Errors", [])] == [("blog/c", "AccessDenied")], out
        left = [o["Key"] for o in s3b.list_objects_v2(Bucket=SITE_BUCKET).get("Contents", [])]
        assert left == ["blog/c"], left
        out = s3b.delete_objects(Bucket=SITE_BUCKET, Delete={"Objects": [{"Key": "blog/c"}], "Quiet": True})
        assert [e["Code"] for e in out.get("Errors", [])] == ["AccessDenied"], out
        assert "s3:DeleteObject on arn:aws:s3:::sitedeploy-123456789012-us-east-1/blog/c (for DeleteObjects)" \
            in p2.stats()["denied"]
        # A missing key: 404 with s3:ListBucket, 403 without (API_GetObject).
        refused(lambda: s3b.get_object(Bucket=SITE_BUCKET, Key="web/none"), "NoSuchKey", 404)
        p3 = Proxy(moto, {"iam_policy": {"Version": "2012-10-17", "Statement": [narrow["Statement"][1]]}})
        refused(lambda: s3_client(p3.url).get_object(Bucket=SITE_BUCKET, Key="web/none"), "AccessDenied", 403)
        refused(lambda: s3_client(p3.url).head_object(Bucket=SITE_BUCKET, Key="web/none"), "403", 403)
        p3.stop()
        p2.stop()
    finally:
        proxy.stop()
        moto.stop()


def test_instance_profile_not_yet():
    """EC2 cannot use an instance profile for seconds after CreateInstanceProfile
    (and never one that does not exist): RunInstances answers InvalidParameterValue,
    Auto Scaling ValidationError for a template naming it; CreateLaunchTemplate
    takes it at once."""
    moto = Moto()
    proxy = Proxy(moto, {"instance_profile_eventual_s": 1.5})
    c = clients(proxy.url)
    try:
        vpc, subnets, image = basics(c)
        name = "sitedeploy-site-x"
        t0 = time.time()
        site_role(c.iam, name, "x")
        run = lambda profile: c.ec2.run_instances(  # noqa: E731
            ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnets[0],
            IamInstanceProfile=profile)
        e = refused(lambda: run({"Name": name}), "InvalidParameterValue", 400)
        assert e.response["Error"]["Message"] == (
            "Value (sitedeploy-site-x) for parameter iamInstanceProfile.name is invalid. "
            "Invalid IAM Instance Profile name"), e.response
        arn = f"arn:aws:iam::123456789012:instance-profile/{name}"
        e = refused(lambda: run({"Arn": arn}), "InvalidParameterValue", 400)
        assert "parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN" in str(e)
        sg = c.ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
        lt = template(c, "sitedeploy-x", image, sg, profile=name)  # a template takes it at once
        e = refused(lambda: c.ec2.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateId": lt}),
                    "InvalidParameterValue", 400)
        e = refused(lambda: c.asg.create_auto_scaling_group(
            AutoScalingGroupName="g", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"},
            MinSize=1, MaxSize=1, VPCZoneIdentifier=subnets[0]), "ValidationError", 400)
        assert e.response["Error"]["Message"] == (
            "You must use a valid fully-formed launch template. Value (sitedeploy-site-x) for parameter "
            "iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"), e.response
        time.sleep(max(0, t0 + 1.6 - time.time()))
        run({"Name": name})
        c.asg.create_auto_scaling_group(
            AutoScalingGroupName="g", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"},
            MinSize=1, MaxSize=1, VPCZoneIdentifier=subnets[0])
        # A profile that does not exist: EC2's answer, not moto's NoSuchEntity (404).
        e = refused(lambda: run({"Name": "sitedeploy-site-none"}), "InvalidParameterValue", 400)
        assert "Value (sitedeploy-site-none) for parameter iamInstanceProfile.name is invalid" in str(e)
        # A profile made elsewhere (not through this proxy) is usable at once.
        clients(moto.url).iam.create_instance_profile(InstanceProfileName="made-elsewhere")
        run({"Name": "made-elsewhere"})
        assert proxy.stats()["injected"].get("RunInstances:InvalidParameterValue") == 4, proxy.stats()["injected"]
    finally:
        proxy.stop()
        moto.stop()


def run_stub(moto, iid, *args, path=None):
    """fakesite.py's `aws` stub for instance `iid`: (exit code, stderr)."""
    env = dict(os.environ, FAKESITE_ENDPOINT=moto.url, FAKESITE_INSTANCE_ID=iid, FAKESITE_REGION=REGION)
    if path is None:
        cmd = [PY, os.path.join(HERE, "fakesite.py"), "aws-stub"] + list(args)
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    else:
        env.update(PATH=path + ":" + os.environ.get("PATH", ""), FAKESITE_PYTHON=PY,
                   FAKESITE_SELF=os.path.join(HERE, "fakesite.py"))
        out = subprocess.run(["bash", "-c", args[0]], env=env, capture_output=True, text=True, timeout=60)
    return out.returncode, out.stderr.strip()


def test_fakesite_aws_stub():
    """fakesite.py's `aws s3 cp` acts as the instance's role: allowed reads copy
    the object; another deployment's prefix, a wrong bucket owner, a missing key
    or no profile fail as the CLI does. Run as the boot script runs it (the stub
    in PATH, real sha256sum and tar)."""
    sys.path.insert(0, HERE)
    import fakesite
    moto = Moto()
    c = clients(moto.url)
    s3 = s3_client(moto.url)
    work = tempfile.mkdtemp(prefix="stub-test-")
    try:
        s3.create_bucket(Bucket=SITE_BUCKET)
        import io
        import tarfile
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            page = b"<h1>my site</h1>"
            info = tarfile.TarInfo("index.html")
            info.size = len(page)
            tar.addfile(info, io.BytesIO(page))
        content = buf.getvalue()
        digest = hashlib.sha256(content).hexdigest()
        key = f"web/{digest}.tar.gz"
        s3.put_object(Bucket=SITE_BUCKET, Key=key, Body=content)
        site_role(c.iam, "sitedeploy-site-web", "web")
        site_role(c.iam, "sitedeploy-site-blog", "blog")
        vpc, subnets, image = basics(c)
        launch = lambda **kw: c.ec2.run_instances(  # noqa: E731
            ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnets[0],
            **kw)["Instances"][0]["InstanceId"]
        web = launch(IamInstanceProfile={"Name": "sitedeploy-site-web"})
        blog = launch(IamInstanceProfile={"Name": "sitedeploy-site-blog"})
        bare = launch()
        src = f"s3://{SITE_BUCKET}/{key}"
        dest = os.path.join(work, "site.tar.gz")
        opts = ["--region", REGION, "--expected-bucket-owner", OWNER, "--only-show-errors"]
        rc, err = run_stub(moto, web, "s3", "cp", src, dest, *opts)
        assert (rc, err) == (0, ""), (rc, err)
        with open(dest, "rb") as f:
            assert f.read() == content
        forbidden = "fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden"
        assert run_stub(moto, blog, "s3", "cp", src, dest + "2", *opts) == (1, forbidden)
        assert not os.path.exists(dest + "2")
        bad_owner = ["--region", REGION, "--expected-bucket-owner", "111111111111"]
        assert run_stub(moto, web, "s3", "cp", src, dest + "3", *bad_owner) == (1, forbidden)
        # A missing key: 403 without s3:ListBucket (the role has none), 404 with it.
        missing = f"s3://{SITE_BUCKET}/web/none.tar.gz"
        assert run_stub(moto, web, "s3", "cp", missing, dest + "4", *opts) == (1, forbidden)
        c.iam.put_role_policy(RoleName="sitedeploy-site-web", PolicyName="list", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                    "Resource": f"arn:aws:s3:::{SITE_BUCKET}"}]}))
        assert run_stub(moto, web, "s3", "cp", missing, dest + "4", *opts) == (
            1, 'fatal error: An error occurred (404) when calling the HeadObject operation: '
               'Key "web/none.tar.gz" does not exist')
        c.iam.delete_role_policy(RoleName="sitedeploy-site-web", PolicyName="list")
        assert run_stub(moto, bare, "s3", "cp", src, dest + "5", *opts) == (1, "fatal error: Unable to locate credentials")
        # An Auto Scaling instance: moto records no profile on it; the stub finds
        # its launch template version's.
        sg = c.ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
        lt = template(c, "sitedeploy-web", image, sg, profile="sitedeploy-site-web")
        c.asg.create_auto_scaling_group(AutoScalingGroupName="web", LaunchTemplate={"LaunchTemplateId": lt, "Version": "1"},
                                        MinSize=1, MaxSize=1, VPCZoneIdentifier=subnets[0])
        member = group_of(c, "web")["Instances"][0]["InstanceId"]
        assert "IamInstanceProfile" not in c.ec2.describe_instances(
            InstanceIds=[member])["Reservations"][0]["Instances"][0]
        # As the boot script runs it: the stub in PATH, a retry loop, the real
        # sha256sum and tar.
        stubs = os.path.join(work, "bin")
        os.makedirs(stubs)
        with open(os.path.join(stubs, "aws"), "w") as f:
            f.write(fakesite.STUBS["aws"])
        os.chmod(os.path.join(stubs, "aws"), 0o755)
        root = os.path.join(work, "www")
        os.makedirs(root)
        boot = (f'dest={work}/boot.tar.gz; for i in 1 2 3; do aws s3 cp "{src}" "$dest" --region {REGION} '
                f'--expected-bucket-owner {OWNER} --only-show-errors && break; sleep 0.2; done; '
                f'echo "{digest}  $dest" | sha256sum -c --quiet - && tar -xzf "$dest" -C {root}')
        rc, err = run_stub(moto, member, boot, path=stubs)
        assert (rc, err) == (0, ""), (rc, err)
        with open(os.path.join(root, "index.html"), "rb") as f:
            assert f.read() == b"<h1>my site</h1>"
        rc, err = run_stub(moto, blog, boot.replace(f"{work}/boot", f"{work}/boot2"), path=stubs)
        assert rc != 0 and err.count(forbidden) == 3, (rc, err)
        # Through fakesite itself: an instance behind a target group boots from
        # user data that fetches the site with `aws s3 cp`, and serves it.
        user_data = (f'#!/bin/bash\nset -e\nweb="$SITEDEPLOY_ROOT/var/www/html"; mkdir -p "$web"\n'
                     f'dest="$SITEDEPLOY_ROOT/tmp/site.tar.gz"; mkdir -p "$(dirname "$dest")"\n'
                     f'aws s3 cp "{src}" "$dest" --region {REGION} --expected-bucket-owner {OWNER} '
                     f'--only-show-errors\necho "{digest}  $dest" | sha256sum -c --quiet -\n'
                     f'tar -xzf "$dest" -C "$web"\n')
        booted = launch(IamInstanceProfile={"Name": "sitedeploy-site-web"}, UserData=user_data)
        tg = c.elb.create_target_group(Name="site", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]
        c.elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": booted}])
        site = subprocess.Popen([PY, os.path.join(HERE, "fakesite.py"), "--endpoint", moto.url],
                                stdout=subprocess.PIPE, text=True)
        CHILDREN.append(site)
        port = site.stdout.readline().split()[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=60) as r:
            assert r.read() == b"<h1>my site</h1>"
        site.kill()
        site.wait()
    finally:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
        moto.stop()


TESTS = [v for k, v in sorted(globals().items()) if k.startswith("test_")]


def main():
    want = sys.argv[1:]
    failed = []
    try:
        for t in TESTS:
            if want and not any(w in t.__name__ for w in want):
                continue
            start = time.time()
            try:
                t()
                print(f"ok    {t.__name__} ({time.time() - start:.1f} s)", flush=True)
            except Exception:
                failed.append(t.__name__)
                print(f"FAIL  {t.__name__}", flush=True)
                traceback.print_exc()
    finally:
        for p in CHILDREN:
            if p.poll() is None:
                p.kill()
                p.wait()
    print(f"{len(failed)} failed" if failed else "all passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
