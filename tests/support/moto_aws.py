#!/usr/bin/env python3
"""moto_server with the AWS behaviour that cannot be put back from outside it.

Usage: moto_aws.py [moto_server arguments]

Auto Scaling spreads a group's instances evenly over the Availability Zones of
its subnets ("Auto Scaling attempts to distribute instances evenly between the
Availability Zones that are enabled for your Auto Scaling group", Amazon EC2 Auto
Scaling User Guide, "Availability Zone distribution"). moto launches every
instance in the group's first subnet. Here each instance goes, one by one, to the
subnet whose zone has the fewest of the group's instances (ties: the subnet
listed first), as AWS's balancing would.

Auto Scaling deregisters an instance from the group's target groups before it
terminates it ("Attach an Elastic Load Balancing load balancer to your Auto
Scaling group": instances are deregistered before termination, with connection
draining). moto leaves a terminated group instance registered, after
TerminateInstanceInAutoScalingGroup, after DeleteAutoScalingGroup and when a
smaller capacity terminates some. Here all three deregister it first.

DescribeLaunchTemplates answers a template's current tags. moto answers the
tags it was created with, whatever CreateTags/DeleteTags did since (its tag
store has them). Here the template's tags are read from that store.

DeleteScheduleGroup of a group that does not exist answers
ResourceNotFoundException (EventBridge Scheduler API reference). moto fails with
a KeyError (an empty 500). Here it answers as AWS does.

DescribeAutoScalingGroups' Instances[].LaunchTemplate.Version is the version each
instance was launched from ("Existing instances continue to run with the
configuration that they were originally launched with", API_UpdateAutoScalingGroup;
that the field then shows that version's number is our reading: the API_Instance
page says only "The launch template for the instance"). moto 5.2.5 answers the
template's default version for every instance. Here each instance Auto Scaling
launches is stamped with the number of the version it was launched from (the
group's $Latest / $Default / number, resolved at launch) and when, and answers
that version.

A control route for tests/support/awsproxy.py (not an AWS API; no signature, no
IAM, so it works with moto's IAM enforcement on): GET
/moto-api/sitedeploy/<kind>?region=R&... answers what moto holds, as JSON
(null when moto does not know it), read from its backends directly:
  tags?arn=ARN                  {"exists", "tags"}: the current tags of the EC2
                                (instance, security-group, key-pair/NAME, launch-template,
                                volume, subnet, vpc, image, network-interface), ELB,
                                Auto Scaling group, IAM role, schedule group, CloudFront
                                distribution or ACM certificate an ARN names
  instance?id=I                 {"id", "instance_type", "state", "tags", "subnet_id", "group"}
  instances                     {instance id: {"instance_type", "group"}} of the live ones
  key-pair?name=N|id=K          {"name", "id", "tags"}
  launch-template?id=|name=&version=V
                                {"id", "name", "tags", "version", "image_id", "instance_type",
                                "key_name", "security_group_ids", "subnet_ids",
                                "tag_specifications" {type: tags}, "iam_instance_profile"}
  group?name=G, groups          an Auto Scaling group: {"name", "arn", "tags",
                                "launch_template", "vpc_zone_identifier", "desired", "min",
                                "max", "instances" [{"id", "version", "launched", "lifecycle",
                                "zone", "subnet_id"}]}
  role?name=R                   {"name", "arn", "tags", "trust" (the trust policy), "created"}
  instance-profile?name=|arn=   {"name", "arn", "roles", "tags", "created"}
  bucket?name=B                 an S3 bucket: {"name", "region", "account" (its owner), "objects"
                                (how many keys), "tags"}
  s3-object?bucket=B&key=K      {"key", "size", "etag", "tags"} of an object, null if none
  schedule-group?name=G         {"name", "arn", "created", "modified", "schedules", "tags"}
  inbound-rules?id=G            {"rules": [[port, source] per inbound rule: a CIDR, group id or
                                prefix list id], "lists": {prefix list id: name}}
  distribution?id=D             a CloudFront distribution: {"id", "arn", "etag" (moto's, which
                                it never changes), "enabled" (its current config's Enabled),
                                "tags", "aliases" [names], "certificate" (its ViewerCertificate's
                                ACMCertificateArn, or "")}
  distributions                 every CloudFront distribution, as above
  certificate?arn=A             an ACM certificate (the ARN's region): {"arn", "region", "domain",
                                "sans", "status", "type", "created" (epoch s), "tags", "records"
                                [the DNS validation ResourceRecords moto gives: {"Name", "Type",
                                "Value"}]}
  certificates                  every certificate of the region, as above
  zones                         every Route 53 hosted zone of the partition: {"id", "name",
                                "private", "comment", "caller_reference", "count"}
  records?name=N[&type=T]       the record sets named N (any case, trailing dot or not) in every
                                hosted zone: {"zone_id", "zone_name", "private", "name", "type",
                                "values", "alias"}
  set-desired?name=G&desired=N[&min=M]
                                one of two that change moto: sets the group's desired capacity
                                (and minimum), launching as Auto Scaling does (awsproxy.py's
                                asg_instance_limit, once there is room again)
  issue-certificate?arn=A       the other: the certificate becomes ISSUED (awsproxy.py, once its
                                DNS validation record has been in a public hosted zone long
                                enough); answers the certificate as above

A new S3 bucket has all four Block Public Access settings on, Object Ownership
BucketOwnerEnforced and SSE-S3 default encryption ("Amazon S3 now applies
server-side encryption with Amazon S3 managed keys (SSE-S3) as the base level of
encryption for every bucket", S3 User Guide, default-encryption-faq.html; "By
default, S3 Object Ownership is set to the Bucket owner enforced setting, and
ACLs are disabled for new buckets", object-ownership-new-bucket.html; Block
Public Access on for new buckets since April 2023, AWS News Blog "Heads-Up:
Amazon S3 Security Changes Are Coming in April of 2023"). moto makes a bucket
with none (GetPublicAccessBlock: NoSuchPublicAccessBlockConfiguration). Here
CreateBucket sets the three (its x-amz-object-ownership still wins).

ACM issues a DNS-validated certificate only once its validation CNAME answers in
DNS ("ACM ... checks for the CNAME record", ACM User Guide, "DNS validation").
moto issues every AMAZON_ISSUED certificate MOTO_ACM_VALIDATION_WAIT (60) seconds
after the request, whatever DNS holds. Here moto never issues on its own (a
certificate only expires); awsproxy.py issues it through the control route once
the record is there (its certificate_issue_s).

And two moto defects, not AWS behaviours:

moto's IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT) recomputes SigV4 wrongly
for EventBridge Scheduler's, CloudFront's and Route 53's REST requests: even
boto3's own GetSchedule and ListScheduleGroups, GetDistribution, ListDistributions
and ListTagsForResource, ListResourceRecordSets fail with SignatureDoesNotMatch.
Here the signature check is skipped for these three services alone; their access
key and actions are still checked.
A launch template version made by
CreateLaunchTemplateVersion keeps its UserData as a plain string, and moto's
own Auto Scaling then fails an assertion (an empty 500 answer) when it launches
from that version. The UserData is wrapped the way CreateLaunchTemplate's is.
A security group rule from a managed prefix list loses its Description in
moto (AWS keeps it, as for CIDR and group rules, and this tool marks its own
rules by their description): moto's rule keeps it here.
A ViewerCertificate naming an ACM certificate keeps CloudFrontDefaultCertificate
true in moto; here it is false (with CertificateSource acm), as CloudFront answers.
Everything else is moto unchanged.
"""

import calendar
import json
import sys
import time
import urllib.parse

from moto.acm import models as acm
from moto.autoscaling import models as asg
from moto.cloudfront import models as cloudfront
from moto.core.types import Base64EncodedString
from moto.ec2.models import launch_templates as lt
from moto.ec2.models import security_groups as sg
from moto.iam import access_control
from moto.s3 import models as s3
from moto.scheduler import models as scheduler
from moto.scheduler.exceptions import ScheduleGroupNotFound
from moto.core.utils import utcnow
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main

_moto_launch = asg.FakeAutoScalingGroup.replace_autoscaling_group_instances


def _launch(self, count_needed, propagated_tags):
    """moto's launch, each new instance stamped with the template version it was
    launched from and when (AWS's Instances[].LaunchTemplate.Version is the
    version each instance runs; moto answers the template's default)."""
    before = {id(s) for s in self.instance_states}
    version = None
    if self.ec2_launch_template is not None:
        try:
            version = self.ec2_launch_template.get_version(self.launch_template_version).number
        except Exception:  # an unknown version: moto's own error comes later
            version = None
    out = _moto_launch(self, count_needed, propagated_tags)
    now = time.time()
    for state in self.instance_states:
        if id(state) not in before:
            state.sitedeploy_version = version
            state.sitedeploy_launched = now
    return out


def _balanced(self, count_needed, propagated_tags):
    subnets = [s for s in (self.vpc_zone_identifier or "").split(",") if s]
    if len(subnets) < 2:
        return _launch(self, count_needed, propagated_tags)
    listed = self.vpc_zone_identifier
    try:
        for _ in range(count_needed):
            counts = {s: 0 for s in subnets}
            for state in self.instance_states:
                sid = getattr(state.instance, "subnet_id", None)
                if sid in counts:
                    counts[sid] += 1
            self.vpc_zone_identifier = min(subnets, key=lambda s: (counts[s], subnets.index(s)))
            _launch(self, 1, dict(propagated_tags))
    finally:
        self.vpc_zone_identifier = listed


asg.FakeAutoScalingGroup.replace_autoscaling_group_instances = _balanced

def _deregister(backend, group, ids):
    for arn in list(group.target_group_arns):
        try:
            backend.elbv2_backend.deregister_targets(arn, [{"Id": i} for i in ids])
        except Exception:  # a target group deleted before the group
            pass


_terminate = asg.AutoScalingBackend.terminate_instance


def _terminate_deregistered(self, instance_id, should_decrement):
    for group in self.autoscaling_groups.values():
        if any(s.instance.id == instance_id for s in group.instance_states):
            _deregister(self, group, [instance_id])
    return _terminate(self, instance_id, should_decrement)


_delete = asg.AutoScalingBackend.delete_auto_scaling_group


def _delete_deregistered(self, group_name):
    group = self.autoscaling_groups.get(group_name)
    if group is not None:
        _deregister(self, group, [s.instance.id for s in group.instance_states])
    return _delete(self, group_name)


asg.AutoScalingBackend.terminate_instance = _terminate_deregistered
asg.AutoScalingBackend.delete_auto_scaling_group = _delete_deregistered

_set_desired = asg.FakeAutoScalingGroup.set_desired_capacity


def _set_desired_deregistered(self, new_capacity):
    # A group made smaller terminates some instances: deregistered first, as
    # for TerminateInstanceInAutoScalingGroup (moto terminates them registered).
    before = {s.instance.id for s in self.instance_states}
    _set_desired(self, new_capacity)
    gone = before - {s.instance.id for s in self.instance_states}
    if gone:
        _deregister(self.autoscaling_backend, self, sorted(gone))


asg.FakeAutoScalingGroup.set_desired_capacity = _set_desired_deregistered

_user_data = lt.LaunchTemplateVersion.user_data.fget


def _wrapped_user_data(self):
    data = self.data.get("UserData")
    if isinstance(data, str):
        self.data["UserData"] = Base64EncodedString(data)
    return _user_data(self)


lt.LaunchTemplateVersion.user_data = property(_wrapped_user_data)

_check_signature = access_control.IAMRequestBase.check_signature


def _check_signature_unless_scheduler(self):
    if self._service in ("scheduler", "cloudfront", "route53"):
        return None
    return _check_signature(self)


access_control.IAMRequestBase.check_signature = _check_signature_unless_scheduler

_rule_init = sg.SecurityGroupRule.__init__


def _rule_keeping_list_description(self, *args, **kwargs):
    _rule_init(self, *args, **kwargs)
    given = kwargs.get("prefix_list_id")
    if given is None and len(args) >= 8:
        given = args[7]
    self.prefix_list_description = (given or {}).get("Description")


_flattened = sg.SecurityGroup._flattened_rules


def _flattened_with_list_descriptions(self, rules):
    views = _flattened(self, rules)
    described = {r.prefix_list_id: r.prefix_list_description for r in rules
                 if r.prefix_list_id and getattr(r, "prefix_list_description", None)}
    for v in views:
        for p in v.prefix_list_ids:
            if p.get("PrefixListId") in described:
                p["Description"] = described[p["PrefixListId"]]
    return views


sg.SecurityGroupRule.__init__ = _rule_keeping_list_description
sg.SecurityGroup._flattened_rules = _flattened_with_list_descriptions

_delete_group = scheduler.EventBridgeSchedulerBackend.delete_schedule_group


def _delete_group_or_not_found(self, name):
    if (name or "default") not in self.schedule_groups:
        raise ScheduleGroupNotFound(name or "default")
    return _delete_group(self, name)


scheduler.EventBridgeSchedulerBackend.delete_schedule_group = _delete_group_or_not_found

lt.LaunchTemplate.tags = property(lambda self: self.get_tags(), lambda self, _value: None)


_instance_lt = asg.InstanceState.launch_template.fget


def _instance_launch_template(self):
    lt_ref = _instance_lt(self)
    version = getattr(self, "sitedeploy_version", None)
    if lt_ref is not None and version is not None:
        lt_ref["Version"] = str(version)
    return lt_ref


asg.InstanceState.launch_template = property(_instance_launch_template)


def _check_expiry_only(self):
    """moto's CertBundle.check without its timer (MOTO_ACM_VALIDATION_WAIT): a
    pending certificate stays PENDING_VALIDATION until awsproxy.py issues it
    (issue-certificate); an expired one still says EXPIRED."""
    if self._not_valid_after(self._cert) <= utcnow():
        self.status = "EXPIRED"


acm.CertBundle.check = _check_expiry_only

_viewer_init = cloudfront.ViewerCertificate.__init__


def _viewer_with_own_certificate(self, config):
    """A ViewerCertificate naming an ACM (or IAM) certificate is not the default
    certificate: CloudFront answers CloudFrontDefaultCertificate false,
    CertificateSource acm and Certificate the ARN (API_ViewerCertificate). moto
    answers CloudFrontDefaultCertificate true beside the ARN, a config AWS
    would refuse if sent back in an UpdateDistribution."""
    _viewer_init(self, config)
    own = self.acm_certificate_arn or self.iam_certificate_id
    if own:
        if "CloudFrontDefaultCertificate" not in config:
            self.cloud_front_default_certificate = False
        self.certificate_source = "acm" if self.acm_certificate_arn else "iam"
        self.certificate = own


cloudfront.ViewerCertificate.__init__ = _viewer_with_own_certificate

_create_bucket = s3.S3Backend.create_bucket


def _create_bucket_with_defaults(self, bucket_name, region_name, *args, **kwargs):
    """A new bucket as S3 makes one since 2023: all four Block Public Access
    settings on, Object Ownership BucketOwnerEnforced (ACLs disabled) and SSE-S3
    default encryption. moto makes it with none of them (GetPublicAccessBlock:
    NoSuchPublicAccessBlockConfiguration)."""
    bucket = _create_bucket(self, bucket_name, region_name, *args, **kwargs)
    bucket.public_access_block = s3.PublicAccessBlock(True, True, True, True)
    bucket.ownership_rule = "BucketOwnerEnforced"
    bucket.encryption = {"Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                  "BucketKeyEnabled": "false"}}
    return bucket


s3.S3Backend.create_bucket = _create_bucket_with_defaults


# --- GET /moto-api/sitedeploy/<kind>?region=...&...: what moto holds, read from
# its backends directly (no signature, no IAM: for tests/support/awsproxy.py).

ACCOUNT = "123456789012"


def _backends(region):
    from moto.autoscaling.models import autoscaling_backends
    from moto.cloudfront.models import cloudfront_backends
    from moto.ec2.models import ec2_backends
    from moto.elbv2.models import elbv2_backends
    from moto.iam.models import iam_backends
    from moto.scheduler.models import scheduler_backends

    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return {
        "ec2": ec2_backends[ACCOUNT][region],
        "elbv2": elbv2_backends[ACCOUNT][region],
        "asg": autoscaling_backends[ACCOUNT][region],
        "iam": iam_backends[ACCOUNT][partition],
        "scheduler": scheduler_backends[ACCOUNT][region],
        # CloudFront is global: one backend per partition.
        "cloudfront": cloudfront_backends[ACCOUNT][partition],
    }


def _tag_list(tags):
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def _instance(b, iid):
    inst = b["ec2"].get_instance_by_id(iid)
    if inst is None:
        return None
    group = getattr(inst, "autoscaling_group", None)
    return {"id": inst.id, "instance_type": inst.instance_type, "state": inst.state,
            "tags": dict(b["ec2"].tags.get(inst.id, {})), "subnet_id": inst.subnet_id,
            "group": group.name if group is not None else None}


def _key_pair(b, name=None, kid=None):
    for kp in b["ec2"].key_pairs.values():
        if kp.key_name == name or kp.id == kid:
            return {"name": kp.key_name, "id": kp.id, "tags": dict(b["ec2"].tags.get(kp.id, {}))}
    return None


def _tag_specs(specs):
    out = {}
    for spec in specs or []:
        out.setdefault(spec.get("ResourceType", ""), {}).update(_tag_list(spec.get("Tags")))
    return out


def _launch_template(b, tid=None, name=None, version=None):
    ec2 = b["ec2"]
    try:
        t = ec2.get_launch_template(tid) if tid else ec2.get_launch_template_by_name(name)
    except Exception:
        return None
    try:
        v = t.get_version(version or "$Default")
    except Exception:
        v = None
    data = dict(v.data) if v is not None else {}
    groups = list(data.get("SecurityGroupIds") or [])
    subnets = []
    for ni in data.get("NetworkInterfaces") or []:
        groups += list(ni.get("Groups") or [])
        if ni.get("SubnetId"):
            subnets.append(ni["SubnetId"])
    specs = _tag_specs(data.get("TagSpecifications"))
    specs.pop("launch-template", None)  # moto keeps the template's own tags here too
    return {"id": t.id, "name": t.name, "tags": dict(ec2.tags.get(t.id, {})),
            "version": v.number if v is not None else None,
            "default_version": t.default_version_number, "latest_version": t.latest_version_number,
            "image_id": data.get("ImageId"), "instance_type": data.get("InstanceType"),
            "key_name": data.get("KeyName"), "security_group_ids": groups,
            "security_group_names": list(data.get("SecurityGroups") or []),
            "subnet_ids": subnets, "tag_specifications": specs,
            "iam_instance_profile": data.get("IamInstanceProfile")}


def _group(b, name):
    g = b["asg"].autoscaling_groups.get(name)
    if g is None:
        return None
    lt_ref = None
    if g.ec2_launch_template is not None:
        lt_ref = {"id": g.ec2_launch_template.id, "name": g.ec2_launch_template.name,
                  "version": g.provided_launch_template_version}
    return {
        "name": g.name, "arn": g.arn, "tags": {t["Key"]: t.get("Value", "") for t in g.tags},
        "launch_template": lt_ref, "vpc_zone_identifier": g.vpc_zone_identifier,
        "desired": g.desired_capacity, "min": g.min_size, "max": g.max_size,
        "created": g.created_time,
        "instances": [{"id": s.instance.id, "version": getattr(s, "sitedeploy_version", None),
                       "launched": getattr(s, "sitedeploy_launched", None),
                       "lifecycle": s.lifecycle_state, "zone": s.availability_zone,
                       "subnet_id": getattr(s.instance, "subnet_id", None)}
                      for s in g.instance_states],
    }


def _role(b, name):
    try:
        r = b["iam"].get_role(name)
    except Exception:
        return None
    doc = r.assume_role_policy_document
    try:
        trust = json.loads(doc) if isinstance(doc, str) else doc
    except ValueError:
        try:
            trust = json.loads(urllib.parse.unquote(doc))
        except ValueError:
            trust = None
    return {"name": r.name, "arn": r.arn, "tags": _tag_list(r.tags), "trust": trust,
            "created": r.create_date.timestamp() if hasattr(r.create_date, "timestamp") else None}


def _instance_profile(b, name=None, arn=None):
    try:
        p = (b["iam"].get_instance_profile_by_arn(arn) if arn
             else b["iam"].get_instance_profile(name))
    except Exception:
        return None
    created = p.create_date.timestamp() if hasattr(p.create_date, "timestamp") else None
    return {"name": p.name, "arn": p.arn, "roles": [r.arn for r in p.roles], "tags": _tag_list(p.tags),
            "created": created}


def _s3(region):
    from moto.s3.models import s3_backends
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return s3_backends[ACCOUNT][partition]


def _bucket(region, name):
    b = _s3(region).buckets.get(name)
    if b is None:
        return None
    return {"name": b.name, "region": b.region_name, "account": b.account_id, "objects": len(b.keys),
            "tags": _s3(region).tagger.get_tag_dict_for_resource(b.arn)}


def _s3_object(region, bucket, key):
    b = _s3(region).buckets.get(bucket)
    found = b.keys.get(key) if b is not None else None
    if found is None:
        return None
    return {"key": key, "size": found.size, "etag": found.etag,
            "tags": _s3(region).tagger.get_tag_dict_for_resource(found.arn)}


def _schedule_group(b, name):
    g = b["scheduler"].schedule_groups.get(name)
    if g is None:
        return None
    return {"name": g.name, "arn": g.arn, "created": g.created_on, "modified": g.last_modified,
            "schedules": len(g.schedules),
            "tags": _tag_list(b["scheduler"].tagger.list_tags_for_resource(g.arn).get("Tags"))}


def _distribution(b, did):
    cf = b["cloudfront"]
    d = cf.distributions.get(did)
    if d is None:
        return None
    enabled = getattr(d.distribution_config, "Enabled", False)
    viewer = getattr(d.distribution_config, "ViewerCertificate", None)
    return {"id": d.distribution_id, "arn": d.arn, "etag": d.etag,
            "enabled": str(enabled).lower() == "true",
            "tags": cf.tagger.get_tag_dict_for_resource(d.arn),
            "aliases": _aliases(d.distribution_config),
            "certificate": getattr(viewer, "acm_certificate_arn", "") or ""}


def _distributions(b):
    return [_distribution(b, did) for did in list(b["cloudfront"].distributions)]


def _aliases(config):
    """The names of a moto DistributionConfig's Aliases (Items: a list of names,
    or {"CNAME": name or [names]} as its XML parser may leave them)."""
    items = (getattr(config, "Aliases", None) or {}).get("Items") or []
    if isinstance(items, dict):
        items = items.get("CNAME") or []
    if isinstance(items, str):
        items = [items]
    return [str(i) for i in items]


def _certificate(arn, bundle=None):
    parts = (arn or "").split(":")
    if len(parts) < 6 or parts[2] != "acm":
        return None
    from moto.acm.models import acm_backends
    try:
        certs = acm_backends[ACCOUNT][parts[3]]._certificates
    except Exception:  # not a region moto knows
        return None
    c = bundle or certs.get(arn)
    if c is None:
        return None
    described = c.describe()["Certificate"]
    created = calendar.timegm(c.created_at.timetuple()) + c.created_at.microsecond / 1e6
    return {"arn": c.arn, "region": parts[3], "domain": c.common_name, "sans": list(c.sans),
            "status": c.status, "type": c.type, "created": created,
            "tags": {k: v or "" for k, v in c.tags.items()},
            "records": [o["ResourceRecord"] for o in described.get("DomainValidationOptions") or []
                        if o.get("ResourceRecord")]}


def _certificates(region):
    from moto.acm.models import acm_backends
    return [_certificate(arn) for arn in list(acm_backends[ACCOUNT][region]._certificates)]


def _issue_certificate(arn):
    from moto.acm.models import acm_backends
    parts = arn.split(":")
    c = acm_backends[ACCOUNT][parts[3]]._certificates.get(arn)
    if c is None:
        return None
    if c.status == "PENDING_VALIDATION":
        c.status = "ISSUED"
    return _certificate(arn, c)


def _route53(region):
    from moto.route53.models import route53_backends
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return route53_backends[ACCOUNT][partition]


def _zones(region):
    return [{"id": z.resource_id, "name": z.name, "private": bool(z.private_zone), "comment": z.comment,
             "caller_reference": z.caller_reference, "count": len(z.rrsets)}
            for z in list(_route53(region).zones.values())]


def _norm(name):
    return (name or "").rstrip(".").lower()


def _records(region, name, rtype=None):
    out = []
    for z in list(_route53(region).zones.values()):
        for r in list(z.rrsets):
            if _norm(r.name) == _norm(name) and (not rtype or r.type == rtype):
                out.append({"zone_id": z.resource_id, "zone_name": z.name, "private": bool(z.private_zone),
                            "name": r.name, "type": r.type, "values": [str(v) for v in r.records or []],
                            "alias": r.alias_target})
    return out


def _ec2_resource(b, kind, rid):
    """(exists, tags) of an EC2 resource named in an ARN."""
    ec2 = b["ec2"]
    if kind == "key-pair":
        kp = _key_pair(b, name=rid)
        return (kp is not None, kp["tags"] if kp else {})
    getters = {"instance": ec2.get_instance_by_id, "security-group": ec2.get_security_group_from_id,
               "launch-template": ec2.get_launch_template, "volume": ec2.get_volume,
               "subnet": ec2.get_subnet, "vpc": ec2.get_vpc,
               "network-interface": ec2.get_network_interface}
    exists = True
    if kind in getters:
        try:
            exists = getters[kind](rid) is not None
        except Exception:
            exists = False
    elif kind == "image":
        try:
            exists = bool(ec2.describe_images(ami_ids=[rid]))
        except Exception:
            exists = False
    return (exists, dict(ec2.tags.get(rid, {})) if exists else {})


def _arn_tags(b, arn):
    """The current tags of the resource an ARN names: {"exists", "tags"}."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return {"exists": False, "tags": {}}
    service, resource = parts[2], parts[5]
    if service == "ec2":
        kind, _, rid = resource.partition("/")
        exists, tags = _ec2_resource(b, kind, rid)
        return {"exists": exists, "tags": tags}
    if service == "elasticloadbalancing":
        elb = b["elbv2"]
        exists = (arn in elb.load_balancers or arn in elb.target_groups
                  or any(arn in lb.listeners for lb in elb.load_balancers.values()))
        return {"exists": exists, "tags": elb.tagging_service.get_tag_dict_for_resource(arn) if exists else {}}
    if service == "autoscaling":
        g = _group(b, resource.rsplit("autoScalingGroupName/", 1)[-1])
        return {"exists": g is not None, "tags": g["tags"] if g else {}}
    if service == "iam" and resource.startswith("role/"):
        r = _role(b, resource.rsplit("/", 1)[-1])
        return {"exists": r is not None, "tags": r["tags"] if r else {}}
    if service == "iam" and resource.startswith("instance-profile/"):
        p = _instance_profile(b, name=resource.rsplit("/", 1)[-1])
        return {"exists": p is not None, "tags": p["tags"] if p else {}}
    if service == "scheduler" and resource.startswith("schedule-group/"):
        g = _schedule_group(b, resource.split("/", 1)[1])
        return {"exists": g is not None, "tags": g["tags"] if g else {}}
    if service == "scheduler" and resource.startswith("schedule/"):
        _, group, name = (resource.split("/") + ["", ""])[:3]
        g = b["scheduler"].schedule_groups.get(group)
        # Only schedule groups carry tags ("You can only assign tags to schedule groups").
        return {"exists": g is not None and name in g.schedules, "tags": {}}
    if service == "cloudfront" and resource.startswith("distribution/"):
        d = _distribution(b, resource.split("/", 1)[1])
        return {"exists": d is not None, "tags": d["tags"] if d else {}}
    if service == "acm" and resource.startswith("certificate/"):
        c = _certificate(arn)
        return {"exists": c is not None, "tags": c["tags"] if c else {}}
    return {"exists": False, "tags": {}}


def _sitedeploy(kind, q):
    region = q.get("region") or "us-east-1"
    b = _backends(region)
    if kind == "tags":
        return _arn_tags(b, q["arn"])
    if kind == "instance":
        return _instance(b, q["id"])
    if kind == "instances":
        # Live instances of the region, with their Auto Scaling group.
        out = {}
        for inst in b["ec2"].all_instances():
            if inst.state not in ("terminated", "shutting-down"):
                group = getattr(inst, "autoscaling_group", None)
                out[inst.id] = {"instance_type": inst.instance_type,
                                "group": group.name if group is not None else None}
        return out
    if kind == "key-pair":
        return _key_pair(b, name=q.get("name"), kid=q.get("id"))
    if kind == "launch-template":
        return _launch_template(b, tid=q.get("id"), name=q.get("name"), version=q.get("version"))
    if kind == "group":
        return _group(b, q["name"])
    if kind == "groups":
        return [_group(b, n) for n in list(b["asg"].autoscaling_groups)]
    if kind == "role":
        return _role(b, q["name"])
    if kind == "instance-profile":
        return _instance_profile(b, name=q.get("name"), arn=q.get("arn"))
    if kind == "schedule-group":
        return _schedule_group(b, q["name"])
    if kind == "bucket":
        return _bucket(region, q["name"])
    if kind == "s3-object":
        return _s3_object(region, q["bucket"], q["key"])
    if kind == "distribution":
        return _distribution(b, q["id"])
    if kind == "distributions":
        return _distributions(b)
    if kind == "certificate":
        return _certificate(q["arn"])
    if kind == "certificates":
        return _certificates(region)
    if kind == "issue-certificate":
        return _issue_certificate(q["arn"])
    if kind == "zones":
        return _zones(region)
    if kind == "records":
        return _records(region, q["name"], q.get("type"))
    if kind == "inbound-rules":
        # The group's inbound rules, one per source: [port, source] (a CIDR, a
        # group id or a prefix list id), and the prefix lists' names
        # (awsproxy.py weighs them against the rules quota).
        group = b["ec2"].get_security_group_from_id(q["id"])
        if group is None:
            return None
        lists = {pl.id: pl.prefix_list_name for pl in b["ec2"].managed_prefix_lists.values()}
        return {"rules": [[r.from_port, r.prefix_list_id or (r.ip_range or {}).get("CidrIp")
                           or (r.source_group or {}).get("GroupId")] for r in group.ingress_rules],
                "lists": lists}
    if kind == "set-desired":
        # What Auto Scaling does once capacity is there again (awsproxy.py's
        # asg_instance_limit): the group launches up to the capacity asked.
        group = b["asg"].autoscaling_groups[q["name"]]
        if q.get("min") is not None:
            group.min_size = int(q["min"])
        b["asg"].set_desired_capacity(q["name"], int(q["desired"]))
        return _group(b, q["name"])
    raise KeyError(kind)


_dispatch = DomainDispatcherApplication.__call__


def _call(self, environ, start_response):
    path = environ.get("PATH_INFO", "")
    if not path.startswith("/moto-api/sitedeploy/"):
        return _dispatch(self, environ, start_response)
    q = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
    for attempt in range(3):
        try:
            status, body = "200 OK", json.dumps(_sitedeploy(path.rsplit("/", 1)[1], q), default=str)
            break
        except RuntimeError as e:  # a dict moto changed while it was read: again
            status, body = "500 Internal Server Error", json.dumps({"error": repr(e)})
        except Exception as e:  # an unknown kind or a missing parameter
            status, body = "400 Bad Request", json.dumps({"error": repr(e)})
            break
    data = body.encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


DomainDispatcherApplication.__call__ = _call

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
