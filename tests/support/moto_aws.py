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
TerminateInstanceInAutoScalingGroup and after DeleteAutoScalingGroup. Here both
deregister it first.

DescribeLaunchTemplates answers a template's current tags. moto answers the
tags it was created with, whatever CreateTags/DeleteTags did since (its tag
store has them). Here the template's tags are read from that store.

DeleteScheduleGroup of a group that does not exist answers
ResourceNotFoundException (EventBridge Scheduler API reference). moto fails with
a KeyError (an empty 500). Here it answers as AWS does.

And two moto defects, not AWS behaviours:

moto's IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT) recomputes SigV4 wrongly
for EventBridge Scheduler's REST requests: even boto3's own GetSchedule and
ListScheduleGroups fail with SignatureDoesNotMatch. Here the signature check is
skipped for Scheduler alone; its access key and actions are still checked.
 a launch template version made by
CreateLaunchTemplateVersion keeps its UserData as a plain string, and moto's
own Auto Scaling then fails an assertion (an empty 500 answer) when it launches
from that version. The UserData is wrapped the way CreateLaunchTemplate's is.
Everything else is moto unchanged.
"""

import sys

from moto.autoscaling import models as asg
from moto.core.types import Base64EncodedString
from moto.ec2.models import launch_templates as lt
from moto.iam import access_control
from moto.scheduler import models as scheduler
from moto.scheduler.exceptions import ScheduleGroupNotFound
from moto.server import main

_launch = asg.FakeAutoScalingGroup.replace_autoscaling_group_instances


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

_user_data = lt.LaunchTemplateVersion.user_data.fget


def _wrapped_user_data(self):
    data = self.data.get("UserData")
    if isinstance(data, str):
        self.data["UserData"] = Base64EncodedString(data)
    return _user_data(self)


lt.LaunchTemplateVersion.user_data = property(_wrapped_user_data)

_check_signature = access_control.IAMRequestBase.check_signature


def _check_signature_unless_scheduler(self):
    if self._service == "scheduler":
        return None
    return _check_signature(self)


access_control.IAMRequestBase.check_signature = _check_signature_unless_scheduler

_delete_group = scheduler.EventBridgeSchedulerBackend.delete_schedule_group


def _delete_group_or_not_found(self, name):
    if (name or "default") not in self.schedule_groups:
        raise ScheduleGroupNotFound(name or "default")
    return _delete_group(self, name)


scheduler.EventBridgeSchedulerBackend.delete_schedule_group = _delete_group_or_not_found

lt.LaunchTemplate.tags = property(lambda self: self.get_tags(), lambda self, _value: None)

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
