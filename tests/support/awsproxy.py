#!/usr/bin/env python3
"""A fault- and timing-injecting HTTP proxy in front of moto_server.

moto answers at once and never says "not yet": instances are `running` the moment
they launch, load balancers are `active`, security groups delete even while a load
balancer's interfaces would hold them in AWS. This proxy puts AWS's timing and
failure behaviour back, so the tests (and the benchmark) can exercise the code
paths that only real AWS would reach. moto should be tests/support/moto_aws.py:
its control route (GET /moto-api/sitedeploy/...) tells this proxy what moto
holds (current tags, instance types, launch templates, groups, roles).

  latency_ms               added to every request
  instance_pending_s       instances answer `pending` for N s after RunInstances
  instance_shutting_down_s instances answer `shutting-down` for N s after termination
  lb_provisioning_s        load balancers answer `provisioning` for N s after creation
  lb_linger_s              after DeleteLoadBalancer, its security groups answer
                           DependencyViolation and DescribeNetworkInterfaces shows
                           its interfaces for N s (AWS releases them late)
  sg_dependency_violations each security group answers DeleteSecurityGroup with
                           DependencyViolation this many times first
  register_pending_invalid RegisterTargets of a `pending` instance answers InvalidTarget
  target_initial_s         a registered target's health is `initial` for N s
  eventual_s               EC2's eventual consistency ("Eventual consistency in the
                           Amazon EC2 API"): for N s after CreateSecurityGroup,
                           ImportKeyPair or RunInstances, calls naming the new group,
                           key pair or instance answer InvalidGroup.NotFound (ELB:
                           InvalidSecurityGroup), InvalidKeyPair.NotFound or
                           InvalidInstanceID.NotFound; a DescribeInstances not by
                           id (an `instance-id` filter, any filter, or none) answers
                           without the new instance ("If you specify filters, the
                           output includes information for only those instances
                           that meet the filter criteria", API_DescribeInstances);
                           CreateAutoScalingGroup naming a launch template, or a key
                           pair or group in it, made less than N s ago answers
                           ValidationError "You must use a valid fully-formed launch
                           template. ..."
  (always on)              TerminateInstanceInAutoScalingGroup of an instance in no
                           group answers "No managed instance found for instance ID";
                           with ShouldDecrementDesiredCapacity on a group at its
                           minimum, "Currently, desiredSize equals minSize (N). ..."
  eventual_for             ["Action", ...]: limit eventual_s's group answers to these calls
  lb_refused_zones         ["us-east-1e"]: CreateLoadBalancer with a subnet in one of these
                           zones answers "The following Availability Zones ... cannot be
                           associated with a load balancer"
  lb_interfaces_hidden     the lingering interfaces of a deleted load balancer hold its
                           group but are not listed by DescribeNetworkInterfaces
  iam_policy               a policy document: every request, of every service (EC2,
                           ELB, Auto Scaling, IAM, STS, EventBridge Scheduler, the
                           Resource Groups Tagging API, CloudFront, Route 53, ACM, S3), is
                           authorized as AWS would, by tests/support/iam_eval.py
                           (see "IAM" below); denials
                           answer in the service's own error format and are listed
                           in stats. The proxy refuses to start (exit 1, the problems
                           on stderr) when iam_eval.validate finds the document is
                           not one IAM would accept.
  resign                   {"access_key", "secret_key"}: for moto's own IAM enforcement
                           (INITIAL_NO_AUTH_ACTION_COUNT). moto checks a signature over
                           the form body it re-encodes itself (spaces as '+', where the
                           SDK sends %20), so a request signed with this key is
                           re-encoded that way and signed again with the same key
                           (botocore, from the test virtual environment). Requests
                           signed with any other key pass unchanged, so moto still
                           refuses them; the proxy's own look-ups are signed too.
  target_unhealthy         {"reason": "Target.ResponseCodeMismatch", "description": "..."}:
                           every registered target reports `unhealthy` with that reason
                           code (instead of `initial` or `healthy`)
  instance_stops_s         an instance reports `stopped` (with AWS's state reason) N s
                           after RunInstances, as if it stopped while booting
  status_impaired_s        DescribeInstanceStatus reports an instance's status check
                           `impaired` (reachability failed) N s after its launch
  console_lines            ["line", ...]: GetConsoleOutput answers these lines (base64)
                           instead of moto's fixed sample; with console_line_every_s,
                           one more line every N s since the instance's launch
  deregistration_delay_s   how long a deregistered target drains, overriding the target
                           group's deregistration_delay.timeout_seconds (AWS: that
                           attribute, 300 s by default); moto removes targets at once
  asg_launch_s             Auto Scaling launches asynchronously ("The new settings take
                           effect on any scaling activities after this call returns",
                           API_UpdateAutoScalingGroup; moto launches inside the call):
                           an instance the group launched (CreateAutoScalingGroup,
                           UpdateAutoScalingGroup, SetDesiredCapacity, a replacement)
                           is not in DescribeAutoScalingGroups' Instances, in
                           DescribeTargetHealth or in DescribeInstances (by id:
                           InvalidInstanceID.NotFound) for N s after moto launched
                           it, then is `Pending` for N s more, then `InService`
                           (target_initial_s counts from when it shows). Default 0: off.
  asg_instance_limit       a new account's low vCPU quota: Auto Scaling cannot launch
                           beyond N live instances in the region (every instance
                           counts). A create/update/SetDesiredCapacity asking more is
                           accepted: moto is asked for what fits, the group reports the
                           capacity asked (DesiredCapacity, MinSize), and
                           DescribeScalingActivities lists a Failed launch activity
                           with EC2's message ("You have requested more vCPU capacity
                           than your current vCPU limit of N allows ... Launching EC2
                           instance failed."; API_Activity for the shape). Once there
                           is room again (instances of other groups gone), the group
                           launches the rest, as Auto Scaling keeps trying. Default: none.
  schedule_group_deleting_s  after DeleteScheduleGroup the group stays DELETING for
                           N s ("When you delete a group, it remains in a DELETING
                           state until all of its associated schedules are deleted",
                           API_DeleteScheduleGroup): GetScheduleGroup answers it with
                           "State": "DELETING", ListScheduleGroups lists it,
                           CreateScheduleGroup of the name answers ConflictException
                           (409), CreateSchedule / UpdateSchedule / GetSchedule in it
                           answer ResourceNotFoundException (404). Default 0: off.
  iam_eventual_s           IAM's eventual consistency ("Changes that I make are not
                           always immediately visible", IAM User Guide): for N s after
                           CreateRole, PutRolePolicy on the role answers NoSuchEntity
                           (404, "The role with name X cannot be found.") and
                           CreateSchedule / UpdateSchedule with it as Target.RoleArn
                           answer ValidationException "The execution role you provide
                           must allow AWS EventBridge Scheduler to assume the role."
                           Default 0: off.
  instance_profile_eventual_s  EC2 does not see a new instance profile at once: for N s
                           after CreateInstanceProfile (through this proxy),
                           RunInstances naming it (IamInstanceProfile.Name / .Arn, or
                           its launch template's) answers InvalidParameterValue (400)
                           "Value (x) for parameter iamInstanceProfile.name is invalid.
                           Invalid IAM Instance Profile name" (.arn: "... Invalid IAM
                           Instance Profile ARN"), and CreateAutoScalingGroup /
                           UpdateAutoScalingGroup with a launch template naming it
                           answer ValidationError "You must use a valid fully-formed
                           launch template. Value (x) for parameter ..." (what AWS
                           answers right after CreateInstanceProfile:
                           terraform-provider-aws#27516, #4769; #4769: "created
                           successfully after retrying"). A profile that does not exist
                           gets the same answers at any time (moto: NoSuchEntity, 404,
                           an IAM error EC2 never gives). CreateLaunchTemplate takes the
                           name at once, as EC2 does. Default 8 (real AWS: seconds).
  s3_taken_buckets         {"bucket": "account id"}: buckets that exist in another account
                           (S3's names are global): CreateBucket answers
                           BucketAlreadyExists (409), every other call AccessDenied (403).
  distribution_in_progress_s  a CloudFront distribution answers Status InProgress (in
                           GetDistribution, the create and update answers and
                           ListDistributions) for N s after CreateDistribution[WithTags]
                           and after every UpdateDistribution, then Deployed ("When the
                           status is Deployed, the distribution's information is fully
                           propagated to all CloudFront edge locations", API_Distribution);
                           DeleteDistribution is refused until then. Default 2 (on): AWS
                           takes typically under 5 minutes (AWS blog "Slashing CloudFront
                           change propagation times in 2020") and the SDKs' waiter
                           DistributionDeployed allows 35 (60 s x 35 attempts). moto says
                           InProgress once, then Deployed at the next read.
  dns_change_pending_s     a Route 53 change (ChangeResourceRecordSets, CreateHostedZone,
                           DeleteHostedZone) answers ChangeInfo with an id of its own and
                           Status PENDING, and GetChange says PENDING for N s after it,
                           then INSYNC ("Changes generally propagate to all Route 53 name
                           servers within 60 seconds", API_GetChange); GetChange of an id
                           this proxy did not give answers NoSuchChange (404). Default 1.
                           moto gives every change one id, INSYNC at once.
  certificate_record_s     DescribeCertificate of a new certificate has DomainValidationOptions
                           without ResourceRecord for N s after RequestCertificate ("there
                           is a delay of several seconds before you can retrieve
                           information about the new certificate", API_RequestCertificate).
                           Default 1. moto gives the record at once.
  certificate_issue_s      a DNS-validated certificate stays PENDING_VALIDATION until each of
                           its validation records (the ResourceRecord name and value moto
                           gives) is a CNAME in a public hosted zone of the account, and is
                           ISSUED N s after the record answers (written through here: its
                           change INSYNC; written elsewhere: first seen). Default 1. moto
                           issues after MOTO_ACM_VALIDATION_WAIT whatever DNS holds;
                           moto_aws.py stops that, and this proxy issues it (control route
                           issue-certificate) when it next reads the certificate. A record
                           that never appears: PENDING_VALIDATION for ever.
  certificate_linger_s     DeleteCertificate answers ResourceInUseException (400, "Certificate
                           <arn> is in use.") while a CloudFront distribution's config names
                           the certificate and for N s after the last one stopped naming it
                           (an update or a delete; the association lingers for minutes in
                           AWS); DescribeCertificate's InUseBy and ListCertificates' InUse
                           say the same. Default 2. moto deletes it, and lists no user.
  slow_regions             {"region": seconds}: every request signed for that region
                           waits this long before it is forwarded (a region that
                           does not answer in time)
  fail_actions             {"Action": "Code"}: always answer that error (the
                           operation's name for the JSON APIs too, e.g.
                           "CreateScheduleGroup", in their error format)
  fail_real_actions        the same, for requests that are not dry runs
  drop_after_actions       {"Action": n}: drop the connection after moto handled
                           the first n requests of that action (dry runs not counted)
  faults                   {"seed", "throttle", "error5xx", "drop_before", "drop_after"}:
                           rates (0..1) of throttling answers, 500/503 answers,
                           connections dropped before forwarding and connections
                           dropped after moto handled the request (query APIs only)

Always on: a deregistered target is listed as `draining`
(Target.DeregistrationInProgress) for its target group's deregistration delay, as
AWS does (moto drops it at once). ImportKeyPair of an ed25519 key reports AWS's fingerprint (base64 SHA-256
of the public key; moto gives hex SHA-256 of its DER form). DescribeRegions lists
the enabled regions of the caller's partition only, as AWS does (moto adds China's,
GovCloud's and the opt-in regions not enabled). And:
  - Idempotent creates ("Ensuring idempotency in Amazon EC2 API requests"; the ELB
    API reference's CreateLoadBalancer / CreateTargetGroup / CreateListener: "If
    you attempt to create multiple ... with the same settings, each call
    succeeds"): RunInstances with a client token seen before returns the first
    launch when every parameter but the zone is the same, else
    IdempotentParameterMismatch; CreateLoadBalancer / CreateTargetGroup with a
    name that exists and CreateListener on a taken port return the existing
    resource when its settings are the request's (load balancer: subnets,
    security groups, scheme, type, IP address type; target group: protocol,
    port, VPC, target type, the health-check settings given; listener: protocol,
    default actions), else DuplicateLoadBalancerName / DuplicateTargetGroupName /
    DuplicateListener (400). A setting the request leaves out is not compared,
    but scheme, type, IP address type and target type are compared with their
    documented defaults (internet-facing, application, ipv4, instance).
  - EventBridge Scheduler's Tag: "Key ... Minimum length of 1. Maximum length of
    128", "Value ... Minimum length of 1. Maximum length of 256" (API_Tag):
    CreateScheduleGroup / TagResource with a tag outside that answer
    ValidationException (400).
  - CreateSchedule / UpdateSchedule whose Target.RoleArn cannot be assumed by
    scheduler.amazonaws.com (no such role, or its trust policy does not allow
    sts:AssumeRole to that service in the context aws:SourceAccount = the
    account, aws:SourceArn = the schedule group) answer ValidationException "The
    execution role you provide must allow AWS EventBridge Scheduler to assume the
    role." (the error real AWS gives, aws/aws-sdk-js-v3#6494).
  - GetConsoleOutput with Latest=true on an instance type not built on the Nitro
    System (t1, t2, m1-m4, c1, c3, c4, r3, r4, i2, i3 but i3.metal, d2, x1, x1e,
    p2, p3 but p3dn.24xlarge, g2, g3, h1, f1...) answers UnsupportedOperation: "This
    option is supported on instance types that use the Nitro hypervisor"
    (API_GetConsoleOutput; "Instances built on the Nitro System").
  - DescribeScalingActivities (moto answers none) lists a launch activity for
    each instance a group launched (Successful; InProgress within asg_launch_s)
    and the Failed ones of asg_instance_limit, newest first.
  - CloudFront's ETag (moto keeps one per distribution forever and ignores
    IfMatch): every UpdateDistribution makes a new one (in the ETag header of
    UpdateDistribution, GetDistribution and GetDistributionConfig), and
    UpdateDistribution / DeleteDistribution answer InvalidIfMatchVersion (400)
    without an IfMatch and PreconditionFailed (412) with one that is not the
    current ETag ("The value of the ETag header that you received when
    retrieving the distribution's configuration", API_UpdateDistribution).
  - DeleteDistribution of a distribution whose current config is not
    Enabled=false, or that is not Deployed yet (a disable still propagating),
    answers DistributionNotDisabled (409): "Before you can delete a
    distribution, you must disable it" (API_DeleteDistribution).
  - CloudFront's domain checks on CreateDistribution[WithTags] / UpdateDistribution
    ("Requirements for using alternate domain names"): a ViewerCertificate
    ACMCertificateArn not in us-east-1, unknown or not ISSUED answers
    InvalidViewerCertificate (400); an alias without a certificate, or one the
    certificate's names (DomainName, SubjectAlternativeNames, *.x for one label)
    do not cover, InvalidViewerCertificate; an alias another distribution has,
    CNAMEAlreadyExists (409). moto accepts them all.
  - S3 (see moto_aws.py too: a new bucket's Block Public Access, Object Ownership
    BucketOwnerEnforced and SSE-S3 defaults):
    * ExpectedBucketOwner (x-amz-expected-bucket-owner) that is not the bucket
      owner's account: 403 AccessDenied ("If the account ID that you provide does
      not match the actual owner of the bucket, the request fails with the HTTP
      status code 403 Forbidden (access denied)", the API reference's
      ExpectedBucketOwner). moto ignores the header. The same for CopyObject's
      ExpectedSourceBucketOwner (x-amz-source-expected-bucket-owner) and the
      source bucket's owner ("If the account ID that you provide does not match
      the actual owner of the source bucket, the request fails with the HTTP status
      code 403 Forbidden (access denied)", API_CopyObject), and a copy from another
      account's bucket (s3_taken_buckets).
    * PutObject / UploadPart whose x-amz-checksum-sha256 (a header, or an
      aws-chunked body's trailer) is not the body's: 400 BadDigest (S3's error
      codes: "The Content-MD5 or checksum value that you specified did not match
      what the server received"; the message's wording is an assumption). moto
      stores it.
    * PutBucketLifecycleConfiguration (s3_lifecycle_refusal): Days or
      DaysAfterInitiation below 1 (InvalidArgument "'Days' for Expiration action
      must be a positive integer", scality/Arsenal#2648, reproduced against AWS),
      AbortIncompleteMultipartUpload in a rule filtered by tags (InvalidRequest
      "AbortIncompleteMultipartUpload cannot be specified with Tags.",
      terraform-aws-modules/terraform-aws-s3-bucket#109), a rule without an action
      (InvalidRequest), two rules with one ID (InvalidArgument). moto accepts them
      all; a rule with neither Filter nor Prefix moto refuses itself (MalformedXML).
    * GetObject / HeadObject / GetObjectTagging of a key that does not exist, with
      iam_policy not allowing s3:ListBucket on the bucket: 403 AccessDenied, not 404
      ("If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP
      status code 403 Forbidden error", API_GetObject / API_HeadObject).
    * Objects pass byte for byte and a HEAD answer keeps moto's Content-Length and
      headers (ETag, x-amz-*), with no body, as S3 answers HEAD.
    What moto already answers as AWS does passes unchanged: CreateBucket in
    us-east-1 with LocationConstraint us-east-1 (InvalidLocationConstraint),
    LocationConstraint not the signed region (IllegalLocationConstraintException),
    DeleteBucket of a non-empty bucket (BucketNotEmpty, 409), a bucket one already
    owns in us-east-1 (200) or elsewhere (BucketAlreadyOwnedByYou).
  - RemoveRoleFromInstanceProfile of a role that is not in the profile answers
    NoSuchEntity (404, crossplane-contrib/provider-aws#1719); moto fails with an
    empty 500.
  - ListHostedZonesByName lists every hosted zone (private ones too,
    Config.PrivateZone true) "by name with the labels reversed" from DNSName
    (and HostedZoneId) on, MaxItems of them (default 100) with IsTruncated,
    NextDNSName and NextHostedZoneId: DNSName is where the page starts, not a
    filter (API_ListHostedZonesByName). moto answers only the zones named
    exactly DNSName.

IAM (iam_policy). For each request the proxy builds every authorization AWS makes
(action, resource ARN per the Service Authorization Reference's "Resource types"
for the signed region and partition, account 123456789012, and the condition
context) and evaluates each with iam_eval.evaluate; the first one not allowed
denies the request: EC2 UnauthorizedOperation (403), ELB / Auto Scaling / IAM /
STS / CloudFront / Route 53 AccessDenied (403, their ErrorResponse XML), Scheduler
403 with x-amzn-ErrorType AccessDeniedException and {"Message": ...}, the tagging
API and ACM AccessDeniedException (400, JSON 1.1), S3 AccessDenied (403, its <Error>
XML, the resource in quotes; no body to a HEAD). Context: aws:RequestTag/k and aws:TagKeys of
the tags a request sets; aws:ResourceTag/k of the resource's current tags as moto
holds them (whoever set them), with the service's own ec2:ResourceTag/k,
elasticloadbalancing:ResourceTag/k, autoscaling:ResourceTag/k, iam:ResourceTag/k;
tag-on-create as ec2:CreateTags / elasticloadbalancing:AddTags with
ec2:CreateAction / elasticloadbalancing:CreateAction; iam:PassedToService on
iam:PassRole; iam:AWSServiceName on iam:CreateServiceLinkedRole; Auto Scaling's
autoscaling:MinSize, MaxSize, VPCZoneIdentifiers, TargetGroupARNs,
LaunchTemplateVersionSpecified; S3's keys (Authz.svc_s3). Checks made on the caller
by a service:
  - ELB: the EC2 (and IAM) actions of the "Elastic Load Balancing API permissions"
    page (CreateLoadBalancer, CreateTargetGroup, RegisterTargets, ...).
  - Auto Scaling, CreateAutoScalingGroup / UpdateAutoScalingGroup with a launch
    template: ec2:RunInstances on instance/*, volume/*, network-interface/* (with
    the template's instance / volume tags as aws:RequestTag), the image, the
    subnets (VPCZoneIdentifier, else the group's), the security groups, the key
    pair and launch-template/<id>; ec2:CreateTags with ec2:CreateAction =
    RunInstances for the template's tagged types; iam:PassRole
    (iam:PassedToService ec2.amazonaws.com) for its instance profile ("ec2:
    RunInstances are checked when an Auto Scaling group is created or updated
    using a launch template", "Control Amazon EC2 launch template usage in Auto
    Scaling groups"). CreateAutoScalingGroup with Tags: autoscaling:
    CreateOrUpdateTags too; without the service-linked role in the account:
    iam:CreateServiceLinkedRole (iam:AWSServiceName autoscaling.amazonaws.com);
    with ServiceLinkedRoleARN: iam:PassRole on it.
  - Scheduler: CreateSchedule / UpdateSchedule iam:PassRole on Target.RoleArn
    (iam:PassedToService scheduler.amazonaws.com); CreateScheduleGroup with Tags
    scheduler:TagResource; DeleteScheduleGroup scheduler:DeleteSchedule on
    schedule/<group>/* ("list_amazoneventbridgescheduler" SAR page).
  - CloudFront: CreateDistributionWithTags cloudfront:CreateDistribution and
    cloudfront:TagResource ("This API operation requires the following IAM
    permissions: CreateDistribution, TagResource", API_CreateDistributionWithTags),
    both with the request's tags as aws:RequestTag / aws:TagKeys; the calls on a
    distribution on arn:aws:cloudfront::<account>:distribution/<id> with its tags
    as aws:ResourceTag (CloudFront has no service ResourceTag key);
    ListDistributions on "*".
  - ACM: RequestCertificate on "*" with the request's tags as aws:RequestTag /
    aws:TagKeys and acm:DomainNames, acm:ValidationMethod, acm:KeyAlgorithm,
    acm:CertificateTransparencyLogging (their documented defaults when left
    out), and its dependent action acm:AddTagsToCertificate when it carries
    tags; the calls on a certificate on its ARN with its tags as
    aws:ResourceTag; ListCertificates on "*".
  - Route 53: ChangeResourceRecordSets / ListResourceRecordSets on
    arn:<partition>:route53:::hostedzone/<id>, ChangeResourceRecordSets with
    route53:ChangeResourceRecordSetsNormalizedRecordNames (lowercase, no
    trailing dot), ...RecordTypes and ...Actions (uppercase), each the set of
    its changes' values (Route 53 Developer Guide, "Using IAM policy conditions
    for fine-grained access control"); GetChange on change/<id>;
    ListHostedZonesByName on "*". No tag keys (Route 53 has none).
  - IAM: a role's calls on role/<name> (aws:ResourceTag and iam:ResourceTag), an
    instance profile's on instance-profile/<name> (aws:ResourceTag only: the SAR
    has no iam:ResourceTag for instance profiles). CreateRole / CreateInstanceProfile
    with Tags: iam:TagRole / iam:TagInstanceProfile too, with the request's tags
    (IAM answers "not authorized to perform: iam:TagRole" to a tagged CreateRole
    without it: openshift/installer#1073, iann0036/iamlive#97).
    AddRoleToInstanceProfile: iam:PassRole on the role ("The caller of this
    operation must be granted the PassRole permission on the IAM role",
    API_AddRoleToInstanceProfile), iam:PassedToService ec2.amazonaws.com and
    iam:AssociatedResourceArn arn:<partition>:ec2:*:<account>:instance/*.
    RunInstances with an instance profile: iam:PassRole on the role in it (none for
    a profile without a role).
  - S3: a bucket's calls on arn:<partition>:s3:::<bucket>, an object's on
    arn:<partition>:s3:::<bucket>/<key>, each operation as its IAM action (S3_ACTIONS:
    HeadBucket and ListObjectsV2 s3:ListBucket, HeadObject s3:GetObject,
    GetPublicAccessBlock s3:GetBucketPublicAccessBlock, PutBucketEncryption
    s3:PutEncryptionConfiguration, PutBucketLifecycleConfiguration
    s3:PutLifecycleConfiguration, ...); CreateBucket with x-amz-object-ownership
    s3:PutBucketOwnershipControls too, PutObject with x-amz-tagging
    s3:PutObjectTagging too; CopyObject s3:PutObject on the destination (with
    s3:x-amz-copy-source) and s3:GetObject on the source, and when a tag set goes
    along (a tagged source and x-amz-tagging-directive COPY, the default, or REPLACE
    with x-amz-tagging) s3:GetObjectTagging on the source (COPY) and
    s3:PutObjectTagging on the destination with the tags as s3:RequestObjectTag;
    DeleteObjects s3:DeleteObject on each key, each
    decided alone: a refused key is an <Error> AccessDenied in a 200 answer and
    the others are deleted. Context: s3:ResourceAccount (the bucket's owner),
    s3:authType, s3:signatureversion, s3:x-amz-content-sha256, and per operation
    s3:prefix / s3:max-keys / s3:delimiter, s3:locationconstraint /
    s3:x-amz-object-ownership / s3:x-amz-acl, s3:RequestObjectTag/k and
    s3:RequestObjectTagKeys, s3:ExistingObjectTag/k, s3:x-amz-server-side-encryption
    / s3:x-amz-storage-class. No aws:ResourceTag: "By default, ABAC is disabled for
    all Amazon S3 general purpose buckets" (S3 User Guide). ListBuckets
    s3:ListAllMyBuckets on "*".
  - STS GetCallerIdentity: none ("No permissions are required").

Assumptions no AWS text confirms (research notes, "NOT CONFIRMED"):
  - The ARN a create is authorized on: EC2's documented <type>/* (instance/*,
    security-group/*, ...); key-pair/<name>; for ELB loadbalancer/<app|net>/<name>/*,
    targetgroup/<name>/*, listener/app/<lb name>/<lb id>/*; for Auto Scaling
    autoScalingGroup:*:autoScalingGroupName/<name>.
  - Schedules carry no tags, so schedule actions get no aws:ResourceTag.
  - CreateRole / CreateInstanceProfile with Tags: iam:TagRole /
    iam:TagInstanceProfile is checked on the new ARN with the request's tags as
    aws:RequestTag (the evidence above is of CreateRole; the instance profile's
    the same by analogy). AddRoleToInstanceProfile's iam:PassRole carries
    iam:PassedToService ec2.amazonaws.com (Karpenter's published controller policy
    relies on it) and the iam:AssociatedResourceArn the API reference names.
  - S3: IAM is evaluated before ExpectedBucketOwner and the other refusals;
    the wordings of a lifecycle rule without an action ("At least one action needs
    to be specified in a rule") and of a repeated rule ID, and of
    'DaysAfterInitiation' (by analogy with 'Days'); BadDigest's message ("The
    SHA256 you specified did not match the calculated checksum."); BucketAlreadyExists
    for s3_taken_buckets. A bucket's owner is ours when moto has it.
  - RemoveRoleFromInstanceProfile of a role not in the profile: "The role with
    name X cannot be found."; of a profile that does not exist: "Instance Profile
    X cannot be found." How long EC2 does not see a profile:
    instance_profile_eventual_s.
  - CreateScheduleGroup of a name still DELETING answers ConflictException ("Schedule
    group X already exists."); schedule calls in it ResourceNotFoundException.
    How long DELETING lasts is not documented: schedule_group_deleting_s.
  - The ValidationException text for a bad Scheduler tag (the usual "1 validation
    error detected: ..." wording).
  - GetConsoleOutput Latest=true on a Xen type: code UnsupportedOperation, message
    "The requested operation is not supported for this instance type".
  - Per-instance LaunchTemplate.Version is the version number it was launched
    from (moto_aws.py); the durations of asg_launch_s and iam_eventual_s.
  - DescribeInstances with an `instance-id` filter naming an instance not visible
    yet answers without it (no error).
  - CloudFront: CreateDistribution[WithTags] is authorized on "*" (the
    distribution's id is not known yet; a policy must allow "*", which works
    in AWS whichever ARN it checks). UpdateDistribution / DeleteDistribution
    check IfMatch before DistributionNotDisabled. How long a change stays
    InProgress: distribution_in_progress_s. ETags and change times are this
    proxy's: a distribution it did not see made or changed is Deployed with
    moto's ETag (two proxies in front of one moto keep two ETags).
  - ACM: the dependent acm:AddTagsToCertificate of RequestCertificate is
    authorized on "*" (the certificate has no ARN yet). A validation record
    counts only in a public zone (ACM resolves it in public DNS); the lingering
    certificate-distribution association also shows in InUseBy; ACM's and
    CloudFront's wordings of ResourceInUseException, InvalidViewerCertificate
    and CNAMEAlreadyExists, and which of CloudFront's checks comes first (the
    certificate, then the aliases it covers, then other distributions'
    aliases). How long issuing and the association take: certificate_issue_s,
    certificate_linger_s. Route 53 change ids and their times are this proxy's
    (a change made elsewhere is unknown to GetChange); zones with one name are
    ordered by id.
  - A launch activity's Cause reads "At T an instance was started in response to a
    difference between desired and actual capacity." (AWS adds "increasing the
    capacity from X to Y", not tracked here for Successful launches).

Control endpoints (not forwarded): GET /__proxy/stats, POST /__proxy/reset (zero
the counters). The stats, as JSON:
  actions     requests per operation (the JSON APIs' too, e.g. "CreateScheduleGroup",
              "GetResources"; CloudFront's, e.g. "CreateDistributionWithTags";
              Route 53's and ACM's, e.g. "ChangeResourceRecordSets", "RequestCertificate")
  polls       the polling ones among them (DescribeInstances by id or by the
              instance-id filter, DescribeLoadBalancers by ARN,
              DescribeNetworkInterfaces)
  injected    faults and AWS refusals the proxy answered ("Action:Code"), replays
  first       when each operation was first seen, in seconds since start or reset
  denied      IAM denials (the check that failed, e.g. "ec2:CreateTags (on
              RunInstances) on arn:...", "ec2:DescribeVpcs (checked by ELB for
              CreateLoadBalancer)")
  authorized  every check evaluated (deduplicated): {"action", "resource",
              "context", "decision"} (decision as iam_eval.evaluate gives it)
  requests    every operation that is not a Describe*, Get* or List*: {"action",
              "t", "params"} (query APIs: the form parameters; JSON APIs: the
              parsed body, and "path"; CloudFront: Id / Resource, IfMatch,
              Tags, TagKeys, Enabled, Aliases, ACMCertificateArn, and "path";
              Route 53: Id and Changes [{"Action", "Name", "Type", "TTL",
              "Values", "AliasTarget"}], and "path"; S3, not HeadBucket /
              HeadObject either: Bucket, Key, ExpectedBucketOwner and what the
              operation says (LocationConstraint, ObjectOwnership, Tags, Keys,
              Rules, ChecksumSHA256, Size...), never the body, and "path")

Usage: awsproxy.py --upstream http://127.0.0.1:PORT [--port 0] [--config JSON]
Prints "PORT <n>" on stdout once listening. Standard library only (but `resign`,
which uses botocore); loopback only.
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import re
import sys
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ACCOUNT = "123456789012"
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15"
ELB_NS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
ASG_NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
CF_NS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
R53_NS = "https://route53.amazonaws.com/doc/2013-04-01/"
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"

# distribution_in_progress_s's default: a CloudFront change is InProgress this
# long. Real AWS: typically under 5 minutes (AWS blog "Slashing CloudFront change
# propagation times in 2020"); the SDKs' DistributionDeployed waiter allows 35
# minutes (GetDistribution every 60 s, 35 attempts). Small here, for the tests.
DISTRIBUTION_IN_PROGRESS_S = 2
# dns_change_pending_s's default: a Route 53 change is PENDING this long. Real
# AWS: "Changes generally propagate to all Route 53 name servers within 60
# seconds" (API_GetChange). Small here, for the tests.
DNS_CHANGE_PENDING_S = 1
# certificate_record_s's default: DescribeCertificate has no ResourceRecord this
# long after RequestCertificate. Real AWS: "there is a delay of several seconds
# before you can retrieve information about the new certificate"
# (API_RequestCertificate).
CERTIFICATE_RECORD_S = 1
# certificate_issue_s's default: a certificate is ISSUED this long after its
# validation record answers (its change INSYNC). Real AWS: minutes.
CERTIFICATE_ISSUE_S = 1
# certificate_linger_s's default: DeleteCertificate answers ResourceInUseException
# this long after the last distribution stopped using the certificate. Real AWS:
# the association lingers for minutes.
CERTIFICATE_LINGER_S = 2
# CloudFront's InvalidViewerCertificate answers (its API reference's error codes;
# the wording as the service gives it).
CERT_INVALID = ("The specified SSL certificate doesn't exist, isn't in us-east-1 region, isn't valid, "
                "or doesn't include a valid certificate chain.")
CERT_REQUIRED = ("To add an alternate domain name (CNAME) to a CloudFront distribution, you must attach "
                 "a trusted certificate that validates your authorization to use the domain name. For "
                 "more details, see: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
                 "CNAMEs.html#alternate-domain-names-requirements")
CERT_NOT_COVERING = ("The certificate that is attached to your distribution doesn't cover the alternate "
                     "domain name (CNAME) that you're trying to add. For more details, see: "
                     "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
                     "CNAMEs.html#alternate-domain-names-requirements")

# instance_profile_eventual_s's default: EC2 (RunInstances, and Auto Scaling's
# check of a launch template) answers that an instance profile's name is invalid
# for this long after CreateInstanceProfile. Real AWS: seconds, typically under
# ten (terraform-provider-aws#27516: a profile "Creation complete after 0s" then
# refused; #4769: "created successfully after retrying"; terraform waits up to
# 2 minutes). The tool retries on the exact error.
INSTANCE_PROFILE_EVENTUAL_S = 8
PROFILE_INVALID = "Value ({v}) for parameter iamInstanceProfile.{p} is invalid. Invalid IAM Instance Profile {w}"
# S3 operation -> (its IAM action, the resource it acts on): the Service
# Authorization Reference's S3 table (list_amazons3.html) and each operation's
# "Permissions" in the S3 API reference (HeadBucket: s3:ListBucket; HeadObject:
# s3:GetObject; Delete*/Put* of a bucket's subresource: its Put action).
S3_ACTIONS = {
    "HeadBucket": ("s3:ListBucket", "bucket"), "ListObjects": ("s3:ListBucket", "bucket"),
    "ListObjectsV2": ("s3:ListBucket", "bucket"), "ListObjectVersions": ("s3:ListBucketVersions", "bucket"),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", "bucket"),
    "GetBucketTagging": ("s3:GetBucketTagging", "bucket"), "PutBucketTagging": ("s3:PutBucketTagging", "bucket"),
    "DeleteBucketTagging": ("s3:PutBucketTagging", "bucket"),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock", "bucket"),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "bucket"),
    "DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "bucket"),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration", "bucket"),
    "PutBucketEncryption": ("s3:PutEncryptionConfiguration", "bucket"),
    "DeleteBucketEncryption": ("s3:PutEncryptionConfiguration", "bucket"),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration", "bucket"),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", "bucket"),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration", "bucket"),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls", "bucket"),
    "PutBucketOwnershipControls": ("s3:PutBucketOwnershipControls", "bucket"),
    "DeleteBucketOwnershipControls": ("s3:PutBucketOwnershipControls", "bucket"),
    "GetBucketLocation": ("s3:GetBucketLocation", "bucket"), "GetBucketVersioning": ("s3:GetBucketVersioning", "bucket"),
    "PutBucketVersioning": ("s3:PutBucketVersioning", "bucket"), "GetBucketPolicy": ("s3:GetBucketPolicy", "bucket"),
    "PutBucketPolicy": ("s3:PutBucketPolicy", "bucket"), "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", "bucket"),
    "GetBucketAcl": ("s3:GetBucketAcl", "bucket"), "PutBucketAcl": ("s3:PutBucketAcl", "bucket"),
    "DeleteBucket": ("s3:DeleteBucket", "bucket"),
    "HeadObject": ("s3:GetObject", "object"), "GetObject": ("s3:GetObject", "object"),
    "GetObjectTagging": ("s3:GetObjectTagging", "object"), "PutObjectTagging": ("s3:PutObjectTagging", "object"),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", "object"), "GetObjectAcl": ("s3:GetObjectAcl", "object"),
    "PutObjectAcl": ("s3:PutObjectAcl", "object"), "PutObject": ("s3:PutObject", "object"),
    "DeleteObject": ("s3:DeleteObject", "object"), "CreateMultipartUpload": ("s3:PutObject", "object"),
    "UploadPart": ("s3:PutObject", "object"), "UploadPartCopy": ("s3:PutObject", "object"),
    "CompleteMultipartUpload": ("s3:PutObject", "object"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", "object"),
    "ListParts": ("s3:ListMultipartUploadParts", "object"),
}

# SigV4 signing name -> this proxy's name for the service.
SIGNING = {"ec2": "ec2", "elasticloadbalancing": "elb", "autoscaling": "autoscaling", "iam": "iam",
           "sts": "sts", "scheduler": "scheduler", "tagging": "tagging", "cloudfront": "cloudfront",
           "route53": "route53", "acm": "acm", "s3": "s3"}
# ... -> the service prefix of its IAM actions.
PREFIX = {"ec2": "ec2", "elb": "elasticloadbalancing", "autoscaling": "autoscaling", "iam": "iam",
          "sts": "sts", "scheduler": "scheduler", "tagging": "tag", "cloudfront": "cloudfront",
          "route53": "route53", "acm": "acm", "s3": "s3"}

# Instance types not built on the Nitro System (Xen): "Instances built on the
# Nitro System", Amazon EC2 User Guide (every type not listed there; i3.metal and
# p3dn.24xlarge are Nitro).
XEN_FAMILIES = {"t1", "t2", "m1", "m2", "m3", "m4", "c1", "c3", "c4", "cc1", "cc2", "cg1", "cr1",
                "r3", "r4", "i2", "i3", "hi1", "hs1", "d2", "x1", "x1e", "p2", "p3", "g2", "g3",
                "g3s", "h1", "f1"}

VCPU_MESSAGE = ("You have requested more vCPU capacity than your current vCPU limit of {n} allows for "
                "the instance bucket that the specified instance type belongs to. Please visit "
                "http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit. "
                "Launching EC2 instance failed.")
ASSUME_MESSAGE = "The execution role you provide must allow AWS EventBridge Scheduler to assume the role."


# The default quota of inbound rules per security group, and what AWS counts a
# managed prefix list for against it (its maximum entries: the VPC guide's
# "Available AWS-managed prefix lists" table gives 55 for CloudFront's).
SG_INBOUND_RULES = 60
PREFIX_LIST_WEIGHTS = {"com.amazonaws.global.cloudfront.origin-facing": 55}


def nitro(instance_type):
    family = (instance_type or "").partition(".")[0]
    if instance_type in ("i3.metal", "p3dn.24xlarge"):
        return True
    return family not in XEN_FAMILIES


class State:
    def __init__(self, config, evaluator=None):
        self.cfg = config
        self.iam_eval = evaluator
        self.lock = threading.Lock()
        self.launched = {}  # instance id -> launch time
        self.terminated = {}  # instance id -> termination time
        self.lb_created = {}  # lb arn -> creation time
        self.lb_groups = {}  # lb arn -> [sg ids]
        self.lb_deleted = {}  # lb arn -> deletion time
        self.sg_refusals = {}  # sg id -> refusals so far
        self.client_tokens = {}  # RunInstances client token -> (parameters, first response)
        self.registered = {}  # instance id -> RegisterTargets time
        self.draining = {}  # (target group arn, instance id) -> DeregisterTargets time
        self.tg_delay = {}  # target group arn -> deregistration delay set, seconds
        self.drops_left = dict(config.get("drop_after_actions") or {})
        self.stats = new_stats()
        self.authorized_seen = set()  # stats["authorized"] entries, deduplicated
        self.created = {}  # group id / key name / instance id -> creation time (eventual_s)
        self.subnet_zone = {}  # subnet id -> zone, learnt from DescribeSubnets answers
        self.key_fingerprints = {}  # moto's fingerprint -> AWS's (ed25519 imports)
        self.roles_created = {}  # role name -> CreateRole time (iam_eventual_s)
        self.profiles_created = {}  # instance profile name -> CreateInstanceProfile time
        self.groups_deleting = {}  # (region, schedule group) -> {"t", "arn", "created", "modified"}
        self.asg_asked = {}  # (region, group) -> {"desired", "min"} beyond asg_instance_limit
        self.asg_failed = []  # failed launch activities (asg_instance_limit)
        self.distributions = {}  # CloudFront distribution id -> {"etag", "changed", "enabled"}
        self.changes = {}  # Route 53 change id -> {"t": when submitted, "at": its SubmittedAt}
        self.record_written = {}  # (record name, value), normalized -> when a change through here wrote it
        self.record_visible = {}  # ... -> when ACM could first see it (the change INSYNC, or first seen)
        self.cert_users = {}  # certificate ARN -> {distribution ARN: None while it uses it, else since when not}
        self.start = time.time()
        faults = config.get("faults") or {}
        self.rng = random.Random(faults.get("seed", 0))

    def count(self, key, name):
        with self.lock:
            d = self.stats[key]
            d[name] = d.get(name, 0) + 1

    def take_planned_drop(self, action):
        """drop_after_actions: {"Action": n} drops the connection after moto
        handled the first n requests of that action."""
        with self.lock:
            left = self.drops_left.get(action, 0)
            if left > 0:
                self.drops_left[action] = left - 1
                return True
            return False

    def first_seen(self, action):
        with self.lock:
            self.stats["first"].setdefault(action, round(time.time() - self.start, 3))

    def chance(self, rate):
        if not rate:
            return False
        with self.lock:
            return self.rng.random() < rate

    def authorized(self, action, resource, context, decision):
        entry = {"action": action, "resource": resource, "context": context, "decision": decision}
        key = json.dumps(entry, sort_keys=True)
        with self.lock:
            if key not in self.authorized_seen:
                self.authorized_seen.add(key)
                self.stats["authorized"].append(entry)


def new_stats():
    return {"actions": {}, "injected": {}, "polls": {}, "first": {}, "denied": [], "requests": [],
            "authorized": []}


# --- answers in each service's own error format ------------------------------

def ec2_error(code, message, status=400):
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error></Errors><RequestID>proxy</RequestID></Response>"
    )
    return status, body


def query_error(ns):
    """The ErrorResponse of the query APIs (ELB, Auto Scaling, IAM, STS)."""
    def error(code, message, status=400):
        body = (
            f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>proxy</RequestId></ErrorResponse>"
        )
        return status, body
    return error


def query_error_shape(text):
    """The query APIs' errors as AWS words them: <ErrorResponse><Error>...
    (e.g. STS's API reference, "Common Errors" with the query protocol);
    moto's IAM enforcement answers <ErrorResponse><Errors><Error>..., which
    the AWS SDKs cannot read (no error code)."""
    return re.sub(r"<ErrorResponse>\s*<Errors>(.*?)</Errors>\s*</ErrorResponse>",
                  r"<ErrorResponse>\1<RequestId>proxy</RequestId></ErrorResponse>", text, flags=re.S)


elb_error = query_error(ELB_NS)
asg_error = query_error(ASG_NS)
iam_error = query_error(IAM_NS)
sts_error = query_error(STS_NS)


def rest_json_error(code, message, status=400):
    """EventBridge Scheduler (REST JSON): the code in x-amzn-ErrorType."""
    return status, json.dumps({"Message": message}), "application/json", {"x-amzn-ErrorType": code}


def json11_error(code, message, status=400):
    """The Resource Groups Tagging API (JSON 1.1)."""
    return (status, json.dumps({"__type": code, "Message": message}), "application/x-amz-json-1.1",
            {"x-amzn-ErrorType": code})


def cloudfront_error(code, message, status=400):
    """CloudFront (REST-XML): its ErrorResponse, as the API reference's "Common
    Errors" give it."""
    body = (f'<?xml version="1.0"?><ErrorResponse xmlns="{CF_NS}"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>proxy</RequestId></ErrorResponse>")
    return status, body


def route53_error(code, message, status=400):
    """Route 53 (REST-XML): its ErrorResponse."""
    body = (f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{R53_NS}"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>proxy</RequestId></ErrorResponse>")
    return status, body


def s3_lifecycle_refusal(rules):
    """S3's answer to a PutBucketLifecycleConfiguration moto accepts and AWS
    refuses, else None: Days / DaysAfterInitiation below 1 ("'Days' for Expiration
    action must be a positive integer", scality/Arsenal#2648, reproduced against
    AWS; API_LifecycleExpiration: "The value must be a non-zero positive
    integer"), AbortIncompleteMultipartUpload in a rule filtered by tags
    ("AbortIncompleteMultipartUpload cannot be specified with Tags.",
    terraform-aws-modules/terraform-aws-s3-bucket#109), a rule without any
    action, two rules with one ID (the last two wordings are assumptions). A
    rule with neither Filter nor Prefix moto already refuses (MalformedXML)."""
    seen = set()
    for r in rules:
        rid = r.get("ID")
        if rid:
            if rid in seen:
                return s3_error("InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule",
                                extra={"ArgumentName": "ID", "ArgumentValue": rid})
            seen.add(rid)
        exp = r.get("Expiration") or {}
        if not (exp.get("Days") or exp.get("Date") or exp.get("ExpiredObjectDeleteMarker")
                or r.get("AbortDays") is not None or r.get("Transitions") or r.get("Noncurrent")):
            return s3_error("InvalidRequest", "At least one action needs to be specified in a rule")
        for value, what in ((exp.get("Days"), "'Days' for Expiration action"),
                            (r.get("AbortDays"), "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action")):
            if value is None:
                continue
            try:
                ok = int(value) >= 1
            except ValueError:
                ok = False
            if not ok:
                return s3_error("InvalidArgument", f"{what} must be a positive integer")
        if r.get("AbortDays") is not None and r.get("FilterTags"):
            return s3_error("InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags.")
    return None


def delete_objects_body(keys, quiet):
    """A DeleteObjects request body for `keys`."""
    items = "".join(f"<Object><Key>{escape(k)}</Key></Object>" for k in keys)
    q = "<Quiet>true</Quiet>" if quiet else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="{S3_NS}">{items}{q}</Delete>').encode()


def delete_result(text, denied, quiet):
    """moto's DeleteResult (or none) with an <Error> AccessDenied for each key
    in `denied` (Quiet mode lists errors too: "only the errors")."""
    errors = "".join(f"<Error><Key>{escape(k)}</Key><Code>AccessDenied</Code><Message>Access Denied</Message>"
                     "</Error>" for k in denied)
    m = re.search(r"</DeleteResult>\s*$", text or "")
    if m:
        return text[:m.start()] + errors + text[m.start():]
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="{S3_NS}">{errors}</DeleteResult>'


def s3_error(code, message, status=400, extra=None):
    """S3's <Error> (Handler.reply sends no body to a HEAD request, as S3 answers
    HEAD)."""
    more = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in (extra or {}).items())
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message>{more}<RequestId>proxy</RequestId></Error>")
    return status, body, "application/xml", {}


ERRORS = {"ec2": ec2_error, "elb": elb_error, "autoscaling": asg_error, "iam": iam_error, "sts": sts_error,
          "scheduler": rest_json_error, "tagging": json11_error, "cloudfront": cloudfront_error,
          "route53": route53_error, "acm": json11_error, "s3": s3_error}


def error_code(answer):
    """The error code of an answer made by one of the functions above."""
    if len(answer) > 3 and answer[3].get("x-amzn-ErrorType"):
        return answer[3]["x-amzn-ErrorType"]
    m = re.search(r"<Code>([^<]*)</Code>", answer[1])
    return m.group(1) if m else "Error"


def is_poll(action, params):
    """Whether a request is one of the tool's wait loops: describes by id/ARN
    (finds use filters or names) and the interface-linger check."""
    if action == "DescribeInstances":
        return any(k.startswith("InstanceId.") for k in params) or any(
            k.startswith("Filter.") and k.endswith(".Name") and v[0] == "instance-id"
            for k, v in params.items())
    if action == "DescribeLoadBalancers":
        return any(k.startswith("LoadBalancerArns.") for k in params)
    return action == "DescribeNetworkInterfaces"


# --- XML helpers ----------------------------------------------------------------

def top_elements(inner, tag):
    """The top-level <tag>...</tag> elements of an XML list body."""
    out, depth, start = [], 0, None
    for m in re.finditer(rf"<{tag}>|</{tag}>", inner):
        if m.group(0) == f"<{tag}>":
            if depth == 0:
                start = m.start()
            depth += 1
        else:
            depth -= 1
            if depth == 0 and start is not None:
                out.append(inner[start:m.end()])
    return out


def top_members(inner):
    """The top-level <member>...</member> elements of an XML list body."""
    return top_elements(inner, "member")


def own_text(member, tag):
    """The member's own <tag> value, not one inside a nested list."""
    body = member[member.index(">") + 1:member.rindex("<")]
    for nested in top_members(body):
        body = body.replace(nested, "")
    m = re.search(rf"<{tag}>([^<]*)</{tag}>", body)
    return m.group(1) if m else None


def listener_port(member):
    """The listener's own <Port>, not one inside a nested list (DefaultActions)."""
    return own_text(member, "Port")


def describe_name(text):
    m = re.search(r"<(Describe[A-Za-z]+)Response", text)
    return m.group(1) if m else "Describe"


def drop_instances(text, hidden):
    """A DescribeInstances answer without the instances in `hidden` (and
    without the reservations left empty)."""
    if not hidden:
        return text
    m = re.search(r"<reservationSet>(.*)</reservationSet>", text, re.S)
    if not m:
        return text
    kept = []
    for res in top_elements(m.group(1), "item"):
        inst = re.search(r"<instancesSet>(.*)</instancesSet>", res, re.S)
        if not inst:
            kept.append(res)
            continue
        items = top_elements(inst.group(1), "item")
        left = [i for i in items if re.search(r"<instanceId>([^<]+)</instanceId>", i).group(1) not in hidden]
        if not left:
            continue
        if len(left) != len(items):
            res = res.replace(inst.group(0), f"<instancesSet>{''.join(left)}</instancesSet>")
        kept.append(res)
    return text[:m.start()] + f"<reservationSet>{''.join(kept)}</reservationSet>" + text[m.end():]


INSTANCE_STATE = re.compile(
    r"(<instanceId>(i-[0-9a-f]+)</instanceId>.*?<instanceState><code>)(\d+)(</code><name>)([a-z-]+)(</name></instanceState>)",
    re.S,
)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# --- what a request is ----------------------------------------------------------

class Req:
    """A request: its service, operation and parameters. Query APIs: `params`
    (parse_qs of the form body). JSON APIs: `body` (the parsed JSON) and, for
    EventBridge Scheduler, `rest` (what the path and query say). CloudFront
    (REST-XML): `rest` (cloudfront_op: path, query, If-Match and the XML body).
    Route 53 (REST-XML): `rest` (route53_op: path, query and the XML body). ACM
    (JSON 1.1): `body`."""

    def __init__(self, handler, raw):
        auth = handler.headers.get("Authorization", "")
        m = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/([^/]+)/", auth)
        self.region = m.group(1) if m else None
        self.svc = SIGNING.get(m.group(2) if m else "", "other")
        self.partition = partition_of(self.region or "us-east-1")
        self.raw = raw
        self.body = {}
        self.rest = {}
        text = raw.decode("utf-8", "replace") if self.svc != "s3" else ""
        ctype = handler.headers.get("Content-Type", "")
        rest_xml = self.svc in ("cloudfront", "route53", "s3")
        self.params = urllib.parse.parse_qs(text) if "json" not in ctype and not rest_xml else {}
        self.action = (self.params.get("Action") or [""])[0]
        self.op = self.action
        if self.svc in ("scheduler", "tagging", "acm"):
            try:
                self.body = json.loads(text) if text.strip() else {}
            except ValueError:
                self.body = {}
            if not isinstance(self.body, dict):
                self.body = {}
        if self.svc == "scheduler":
            self.op, self.rest = scheduler_op(handler.command, handler.path, self.body)
        elif self.svc in ("tagging", "acm"):
            target = handler.headers.get("X-Amz-Target", "")
            self.op = target.rsplit(".", 1)[-1] if target else ""
        elif self.svc == "cloudfront":
            self.op, self.rest = cloudfront_op(handler.command, handler.path, raw)
            self.rest["IfMatch"] = handler.headers.get("If-Match")
        elif self.svc == "route53":
            self.op, self.rest = route53_op(handler.command, handler.path, raw)
        elif self.svc == "s3":
            headers = {k.lower(): v for k, v in handler.headers.items()}
            self.op, self.rest = s3_op(handler.command, handler.path, headers, raw)

    def p(self, key, default=None):
        v = self.params.get(key)
        return v[0] if v else default

    def listed(self, prefix):
        """The values of Prefix.1, Prefix.2, ... in order."""
        out = []
        for k, v in self.params.items():
            m = re.fullmatch(re.escape(prefix) + r"\.(\d+)", k)
            if m:
                out.append((int(m.group(1)), v[0]))
        return [v for _, v in sorted(out)]

    @property
    def logged_params(self):
        if self.svc in ("scheduler", "tagging", "acm"):
            return dict(self.body)
        if self.svc in ("cloudfront", "route53"):
            return {k: v for k, v in self.rest.items() if v is not None}
        if self.svc == "s3":
            return {k: v for k, v in self.rest.items() if v is not None and k not in ("payload", "trailers")}
        return {k: v[0] for k, v in self.params.items()}


def scheduler_op(method, path, body):
    """EventBridge Scheduler's operation, from method and path (its REST API)."""
    u = urllib.parse.urlsplit(path)
    raw = [p for p in u.path.split("/") if p]
    q = urllib.parse.parse_qs(u.query)
    if not raw:
        return "", {}
    head = raw[0]
    if head == "schedule-groups":
        if len(raw) == 1:
            return "ListScheduleGroups", {"NamePrefix": (q.get("NamePrefix") or [None])[0]}
        name = urllib.parse.unquote(raw[1])
        op = {"POST": "CreateScheduleGroup", "GET": "GetScheduleGroup",
              "DELETE": "DeleteScheduleGroup"}.get(method, "")
        return op, {"Name": name}
    if head == "schedules":
        if len(raw) == 1:
            return "ListSchedules", {"GroupName": (q.get("ScheduleGroup") or [None])[0]}
        name = urllib.parse.unquote(raw[1])
        op = {"POST": "CreateSchedule", "PUT": "UpdateSchedule", "GET": "GetSchedule",
              "DELETE": "DeleteSchedule"}.get(method, "")
        if method in ("POST", "PUT"):
            group = body.get("GroupName")
        else:
            group = (q.get("groupName") or [None])[0]
        return op, {"Name": name, "GroupName": group or "default"}
    if head == "tags":
        arn = urllib.parse.unquote("/".join(raw[1:]))
        op = {"POST": "TagResource", "GET": "ListTagsForResource", "DELETE": "UntagResource"}.get(method, "")
        return op, {"ResourceArn": arn, "TagKeys": q.get("TagKeys") or []}
    return "", {}


def xml_local(tag):
    """An ElementTree tag without its {namespace}."""
    return tag.rsplit("}", 1)[-1]


def xml_child(elem, name):
    """The first direct child of `elem` named `name` (any namespace), or None."""
    if elem is None:
        return None
    return next((c for c in elem if xml_local(c.tag) == name), None)


def xml_parse(data):
    try:
        return ET.fromstring(data) if data and data.strip() else None
    except ET.ParseError:
        return None


def cf_tags(tags_elem):
    """{key: value} of a CloudFront <Tags><Items><Tag><Key/><Value/></Tag>..."""
    out = {}
    items = xml_child(tags_elem, "Items")
    for tag in list(items) if items is not None else []:
        key = xml_child(tag, "Key")
        value = xml_child(tag, "Value")
        if key is not None:
            out[key.text or ""] = (value.text or "") if value is not None else ""
    return out


def cf_config(root):
    """The <DistributionConfig> of a request or answer (itself, or inside
    <DistributionConfigWithTags> / <Distribution>)."""
    if root is None:
        return None
    if xml_local(root.tag) == "DistributionConfig":
        return root
    return xml_child(root, "DistributionConfig")


def cf_enabled(root):
    """The DistributionConfig's own Enabled (not an OriginShield's or a
    Logging's): True, False, or None when there is none."""
    e = xml_child(cf_config(root), "Enabled")
    return None if e is None else (e.text or "").strip().lower() == "true"


def cf_viewer(root):
    """(the DistributionConfig's Aliases, lowercased; its ViewerCertificate's
    ACMCertificateArn or ""; whether it names an IAM certificate)."""
    config = cf_config(root)
    items = xml_child(xml_child(config, "Aliases"), "Items")
    aliases = [(c.text or "").strip().lower() for c in (list(items) if items is not None else [])
               if (c.text or "").strip()]
    viewer = xml_child(config, "ViewerCertificate")
    arn = xml_child(viewer, "ACMCertificateArn")
    iam = xml_child(viewer, "IAMCertificateId")
    return aliases, (arn.text or "").strip() if arn is not None else "", bool(iam is not None and iam.text)


def cloudfront_op(method, path, raw):
    """CloudFront's operation, from method, path and query (its REST API,
    version 2020-05-31), and what the request says: {"Id" | "Resource", "Tags",
    "TagKeys", "Enabled", "Aliases", "ACMCertificateArn"}."""
    u = urllib.parse.urlsplit(path)
    parts = [urllib.parse.unquote(p) for p in u.path.split("/") if p]
    q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
    if len(parts) < 2 or parts[0] != "2020-05-31":
        return "", {}
    head, tail = parts[1], parts[2:]
    root = xml_parse(raw) if method in ("POST", "PUT") else None
    rest = {}
    op = ""
    if head == "distribution":
        if not tail:
            if method == "POST":
                op = "CreateDistributionWithTags" if "WithTags" in q else "CreateDistribution"
                rest["Enabled"] = cf_enabled(root)
                rest.update(cf_viewer_logged(root))
                if op == "CreateDistributionWithTags":
                    rest["Tags"] = cf_tags(xml_child(root, "Tags"))
            elif method == "GET":
                op = "ListDistributions"
        else:
            rest["Id"] = tail[0]
            more = tail[1:]
            if not more:
                op = {"GET": "GetDistribution", "DELETE": "DeleteDistribution"}.get(method, "")
            elif more == ["config"]:
                op = {"GET": "GetDistributionConfig", "PUT": "UpdateDistribution"}.get(method, "")
                if op == "UpdateDistribution":
                    rest["Enabled"] = cf_enabled(root)
                    rest.update(cf_viewer_logged(root))
            elif more[0] == "invalidation":
                if len(more) == 1:
                    op = {"POST": "CreateInvalidation", "GET": "ListInvalidations"}.get(method, "")
                else:
                    op = "GetInvalidation" if method == "GET" else ""
    elif head == "tagging":
        rest["Resource"] = (q.get("Resource") or [""])[0]
        operation = (q.get("Operation") or [""])[0]
        if method == "GET":
            op = "ListTagsForResource"
        elif method == "POST" and operation == "Tag":
            op = "TagResource"
            rest["Tags"] = cf_tags(root)
        elif method == "POST" and operation == "Untag":
            op = "UntagResource"
            keys = xml_child(root, "Items")
            rest["TagKeys"] = [k.text or "" for k in (list(keys) if keys is not None else [])]
    return op, rest


def cf_viewer_logged(root):
    """What stats["requests"] shows of a config's domain: Aliases and
    ACMCertificateArn, when it has them."""
    aliases, arn, _ = cf_viewer(root)
    out = {}
    if aliases:
        out["Aliases"] = aliases
    if arn:
        out["ACMCertificateArn"] = arn
    return out


def dns_name(name):
    """A DNS name as Route 53's condition keys and comparisons take it: lowercase,
    without the trailing dot."""
    return (name or "").strip().rstrip(".").lower()


def zone_order(name):
    """ListHostedZonesByName's order: "sorts hosted zones by name with the labels
    reversed. For example: com.example.www." (with the trailing dot)."""
    labels = dns_name(name).split(".")
    return ".".join(reversed(labels)) + "."


def r53_changes(root):
    """The changes of a ChangeResourceRecordSets body: [{"Action", "Name", "Type",
    "TTL", "Values", "AliasTarget"}]."""
    out = []
    changes = xml_child(xml_child(root, "ChangeBatch"), "Changes")
    for ch in list(changes) if changes is not None else []:
        rrset = xml_child(ch, "ResourceRecordSet")

        def text(elem, name):
            e = xml_child(elem, name)
            return (e.text or "").strip() if e is not None and e.text is not None else None
        records = xml_child(rrset, "ResourceRecords")
        values = [text(r, "Value") for r in (list(records) if records is not None else [])]
        alias = xml_child(rrset, "AliasTarget")
        out.append({"Action": (text(ch, "Action") or "").upper(), "Name": text(rrset, "Name") or "",
                    "Type": (text(rrset, "Type") or "").upper(), "TTL": text(rrset, "TTL"),
                    "Values": [v for v in values if v is not None],
                    "AliasTarget": None if alias is None else {
                        "HostedZoneId": text(alias, "HostedZoneId"), "DNSName": text(alias, "DNSName")}})
    return out


def route53_op(method, path, raw):
    """Route 53's operation, from method, path and query (its REST API, version
    2013-04-01), and what the request says: {"Id", "DNSName", "HostedZoneId",
    "MaxItems", "Changes", "StartRecordName", "StartRecordType"}. The SDKs send
    ids without their /hostedzone/ and /change/ prefixes."""
    u = urllib.parse.urlsplit(path)
    parts = [urllib.parse.unquote(p) for p in u.path.split("/") if p]
    q = urllib.parse.parse_qs(u.query, keep_blank_values=True)

    def first(k):
        return (q.get(k) or [None])[0]
    if len(parts) < 2 or parts[0] != "2013-04-01":
        return "", {}
    head, tail = parts[1], parts[2:]
    rest, op = {}, ""
    if head == "hostedzonesbyname" and method == "GET":
        op = "ListHostedZonesByName"
        rest = {"DNSName": first("dnsname"), "HostedZoneId": first("hostedzoneid"), "MaxItems": first("maxitems")}
    elif head == "hostedzone":
        if not tail:
            op = {"GET": "ListHostedZones", "POST": "CreateHostedZone"}.get(method, "")
        else:
            rest["Id"] = tail[0]
            more = tail[1:]
            if not more:
                op = {"GET": "GetHostedZone", "DELETE": "DeleteHostedZone",
                      "POST": "UpdateHostedZoneComment"}.get(method, "")
            elif more[0] == "rrset":
                if method == "POST":
                    op = "ChangeResourceRecordSets"
                    rest["Changes"] = r53_changes(xml_parse(raw))
                elif method == "GET":
                    op = "ListResourceRecordSets"
                    rest.update({"StartRecordName": first("name"), "StartRecordType": first("type"),
                                 "MaxItems": first("maxitems")})
    elif head == "change" and tail and method == "GET":
        op = "GetChange"
        rest["Id"] = tail[-1]
    return op, rest


# --- S3 (REST-XML, path-style: /<bucket>[/<key>]) ---------------------------------

def s3_payload(raw, headers):
    """(the bytes a request carries, its trailing headers): an aws-chunked body
    ("Content-Encoding: aws-chunked", x-amz-content-sha256 STREAMING-...: the SDKs'
    streaming uploads, with the checksum in a trailer) decoded; any other body as
    it is. Trailer names lowercased."""
    enc = (headers.get("content-encoding") or "").lower()
    sha = headers.get("x-amz-content-sha256") or ""
    if "aws-chunked" not in enc and not sha.startswith("STREAMING-"):
        return raw, {}
    out, trailers, i = bytearray(), {}, 0
    while i < len(raw):
        j = raw.find(b"\r\n", i)
        if j < 0:
            break
        try:
            size = int(raw[i:j].split(b";")[0].strip() or b"0", 16)
        except ValueError:
            return raw, {}
        i = j + 2
        if size == 0:
            for line in raw[i:].split(b"\r\n"):
                if b":" in line:
                    k, v = line.split(b":", 1)
                    trailers[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
            break
        out += raw[i:i + size]
        i += size + 2
    return bytes(out), trailers


def xml_texts(elem, name):
    """The text of every descendant of `elem` named `name` (any namespace)."""
    if elem is None:
        return []
    return [(e.text or "") for e in elem.iter() if xml_local(e.tag) == name]


def s3_tag_set(root):
    """{key: value} of a <Tagging><TagSet><Tag><Key/><Value/></Tag>... body."""
    out = {}
    for tag in (e for e in (root.iter() if root is not None else []) if xml_local(e.tag) == "Tag"):
        k, v = xml_child(tag, "Key"), xml_child(tag, "Value")
        if k is not None:
            out[k.text or ""] = (v.text or "") if v is not None else ""
    return out


def s3_lifecycle_rules(root):
    """The rules of a <LifecycleConfiguration> body: [{"ID", "Status", "Filter"
    ("Prefix" | "Tag" | "And" | None when the rule has no Filter), "Prefix" (the
    old schema's), "Expiration" {"Days", "Date", "ExpiredObjectDeleteMarker"},
    "AbortDays", "Transitions", "Noncurrent"}] (numbers as the text sent)."""
    rules = []
    for r in (c for c in (list(root) if root is not None else []) if xml_local(c.tag) == "Rule"):
        def text(elem, name):
            e = xml_child(elem, name)
            return (e.text or "").strip() if e is not None else None
        flt = xml_child(r, "Filter")
        kind = None
        if flt is not None:
            kind = next((xml_local(c.tag) for c in flt), "Empty")
        exp = xml_child(r, "Expiration")
        abort = xml_child(r, "AbortIncompleteMultipartUpload")
        rules.append({
            "ID": text(r, "ID"), "Status": text(r, "Status"), "Filter": kind,
            "FilterTags": s3_tag_set(flt) if flt is not None else {},
            "Prefix": text(r, "Prefix"),
            "Expiration": None if exp is None else {
                "Days": text(exp, "Days"), "Date": text(exp, "Date"),
                "ExpiredObjectDeleteMarker": text(exp, "ExpiredObjectDeleteMarker")},
            "AbortDays": text(abort, "DaysAfterInitiation") if abort is not None else None,
            "Transitions": len([c for c in r if xml_local(c.tag) in ("Transition", "NoncurrentVersionTransition")]),
            "Noncurrent": xml_child(r, "NoncurrentVersionExpiration") is not None,
        })
    return rules


S3_BUCKET_SUB = {  # (method, subresource) -> operation, on a bucket
    ("GET", "tagging"): "GetBucketTagging", ("PUT", "tagging"): "PutBucketTagging",
    ("DELETE", "tagging"): "DeleteBucketTagging",
    ("GET", "publicAccessBlock"): "GetPublicAccessBlock", ("PUT", "publicAccessBlock"): "PutPublicAccessBlock",
    ("DELETE", "publicAccessBlock"): "DeletePublicAccessBlock",
    ("GET", "encryption"): "GetBucketEncryption", ("PUT", "encryption"): "PutBucketEncryption",
    ("DELETE", "encryption"): "DeleteBucketEncryption",
    ("GET", "lifecycle"): "GetBucketLifecycleConfiguration", ("PUT", "lifecycle"): "PutBucketLifecycleConfiguration",
    ("DELETE", "lifecycle"): "DeleteBucketLifecycle",
    ("GET", "ownershipControls"): "GetBucketOwnershipControls",
    ("PUT", "ownershipControls"): "PutBucketOwnershipControls",
    ("DELETE", "ownershipControls"): "DeleteBucketOwnershipControls",
    ("GET", "location"): "GetBucketLocation", ("GET", "versioning"): "GetBucketVersioning",
    ("PUT", "versioning"): "PutBucketVersioning", ("GET", "policy"): "GetBucketPolicy",
    ("PUT", "policy"): "PutBucketPolicy", ("DELETE", "policy"): "DeleteBucketPolicy",
    ("GET", "acl"): "GetBucketAcl", ("PUT", "acl"): "PutBucketAcl",
    ("GET", "uploads"): "ListMultipartUploads", ("GET", "versions"): "ListObjectVersions",
    ("POST", "delete"): "DeleteObjects",
}
S3_OBJECT_SUB = {  # ... on an object
    ("GET", "tagging"): "GetObjectTagging", ("PUT", "tagging"): "PutObjectTagging",
    ("DELETE", "tagging"): "DeleteObjectTagging", ("GET", "acl"): "GetObjectAcl",
    ("PUT", "acl"): "PutObjectAcl", ("POST", "uploads"): "CreateMultipartUpload",
    ("GET", "uploadId"): "ListParts", ("POST", "uploadId"): "CompleteMultipartUpload",
    ("DELETE", "uploadId"): "AbortMultipartUpload", ("PUT", "uploadId"): "UploadPart",
}


def s3_op(method, path, headers, raw):
    """S3's operation, from method, path (path-style: /<bucket>[/<key>]), query
    and headers, and what the request says: {"Bucket", "Key", "ExpectedBucketOwner",
    and per operation "Prefix", "MaxKeys", "LocationConstraint", "ObjectOwnership",
    "Tags", "Keys" (DeleteObjects), "Rules" (lifecycle), "ChecksumSHA256",
    "Tagging"}, plus "payload" (the body's bytes, aws-chunked decoded) and
    "trailers", which stats do not show. `headers`: lowercase names."""
    u = urllib.parse.urlsplit(path)
    q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
    segs = u.path.split("/", 2)
    bucket = urllib.parse.unquote(segs[1]) if len(segs) > 1 and segs[1] else None
    key = urllib.parse.unquote(segs[2]) if len(segs) > 2 and segs[2] else None
    payload, trailers = s3_payload(raw, headers)
    rest = {"Bucket": bucket, "Key": key, "ExpectedBucketOwner": headers.get("x-amz-expected-bucket-owner"),
            "payload": payload, "trailers": trailers}

    def first(k):
        return (q.get(k) or [None])[0]
    op = ""
    if bucket is None:
        op = "ListBuckets" if method == "GET" else ""
    elif key is None:
        op = next((name for (m, sub), name in S3_BUCKET_SUB.items() if m == method and sub in q), "")
        if not op:
            op = {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket",
                  "GET": "ListObjectsV2" if first("list-type") == "2" else "ListObjects"}.get(method, "")
    else:
        op = next((name for (m, sub), name in S3_OBJECT_SUB.items() if m == method and sub in q), "")
        if op == "UploadPart" and headers.get("x-amz-copy-source"):
            op = "UploadPartCopy"
        if not op:
            op = {"HEAD": "HeadObject", "GET": "GetObject", "DELETE": "DeleteObject",
                  "PUT": "CopyObject" if headers.get("x-amz-copy-source") else "PutObject"}.get(method, "")
    root = xml_parse(payload) if method in ("PUT", "POST") and op not in ("PutObject", "UploadPart") else None
    if op in ("ListObjectsV2", "ListObjects", "ListObjectVersions"):
        rest.update({"Prefix": first("prefix"), "MaxKeys": first("max-keys"), "Delimiter": first("delimiter")})
    elif op == "CreateBucket":
        lc = xml_texts(root, "LocationConstraint")
        rest.update({"LocationConstraint": lc[0] if lc else None,
                     "ObjectOwnership": headers.get("x-amz-object-ownership"), "ACL": headers.get("x-amz-acl")})
    elif op in ("PutBucketTagging", "PutObjectTagging"):
        rest["Tags"] = s3_tag_set(root)
    elif op == "DeleteObjects":
        rest["Keys"] = [(xml_child(o, "Key").text or "") for o in (list(root) if root is not None else [])
                        if xml_local(o.tag) == "Object" and xml_child(o, "Key") is not None]
        quiet = xml_texts(root, "Quiet")
        rest["Quiet"] = bool(quiet) and quiet[0].strip().lower() == "true"
    elif op == "PutBucketLifecycleConfiguration":
        rest["Rules"] = s3_lifecycle_rules(root)
    elif op in ("PutObject", "UploadPart"):
        rest["ChecksumSHA256"] = headers.get("x-amz-checksum-sha256") or trailers.get("x-amz-checksum-sha256")
        rest["Size"] = len(payload)
        if headers.get("x-amz-tagging"):
            rest["Tagging"] = dict(urllib.parse.parse_qsl(headers["x-amz-tagging"], keep_blank_values=True))
        for h, k in (("x-amz-server-side-encryption", "ServerSideEncryption"), ("x-amz-acl", "ACL"),
                     ("x-amz-storage-class", "StorageClass")):
            if headers.get(h):
                rest[k] = headers[h]
    elif op == "CopyObject":
        rest["CopySource"] = urllib.parse.unquote(headers.get("x-amz-copy-source", ""))
        rest["ExpectedSourceBucketOwner"] = headers.get("x-amz-source-expected-bucket-owner")
        rest["TaggingDirective"] = (headers.get("x-amz-tagging-directive") or "COPY").upper()
        if headers.get("x-amz-tagging"):
            rest["Tagging"] = dict(urllib.parse.parse_qsl(headers["x-amz-tagging"], keep_blank_values=True))
    return op, rest


def s3_copy_source(rest):
    """CopyObject's source as (bucket, key): x-amz-copy-source is
    [/]<bucket>/<key>[?versionId=...], URL-encoded (s3_op decodes it)."""
    src = (rest.get("CopySource") or "").lstrip("/").split("?")[0]
    bucket, _, key = src.partition("/")
    return bucket, key


# --- IAM: every authorization AWS makes for a request ---------------------------

def ctx_request(tags):
    """aws:RequestTag/k and aws:TagKeys of the tags a request sets."""
    if not tags:
        return {}
    ctx = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    ctx["aws:TagKeys"] = list(tags)
    return ctx


def ctx_resource(tags, prefix=None):
    """aws:ResourceTag/k of a resource's current tags, and the service's own
    <prefix>:ResourceTag/k where the Service Authorization Reference lists one."""
    ctx = {}
    for k, v in (tags or {}).items():
        ctx[f"aws:ResourceTag/{k}"] = v
        if prefix:
            ctx[f"{prefix}:ResourceTag/{k}"] = v
    return ctx


class Authz:
    """The authorization checks AWS makes for one request, each as
    (action, resource ARN, context, label): the label names it in a denial."""

    def __init__(self, handler, req):
        self.h = handler
        self.req = req
        self.region = req.region or "us-east-1"
        self.part = req.partition
        self.checks = []
        self.per_key = []  # DeleteObjects: (key, action, resource, context, label), each decided alone

    # ARNs (Service Authorization Reference, "Resource types defined by ...")
    def ec2_arn(self, kind, rid):
        if kind == "image":
            return f"arn:{self.part}:ec2:{self.region}::image/{rid}"
        return f"arn:{self.part}:ec2:{self.region}:{ACCOUNT}:{kind}/{rid}"

    def role_arn(self, name, path="/"):
        return f"arn:{self.part}:iam::{ACCOUNT}:role{path}{name}"

    def profile_arn(self, name, path="/"):
        return f"arn:{self.part}:iam::{ACCOUNT}:instance-profile{path}{name}"

    def group_arn(self, name):
        g = self.h.moto("group", name=name)
        if g:
            return g["arn"], g["tags"]
        return f"arn:{self.part}:autoscaling:{self.region}:{ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/{name}", {}

    def add(self, action, resource, context=None, label=None):
        self.checks.append((action, resource, context or {}, label or f"{action} on {resource}"))

    def existing(self, action, arn, prefix=None, extra=None, label=None):
        """A check on a resource that exists: its current tags as moto holds them."""
        tags = self.h.tags_of(arn) or {}
        ctx = ctx_resource(tags, prefix)
        ctx.update(extra or {})
        self.add(action, arn, ctx, label)

    def create(self, prefix, op, arn, tags, label=None):
        """A create: the action with the request's tags, and tag-on-create
        authorized as the service's tagging action with <prefix>:CreateAction."""
        self.add(f"{prefix}:{op}", arn, ctx_request(tags), label)
        if tags:
            tag_action = {"ec2": "ec2:CreateTags", "elasticloadbalancing": "elasticloadbalancing:AddTags"}[prefix]
            ctx = ctx_request(tags)
            ctx[f"{prefix}:CreateAction"] = op
            self.add(tag_action, arn, ctx, f"{tag_action} (on {op}) on {arn}")

    def build(self):
        req = self.req
        svc, op = req.svc, req.op
        if not op:
            return []
        if svc == "sts" and op == "GetCallerIdentity":
            return []  # "No permissions are required to perform this operation."
        getattr(self, "svc_" + svc, self.svc_other)(op)
        return self.checks

    def svc_other(self, op):
        prefix = PREFIX.get(self.req.svc)
        if prefix:
            self.add(f"{prefix}:{op}", "*")

    svc_sts = svc_other
    svc_tagging = svc_other  # tag:GetResources: no resource types ("*")

    # EC2 -------------------------------------------------------------------
    def svc_ec2(self, op):
        req = self.req
        rt = request_tags("ec2", req.params)
        A = f"ec2:{op}"
        if op == "RunInstances":
            self.run_instances(self.launch_of_request(), label_for=None)
        elif op == "CreateSecurityGroup":
            self.create("ec2", op, self.ec2_arn("security-group", "*"), rt.get("security-group"))
            self.existing(A, self.ec2_arn("vpc", req.p("VpcId", "*")), "ec2")
        elif op in ("ImportKeyPair", "CreateKeyPair"):
            self.create("ec2", op, self.ec2_arn("key-pair", req.p("KeyName", "*")), rt.get("key-pair"))
        elif op in ("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
                    "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupEgress", "DeleteSecurityGroup",
                    "ModifySecurityGroupRules", "UpdateSecurityGroupRuleDescriptionsIngress"):
            self.existing(A, self.ec2_arn("security-group", req.p("GroupId", "*")), "ec2")
            if rt.get("security-group-rule"):
                self.create("ec2", op, self.ec2_arn("security-group-rule", "*"), rt["security-group-rule"])
        elif op in ("TerminateInstances", "StartInstances", "StopInstances", "RebootInstances",
                    "MonitorInstances", "UnmonitorInstances"):
            for iid in req.listed("InstanceId"):
                self.existing(A, self.ec2_arn("instance", iid), "ec2")
        elif op in ("GetConsoleOutput", "GetConsoleScreenshot", "ModifyInstanceAttribute"):
            self.existing(A, self.ec2_arn("instance", req.p("InstanceId", "*")), "ec2")
        elif op == "CreateLaunchTemplate":
            self.create("ec2", op, self.ec2_arn("launch-template", "*"), rt.get("launch-template"))
        elif op in ("CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "DeleteLaunchTemplate",
                    "DeleteLaunchTemplateVersions"):
            ltid = req.p("LaunchTemplateId")
            if not ltid and req.p("LaunchTemplateName"):
                lt = self.h.moto("launch-template", name=req.p("LaunchTemplateName"))
                ltid = lt["id"] if lt else None
            self.existing(A, self.ec2_arn("launch-template", ltid or "*"), "ec2")
        elif op in ("CreateTags", "DeleteTags"):
            tags = tag_params(req.params, "Tag")
            for rid in req.listed("ResourceId"):
                arn = self.ec2_arn(*self.ec2_kind(rid))
                extra = ctx_request(tags) if op == "CreateTags" else (
                    {"aws:TagKeys": list(tags)} if tags else {})
                if op == "DeleteTags":
                    extra.update({f"aws:RequestTag/{k}": v for k, v in tags.items() if v})
                self.existing(A, arn, "ec2", extra)
        elif op == "DeleteKeyPair":
            name = req.p("KeyName")
            if not name and req.p("KeyPairId"):
                kp = self.h.moto("key-pair", id=req.p("KeyPairId"))
                name = kp["name"] if kp else req.p("KeyPairId")
            self.existing(A, self.ec2_arn("key-pair", name or "*"), "ec2")
        else:
            self.add(A, "*")  # Describe*: no resource types

    def ec2_kind(self, rid):
        """(resource type, id for its ARN) of an EC2 resource id."""
        kinds = {"sg-": "security-group", "i-": "instance", "vol-": "volume", "lt-": "launch-template",
                 "subnet-": "subnet", "vpc-": "vpc", "eni-": "network-interface", "ami-": "image",
                 "sgr-": "security-group-rule"}
        if rid.startswith("key-"):
            kp = self.h.moto("key-pair", id=rid)
            return "key-pair", kp["name"] if kp else rid
        for pre, kind in kinds.items():
            if rid.startswith(pre):
                return kind, rid
        return "resource", rid

    def launch_of_request(self):
        """What a RunInstances launches with: the request's parameters over its
        launch template's."""
        req = self.req
        spec = {"image": None, "subnets": [], "groups": [], "key": None, "template": None,
                "tags": request_tags("ec2", req.params), "profile": None}
        lt_id, lt_name = req.p("LaunchTemplate.LaunchTemplateId"), req.p("LaunchTemplate.LaunchTemplateName")
        if lt_id or lt_name:
            lt = self.h.moto("launch-template", id=lt_id, name=lt_name, version=req.p("LaunchTemplate.Version"))
            if lt:
                spec = self.launch_of_template(lt)
                spec["tags"].update(request_tags("ec2", req.params))
        if req.p("ImageId"):
            spec["image"] = req.p("ImageId")
        subnets = [v[0] for k, v in req.params.items()
                   if k == "SubnetId" or re.fullmatch(r"NetworkInterface\.\d+\.SubnetId", k)]
        if subnets:
            spec["subnets"] = subnets
        groups = [v[0] for k, v in req.params.items()
                  if k.startswith("SecurityGroupId.") or re.fullmatch(r"NetworkInterface\.\d+\.SecurityGroupId\.\d+", k)]
        if groups:
            spec["groups"] = groups
        if req.p("KeyName"):
            spec["key"] = req.p("KeyName")
        if req.p("IamInstanceProfile.Arn") or req.p("IamInstanceProfile.Name"):
            spec["profile"] = {"Arn": req.p("IamInstanceProfile.Arn"), "Name": req.p("IamInstanceProfile.Name")}
        return spec

    @staticmethod
    def launch_of_template(lt):
        return {"image": lt.get("image_id"), "subnets": list(lt.get("subnet_ids") or []),
                "groups": list(lt.get("security_group_ids") or []), "key": lt.get("key_name"),
                "template": lt.get("id"), "tags": dict(lt.get("tag_specifications") or {}),
                "profile": lt.get("iam_instance_profile")}

    def run_instances(self, spec, label_for=None):
        """ec2:RunInstances on everything a launch uses (Service Authorization
        Reference, RunInstances), tag-on-create as ec2:CreateTags with
        ec2:CreateAction = RunInstances, and iam:PassRole for an instance profile.
        `label_for`: the operation that checks these on the caller (Auto Scaling's)."""
        A = "ec2:RunInstances"
        by = f" (checked by Auto Scaling for {label_for})" if label_for else ""

        def lab(action, arn):
            return f"{action} on {arn}{by}"
        tags = spec["tags"]
        created = [(kind, self.ec2_arn(kind, "*")) for kind in ("instance", "volume", "network-interface")]
        for kind, arn in created:
            self.add(A, arn, ctx_request(tags.get(kind)), lab(A, arn))
        arn = self.ec2_arn("image", spec["image"] or "*")
        self.existing(A, arn, "ec2", label=lab(A, arn))
        for sn in spec["subnets"] or ["*"]:
            arn = self.ec2_arn("subnet", sn)
            self.existing(A, arn, "ec2", label=lab(A, arn))
        for g in spec["groups"]:
            arn = self.ec2_arn("security-group", g)
            self.existing(A, arn, "ec2", label=lab(A, arn))
        if spec["key"]:
            arn = self.ec2_arn("key-pair", spec["key"])
            self.existing(A, arn, "ec2", label=lab(A, arn))
        if spec["template"]:
            arn = self.ec2_arn("launch-template", spec["template"])
            self.existing(A, arn, "ec2", label=lab(A, arn))
        for kind, arn in created:
            if tags.get(kind):
                ctx = ctx_request(tags[kind])
                ctx["ec2:CreateAction"] = "RunInstances"
                self.add("ec2:CreateTags", arn, ctx,
                         f"ec2:CreateTags (on RunInstances) on {arn}{by}")
        profile = spec.get("profile")
        if profile:
            # The role in the profile is passed to EC2; a profile that holds no
            # role passes none. A profile moto does not know: its name (this
            # tool names the role as the profile).
            p = self.h.moto("instance-profile", name=profile.get("Name"), arn=profile.get("Arn"))
            roles = p["roles"] if p is not None else [(profile.get("Arn") or profile.get("Name") or "").rsplit("/", 1)[-1]]
            for role in roles:
                self.pass_role(role, "ec2.amazonaws.com", label_for or "RunInstances")

    def pass_role(self, role_arn, service, for_op, extra=None):
        name = (role_arn or "").rsplit("/", 1)[-1]
        r = self.h.moto("role", name=name) if name else None
        tags = r["tags"] if r else {}
        ctx = ctx_resource(tags, "iam")
        ctx["iam:PassedToService"] = service
        ctx.update(extra or {})
        arn = r["arn"] if r else (role_arn if (role_arn or "").startswith("arn:") else self.role_arn(name))
        self.add("iam:PassRole", arn, ctx, f"iam:PassRole on {arn} (for {for_op})")

    # Elastic Load Balancing --------------------------------------------------
    def svc_elb(self, op):
        req = self.req
        A = f"elasticloadbalancing:{op}"
        rt = request_tags("elb", req.params).get("*")
        base = f"arn:{self.part}:elasticloadbalancing:{self.region}:{ACCOUNT}"
        if op == "CreateLoadBalancer":
            kind = {"network": "net", "gateway": "gwy"}.get(req.p("Type", "application"), "app")
            self.create("elasticloadbalancing", op, f"{base}:loadbalancer/{kind}/{req.p('Name', '*')}/*", rt)
        elif op == "CreateTargetGroup":
            self.create("elasticloadbalancing", op, f"{base}:targetgroup/{req.p('Name', '*')}/*", rt)
        elif op == "CreateListener":
            lb = req.p("LoadBalancerArn", "")
            arn = lb.replace(":loadbalancer/", ":listener/", 1) + "/*" if lb else f"{base}:listener/*"
            self.create("elasticloadbalancing", op, arn, rt)
        elif op == "CreateRule":
            # On the listener (its tags), with the rule's tags in the request;
            # tag-on-create is AddTags with CreateAction on the new rule.
            listener = req.p("ListenerArn", "")
            ctx = ctx_resource(self.h.tags_of(listener) or {}, "elasticloadbalancing")
            ctx.update(ctx_request(rt or {}))
            self.add(A, listener, ctx)
            if rt:
                rule = listener.replace(":listener/", ":listener-rule/", 1) + "/*"
                tctx = ctx_request(rt)
                tctx["elasticloadbalancing:CreateAction"] = op
                self.add("elasticloadbalancing:AddTags", rule, tctx, f"elasticloadbalancing:AddTags (on {op}) on {rule}")
        elif op in ("AddTags", "RemoveTags"):
            tags = tag_params(req.params, "Tags.member" if op == "AddTags" else "TagKeys.member")
            extra = ctx_request(tags) if op == "AddTags" else {"aws:TagKeys": list(tags)}
            for arn in req.listed("ResourceArns.member"):
                self.existing(A, arn, "elasticloadbalancing", extra)
        else:
            arn = None
            for key in ("LoadBalancerArn", "TargetGroupArn", "ListenerArn", "RuleArn"):
                if req.p(key):
                    arn = req.p(key)
            if arn and not op.startswith("Describe"):
                self.existing(A, arn, "elasticloadbalancing")
            else:
                self.add(A, "*")
        # The "Elastic Load Balancing API permissions" page: EC2 (and IAM)
        # actions the *caller* needs for these calls, checked by ELB.
        for needed in ELB_IMPLICIT.get(op, []):
            if needed == "iam:CreateServiceLinkedRole":
                ctx = {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}
                arn = (f"arn:{self.part}:iam::{ACCOUNT}:role/aws-service-role/elasticloadbalancing.amazonaws.com/"
                       "AWSServiceRoleForElasticLoadBalancing")
            else:
                ctx, arn = {}, "*"
            self.add(needed, arn, ctx, f"{needed} (checked by ELB for {op})")

    # Auto Scaling ------------------------------------------------------------
    def svc_autoscaling(self, op):
        req = self.req
        A = f"autoscaling:{op}"
        if op == "CreateAutoScalingGroup":
            name = req.p("AutoScalingGroupName", "*")
            arn = (f"arn:{self.part}:autoscaling:{self.region}:{ACCOUNT}:autoScalingGroup:*:"
                   f"autoScalingGroupName/{name}")
            tags = asg_tags(req.params)
            ctx = ctx_request(tags)
            ctx.update(self.asg_keys())
            self.add(A, arn, ctx)
            if tags:
                # The Service Authorization Reference: CreateAutoScalingGroup
                # also authorizes autoscaling:CreateOrUpdateTags (its tags).
                self.add("autoscaling:CreateOrUpdateTags", arn, ctx_request(tags),
                         f"autoscaling:CreateOrUpdateTags (on {op}) on {arn}")
            self.asg_launch_checks(op, None)
            if req.p("ServiceLinkedRoleARN"):
                self.pass_role(req.p("ServiceLinkedRoleARN"), "autoscaling.amazonaws.com", op)
            elif not self.h.moto("role", name="AWSServiceRoleForAutoScaling"):
                slr = (f"arn:{self.part}:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/"
                       "AWSServiceRoleForAutoScaling")
                self.add("iam:CreateServiceLinkedRole", slr,
                         {"iam:AWSServiceName": "autoscaling.amazonaws.com"},
                         f"iam:CreateServiceLinkedRole (checked by Auto Scaling for {op})")
        elif op in ("CreateOrUpdateTags", "DeleteTags"):
            by_group = {}
            for k, v in req.params.items():
                m = re.fullmatch(r"Tags\.member\.(\d+)\.Key", k)
                if m:
                    n = m.group(1)
                    group = req.p(f"Tags.member.{n}.ResourceId", "")
                    by_group.setdefault(group, {})[v[0]] = req.p(f"Tags.member.{n}.Value", "")
            for group, tags in by_group.items():
                arn, current = self.group_arn(group)
                ctx = ctx_resource(current, "autoscaling")
                if op == "CreateOrUpdateTags":
                    ctx.update(ctx_request(tags))
                else:
                    ctx["aws:TagKeys"] = list(tags)
                self.add(A, arn, ctx)
        elif op == "TerminateInstanceInAutoScalingGroup":
            inst = self.h.moto("instance", id=req.p("InstanceId", ""))
            arn, current = self.group_arn(inst["group"] if inst and inst.get("group") else "*")
            self.add(A, arn, ctx_resource(current, "autoscaling"))
        elif req.p("AutoScalingGroupName") and not op.startswith("Describe"):
            arn, current = self.group_arn(req.p("AutoScalingGroupName"))
            ctx = ctx_resource(current, "autoscaling")
            if op in ("UpdateAutoScalingGroup", "AttachLoadBalancerTargetGroups",
                      "DetachLoadBalancerTargetGroups"):
                ctx.update(self.asg_keys())
            self.add(A, arn, ctx)
            if op == "UpdateAutoScalingGroup":
                self.asg_launch_checks(op, req.p("AutoScalingGroupName"))
                if req.p("ServiceLinkedRoleARN"):
                    self.pass_role(req.p("ServiceLinkedRoleARN"), "autoscaling.amazonaws.com", op)
        else:
            self.add(A, "*")  # Describe*: no resource types

    def asg_keys(self):
        """Auto Scaling's own condition keys of a create/update request."""
        req = self.req
        ctx = {}
        for key, param in (("autoscaling:MinSize", "MinSize"), ("autoscaling:MaxSize", "MaxSize")):
            if req.p(param) is not None:
                ctx[key] = req.p(param)
        if req.p("VPCZoneIdentifier"):
            ctx["autoscaling:VPCZoneIdentifiers"] = [s for s in req.p("VPCZoneIdentifier").split(",") if s]
        tgs = req.listed("TargetGroupARNs.member")
        if tgs:
            ctx["autoscaling:TargetGroupARNs"] = tgs
        version = req.p("LaunchTemplate.Version")
        if req.p("LaunchTemplate.LaunchTemplateId") or req.p("LaunchTemplate.LaunchTemplateName"):
            ctx["autoscaling:LaunchTemplateVersionSpecified"] = (
                "true" if version and version not in ("$Latest", "$Default") else "false")
        return ctx

    def asg_launch_checks(self, op, group):
        """"ec2:RunInstances are checked when an Auto Scaling group is created or
        updated using a launch template" (Amazon EC2 Auto Scaling User Guide,
        "Control Amazon EC2 launch template usage in Auto Scaling groups")."""
        req = self.req
        pre = "LaunchTemplate."
        if not (req.p(pre + "LaunchTemplateId") or req.p(pre + "LaunchTemplateName")):
            pre = "MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification."
            if not (req.p(pre + "LaunchTemplateId") or req.p(pre + "LaunchTemplateName")):
                return
        lt = self.h.moto("launch-template", id=req.p(pre + "LaunchTemplateId"),
                         name=req.p(pre + "LaunchTemplateName"), version=req.p(pre + "Version"))
        if lt is None:
            return  # Auto Scaling answers that the template does not exist
        spec = self.launch_of_template(lt)
        subnets = [s for s in (req.p("VPCZoneIdentifier") or "").split(",") if s]
        if not subnets and group:
            g = self.h.moto("group", name=group)
            subnets = [s for s in ((g or {}).get("vpc_zone_identifier") or "").split(",") if s]
        if subnets:
            spec["subnets"] = subnets
        self.run_instances(spec, label_for=op)

    # IAM ---------------------------------------------------------------------
    def svc_iam(self, op):
        """IAM's table in the Service Authorization Reference: a role's calls on
        role/<name> (aws:ResourceTag and iam:ResourceTag: its tags), an instance
        profile's on instance-profile/<name> (aws:ResourceTag only: the SAR lists
        no iam:ResourceTag for that resource type). A create with Tags is also
        authorized as the tagging action (iam:TagRole, iam:TagInstanceProfile)
        with the request's tags: IAM answers "not authorized to perform:
        iam:TagRole" to a CreateRole with tags otherwise (openshift/installer#1073,
        iann0036/iamlive#97). AddRoleToInstanceProfile: "The caller of this
        operation must be granted the PassRole permission on the IAM role"
        (API_AddRoleToInstanceProfile), passed to ec2.amazonaws.com."""
        req = self.req
        A = f"iam:{op}"
        if op in ("CreateRole", "CreateInstanceProfile"):
            kind = "role" if op == "CreateRole" else "instance-profile"
            name = req.p("RoleName" if kind == "role" else "InstanceProfileName", "*")
            arn = f"arn:{self.part}:iam::{ACCOUNT}:{kind}{req.p('Path', '/')}{name}"
            tags = iam_tags(req.params)
            self.add(A, arn, ctx_request(tags))
            if tags:
                tag_action = "iam:TagRole" if kind == "role" else "iam:TagInstanceProfile"
                self.add(tag_action, arn, ctx_request(tags), f"{tag_action} (on {op}) on {arn}")
        elif op == "CreateServiceLinkedRole":
            service = req.p("AWSServiceName", "*")
            self.add(A, f"arn:{self.part}:iam::{ACCOUNT}:role/aws-service-role/{service}/*",
                     {"iam:AWSServiceName": service})
        elif req.p("InstanceProfileName"):
            p = self.h.moto("instance-profile", name=req.p("InstanceProfileName"))
            arn = p["arn"] if p else self.profile_arn(req.p("InstanceProfileName"))
            ctx = ctx_resource((p or {}).get("tags") or {})
            if op == "TagInstanceProfile":
                ctx.update(ctx_request(iam_tags(req.params)))
            elif op == "UntagInstanceProfile":
                ctx["aws:TagKeys"] = req.listed("TagKeys.member")
            self.add(A, arn, ctx)
            if op == "AddRoleToInstanceProfile" and req.p("RoleName"):
                # The API reference's note on iam:AssociatedResourceArn: for this
                # call it is arn:<partition>:ec2:*:<account>:instance/*.
                self.pass_role(self.role_arn(req.p("RoleName")), "ec2.amazonaws.com", op,
                               {"iam:AssociatedResourceArn": f"arn:{self.part}:ec2:*:{ACCOUNT}:instance/*"})
        elif req.p("RoleName"):
            r = self.h.moto("role", name=req.p("RoleName"))
            arn = r["arn"] if r else self.role_arn(req.p("RoleName"))
            ctx = ctx_resource(r["tags"] if r else {}, "iam")
            if op == "TagRole":
                ctx.update(ctx_request(iam_tags(req.params)))
            elif op == "UntagRole":
                ctx["aws:TagKeys"] = req.listed("TagKeys.member")
            self.add(A, arn, ctx)
        else:
            self.add(A, "*")

    # S3 ------------------------------------------------------------------------
    def svc_s3(self, op):
        """S3's table in the Service Authorization Reference: a bucket's calls on
        arn:<partition>:s3:::<bucket>, an object's on arn:<partition>:s3:::<bucket>/<key>
        (S3_ACTIONS: HeadBucket and ListObjectsV2 are s3:ListBucket, HeadObject
        s3:GetObject, GetPublicAccessBlock s3:GetBucketPublicAccessBlock, ...);
        DeleteObjects is s3:DeleteObject on each key, each key allowed or not
        on its own (self.per_key). CreateBucket with x-amz-object-ownership also
        needs s3:PutBucketOwnershipControls ("Permissions" in API_CreateBucket), a
        PutObject with x-amz-tagging s3:PutObjectTagging (API_PutObject). Context:
        s3:ResourceAccount (the bucket owner's account, when the bucket exists),
        s3:authType, s3:signatureversion, s3:x-amz-content-sha256, and the keys of
        the operation (s3:prefix, s3:max-keys, s3:delimiter; s3:locationconstraint,
        s3:x-amz-object-ownership, s3:x-amz-acl; s3:RequestObjectTag/k and
        s3:RequestObjectTagKeys; s3:ExistingObjectTag/k; s3:x-amz-server-side-encryption,
        s3:x-amz-storage-class). No aws:ResourceTag / s3:BucketTag: "By default,
        ABAC is disabled for all Amazon S3 general purpose buckets" (S3 User Guide,
        buckets-tagging-enable-abac.html), and this tool never enables it."""
        rest = self.req.rest
        b, k = rest.get("Bucket"), rest.get("Key")
        bucket_arn = f"arn:{self.part}:s3:::{b}"

        def obj(key):
            return f"{bucket_arn}/{key}"
        owner = self.h.s3_owner(b) if b else None
        base = {"s3:authType": "REST-HEADER", "s3:signatureversion": "AWS4-HMAC-SHA256"}
        sha = self.h.headers.get("x-amz-content-sha256")
        if sha:
            base["s3:x-amz-content-sha256"] = sha
        if owner:
            base["s3:ResourceAccount"] = owner

        def existing_tags(key):
            found = self.h.moto("s3-object", bucket=b, key=key) if b and key else None
            return {f"s3:ExistingObjectTag/{t}": v for t, v in ((found or {}).get("tags") or {}).items()}
        if op == "ListBuckets":
            self.add("s3:ListAllMyBuckets", "*", base)
        elif op == "CreateBucket":
            ctx = dict(base)
            ctx.pop("s3:ResourceAccount", None)
            for key, field in (("s3:locationconstraint", "LocationConstraint"),
                               ("s3:x-amz-object-ownership", "ObjectOwnership"), ("s3:x-amz-acl", "ACL")):
                if rest.get(field):
                    ctx[key] = rest[field]
            self.add("s3:CreateBucket", bucket_arn, ctx)
            if rest.get("ObjectOwnership"):
                self.add("s3:PutBucketOwnershipControls", bucket_arn, dict(base),
                         f"s3:PutBucketOwnershipControls (for CreateBucket) on {bucket_arn}")
        elif op == "DeleteObjects":
            for key in rest.get("Keys") or []:
                self.per_key.append((key, "s3:DeleteObject", obj(key), dict(base),
                                     f"s3:DeleteObject on {obj(key)} (for DeleteObjects)"))
        elif op == "CopyObject":
            sb, sk = s3_copy_source(rest)
            src = f"{sb}/{sk}"
            src_arn = f"arn:{self.part}:s3:::{src}"
            self.add("s3:PutObject", obj(k), dict(base, **{"s3:x-amz-copy-source": src}))
            src_ctx = dict(base)
            src_owner = self.h.s3_owner(sb) if sb else None
            if src_owner:
                src_ctx["s3:ResourceAccount"] = src_owner
            else:
                src_ctx.pop("s3:ResourceAccount", None)
            found = self.h.moto("s3-object", bucket=sb, key=sk) if sb and sk else None
            src_tags = (found or {}).get("tags") or {}
            src_ctx.update({f"s3:ExistingObjectTag/{t}": v for t, v in src_tags.items()})
            self.add("s3:GetObject", src_arn, src_ctx, f"s3:GetObject on {src_arn} (for CopyObject)")
            # The tag set goes along (x-amz-tagging-directive COPY, the default)
            # or is the request's (REPLACE): "If you're copying objects that have
            # object tags, then your IAM identity must have s3:GetObjectTagging
            # and s3:PutObjectTagging permissions ... s3:GetObjectTagging
            # permission for the source object and s3:PutObjectTagging permission
            # for objects in the destination bucket" (AWS Knowledge Center,
            # s3-troubleshoot-copy-between-buckets, as quoted in
            # Seagate/cortx-prvsnr#3033). REPLACE with x-amz-tagging needing
            # s3:PutObjectTagging is by analogy with PutObject's x-amz-tagging.
            new_tags = src_tags if rest.get("TaggingDirective") != "REPLACE" else (rest.get("Tagging") or {})
            if rest.get("TaggingDirective") != "REPLACE" and src_tags:
                self.add("s3:GetObjectTagging", src_arn, src_ctx,
                         f"s3:GetObjectTagging on {src_arn} (for CopyObject)")
            if new_tags:
                tctx = dict(base)
                tctx.update({f"s3:RequestObjectTag/{t}": v for t, v in new_tags.items()})
                tctx["s3:RequestObjectTagKeys"] = list(new_tags)
                self.add("s3:PutObjectTagging", obj(k), tctx, f"s3:PutObjectTagging (for CopyObject) on {obj(k)}")
        elif op in S3_ACTIONS:
            action, kind = S3_ACTIONS[op]
            ctx = dict(base)
            if op in ("ListObjects", "ListObjectsV2", "ListObjectVersions"):
                for key, field in (("s3:prefix", "Prefix"), ("s3:max-keys", "MaxKeys"),
                                   ("s3:delimiter", "Delimiter")):
                    if rest.get(field) is not None:
                        ctx[key] = rest[field]
            if op in ("PutObjectTagging", "PutObject"):
                tags = rest.get("Tags") if op == "PutObjectTagging" else rest.get("Tagging")
                if tags is not None:
                    ctx.update({f"s3:RequestObjectTag/{t}": v for t, v in tags.items()})
                    ctx["s3:RequestObjectTagKeys"] = list(tags)
            if op == "PutObject":
                for key, field in (("s3:x-amz-server-side-encryption", "ServerSideEncryption"),
                                   ("s3:x-amz-acl", "ACL"), ("s3:x-amz-storage-class", "StorageClass")):
                    if rest.get(field):
                        ctx[key] = rest[field]
            if action in ("s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging",
                          "s3:DeleteObjectTagging"):
                ctx.update(existing_tags(k))
            self.add(action, obj(k) if kind == "object" else bucket_arn, ctx,
                     None if action == f"s3:{op}" else f"{action} (for {op}) on "
                     f"{obj(k) if kind == 'object' else bucket_arn}")
            if op == "PutObject" and rest.get("Tagging"):
                tctx = dict(base)
                tctx.update({f"s3:RequestObjectTag/{t}": v for t, v in rest["Tagging"].items()})
                tctx["s3:RequestObjectTagKeys"] = list(rest["Tagging"])
                self.add("s3:PutObjectTagging", obj(k), tctx, f"s3:PutObjectTagging (for PutObject) on {obj(k)}")
        else:
            self.add(f"s3:{op}", bucket_arn if b else "*", base)

    # EventBridge Scheduler ---------------------------------------------------
    def svc_scheduler(self, op):
        rest, body = self.req.rest, self.req.body
        A = f"scheduler:{op}"
        base = f"arn:{self.part}:scheduler:{self.region}:{ACCOUNT}"
        if op == "CreateScheduleGroup":
            arn = f"{base}:schedule-group/{rest['Name']}"
            tags = {t.get("Key"): t.get("Value") for t in body.get("Tags") or []}
            self.add(A, arn, ctx_request(tags))
            if tags:
                # The Service Authorization Reference's operation table:
                # CreateScheduleGroup also authorizes scheduler:TagResource.
                self.add("scheduler:TagResource", arn, ctx_request(tags),
                         f"scheduler:TagResource (on {op}) on {arn}")
        elif op in ("GetScheduleGroup", "DeleteScheduleGroup"):
            arn = f"{base}:schedule-group/{rest['Name']}"
            self.existing(A, arn)
            if op == "DeleteScheduleGroup":
                # ... and DeleteScheduleGroup scheduler:DeleteSchedule (it
                # deletes the group's schedules).
                sched = f"{base}:schedule/{rest['Name']}/*"
                self.add("scheduler:DeleteSchedule", sched, {},
                         f"scheduler:DeleteSchedule on {sched} (for {op})")
        elif op in ("CreateSchedule", "UpdateSchedule", "GetSchedule", "DeleteSchedule"):
            # Schedules carry no tags ("You can only assign tags to schedule
            # groups"): no aws:ResourceTag (an assumption: see the module doc).
            arn = f"{base}:schedule/{rest['GroupName']}/{rest['Name']}"
            self.add(A, arn, {})
            role = (body.get("Target") or {}).get("RoleArn")
            if op in ("CreateSchedule", "UpdateSchedule") and role:
                self.pass_role(role, "scheduler.amazonaws.com", op)
        elif op in ("TagResource", "UntagResource", "ListTagsForResource"):
            arn = rest["ResourceArn"]
            extra = {}
            if op == "TagResource":
                extra = ctx_request({t.get("Key"): t.get("Value") for t in body.get("Tags") or []})
            elif op == "UntagResource":
                extra = {"aws:TagKeys": list(rest.get("TagKeys") or [])}
            self.existing(A, arn, None, extra)
        else:
            self.add(A, "*")  # ListSchedules, ListScheduleGroups

    # CloudFront ----------------------------------------------------------------
    def svc_cloudfront(self, op):
        """The Service Authorization Reference's CloudFront table: the calls on a
        distribution act on its ARN (aws:ResourceTag: its tags); a create has
        no ARN yet ("*", the request's tags as aws:RequestTag / aws:TagKeys), and
        CreateDistributionWithTags "requires the following IAM permissions:
        CreateDistribution, TagResource" (API reference)."""
        rest = self.req.rest
        A = f"cloudfront:{op}"
        if op in ("CreateDistribution", "CreateDistributionWithTags"):
            tags = rest.get("Tags") or {}
            self.add("cloudfront:CreateDistribution", "*", ctx_request(tags),
                     f"cloudfront:CreateDistribution (for {op}) on *")
            if op == "CreateDistributionWithTags":
                self.add("cloudfront:TagResource", "*", ctx_request(tags),
                         f"cloudfront:TagResource (on {op}) on *")
        elif rest.get("Id") and op in ("GetDistribution", "GetDistributionConfig", "UpdateDistribution",
                                       "DeleteDistribution", "CreateInvalidation", "GetInvalidation",
                                       "ListInvalidations"):
            self.existing(A, f"arn:{self.part}:cloudfront::{ACCOUNT}:distribution/{rest['Id']}")
        elif op in ("TagResource", "UntagResource", "ListTagsForResource"):
            extra = {}
            if op == "TagResource":
                extra = ctx_request(rest.get("Tags") or {})
            elif op == "UntagResource":
                extra = {"aws:TagKeys": list(rest.get("TagKeys") or [])}
            self.existing(A, rest.get("Resource") or "*", None, extra)
        else:
            self.add(A, "*")  # ListDistributions

    # Route 53 ------------------------------------------------------------------
    def svc_route53(self, op):
        """The Service Authorization Reference's Route 53 table: calls on a hosted
        zone act on arn:<partition>:route53:::hostedzone/<id>, GetChange on
        change/<id>, ListHostedZonesByName on "*". ChangeResourceRecordSets
        carries route53:ChangeResourceRecordSetsNormalizedRecordNames (lowercase,
        no trailing dot), ...RecordTypes and ...Actions (uppercase), each the
        set of its changes' values ("Using IAM policy conditions for
        fine-grained access control", Route 53 Developer Guide). Route 53 has no
        tag condition keys."""
        rest = self.req.rest
        A = f"route53:{op}"
        base = f"arn:{self.part}:route53:::"
        if op == "ChangeResourceRecordSets":
            changes = rest.get("Changes") or []

            def values(f):
                return list(dict.fromkeys(f(c) for c in changes))
            ctx = {"route53:ChangeResourceRecordSetsNormalizedRecordNames": values(lambda c: dns_name(c["Name"])),
                   "route53:ChangeResourceRecordSetsRecordTypes": values(lambda c: c["Type"]),
                   "route53:ChangeResourceRecordSetsActions": values(lambda c: c["Action"])}
            self.add(A, f"{base}hostedzone/{rest.get('Id', '*')}", ctx)
        elif op == "GetChange":
            self.add(A, f"{base}change/{rest.get('Id', '*')}")
        elif rest.get("Id"):
            self.add(A, f"{base}hostedzone/{rest['Id']}")
        else:
            self.add(A, "*")  # ListHostedZonesByName, ListHostedZones, CreateHostedZone

    # ACM -----------------------------------------------------------------------
    def svc_acm(self, op):
        """The Service Authorization Reference's ACM table: RequestCertificate on
        "*" with the request's tags (aws:RequestTag / aws:TagKeys) and ACM's
        request keys, and its dependent action acm:AddTagsToCertificate when it
        carries tags; the calls on a certificate on its ARN with its tags as
        aws:ResourceTag (ACM has no service ResourceTag key); ListCertificates on
        "*"."""
        body = self.req.body
        A = f"acm:{op}"

        def tags_of_body():
            return {t.get("Key"): t.get("Value") or "" for t in body.get("Tags") or [] if isinstance(t, dict)}
        if op == "RequestCertificate":
            tags = tags_of_body()
            ctx = ctx_request(tags)
            names = [body.get("DomainName")] + list(body.get("SubjectAlternativeNames") or [])
            # Each key's default when the request leaves it out (SAR, "Condition keys
            # for AWS Certificate Manager").
            ctx["acm:DomainNames"] = list(dict.fromkeys(n for n in names if n))
            ctx["acm:ValidationMethod"] = body.get("ValidationMethod") or "EMAIL"
            ctx["acm:KeyAlgorithm"] = body.get("KeyAlgorithm") or "RSA_2048"
            ctx["acm:CertificateTransparencyLogging"] = (
                (body.get("Options") or {}).get("CertificateTransparencyLoggingPreference") or "ENABLED")
            self.add(A, "*", ctx)
            if tags:
                self.add("acm:AddTagsToCertificate", "*", ctx_request(tags),
                         f"acm:AddTagsToCertificate (for {op}) on *")
        elif body.get("CertificateArn"):
            extra = {}
            if op == "AddTagsToCertificate":
                extra = ctx_request(tags_of_body())
            elif op == "RemoveTagsFromCertificate":
                extra = {"aws:TagKeys": list(tags_of_body())}
            self.existing(A, body["CertificateArn"], None, extra)
        else:
            self.add(A, "*")  # ListCertificates


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State = None
    upstream = None

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_GET(self):
        if self.path.startswith("/__proxy/stats"):
            with self.state.lock:
                body = json.dumps(self.state.stats)
            return self.reply(200, body, "application/json")
        return self.forward(b"")

    def do_POST(self):
        body = self.read_body()
        if self.path.startswith("/__proxy/reset"):
            with self.state.lock:
                self.state.stats = new_stats()
                self.state.authorized_seen = set()
                self.state.start = time.time()
            return self.reply(200, "{}", "application/json")
        return self.forward(body)

    # REST APIs (EventBridge Scheduler, S3) use these too.
    def do_PUT(self):
        return self.forward(self.read_body())

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    def do_HEAD(self):  # S3's HeadBucket / HeadObject
        return self.forward(b"")

    def read_body(self):
        """The request's body: Content-Length bytes, or a chunked transfer decoded."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                line = self.rfile.readline()
                try:
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    size = 0
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status, body, ctype="text/xml", headers=None, length=None):
        """Sends an answer; to a HEAD request without its body (Content-Length:
        `length` when given, as S3 answers HeadObject, else the body's)."""
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def signed_region(self):
        # Credential=KEY/DATE/REGION/SERVICE/aws4_request
        m = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/", self.headers.get("Authorization", ""))
        return m.group(1) if m else None

    # --- what moto holds (tests/support/moto_aws.py's control route) ---------
    def moto(self, kind, **q):
        """GET /moto-api/sitedeploy/<kind> of moto_aws.py: moto's own state, read
        without a signature (it works with moto's IAM enforcement on). None when
        moto does not know the resource (or is not moto_aws.py)."""
        q = {k: v for k, v in q.items() if v is not None}
        q.setdefault("region", getattr(self, "req", None) and self.req.region or "us-east-1")
        key = (kind, tuple(sorted(q.items())))
        cache = getattr(self, "_moto_cache", None)
        if cache is not None and key in cache and kind not in ("set-desired", "issue-certificate"):
            return cache[key]
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            conn.request("GET", f"/moto-api/sitedeploy/{kind}?{urllib.parse.urlencode(q)}")
            resp = conn.getresponse()
            data = resp.read()
            out = json.loads(data) if resp.status == 200 else None
        except (OSError, ValueError):
            out = None
        finally:
            conn.close()
        if cache is not None:
            cache[key] = out
        return out

    def tags_of(self, arn):
        """The current tags of the resource `arn` names ({} when it does not exist)."""
        if arn == "*" or arn.endswith("/*"):
            return {}
        found = self.moto("tags", arn=arn)
        return (found or {}).get("tags") or {}

    # --- the request --------------------------------------------------------
    def forward(self, body):
        st = self.state
        cfg = st.cfg
        self._moto_cache = {}
        self._s3_denied_keys = []
        req = self.req = Req(self, body)
        params, action, op, svc = req.params, req.action, req.op, req.svc
        st.count("actions", op or self.path)
        st.first_seen(op)
        if is_poll(op, params):
            st.count("polls", op)
        err = ERRORS.get(svc, elb_error)

        if cfg.get("latency_ms"):
            time.sleep(cfg["latency_ms"] / 1000.0)
        slow = (cfg.get("slow_regions") or {}).get(self.signed_region())
        if slow:
            st.count("injected", "slow_region")
            time.sleep(slow)

        # Faults: the query APIs' requests (as ever: not the JSON ones).
        faults = cfg.get("faults") or {}
        if action and st.chance(faults.get("drop_before")):
            st.count("injected", "drop_before")
            return self.drop()
        if action and st.chance(faults.get("throttle")):
            st.count("injected", "throttle")
            if svc == "ec2":
                return self.reply(*ec2_error("RequestLimitExceeded", "Request limit exceeded.", 503))
            return self.reply(*err("Throttling", "Rate exceeded", 400))
        if action and st.chance(faults.get("error5xx")):
            st.count("injected", "error5xx")
            status = st.rng.choice([500, 503])
            return self.reply(*err("InternalError" if status == 500 else "ServiceUnavailable",
                                   "injected server error", status))

        if op and not op.startswith(("Describe", "Get", "List", "Head")):
            entry = {"action": op, "t": round(time.time() - st.start, 3), "params": req.logged_params}
            if svc in ("scheduler", "tagging", "cloudfront", "route53", "acm", "s3"):
                entry["path"] = self.path
            with st.lock:
                st.stats["requests"].append(entry)

        invalid = self.validate(req)
        if invalid is not None:
            st.count("injected", f"{op}:{error_code(invalid)}")
            return self.reply(*invalid)

        if cfg.get("iam_policy") and op:
            denial = self.authorize(req)
            if denial is not None:
                return self.reply(*denial)

        fail = (cfg.get("fail_actions") or {}).get(op)
        if not fail and params.get("DryRun") != ["true"]:
            fail = (cfg.get("fail_real_actions") or {}).get(op)
        if fail:
            st.count("injected", "fail_action")
            return self.reply(*err(fail, f"injected failure of {op}"))

        now = time.time()
        pre = self.before(req, now, err)
        if pre is not None:
            if pre[0] >= 400:
                st.count("injected", op + ":" + error_code(pre))
            return self.reply(*pre)

        if op == "GetConsoleOutput" and cfg.get("console_lines") is not None:
            return self.reply(200, self.console_output(params, now))

        replay = self.idempotent_replay(req)
        if isinstance(replay, tuple):
            st.count("injected", op + ":" + error_code(replay))
            return self.reply(*replay)
        if replay is not None:
            st.count("injected", "replayed:" + op)
            if action and st.chance(faults.get("drop_after")):
                st.count("injected", "drop_after")
                return self.drop()
            return self.reply(200, self.after(req, replay, now))

        self._capped = None
        body = self.limit_capacity(req, body, now)
        if svc == "s3":
            return self.forward_s3(req, body, now)
        status, headers, data = self.upstream_call(body, own=False)
        self._upstream_headers = headers
        self._reply_headers = {}  # headers after() sets (CloudFront's ETag)
        self.record_capped(200 <= status < 300)
        if op == "RunInstances" and 200 <= status < 300:
            token = req.p("ClientToken", "")
            if token:
                with st.lock:
                    st.client_tokens.setdefault(token, (token_params(req), data.decode("utf-8", "replace")))
        if action and (st.chance(faults.get("drop_after")) or (params.get("DryRun") != ["true"] and st.take_planned_drop(action))):
            st.count("injected", "drop_after")
            self.after(req, data.decode("utf-8", "replace"), now)
            return self.drop()
        text = data.decode("utf-8", "replace")
        if 200 <= status < 300:
            text = self.after(req, text, now)
        elif svc in ("sts", "iam", "elb", "autoscaling", "cloudfront", "route53"):
            text = query_error_shape(text)
        passed = {k: v for k, v in headers.items() if k.lower().startswith("x-amzn")}
        if svc == "cloudfront":
            # REST-XML answers carry results in headers: ETag, Location.
            passed.update({k: v for k, v in headers.items() if k.lower() in ("etag", "location")})
            if self._reply_headers.get("ETag"):
                passed = {k: v for k, v in passed.items() if k.lower() != "etag"}
            passed.update(self._reply_headers)
        elif svc == "route53":
            passed.update({k: v for k, v in headers.items() if k.lower() == "location"})
        self.reply(status, text, headers.get("Content-Type", "text/xml"), passed)

    # --- IAM ----------------------------------------------------------------
    def authorize(self, req):
        """Every check AWS makes for this request (Authz), each evaluated by
        iam_eval.py against `iam_policy` and listed in stats["authorized"]; the
        first one not allowed denies the request (listed in stats["denied"])."""
        st = self.state
        policy = st.cfg["iam_policy"]
        denied = None
        authz = Authz(self, req)
        for action, resource, ctx, label in authz.build():
            decision, reason = st.iam_eval.evaluate(policy, action, resource, ctx)
            st.authorized(action, resource, ctx, decision)
            if decision != "Allow" and denied is None:
                denied = (action, resource, label, decision)
        # DeleteObjects: each key is s3:DeleteObject on its own; a key not allowed
        # is an <Error> AccessDenied in the answer, the others are deleted.
        self._s3_denied_keys = []
        for key, action, resource, ctx, label in authz.per_key:
            decision, reason = st.iam_eval.evaluate(policy, action, resource, ctx)
            st.authorized(action, resource, ctx, decision)
            if decision != "Allow":
                self._s3_denied_keys.append(key)
                with st.lock:
                    st.stats["denied"].append(label)
        if denied is None:
            return None
        action, resource, label, decision = denied
        with st.lock:
            st.stats["denied"].append(label)
        if req.svc == "ec2":
            return ec2_error("UnauthorizedOperation",
                             f"You are not authorized to perform this operation. ({label})", 403)
        if req.svc == "elb":
            return elb_error("AccessDenied", f"User is not authorized to perform: {label}", 403)
        why = ("with an explicit deny in an identity-based policy" if decision == "ExplicitDeny"
               else f"because no identity-based policy allows the {action} action")
        shown = f'"{resource}"' if req.svc == "s3" else resource
        message = (f"User: arn:{req.partition}:iam::{ACCOUNT}:user/caller is not authorized to perform: "
                   f"{action} on resource: {shown} {why}")
        if label != f"{action} on {resource}":
            message += f" ({label})"
        if req.svc == "scheduler":
            return rest_json_error("AccessDeniedException", message, 403)
        if req.svc in ("tagging", "acm"):
            return json11_error("AccessDeniedException", message, 400)
        return ERRORS.get(req.svc, elb_error)("AccessDenied", message, 403)

    # --- input AWS refuses whatever the state ---------------------------------
    def validate(self, req):
        """EventBridge Scheduler's Tag: "Key ... Minimum length of 1. Maximum
        length of 128", "Value ... Minimum length of 1. Maximum length of 256"
        (API_Tag): CreateScheduleGroup and TagResource refuse others."""
        if req.svc != "scheduler" or req.op not in ("CreateScheduleGroup", "TagResource"):
            return None
        field = "tags"
        for n, tag in enumerate(req.body.get("Tags") or [], 1):
            for part, high in (("Key", 128), ("Value", 256)):
                value = tag.get(part) if isinstance(tag, dict) else None
                value = value if isinstance(value, str) else ""
                if len(value) < 1:
                    return rest_json_error(
                        "ValidationException",
                        f"1 validation error detected: Value '{value}' at '{field}.{n}.member.{part.lower()}' "
                        f"failed to satisfy constraint: Member must have length greater than or equal to 1")
                if len(value) > high:
                    return rest_json_error(
                        "ValidationException",
                        f"1 validation error detected: Value at '{field}.{n}.member.{part.lower()}' failed to "
                        f"satisfy constraint: Member must have length less than or equal to {high}")
        return None

    def idempotent_replay(self, req):
        """AWS's idempotency, which moto lacks. RunInstances with a client token
        seen before returns the first launch when the parameters are the same
        (but the zone) and answers IdempotentParameterMismatch when they are not
        ("Ensuring idempotency in Amazon EC2 API requests"). CreateLoadBalancer /
        CreateTargetGroup with a name that exists and CreateListener on a port
        that is taken return the existing resource when its settings are the
        request's, and answer DuplicateLoadBalancerName / DuplicateTargetGroupName
        / DuplicateListener when they are not (the ELB API reference: "If you
        attempt to create multiple ... with the same settings, each call
        succeeds")."""
        st = self.state
        action, params = req.op, req.params
        if req.svc not in ("ec2", "elb"):
            return None
        if action == "RunInstances":
            token = req.p("ClientToken", "")
            with st.lock:
                first = st.client_tokens.get(token) if token else None
            if first is None or params.get("DryRun") == ["true"]:
                return None
            if first[0] != token_params(req):
                return ec2_error("IdempotentParameterMismatch",
                                 "Arguments on this idempotent request are inconsistent with arguments "
                                 "used in previous request(s).")
            return first[1]
        lookups = {
            "CreateLoadBalancer": ("DescribeLoadBalancers", "Names.member.1", "Name"),
            "CreateTargetGroup": ("DescribeTargetGroups", "Names.member.1", "Name"),
        }
        if action in lookups:
            describe, key, param = lookups[action]
            name = req.p(param, "")
            q = {"Action": describe, "Version": "2015-12-01", key: name}
        elif action == "CreateListener":
            arn = req.p("LoadBalancerArn", "")
            q = {"Action": "DescribeListeners", "Version": "2015-12-01", "LoadBalancerArn": arn}
        else:
            return None
        status, _, data = self.upstream_call(urllib.parse.urlencode(q).encode())
        text = data.decode("utf-8", "replace")
        if status != 200 or "<member>" not in text:
            return None
        if action == "CreateListener":
            port = req.p("Port", "")
            inner = re.search(r"<Listeners>(.*)</Listeners>", text, re.S)
            members = top_members(inner.group(1)) if inner else []
            match = [m for m in members if listener_port(m) == port]
            if not match:
                return None
            if not same_listener(req, match[0]):
                return elb_error("DuplicateListener", "A listener with the specified port already exists.")
            text = re.sub(r"<Listeners>.*</Listeners>", lambda _: f"<Listeners>{match[0]}</Listeners>",
                          text, flags=re.S)
        elif action == "CreateLoadBalancer":
            inner = re.search(r"<LoadBalancers>(.*)</LoadBalancers>", text, re.S)
            members = top_members(inner.group(1)) if inner else []
            if members and not same_load_balancer(req, members[0]):
                return elb_error("DuplicateLoadBalancerName",
                                 "A load balancer with the specified name already exists.")
        elif action == "CreateTargetGroup":
            inner = re.search(r"<TargetGroups>(.*)</TargetGroups>", text, re.S)
            members = top_members(inner.group(1)) if inner else []
            if members and not same_target_group(req, members[0]):
                return elb_error("DuplicateTargetGroupName",
                                 "A target group with the specified name already exists.")
        return text.replace(describe_name(text), action)

    def upstream_call(self, body, own=True):
        """Forwards `body` to moto: the client's request (own=False) or one of the
        proxy's own look-ups (own=True)."""
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        # The Host the client signed is kept: moto checks signatures when its IAM
        # enforcement is on.
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "content-length", "transfer-encoding", "expect")}
        over = getattr(self, "_header_overrides", None) or {}
        if over:
            gone = {k.lower() for k in over}
            headers = {k: v for k, v in headers.items() if k.lower() not in gone}
            headers.update({k: v for k, v in over.items() if v is not None})
        body, headers = self.resigned(body, headers, own)
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k: v for k, v in resp.getheaders()}
        conn.close()
        return resp.status, hdrs, data

    def resigned(self, body, headers, own):
        """See `resign` in the module doc."""
        keys = self.state.cfg.get("resign")
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not keys or "Credential=" not in auth or (
                not own and f"Credential={keys['access_key']}/" not in auth):
            return body, headers
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        scope = auth.split("Credential=")[1].split(",")[0].split("/")
        region, service = scope[2], scope[3]
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if "x-www-form-urlencoded" in ctype:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            body = urllib.parse.urlencode(pairs).encode()
        creds = Credentials(keys["access_key"], keys["secret_key"])
        if service == "s3":
            # S3 takes its parameters in headers (x-amz-expected-bucket-owner,
            # x-amz-object-ownership, x-amz-checksum-*...): all are kept and
            # signed, and X-Amz-Content-SHA256 as the client sent it (moto decodes
            # an aws-chunked body by it, and its check signs with it).
            from botocore.auth import S3SigV4Auth

            class SameContentHash(S3SigV4Auth):
                def _modify_request_before_signing(self, request):
                    SigV4Auth._modify_request_before_signing(self, request)
            kept = {k: v for k, v in headers.items()
                    if k.lower() not in ("authorization", "x-amz-date", "x-amz-security-token", "expect")}
            host = next((v for k, v in headers.items() if k.lower() == "host"), "localhost")
            req = AWSRequest(method=self.command, url=f"http://{host}{self.path}", data=body, headers=kept)
            SameContentHash(creds, service, region).add_auth(req)
            return body, dict(req.headers.items())
        # X-Amz-Target names the operation of the JSON protocols (the tagging API);
        # If-Match is a parameter of CloudFront's (UpdateDistribution, DeleteDistribution).
        kept = {k.lower(): v for k, v in headers.items()
                if k.lower() in ("host", "content-type", "x-amz-target", "if-match")}
        req = AWSRequest(method=self.command, url=f"http://{kept.get('host', 'localhost')}{self.path}",
                         data=body, headers=kept)
        SigV4Auth(creds, service, region).add_auth(req)
        return body, dict(req.headers.items())

    def console_output(self, params, now):
        """GetConsoleOutput as AWS answers it, with the configured lines."""
        st, cfg = self.state, self.state.cfg
        iid = (params.get("InstanceId") or [""])[0]
        lines = cfg["console_lines"]
        every = cfg.get("console_line_every_s")
        if every:
            with st.lock:
                launched = st.launched.get(iid, now)
            lines = lines[:int((now - launched) / every) + 1]
        out = base64.b64encode(("\r\n".join(lines) + "\r\n").encode()).decode() if lines else ""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now))
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<GetConsoleOutputResponse xmlns="{EC2_NS}/">'
                f"<requestId>proxy-console</requestId><instanceId>{iid}</instanceId>"
                f"<timestamp>{stamp}</timestamp><output>{out}</output></GetConsoleOutputResponse>")

    # --- the timing model -------------------------------------------------
    def instance_model_state(self, iid, now):
        st, cfg = self.state, self.state.cfg
        with st.lock:
            t = st.terminated.get(iid)
            l = st.launched.get(iid)
        if t is not None and now - t < cfg.get("instance_shutting_down_s", 0):
            return ("32", "shutting-down")
        if t is None and l is not None and now - l < cfg.get("instance_pending_s", 0):
            return ("0", "pending")
        stops = cfg.get("instance_stops_s")
        if t is None and l is not None and stops is not None and now - l >= stops:
            return ("80", "stopped")
        return None

    def asg_visibility(self, now):
        """asg_launch_s: (instances Auto Scaling launched less than N s ago: not
        shown yet, instances launched N..2N s ago: Pending)."""
        n = self.state.cfg.get("asg_launch_s")
        if not n:
            return set(), set()
        hidden, pending = set(), set()
        for g in self.moto("groups") or []:
            for i in g["instances"]:
                t = i.get("launched")
                if t is None:
                    continue
                if now - t < n:
                    hidden.add(i["id"])
                elif now - t < 2 * n:
                    pending.add(i["id"])
                with self.state.lock:
                    # Registered with the group's target groups once it shows.
                    self.state.registered.setdefault(i["id"], t + n)
        return hidden, pending

    def fresh_instances(self, now):
        """eventual_s: instances launched (RunInstances) less than N s ago."""
        st = self.state
        eventual = st.cfg.get("eventual_s", 0)
        if not eventual:
            return set()
        with st.lock:
            return {k for k, t in st.created.items() if k.startswith("i-") and now - t < eventual}

    def before(self, req, now, err):
        """Answers the proxy gives instead of moto's (AWS's state, timing and
        refusals), or None to forward."""
        st, cfg = self.state, self.state.cfg
        action, params = req.op, req.params
        eventual = cfg.get("eventual_s", 0)
        if req.svc in ("ec2", "elb") and eventual and params.get("DryRun") != ["true"]:
            def fresh(key):
                with st.lock:
                    t = st.created.get(key)
                return t is not None and now - t < eventual
            groups = [v[0] for k, v in params.items()
                      if k == "GroupId" or k.startswith("SecurityGroupId.") or k.startswith("SecurityGroups.member.")
                      or (k.startswith("NetworkInterface.") and ".SecurityGroupId." in k)]
            only = cfg.get("eventual_for")
            if action in ("AuthorizeSecurityGroupIngress", "RunInstances", "CreateLoadBalancer") and (
                    not only or action in only):
                for g in groups:
                    if fresh(g):
                        if action == "CreateLoadBalancer":
                            return elb_error("InvalidSecurityGroup", f"Security group '{g}' does not exist")
                        return ec2_error("InvalidGroup.NotFound", f"The security group '{g}' does not exist")
            if action == "RunInstances":
                kn = (params.get("KeyName") or [""])[0]
                if kn and fresh("key:" + kn):
                    return ec2_error("InvalidKeyPair.NotFound", f"The key pair '{kn}' does not exist")
            if action == "DescribeInstances":
                for k, v in params.items():
                    if k.startswith("InstanceId.") and fresh(v[0]):
                        return ec2_error("InvalidInstanceID.NotFound", f"The instance ID '{v[0]}' does not exist")
        if req.svc == "ec2" and action == "RunInstances" and params.get("DryRun") != ["true"]:
            profile = {"Name": req.p("IamInstanceProfile.Name"), "Arn": req.p("IamInstanceProfile.Arn")}
            if not (profile["Name"] or profile["Arn"]):
                lt_id, lt_name = req.p("LaunchTemplate.LaunchTemplateId"), req.p("LaunchTemplate.LaunchTemplateName")
                lt = self.moto("launch-template", id=lt_id, name=lt_name,
                               version=req.p("LaunchTemplate.Version")) if lt_id or lt_name else None
                profile = (lt or {}).get("iam_instance_profile")
            bad = self.profile_not_usable(profile, now)
            if bad:
                return ec2_error("InvalidParameterValue", bad)
        if req.svc == "ec2" and action == "DescribeInstances" and cfg.get("asg_launch_s"):
            ids = req.listed("InstanceId")
            if ids:
                hidden, _ = self.asg_visibility(now)
                for iid in ids:
                    if iid in hidden:
                        return ec2_error("InvalidInstanceID.NotFound", f"The instance ID '{iid}' does not exist")
        if req.svc == "ec2" and action == "GetConsoleOutput" and req.p("Latest") == "true":
            inst = self.moto("instance", id=req.p("InstanceId", ""))
            if inst and not nitro(inst.get("instance_type")):
                # An assumption (no AWS text gives the code): see the module doc.
                return ec2_error("UnsupportedOperation",
                                 "The requested operation is not supported for this instance type")
        refused = cfg.get("lb_refused_zones") or []
        if req.svc == "elb" and action == "CreateLoadBalancer" and refused:
            subnets = [v[0] for k, v in params.items() if k.startswith("Subnets.member.")]
            with st.lock:
                zones = [st.subnet_zone.get(sn) for sn in subnets]
            bad = [z for z in zones if z in refused]
            if bad:
                return elb_error("InvalidConfigurationRequest",
                                 f"The following Availability Zones {', '.join(bad)} cannot be associated "
                                 f"with a load balancer. Please try a different Availability Zone.")
        if req.svc == "ec2" and action == "AuthorizeSecurityGroupIngress":
            refused = self.rules_quota(req)
            if refused:
                return refused
        if req.svc == "ec2" and action == "DeleteSecurityGroup":
            gid = (params.get("GroupId") or [""])[0]
            # A load balancer deleted by another client (an expiry schedule run
            # through another proxy): its linger starts when this one sees it gone.
            with st.lock:
                unseen = [arn for arn, groups in st.lb_groups.items()
                          if gid in groups and arn not in st.lb_deleted]
            for arn in unseen:
                held = self.moto("tags", arn=arn)
                if held is not None and not held.get("exists"):
                    with st.lock:
                        st.lb_deleted.setdefault(arn, now)
            with st.lock:
                for arn, groups in st.lb_groups.items():
                    if gid not in groups:
                        continue
                    deleted = st.lb_deleted.get(arn)
                    if deleted is None or now - deleted < cfg.get("lb_linger_s", 0):
                        return ec2_error("DependencyViolation",
                                         f"resource {gid} has a dependent object")
                n = st.sg_refusals.get(gid, 0)
                if n < cfg.get("sg_dependency_violations", 0):
                    st.sg_refusals[gid] = n + 1
                    return ec2_error("DependencyViolation",
                                     f"resource {gid} has a dependent object")
        if req.svc == "elb" and action == "RegisterTargets" and cfg.get("register_pending_invalid"):
            for k, v in params.items():
                if k.startswith("Targets.member.") and k.endswith(".Id"):
                    s = self.instance_model_state(v[0], now)
                    if s and s[1] == "pending":
                        return elb_error("InvalidTarget",
                                         f"The following targets are not in a running state and "
                                         f"cannot be registered: '{v[0]}'")
        if req.svc == "iam":
            return self.before_iam(req, now)
        if req.svc == "scheduler":
            return self.before_scheduler(req, now)
        if req.svc == "autoscaling":
            return self.before_autoscaling(req, now)
        if req.svc == "cloudfront":
            return self.before_cloudfront(req, now)
        if req.svc == "route53":
            return self.before_route53(req, now)
        if req.svc == "acm":
            return self.before_acm(req, now)
        if req.svc == "s3":
            return self.before_s3(req, now)
        return None

    def rules_quota(self, req):
        """AWS counts a rule from a managed prefix list as the list's maximum
        entries against the group's inbound rules quota (60): CloudFront's
        origin-facing list as 55 ("Available AWS-managed prefix lists").
        moto counts CIDRs and groups only."""
        gid = req.p("GroupId", "")
        held = self.moto("inbound-rules", id=gid) if gid else None
        if held is None:
            return None
        weight = lambda source: PREFIX_LIST_WEIGHTS.get(held["lists"].get(source), 1)  # noqa: E731
        have = [tuple(r) for r in held["rules"]]
        asked = []
        for k, v in req.params.items():
            m = re.match(r"IpPermissions\.(\d+)\.(IpRanges|PrefixListIds|Groups)\.\d+\.(CidrIp|PrefixListId|GroupId)$", k)
            if m:
                port = int((req.params.get(f"IpPermissions.{m.group(1)}.FromPort") or ["-1"])[0])
                asked.append((port, v[0]))
        if any(a in have for a in asked):
            return None  # a duplicate: AWS (and moto) answer InvalidPermission.Duplicate
        used = sum(weight(source) for _, source in have)
        adding = sum(weight(source) for _, source in asked)
        if used + adding > SG_INBOUND_RULES:
            return ec2_error("RulesPerSecurityGroupLimitExceeded",
                             "The maximum number of rules per security group has been reached.")
        return None

    # --- CloudFront: status, ETag, delete only when disabled and deployed -----
    def cf_record(self, did):
        """This proxy's record of distribution `did`: {"etag", "changed" (when
        its last create/update returned; None: before this proxy saw it),
        "enabled"}. A distribution made or changed elsewhere is learnt from moto
        (Deployed, moto's ETag). None when moto does not know it."""
        st = self.state
        with st.lock:
            rec = st.distributions.get(did)
        if rec is not None:
            return dict(rec)
        d = self.moto("distribution", id=did)
        if not d:
            return None
        with st.lock:
            rec = st.distributions.setdefault(did, {"etag": d["etag"], "changed": None,
                                                    "enabled": d["enabled"]})
            return dict(rec)

    def cf_status(self, rec, now):
        """InProgress for distribution_in_progress_s after the last change, then
        Deployed."""
        window = self.state.cfg.get("distribution_in_progress_s", DISTRIBUTION_IN_PROGRESS_S)
        if rec and rec.get("changed") is not None and now - rec["changed"] < window:
            return "InProgress"
        return "Deployed"

    def before_cloudfront(self, req, now):
        """UpdateDistribution / DeleteDistribution: IfMatch must be the current
        ETag (moto takes any value); a delete needs the distribution disabled
        and Deployed (moto deletes an enabled one). A create or update with a
        domain: cf_viewer_refusal."""
        op, rest = req.op, req.rest
        self._cf_old_cert = None
        if op in ("UpdateDistribution", "DeleteDistribution") and rest.get("Id"):
            rec = self.cf_record(rest["Id"])
            if rec is None:
                return None  # moto answers NoSuchDistribution
            if not rest.get("IfMatch"):
                return cloudfront_error("InvalidIfMatchVersion",
                                        "The If-Match version is missing or not valid for the resource.")
            if rest["IfMatch"] != rec["etag"]:
                return cloudfront_error("PreconditionFailed", "The precondition given in one or more of the "
                                        "request-header fields evaluated to false.", 412)
            d = self.moto("distribution", id=rest["Id"])
            if op == "DeleteDistribution":
                enabled = d["enabled"] if d else rec.get("enabled")
                if enabled is not False or self.cf_status(rec, now) != "Deployed":
                    return cloudfront_error("DistributionNotDisabled",
                                            "The distribution you are trying to delete has not been disabled.",
                                            409)
            if d and d.get("certificate"):
                # The certificate it uses now: in use until (and for a while after)
                # this change drops it.
                self._cf_old_cert = d["certificate"]
                self.cert_users(d["certificate"], now)
        if op in ("CreateDistribution", "CreateDistributionWithTags", "UpdateDistribution"):
            return self.cf_viewer_refusal(req, now)
        return None

    def cf_viewer_refusal(self, req, now):
        """CloudFront's checks of a config's domain ("Requirements for using
        alternate domain names", CloudFront Developer Guide): an
        ACMCertificateArn must name an ISSUED certificate in us-east-1 ("To use
        an ACM certificate with CloudFront, make sure you request (or import)
        the certificate in the US East (N. Virginia) Region"), else
        InvalidViewerCertificate; an alias needs a certificate that covers it
        (InvalidViewerCertificate) and no other distribution with it
        (CNAMEAlreadyExists, 409). None when the config passes, or when moto is
        not moto_aws.py (nothing to read)."""
        aliases, arn, iam_cert = cf_viewer(xml_parse(req.raw))
        if not aliases and not arn:
            return None
        if self.moto("distributions") is None:
            return None
        cert = None
        if arn:
            parts = arn.split(":")
            if len(parts) < 6 or parts[2] != "acm" or parts[3] != "us-east-1":
                return cloudfront_error("InvalidViewerCertificate", CERT_INVALID)
            cert = self.acm_certificate(arn, now)
            if not cert or cert.get("status") != "ISSUED":
                return cloudfront_error("InvalidViewerCertificate", CERT_INVALID)
        if not aliases:
            return None
        if cert is None and not iam_cert:
            return cloudfront_error("InvalidViewerCertificate", CERT_REQUIRED)
        if cert is not None:
            names = [dns_name(n) for n in [cert.get("domain")] + list(cert.get("sans") or []) if n]
            for alias in aliases:
                if not any(covers(n, alias) for n in names):
                    return cloudfront_error("InvalidViewerCertificate", CERT_NOT_COVERING)
        did = req.rest.get("Id")
        for d in self.moto("distributions") or []:
            if d and d["id"] != did and {dns_name(a) for a in d.get("aliases") or []} & {dns_name(a) for a in aliases}:
                return cloudfront_error("CNAMEAlreadyExists", "One or more of the CNAMEs you provided are "
                                        "already associated with a different resource.", 409)
        return None

    def cert_users(self, arn, now):
        """(the distribution ARNs whose config uses the certificate, those that
        stopped using it less than certificate_linger_s ago). A distribution is
        seen to stop when a change through here drops the certificate (or
        deletes it), else when this is first called after."""
        st = self.state
        window = st.cfg.get("certificate_linger_s", CERTIFICATE_LINGER_S)
        current = [d["arn"] for d in self.moto("distributions") or [] if d and d.get("certificate") == arn]
        with st.lock:
            seen = st.cert_users.setdefault(arn, {})
            for d in current:
                seen[d] = None
            for d, t in list(seen.items()):
                if d not in current and t is None:
                    seen[d] = now
            lingering = [d for d, t in seen.items() if t is not None and now - t < window]
        return current, lingering

    def after_cloudfront(self, req, text, now):
        """The answer with this proxy's ETag (a new one after each update) and
        Status (InProgress for distribution_in_progress_s after a change)."""
        st = self.state
        op, rest = req.op, req.rest
        moto_etag = next((v for k, v in (getattr(self, "_upstream_headers", None) or {}).items()
                          if k.lower() == "etag"), None)
        did = rest.get("Id")
        rec = None
        # The certificates this change started or stopped using (cert_users).
        for arn in {getattr(self, "_cf_old_cert", None), rest.get("ACMCertificateArn")} - {None, ""}:
            self.cert_users(arn, now)
        if op in ("CreateDistribution", "CreateDistributionWithTags", "UpdateDistribution"):
            root = xml_parse(text.encode())
            if did is None:
                did = (xml_child(root, "Id").text or "") if xml_child(root, "Id") is not None else None
            enabled = cf_enabled(root)
            if did:
                with st.lock:
                    old = st.distributions.get(did)
                    if op == "UpdateDistribution" or old is None:
                        etag = moto_etag if op != "UpdateDistribution" and moto_etag else new_etag()
                        st.distributions[did] = {"etag": etag, "changed": now, "enabled": enabled}
                    rec = dict(st.distributions[did])
        elif op in ("GetDistribution", "GetDistributionConfig") and did:
            with st.lock:
                if did not in st.distributions and moto_etag:
                    st.distributions[did] = {"etag": moto_etag, "changed": None,
                                             "enabled": cf_enabled(xml_parse(text.encode()))}
                rec = dict(st.distributions[did]) if did in st.distributions else None
        elif op == "DeleteDistribution" and did:
            with st.lock:
                st.distributions.pop(did, None)
        if rec is not None:
            self._reply_headers = dict(getattr(self, "_reply_headers", None) or {}, ETag=rec["etag"])
        if rec is not None and op != "GetDistributionConfig":
            status = self.cf_status(rec, now)
            text = re.sub(r"<Status>[^<]*</Status>", f"<Status>{status}</Status>", text, count=1)
        elif op == "ListDistributions":
            inner = re.search(r"<Items>(.*)</Items>", text, re.S)
            if inner:
                out = []
                for item in top_elements(inner.group(1), "DistributionSummary"):
                    m = re.search(r"<Id>([^<]*)</Id>", item)
                    with st.lock:
                        r = st.distributions.get(m.group(1)) if m else None
                    item = re.sub(r"<Status>[^<]*</Status>", f"<Status>{self.cf_status(r, now)}</Status>",
                                  item, count=1)
                    out.append(item)
                text = text[:inner.start(1)] + "".join(out) + text[inner.end(1):]
        return text

    # --- Route 53: changes PENDING, then INSYNC; zones listed from a name ------
    def before_route53(self, req, now):
        """GetChange of a change made through here: PENDING for
        dns_change_pending_s after it was submitted, then INSYNC; of any other
        id, NoSuchChange (404). ListHostedZonesByName: zones_by_name."""
        st, op, rest = self.state, req.op, req.rest
        if op == "GetChange":
            cid = rest.get("Id", "")
            with st.lock:
                rec = st.changes.get(cid)
            if rec is None:
                return route53_error("NoSuchChange", "A change with the specified change ID does not exist.", 404)
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<GetChangeResponse xmlns="{R53_NS}"><ChangeInfo>'
                    f"<Id>/change/{escape(cid)}</Id><Status>{self.change_status(rec['t'], now)}</Status>"
                    f"<SubmittedAt>{escape(rec['at'])}</SubmittedAt></ChangeInfo></GetChangeResponse>")
            return 200, body
        if op == "ListHostedZonesByName":
            return self.zones_by_name(rest)
        if op == "ChangeResourceRecordSets":
            return self.deletes_refused(rest)
        return None

    def deletes_refused(self, rest):
        """A DELETE must name a record set exactly as it is (API_ChangeResourceRecordSets:
        "DELETE: Deletes an existing resource record set that has the specified
        values"), and a batch is all or nothing: one DELETE of a record set that is
        not there, or whose values or alias target differ, refuses the whole batch
        with InvalidChangeBatch (moto deletes by name and type, whatever the
        values, and ignores a missing one). None (moto answers) otherwise."""
        zone = (rest.get("Id") or "").rsplit("/", 1)[-1]

        def norm(v):
            return (v or "").strip().rstrip(".").lower()
        for ch in rest.get("Changes") or []:
            if ch["Action"] != "DELETE":
                continue
            found = [r for r in self.moto("records", name=ch["Name"], type=ch["Type"]) or []
                     if r["zone_id"] == zone]
            same = False
            if found:
                r = found[0]
                alias = r.get("alias") or {}
                if ch["AliasTarget"] is not None:
                    same = norm(alias.get("DNSName")) == norm(ch["AliasTarget"]["DNSName"])
                else:
                    same = not alias and sorted(map(norm, r["values"])) == sorted(map(norm, ch["Values"]))
            if not same:
                what = "not found" if not found else "found with other values"
                return route53_error(
                    "InvalidChangeBatch",
                    f"[Tried to delete resource record set [name='{norm(ch['Name'])}.', "
                    f"type='{ch['Type']}'] but it was {what}]")
        return None

    def change_status(self, submitted, now):
        window = self.state.cfg.get("dns_change_pending_s", DNS_CHANGE_PENDING_S)
        return "PENDING" if now - submitted < window else "INSYNC"

    def zones_by_name(self, rest):
        """ListHostedZonesByName as AWS answers it: every hosted zone (private
        ones too, Config.PrivateZone true) "sorts hosted zones by name with the
        labels reversed", and DNSName (with HostedZoneId) is where the page
        starts, not a filter; MaxItems (default 100) zones, then IsTruncated
        with NextDNSName / NextHostedZoneId. moto answers only the zones named
        exactly DNSName. None (moto answers) when moto is not moto_aws.py."""
        zones = self.moto("zones")
        if zones is None:
            return None
        dns, zid = rest.get("DNSName"), (rest.get("HostedZoneId") or "").rsplit("/", 1)[-1]
        try:
            most = max(1, min(100, int(rest.get("MaxItems") or 100)))
        except ValueError:
            return route53_error("InvalidInput", "1 validation error detected: Value at 'maxItems' failed to "
                                 "satisfy constraint: Member must be a number")
        ordered = sorted(zones, key=lambda z: (zone_order(z["name"]), z["id"]))
        if dns:
            start = (zone_order(dns), zid)
            ordered = [z for z in ordered if (zone_order(z["name"]), z["id"]) >= start]
        page, after = ordered[:most], ordered[most:]
        items = []
        for z in page:
            comment = f"<Comment>{escape(z['comment'])}</Comment>" if z.get("comment") else ""
            items.append(f"<HostedZone><Id>/hostedzone/{z['id']}</Id><Name>{escape(z['name'])}</Name>"
                         f"<CallerReference>{escape(z.get('caller_reference') or '')}</CallerReference>"
                         f"<Config>{comment}<PrivateZone>{'true' if z['private'] else 'false'}</PrivateZone>"
                         f"</Config><ResourceRecordSetCount>{z['count']}</ResourceRecordSetCount></HostedZone>")
        tail = ""
        if dns:
            tail += f"<DNSName>{escape(dns)}</DNSName>"
        if zid:
            tail += f"<HostedZoneId>{escape(zid)}</HostedZoneId>"
        tail += f"<IsTruncated>{'true' if after else 'false'}</IsTruncated>"
        if after:
            tail += (f"<NextDNSName>{escape(after[0]['name'])}</NextDNSName>"
                     f"<NextHostedZoneId>{after[0]['id']}</NextHostedZoneId>")
        tail += f"<MaxItems>{most}</MaxItems>"
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<ListHostedZonesByNameResponse xmlns="{R53_NS}">'
                f"<HostedZones>{''.join(items)}</HostedZones>{tail}</ListHostedZonesByNameResponse>")
        return 200, body

    def after_route53(self, req, text, now):
        """A change's answer (ChangeResourceRecordSets, and the zone calls that
        answer a ChangeInfo) with a change id of its own, PENDING (moto: one id
        for every change, INSYNC). The CNAMEs it writes are remembered for
        ACM's validation (validation_seen)."""
        st = self.state
        if req.op in ("ChangeResourceRecordSets", "CreateHostedZone", "DeleteHostedZone") and "<ChangeInfo>" in text:
            cid = "C" + uuid.uuid4().hex[:20].upper()
            at = re.search(r"<SubmittedAt>([^<]*)</SubmittedAt>", text)
            with st.lock:
                st.changes[cid] = {"t": now, "at": at.group(1) if at else iso(now)}
                for c in req.rest.get("Changes") or []:
                    if c["Type"] == "CNAME" and c["Action"] in ("CREATE", "UPSERT"):
                        for v in c["Values"]:
                            key = (dns_name(c["Name"]), dns_name(v))
                            st.record_written[key] = now
                            st.record_visible.pop(key, None)
            text = re.sub(r"(<ChangeInfo>.*?<Id>)[^<]*(</Id>)", lambda m: f"{m.group(1)}/change/{cid}{m.group(2)}",
                          text, count=1, flags=re.S)
            text = re.sub(r"(<ChangeInfo>.*?<Status>)[^<]*(</Status>)",
                          lambda m: f"{m.group(1)}{self.change_status(now, now)}{m.group(2)}", text, count=1,
                          flags=re.S)
        return text

    # --- ACM: the record first, issued once it answers, in use by distributions --
    def validation_seen(self, cert, now):
        """When ACM could first see every DNS validation record of the
        certificate (the ResourceRecords moto gives: a CNAME of that name and
        value in a public hosted zone of the account), or None while one is
        missing. A record written through here counts from when its change is
        INSYNC (dns_change_pending_s), one written elsewhere from when it was
        first seen here."""
        st = self.state
        pending = st.cfg.get("dns_change_pending_s", DNS_CHANGE_PENDING_S)
        seen = []
        for rr in cert.get("records") or []:
            key = (dns_name(rr.get("Name")), dns_name(rr.get("Value")))
            found = any(r["type"] == "CNAME" and not r["private"] and any(dns_name(v) == key[1] for v in r["values"])
                        for r in self.moto("records", name=rr.get("Name"), type="CNAME") or [])
            with st.lock:
                if not found:
                    st.record_visible.pop(key, None)
                    return None
                if key not in st.record_visible:
                    written = st.record_written.get(key)
                    st.record_visible[key] = written + pending if written is not None else now
                seen.append(st.record_visible[key])
        return max(seen) if seen else None

    def acm_certificate(self, arn, now):
        """moto's certificate (moto_aws.py's control route), ISSUED first when its
        validation records have answered for certificate_issue_s (moto_aws.py
        keeps moto from issuing on its own timer). None when moto does not
        know it."""
        c = self.moto("certificate", arn=arn)
        if not c or c.get("status") != "PENDING_VALIDATION" or c.get("type") != "AMAZON_ISSUED":
            return c
        seen = self.validation_seen(c, now)
        if seen is not None and now - seen >= self.state.cfg.get("certificate_issue_s", CERTIFICATE_ISSUE_S):
            issued = self.moto("issue-certificate", arn=arn)
            self._moto_cache = {}
            return issued or c
        return c

    def before_acm(self, req, now):
        """DeleteCertificate of a certificate a distribution uses, or used less
        than certificate_linger_s ago: ResourceInUseException (moto deletes
        it). DescribeCertificate / ListCertificates: certificates whose
        validation records have answered long enough are issued first."""
        op, body = req.op, req.body
        arn = body.get("CertificateArn") or ""
        if op == "DeleteCertificate" and arn:
            current, lingering = self.cert_users(arn, now)
            if current or lingering:
                return json11_error("ResourceInUseException", f"Certificate {arn} is in use.", 400)
        elif op == "DescribeCertificate" and arn:
            self.acm_certificate(arn, now)
        elif op == "ListCertificates":
            for c in self.moto("certificates") or []:
                if c and c.get("status") == "PENDING_VALIDATION":
                    self.acm_certificate(c["arn"], now)
        return None

    def after_acm(self, req, text, now):
        """DescribeCertificate: no ResourceRecord for certificate_record_s after
        the request; InUseBy the distributions that use it (and those still
        lingering, cert_users); no IssuedAt before it is issued (moto gives
        one from the start). ListCertificates: InUse the same way."""
        if req.op not in ("DescribeCertificate", "ListCertificates"):
            return text
        try:
            answer = json.loads(text)
        except ValueError:
            return text

        def users(arn):
            current, lingering = self.cert_users(arn, now)
            return current + [d for d in lingering if d not in current]
        if req.op == "DescribeCertificate":
            cert = answer.get("Certificate") or {}
            arn = cert.get("CertificateArn") or ""
            known = self.moto("certificate", arn=arn)
            window = self.state.cfg.get("certificate_record_s", CERTIFICATE_RECORD_S)
            if known and now - known["created"] < window:
                for option in cert.get("DomainValidationOptions") or []:
                    option.pop("ResourceRecord", None)
            if cert.get("Status") != "ISSUED":
                cert.pop("IssuedAt", None)
            if self.moto("distributions") is not None:
                cert["InUseBy"] = users(arn)
        else:
            for summary in answer.get("CertificateSummaryList") or []:
                if summary.get("Status") != "ISSUED":
                    summary.pop("IssuedAt", None)
                if self.moto("distributions") is not None:
                    summary["InUse"] = bool(users(summary.get("CertificateArn") or ""))
        return json.dumps(answer)

    def before_iam(self, req, now):
        """iam_eventual_s: a role is not visible to PutRolePolicy for N s after
        CreateRole (IAM User Guide, "Changes that I make are not always
        immediately visible")."""
        st, cfg = self.state, self.state.cfg
        if req.op == "RemoveRoleFromInstanceProfile":
            # moto fails (an empty 500) when the role is not in the profile; IAM
            # answers NoSuchEntity (crossplane-contrib/provider-aws#1719).
            p = self.moto("instance-profile", name=req.p("InstanceProfileName", ""))
            role = req.p("RoleName", "")
            if p is None and self.moto("instances") is not None:
                return iam_error("NoSuchEntity", f"Instance Profile {req.p('InstanceProfileName', '')} cannot be found.", 404)
            if p is not None and not any(r.rsplit("/", 1)[-1] == role for r in p["roles"]):
                return iam_error("NoSuchEntity", f"The role with name {role} cannot be found.", 404)
        window = cfg.get("iam_eventual_s")
        if window and req.op == "PutRolePolicy":
            name = req.p("RoleName", "")
            with st.lock:
                t = st.roles_created.get(name)
            if t is not None and now - t < window:
                return iam_error("NoSuchEntity", f"The role with name {name} cannot be found.", 404)
        return None

    def group_deleting(self, region, name, now):
        """The schedule group's DELETING record while schedule_group_deleting_s runs."""
        st = self.state
        window = st.cfg.get("schedule_group_deleting_s") or 0
        with st.lock:
            rec = st.groups_deleting.get((region, name))
        if rec and now - rec["t"] < window:
            return rec
        return None

    def before_scheduler(self, req, now):
        st, cfg = self.state, self.state.cfg
        op, rest, region = req.op, req.rest, req.region or "us-east-1"
        if op in ("GetScheduleGroup", "CreateScheduleGroup"):
            rec = self.group_deleting(region, rest["Name"], now)
            if rec and op == "GetScheduleGroup":
                return (200, json.dumps(group_summary(rec, rest["Name"])), "application/json", {})
            if rec:
                # An assumption (no AWS text): the name is still taken.
                return rest_json_error("ConflictException", f"Schedule group {rest['Name']} already exists.", 409)
        if op in ("CreateSchedule", "UpdateSchedule", "GetSchedule"):
            if self.group_deleting(region, rest["GroupName"], now):
                return rest_json_error("ResourceNotFoundException",
                                       f"Schedule group {rest['GroupName']} does not exist.", 404)
        if op == "DeleteScheduleGroup" and cfg.get("schedule_group_deleting_s"):
            self._group_before_delete = self.moto("schedule-group", name=rest["Name"])
        if op in ("CreateSchedule", "UpdateSchedule"):
            role_arn = (req.body.get("Target") or {}).get("RoleArn")
            if role_arn:
                name = role_arn.rsplit("/", 1)[-1]
                window = cfg.get("iam_eventual_s")
                with st.lock:
                    t = st.roles_created.get(name)
                if window and t is not None and now - t < window:
                    return rest_json_error("ValidationException", ASSUME_MESSAGE)
                role = self.moto("role", name=name)
                group_arn = f"arn:{req.partition}:scheduler:{region}:{ACCOUNT}:schedule-group/{rest['GroupName']}"
                if role is not None and not self.trusts_scheduler(role.get("trust"), role["arn"], group_arn):
                    return rest_json_error("ValidationException", ASSUME_MESSAGE)
                if role is None and self.moto("instances") is not None:
                    # moto_aws.py answers and the role is not there.
                    return rest_json_error("ValidationException", ASSUME_MESSAGE)
        return None

    def trusts_scheduler(self, trust, role_arn, group_arn):
        """Whether a role's trust policy lets scheduler.amazonaws.com
        sts:AssumeRole, in the context Scheduler assumes it in (aws:SourceAccount,
        aws:SourceArn = the schedule group: the "Confused deputy prevention" page)."""
        if not isinstance(trust, dict):
            return False
        ctx = {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": group_arn}
        ev = self.evaluator()
        if ev is not None:
            decision, _ = ev.evaluate(trust, "sts:AssumeRole", role_arn, ctx,
                                      principal={"Service": "scheduler.amazonaws.com"})
            return decision == "Allow"
        statements = trust.get("Statement") or []
        if isinstance(statements, dict):
            statements = [statements]
        allowed = False
        for s in statements:
            principal = s.get("Principal")
            names = []
            if principal == "*":
                names = ["*"]
            elif isinstance(principal, dict):
                for key in ("Service", "AWS"):
                    v = principal.get(key)
                    if v is not None:
                        names += [v] if isinstance(v, str) else list(v)
            if not any(n in ("*", "scheduler.amazonaws.com") for n in names):
                continue
            decision = fallback_evaluate({"Statement": [s]}, "sts:AssumeRole", role_arn, ctx)
            if decision == "ExplicitDeny":
                return False
            allowed = allowed or decision == "Allow"
        return allowed

    def evaluator(self):
        """iam_eval.py (None without it: then the fallback below)."""
        st = self.state
        if st.iam_eval is None and not getattr(st, "iam_eval_missing", False):
            try:
                import iam_eval
                st.iam_eval = iam_eval
            except ImportError:
                st.iam_eval_missing = True
        return st.iam_eval

    def before_autoscaling(self, req, now):
        if self.state.asg_asked:
            self.asg_top_up(req.region or "us-east-1", now)
        refused = (self.template_not_visible(req, now) or self.template_profile_refused(req, now)
                   or self.below_minimum(req))
        if refused:
            return refused
        if req.op == "DescribeScalingActivities":
            return self.scaling_activities(req, now)
        return None

    def below_minimum(self, req):
        """TerminateInstanceInAutoScalingGroup as AWS answers it (moto does
        neither): an instance in no group is "No managed instance found";
        decrementing a group already at its minimum is refused."""
        if req.op != "TerminateInstanceInAutoScalingGroup":
            return None
        iid = req.p("InstanceId", "")
        groups = self.moto("groups") or []
        group = next((g for g in groups if g and any(i["id"] == iid for i in g["instances"])), None)
        if group is None:
            return asg_error("ValidationError", f"No managed instance found for instance ID: {iid}")
        if req.p("ShouldDecrementDesiredCapacity") == "true" and group["desired"] <= group["min"]:
            return asg_error(
                "ValidationError",
                f"Currently, desiredSize equals minSize ({group['min']}). Terminating instance "
                "without replacement will violate group's min size constraint. Either set "
                "shouldDecrementDesiredCapacity flag to false or lower group's min size.")
        return None

    def template_not_visible(self, req, now):
        """eventual_s: CreateAutoScalingGroup moments after its launch template,
        or the key pair or security group the template names, was made: Auto
        Scaling does not see them yet and refuses the template ("You must use a
        valid fully-formed launch template. ..." is its answer to a template
        whose parts it cannot find; the wording for each part is an assumption)."""
        st, eventual = self.state, self.state.cfg.get("eventual_s", 0)
        only = self.state.cfg.get("eventual_for")
        if not eventual or req.op != "CreateAutoScalingGroup" or (only and req.op not in only):
            return None
        tid = req.p("LaunchTemplate.LaunchTemplateId")
        name = req.p("LaunchTemplate.LaunchTemplateName")

        def fresh(key):
            with st.lock:
                t = st.created.get(key)
            return t is not None and now - t < eventual
        lt = self.moto("launch-template", id=tid, name=name,
                       version=req.p("LaunchTemplate.Version"))
        prefix = "You must use a valid fully-formed launch template. "
        if lt and fresh(lt["id"]):
            return asg_error("ValidationError", prefix + f"The specified launch template, with "
                             f"template ID {lt['id']}, does not exist.")
        if lt and lt.get("key_name") and fresh("key:" + lt["key_name"]):
            return asg_error("ValidationError", prefix + f"The key pair '{lt['key_name']}' does not exist")
        for g in (lt or {}).get("security_group_ids") or []:
            if fresh(g):
                return asg_error("ValidationError", prefix + f"The security group '{g}' does not exist")
        return None

    def template_profile_refused(self, req, now):
        """CreateAutoScalingGroup / UpdateAutoScalingGroup with a launch template
        whose instance profile EC2 cannot use yet (profile_not_usable): Auto
        Scaling refuses the template with EC2's words, "You must use a valid
        fully-formed launch template. Value (x) for parameter iamInstanceProfile.name
        is invalid. Invalid IAM Instance Profile name" (terraform-provider-aws#4769:
        "The autoscaling group was created successfully after retrying";
        aws-samples/amazon-ec2-gitlab-runner#16 for .arn)."""
        if req.op not in ("CreateAutoScalingGroup", "UpdateAutoScalingGroup"):
            return None
        pre = "LaunchTemplate."
        if not (req.p(pre + "LaunchTemplateId") or req.p(pre + "LaunchTemplateName")):
            pre = "MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification."
            if not (req.p(pre + "LaunchTemplateId") or req.p(pre + "LaunchTemplateName")):
                return None
        lt = self.moto("launch-template", id=req.p(pre + "LaunchTemplateId"),
                       name=req.p(pre + "LaunchTemplateName"), version=req.p(pre + "Version"))
        bad = self.profile_not_usable((lt or {}).get("iam_instance_profile"), now)
        if bad:
            return asg_error("ValidationError", "You must use a valid fully-formed launch template. " + bad)
        return None

    def profile_not_usable(self, profile, now):
        """EC2's message when it cannot use the instance profile `profile`
        ({"Name"} or {"Arn"}), else None: one that does not exist (moto answers
        NoSuchEntity, an IAM error EC2 never gives) or that was made less than
        instance_profile_eventual_s ago through this proxy ("Value (x) for parameter
        iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name", what
        EC2 answers right after CreateInstanceProfile: terraform-provider-aws#27516)."""
        if not profile or not (profile.get("Name") or profile.get("Arn")):
            return None
        st = self.state
        name, arn = profile.get("Name"), profile.get("Arn")
        window = st.cfg.get("instance_profile_eventual_s", INSTANCE_PROFILE_EVENTUAL_S)
        key = name or (arn or "").rsplit("/", 1)[-1]
        with st.lock:
            t = st.profiles_created.get(key)
        fresh = t is not None and now - t < window
        missing = (self.moto("instance-profile", name=name, arn=arn) is None
                   and self.moto("instances") is not None)  # moto_aws.py answers, and has none
        if not (fresh or missing):
            return None
        if name:
            return PROFILE_INVALID.format(v=name, p="name", w="name")
        return PROFILE_INVALID.format(v=arn, p="arn", w="ARN")

    # --- S3 -----------------------------------------------------------------------
    def s3_owner(self, bucket):
        """The account that owns `bucket`: one of s3_taken_buckets' (another
        account's), ours when moto has it, else None (no such bucket)."""
        taken = self.state.cfg.get("s3_taken_buckets") or {}
        if bucket in taken:
            return str(taken[bucket])
        found = self.moto("bucket", name=bucket)
        return found["account"] if found else None

    def before_s3(self, req, now):
        """S3's refusals that moto lacks (see the module doc): another account's
        bucket (CopyObject's source too); ExpectedBucketOwner and CopyObject's
        ExpectedSourceBucketOwner; lifecycle rules; ChecksumSHA256; a missing
        object read without s3:ListBucket."""
        rest, op = req.rest, req.op
        bucket = rest.get("Bucket")
        if not bucket:
            return None
        taken = self.state.cfg.get("s3_taken_buckets") or {}
        if bucket in taken:
            if op == "CreateBucket":
                return s3_error("BucketAlreadyExists", "The requested bucket name is not available. The bucket "
                                "namespace is shared by all users of the system. Please select a different name "
                                "and try again.", 409, {"BucketName": bucket})
            return s3_error("AccessDenied", "Access Denied", 403)
        expected = rest.get("ExpectedBucketOwner")
        if expected is not None and op != "CreateBucket":
            owner = self.s3_owner(bucket)
            if owner is not None and owner != expected:
                return s3_error("AccessDenied", "Access Denied", 403)
        if op == "CopyObject":
            src_bucket, _ = s3_copy_source(rest)
            if src_bucket in taken:
                return s3_error("AccessDenied", "Access Denied", 403)
            expected = rest.get("ExpectedSourceBucketOwner")
            owner = self.s3_owner(src_bucket) if src_bucket else None
            if expected is not None and owner is not None and owner != expected:
                return s3_error("AccessDenied", "Access Denied", 403)
        if op == "PutBucketLifecycleConfiguration":
            return s3_lifecycle_refusal(rest.get("Rules") or [])
        if op in ("PutObject", "UploadPart") and rest.get("ChecksumSHA256"):
            have = base64.b64encode(hashlib.sha256(rest.get("payload") or b"").digest()).decode()
            if rest["ChecksumSHA256"] != have:
                return s3_error("BadDigest", "The SHA256 you specified did not match the calculated checksum.")
        if op in ("GetObject", "HeadObject", "GetObjectTagging") and self.state.cfg.get("iam_policy") \
                and rest.get("Key") and self.moto("bucket", name=bucket):
            if self.moto("s3-object", bucket=bucket, key=rest["Key"]) is None:
                arn = f"arn:{req.partition}:s3:::{bucket}"
                decision, _ = self.state.iam_eval.evaluate(self.state.cfg["iam_policy"], "s3:ListBucket", arn,
                                                           {"s3:ResourceAccount": ACCOUNT})
                if decision != "Allow":
                    # "If you don't have the s3:ListBucket permission, Amazon S3
                    # returns an HTTP status code 403 Forbidden error"
                    # (API_GetObject, API_HeadObject).
                    return s3_error("AccessDenied", "Access Denied", 403)
        return None

    def forward_s3(self, req, body, now):
        """An S3 request to moto and moto's answer back, bytes and headers as
        they are (objects are binary; results travel in headers: ETag, x-amz-*,
        Content-Length of a HEAD). DeleteObjects with keys the policy refuses:
        moto deletes the others, and the answer lists the refused ones as
        <Error> AccessDenied."""
        rest = req.rest
        denied = getattr(self, "_s3_denied_keys", None) or []
        self._header_overrides = None
        if req.op == "DeleteObjects" and denied:
            keep = [k for k in rest.get("Keys") or [] if k not in denied]
            if not keep:
                return self.reply(200, delete_result("", denied, rest.get("Quiet")), "application/xml")
            body = delete_objects_body(keep, rest.get("Quiet"))
            self._header_overrides = {h: None for h in (
                "content-md5", "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-sha1",
                "x-amz-checksum-sha256", "x-amz-checksum-crc64nvme", "x-amz-sdk-checksum-algorithm",
                "x-amz-content-sha256")}
            self._header_overrides["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
            self._header_overrides["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        try:
            status, headers, data = self.upstream_call(body, own=False)
        finally:
            self._header_overrides = None
        if 200 <= status < 300 and req.op == "DeleteObjects" and denied:
            data = delete_result(data.decode("utf-8", "replace"), denied, rest.get("Quiet")).encode()
        passed = {k: v for k, v in headers.items() if k.lower() not in (
            "content-length", "content-type", "connection", "transfer-encoding", "date", "server")}
        length = headers.get("Content-Length") if self.command == "HEAD" else None
        self.reply(status, data, headers.get("Content-Type", "application/xml"), passed, length=length)

    # --- Auto Scaling: a low instance quota (asg_instance_limit) ---------------
    def limit_capacity(self, req, body, now):
        """asg_instance_limit: a group asked to go above the account's room gets
        the room (the request forwarded with DesiredCapacity capped), reports the
        capacity asked, and lists a Failed launch activity."""
        st, cfg = self.state, self.state.cfg
        limit = cfg.get("asg_instance_limit")
        op = req.op
        if limit is None or req.svc != "autoscaling" or op not in (
                "CreateAutoScalingGroup", "UpdateAutoScalingGroup", "SetDesiredCapacity"):
            return body
        name = req.p("AutoScalingGroupName", "")
        region = req.region or "us-east-1"
        g = self.moto("group", name=name) if op != "CreateAutoScalingGroup" else None
        live = self.moto("instances")
        if live is None or (op != "CreateAutoScalingGroup" and g is None):
            return body
        current = len(g["instances"]) if g else 0
        desired, low, high = req.p("DesiredCapacity"), req.p("MinSize"), req.p("MaxSize")
        if desired is not None:
            want = int(desired)
        elif op == "CreateAutoScalingGroup":
            want = int(low or 0)
        elif low is not None and int(low) > current:
            want = int(low)
        elif high is not None and int(high) < current:
            want = int(high)
        else:
            return body  # the capacity asked does not change
        others = sum(1 for i in live.values() if i.get("group") != name)
        room = max(0, limit - others)
        key = (region, name)
        if want <= room:
            with st.lock:
                st.asg_asked.pop(key, None)
            return body
        capped = room
        asked_min = int(low) if low is not None and int(low) > capped else None
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        pairs = [(k, v) for k, v in pairs if k != "DesiredCapacity" and not (k == "MinSize" and asked_min)]
        pairs.append(("DesiredCapacity", str(capped)))
        if asked_min is not None:
            pairs.append(("MinSize", str(capped)))
        message = VCPU_MESSAGE.format(n=limit)
        old = g["desired"] if g else 0
        mn = asked_min if asked_min is not None else int(low) if low is not None else (g or {}).get("min", 0)
        mx = int(high) if high is not None else (g or {}).get("max", want)
        cause = (f"At {iso(now)} a user request update of AutoScalingGroup constraints to min: {mn}, "
                 f"max: {mx}, desired: {want} changing the desired capacity from {old} to {want}.  "
                 f"At {iso(now)} an instance was started in response to a difference between desired and "
                 f"actual capacity, increasing the capacity from {capped} to {want}.")
        # Recorded once moto has launched what fits: the failed launch is the
        # group's newest activity, as AWS's retries keep it.
        self._capped = (key, {"desired": want, "min": asked_min},
                        {"region": region, "group": name, "id": str(uuid.uuid4()), "message": message,
                         "cause": cause})
        return urllib.parse.urlencode(pairs).encode()

    def record_capped(self, ok):
        """After the capped request: the capacity asked and the Failed activity."""
        st = self.state
        capped, self._capped = getattr(self, "_capped", None), None
        if not capped or not ok:
            return
        key, asked, failure = capped
        failure["t"] = time.time()
        with st.lock:
            st.asg_asked[key] = asked
            st.asg_failed.append(failure)
        st.count("injected", "asg_instance_limit")

    def asg_top_up(self, region, now):
        """Capacity asked beyond the limit is launched once there is room (as
        Auto Scaling keeps trying)."""
        st, cfg = self.state, self.state.cfg
        limit = cfg.get("asg_instance_limit")
        with st.lock:
            asked = {k: dict(v) for k, v in st.asg_asked.items() if k[0] == region}
        if limit is None or not asked:
            return
        for (reg, name), want in asked.items():
            g = self.moto("group", name=name)
            if g is None:
                with st.lock:
                    st.asg_asked.pop((reg, name), None)
                continue
            live = self.moto("instances") or {}
            room = max(0, limit - sum(1 for i in live.values() if i.get("group") != name))
            target = min(want["desired"], room)
            if target > (g["desired"] or 0):
                low = want["min"]
                self.moto("set-desired", name=name, desired=target,
                          min=min(low, target) if low is not None else None)
                self._moto_cache = {}
            if target >= want["desired"]:
                with st.lock:
                    st.asg_asked.pop((reg, name), None)

    def scaling_activities(self, req, now):
        """DescribeScalingActivities (moto answers none): a Successful (or, within
        asg_launch_s, InProgress) launch activity for each instance the group
        launched, and the Failed ones of asg_instance_limit, newest first, in
        the Activity shape of the API reference (API_Activity)."""
        st, cfg = self.state, self.state.cfg
        groups = self.moto("groups")
        if groups is None:
            return None  # not moto_aws.py: moto answers
        region = req.region or "us-east-1"
        name = req.p("AutoScalingGroupName")
        wanted_ids = set(req.listed("ActivityIds.member"))
        n = cfg.get("asg_launch_s") or 0
        arns = {g["name"]: g["arn"] for g in groups}
        acts = []
        for g in groups:
            if name and g["name"] != name:
                continue
            for i in g["instances"]:
                t = i.get("launched")
                if t is None:
                    continue
                done = now - t >= 2 * n
                details = json.dumps({"Subnet ID": i.get("subnet_id"), "Availability Zone": i.get("zone")})
                acts.append({
                    "ActivityId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{g['arn']}/{i['id']}")),
                    "AutoScalingGroupName": g["name"],
                    "Description": f"Launching a new EC2 instance: {i['id']}",
                    "Cause": (f"At {iso(t)} an instance was started in response to a difference between "
                              f"desired and actual capacity."),
                    "StartTime": t, "EndTime": t + 2 * n if done else None,
                    "StatusCode": "Successful" if done else "InProgress",
                    "StatusMessage": None, "Progress": 100 if done else 50,
                    "Details": details, "AutoScalingGroupARN": g["arn"]})
        with st.lock:
            failed = [dict(f) for f in st.asg_failed if f["region"] == region]
        for f in failed:
            if name and f["group"] != name:
                continue
            acts.append({
                "ActivityId": f["id"], "AutoScalingGroupName": f["group"],
                "Description": f"Launching a new EC2 instance.  Status Reason: {f['message']}",
                "Cause": f["cause"], "StartTime": f["t"], "EndTime": f["t"],
                "StatusCode": "Failed", "StatusMessage": f["message"], "Progress": 100,
                "Details": json.dumps({}), "AutoScalingGroupARN": arns.get(f["group"])})
        if wanted_ids:
            acts = [a for a in acts if a["ActivityId"] in wanted_ids]
        acts.sort(key=lambda a: a["StartTime"], reverse=True)
        if req.p("MaxRecords"):
            acts = acts[:int(req.p("MaxRecords"))]
        members = []
        for a in acts:
            fields = []
            for k in ("ActivityId", "AutoScalingGroupName", "Description", "Cause", "StartTime", "EndTime",
                      "StatusCode", "StatusMessage", "Progress", "Details", "AutoScalingGroupARN"):
                v = a.get(k)
                if v is None:
                    continue
                if k in ("StartTime", "EndTime"):
                    v = iso(v)
                fields.append(f"<{k}>{escape(str(v))}</{k}>")
            members.append("<member>" + "".join(fields) + "</member>")
        body = (f'<DescribeScalingActivitiesResponse xmlns="{ASG_NS}"><DescribeScalingActivitiesResult>'
                f"<Activities>{''.join(members)}</Activities></DescribeScalingActivitiesResult>"
                f"<ResponseMetadata><RequestId>proxy</RequestId></ResponseMetadata>"
                f"</DescribeScalingActivitiesResponse>")
        return 200, body

    # --- answers changed on the way back ---------------------------------------
    def after(self, req, text, now):
        st, cfg = self.state, self.state.cfg
        action, params = req.op, req.params
        self._moto_cache = {}  # moto has changed since before() read it
        if req.svc in ("ec2", "elb"):
            record_created(st, action, params, text, now)
        if req.svc == "iam" and action == "CreateRole":
            with st.lock:
                st.roles_created[req.p("RoleName", "")] = now
            return text
        if req.svc == "iam" and action == "CreateInstanceProfile":
            with st.lock:
                st.profiles_created[req.p("InstanceProfileName", "")] = now
            return text
        if req.svc == "autoscaling":
            return self.after_autoscaling(req, text, now)
        if req.svc == "scheduler":
            return self.after_scheduler(req, text, now)
        if req.svc == "cloudfront":
            return self.after_cloudfront(req, text, now)
        if req.svc == "route53":
            return self.after_route53(req, text, now)
        if req.svc == "acm":
            return self.after_acm(req, text, now)
        if req.svc not in ("ec2", "elb"):
            return text
        if action == "DescribeSubnets":
            with st.lock:
                for sid, zone in re.findall(r"<subnetId>(subnet-[0-9a-f]+)</subnetId>.*?<availabilityZone>([a-z0-9-]+)</availabilityZone>", text, re.S):
                    st.subnet_zone[sid] = zone
        if action == "ImportKeyPair":
            # moto's fingerprint of this key -> AWS's, replaced in every answer.
            material = (params.get("PublicKeyMaterial") or [""])[0]
            fp = aws_ed25519_fingerprint(material)
            moto_fp = re.search(r"<keyFingerprint>([^<]*)</keyFingerprint>", text)
            if fp and moto_fp:
                with st.lock:
                    st.key_fingerprints[moto_fp.group(1)] = fp
        if action == "DescribeRegions":
            # AWS lists the regions of the caller's partition only (an account
            # lives in one), and without AllRegions only the enabled ones; moto
            # lists China's and GovCloud's, and regions not opted in.
            part = partition_of(self.signed_region() or "us-east-1")
            every = params.get("AllRegions") == ["true"]

            def keep(m):
                item = m.group(0)
                name = re.search(r"<regionName>([a-z0-9-]+)</regionName>", item)
                opt = re.search(r"<optInStatus>([a-z-]+)</optInStatus>", item)
                if not name or partition_of(name.group(1)) != part:
                    return ""
                if not every and opt and opt.group(1) == "not-opted-in":
                    return ""
                return item
            text = re.sub(r"<item>(?:(?!</item>).)*</item>", keep, text, flags=re.S)
        if action in ("ImportKeyPair", "DescribeKeyPairs"):
            def fp_sub(m):
                with st.lock:
                    fp = st.key_fingerprints.get(m.group(1), m.group(1))
                return f"<keyFingerprint>{fp}</keyFingerprint>"
            text = re.sub(r"<keyFingerprint>([^<]*)</keyFingerprint>", fp_sub, text)
        if action == "RunInstances":
            with st.lock:
                for iid in re.findall(r"<instanceId>(i-[0-9a-f]+)</instanceId>", text):
                    st.launched.setdefault(iid, now)
        elif action == "TerminateInstances":
            with st.lock:
                for k, v in params.items():
                    if k.startswith("InstanceId."):
                        st.terminated.setdefault(v[0], now)
        elif action == "CreateLoadBalancer":
            arns = re.findall(r"<LoadBalancerArn>([^<]+)</LoadBalancerArn>", text)
            groups = [v[0] for k, v in params.items() if k.startswith("SecurityGroups.member.")]
            with st.lock:
                for arn in arns:
                    st.lb_created.setdefault(arn, now)
                    st.lb_groups.setdefault(arn, groups)
        elif action == "RegisterTargets":
            tg = (params.get("TargetGroupArn") or [""])[0]
            with st.lock:
                for k, v in params.items():
                    if k.startswith("Targets.member.") and k.endswith(".Id"):
                        st.registered.setdefault(v[0], now)
                        st.draining.pop((tg, v[0]), None)
        elif action == "DeleteLoadBalancer":
            arn = (params.get("LoadBalancerArn") or [""])[0]
            with st.lock:
                st.lb_deleted.setdefault(arn, now)
        elif action == "DeregisterTargets":
            tg = (params.get("TargetGroupArn") or [""])[0]
            with st.lock:
                for k, v in params.items():
                    if k.startswith("Targets.member.") and k.endswith(".Id"):
                        st.draining[(tg, v[0])] = now
        elif action == "ModifyTargetGroupAttributes":
            tg = (params.get("TargetGroupArn") or [""])[0]
            for k, v in params.items():
                if k.endswith(".Key") and v[0] == "deregistration_delay.timeout_seconds":
                    val = (params.get(k[:-4] + ".Value") or ["300"])[0]
                    with st.lock:
                        st.tg_delay[tg] = int(val)

        if action == "DescribeInstances" and not req.listed("InstanceId"):
            # Not by id: AWS answers without the instances it does not show yet
            # (eventual_s: launched moments ago; asg_launch_s: not launched yet).
            hidden, _ = self.asg_visibility(now)
            text = drop_instances(text, hidden | self.fresh_instances(now))
        if action in ("DescribeInstances", "RunInstances"):
            def sub(m):
                s = self.instance_model_state(m.group(2), now)
                if not s:
                    return m.group(0)
                return m.group(1) + s[0] + m.group(4) + s[1] + m.group(6)
            text = INSTANCE_STATE.sub(sub, text)
            if cfg.get("instance_stops_s") is not None:
                # AWS says why: <stateReason> with a code and a message.
                def reason_sub(m):
                    block = m.group(0)
                    if "<name>stopped</name>" in block and "<stateReason>" not in block:
                        block = block.replace(
                            "</instanceState>",
                            "</instanceState><stateReason><code>Server.InternalError</code>"
                            "<message>Server.InternalError: Internal error on launch</message></stateReason>", 1)
                    return block
                text = re.sub(r"<instanceId>i-[0-9a-f]+</instanceId>.*?</instanceState>", reason_sub, text,
                              flags=re.S)
        elif action in ("DescribeLoadBalancers", "CreateLoadBalancer"):
            prov = cfg.get("lb_provisioning_s", 0)
            def lb_sub(m):
                block = m.group(0)
                arn = re.search(r"<LoadBalancerArn>([^<]+)</LoadBalancerArn>", block)
                with st.lock:
                    created = st.lb_created.get(arn.group(1)) if arn else None
                if created is not None and now - created < prov:
                    block = re.sub(r"<Code>active</Code>", "<Code>provisioning</Code>", block)
                return block
            text = re.sub(r"<member>\s*<LoadBalancerArn>.*?</member>\s*(?=<member>\s*<LoadBalancerArn>|</LoadBalancers>)",
                          lb_sub, text, flags=re.S)
        elif action == "DescribeInstanceStatus" and cfg.get("status_impaired_s") is not None:
            after_s = cfg["status_impaired_s"]

            def impaired_sub(m):
                item = m.group(0)
                iid = re.search(r"<instanceId>(i-[0-9a-f]+)</instanceId>", item)
                with st.lock:
                    launched = st.launched.get(iid.group(1)) if iid else None
                if launched is None or now - launched < after_s:
                    return item
                return re.sub(r"(<instanceStatus>.*?)<status>passed</status>(.*?)<status>ok</status>",
                              r"\1<status>failed</status>\2<status>impaired</status>", item, count=1,
                              flags=re.S)
            text = re.sub(r"<item><availabilityZone>.*?</systemStatus></item>", impaired_sub, text,
                          flags=re.S)
        elif action == "DescribeTargetHealth":
            hidden, _ = self.asg_visibility(now)
            if hidden:
                inner = re.search(r"<TargetHealthDescriptions>(.*)</TargetHealthDescriptions>", text, re.S)
                if inner:
                    kept = [m for m in top_members(inner.group(1))
                            if not any(f"<Id>{iid}</Id>" in m for iid in hidden)]
                    text = (text[:inner.start()] + f"<TargetHealthDescriptions>{''.join(kept)}"
                            f"</TargetHealthDescriptions>" + text[inner.end():])
            initial = cfg.get("target_initial_s", 0)

            def health_sub(m):
                with st.lock:
                    t = st.registered.get(m.group(2))
                if t is not None and now - t < initial:
                    return m.group(1) + "initial" + m.group(3)
                return m.group(0)
            text = re.sub(r"(<Id>(i-[0-9a-f]+)</Id>.*?<State>)healthy(</State>)", health_sub, text,
                          flags=re.S)
            bad = cfg.get("target_unhealthy")
            if bad:
                text = re.sub(
                    r"<TargetHealth>.*?</TargetHealth>",
                    lambda m: (f"<TargetHealth><State>unhealthy</State><Reason>{bad['reason']}</Reason>"
                               f"<Description>{bad.get('description', 'Health checks failed')}</Description>"
                               f"</TargetHealth>"),
                    text, flags=re.S)
            tg = (params.get("TargetGroupArn") or [""])[0]
            with st.lock:
                known = tg in st.tg_delay
                pending = any(arn == tg for (arn, _) in st.draining)
            if pending and not known and "deregistration_delay_s" not in cfg:
                # Set before this proxy started: moto keeps the attribute.
                q = {"Action": "DescribeTargetGroupAttributes", "Version": "2015-12-01",
                     "TargetGroupArn": tg}
                _, _, data = self.upstream_call(urllib.parse.urlencode(q).encode())
                m = re.search(r"<Key>deregistration_delay.timeout_seconds</Key>\s*<Value>(\d+)</Value>",
                              data.decode("utf-8", "replace"))
                with st.lock:
                    st.tg_delay[tg] = int(m.group(1)) if m else 300
            with st.lock:
                delay = cfg.get("deregistration_delay_s", st.tg_delay.get(tg, 300))
                draining = [iid for (arn, iid), t in st.draining.items()
                            if arn == tg and now - t < delay]
            for iid in draining:
                if f"<Id>{iid}</Id>" in text:
                    continue
                member = (f"<member><HealthCheckPort>80</HealthCheckPort><Target><Port>80</Port>"
                          f"<Id>{iid}</Id></Target><TargetHealth><State>draining</State>"
                          f"<Reason>Target.DeregistrationInProgress</Reason>"
                          f"<Description>Target deregistration is in progress</Description>"
                          f"</TargetHealth></member>")
                if "<TargetHealthDescriptions/>" in text:
                    text = text.replace("<TargetHealthDescriptions/>",
                                        f"<TargetHealthDescriptions>{member}</TargetHealthDescriptions>")
                else:
                    text = text.replace("</TargetHealthDescriptions>", member + "</TargetHealthDescriptions>")
        elif action == "DescribeNetworkInterfaces":
            desc = None
            for k, v in params.items():
                if k.startswith("Filter.") and k.endswith(".Name") and v[0] == "description":
                    desc = (params.get(k[:-5] + ".Value.1") or [""])[0]
            if desc and desc.startswith("ELB app/") and not cfg.get("lb_interfaces_hidden"):
                linger = cfg.get("lb_linger_s", 0)
                with st.lock:
                    held = [arn for arn, t in st.lb_deleted.items()
                            if arn.endswith("loadbalancer/" + desc[4:]) and now - t < linger]
                    held += [arn for arn in st.lb_created
                             if arn.endswith("loadbalancer/" + desc[4:]) and arn not in st.lb_deleted]
                if held:
                    item = (f"<item><networkInterfaceId>eni-0proxy0lingering</networkInterfaceId>"
                            f"<description>{desc}</description><status>in-use</status></item>")
                    text = re.sub(r"<networkInterfaceSet\s*/>", f"<networkInterfaceSet>{item}</networkInterfaceSet>", text)
                    text = text.replace("<networkInterfaceSet></networkInterfaceSet>",
                                        f"<networkInterfaceSet>{item}</networkInterfaceSet>")
        return text

    def after_autoscaling(self, req, text, now):
        st, cfg = self.state, self.state.cfg
        region = req.region or "us-east-1"
        if req.op == "DeleteAutoScalingGroup":
            with st.lock:
                st.asg_asked.pop((region, req.p("AutoScalingGroupName", "")), None)
            return text
        if req.op != "DescribeAutoScalingGroups":
            return text
        with st.lock:
            asked = {k[1]: v for k, v in st.asg_asked.items() if k[0] == region}
        hidden, pending = self.asg_visibility(now)
        if not asked and not hidden and not pending:
            return text
        inner = re.search(r"<AutoScalingGroups>(.*)</AutoScalingGroups>", text, re.S)
        if not inner:
            return text
        out = []
        for member in top_members(inner.group(1)):
            name = own_text(member, "AutoScalingGroupName")
            want = asked.get(name)
            if want:
                member = re.sub(r"<DesiredCapacity>\d+</DesiredCapacity>",
                                f"<DesiredCapacity>{want['desired']}</DesiredCapacity>", member, count=1)
                if want.get("min") is not None:
                    member = re.sub(r"<MinSize>\d+</MinSize>", f"<MinSize>{want['min']}</MinSize>", member,
                                    count=1)
            inst = re.search(r"<Instances>(.*?)</Instances>", member, re.S)
            if inst and (hidden or pending):
                kept = []
                for i in top_members(inst.group(1)):
                    iid = own_text(i, "InstanceId")
                    if iid in hidden:
                        continue
                    if iid in pending:
                        i = i.replace("<LifecycleState>InService</LifecycleState>",
                                      "<LifecycleState>Pending</LifecycleState>")
                    kept.append(i)
                member = member.replace(inst.group(0), f"<Instances>{''.join(kept)}</Instances>")
            out.append(member)
        return text[:inner.start()] + f"<AutoScalingGroups>{''.join(out)}</AutoScalingGroups>" + text[inner.end():]

    def after_scheduler(self, req, text, now):
        st, cfg = self.state, self.state.cfg
        region = req.region or "us-east-1"
        if req.op == "DeleteScheduleGroup" and cfg.get("schedule_group_deleting_s"):
            before = getattr(self, "_group_before_delete", None) or {}
            with st.lock:
                st.groups_deleting[(region, req.rest["Name"])] = {
                    "t": now, "arn": before.get("arn") or
                    f"arn:{req.partition}:scheduler:{region}:{ACCOUNT}:schedule-group/{req.rest['Name']}",
                    "created": before.get("created"), "modified": before.get("modified")}
        elif req.op == "ListScheduleGroups" and cfg.get("schedule_group_deleting_s"):
            with st.lock:
                names = [k[1] for k in st.groups_deleting if k[0] == region]
            deleting = [(n, self.group_deleting(region, n, now)) for n in names]
            deleting = [(n, r) for n, r in deleting if r]
            prefix = req.rest.get("NamePrefix") or ""
            if deleting:
                try:
                    answer = json.loads(text)
                except ValueError:
                    return text
                listed = answer.setdefault("ScheduleGroups", [])
                have = {g.get("Name") for g in listed}
                for n, rec in deleting:
                    if n not in have and n.startswith(prefix):
                        listed.append(group_summary(rec, n))
                text = json.dumps(answer)
        return text


def covers(name, alias):
    """Whether a certificate's domain name covers an alias: the same name, or a
    wildcard (*.example.com) for one label in its place."""
    name, alias = dns_name(name), dns_name(alias)
    if name == alias:
        return True
    if name.startswith("*."):
        head, _, rest = alias.partition(".")
        return bool(head) and head != "*" and rest == name[2:]
    return False


def new_etag():
    """A CloudFront ETag, as AWS writes them (e.g. E2QWRUHAPOMQZL)."""
    return "E" + uuid.uuid4().hex[:13].upper()


def group_summary(rec, name):
    """A schedule group in DELETING (GetScheduleGroup's answer, ScheduleGroupSummary)."""
    return {"Arn": rec["arn"], "CreationDate": rec.get("created"),
            "LastModificationDate": rec.get("modified"), "Name": name, "State": "DELETING"}


def partition_of(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def aws_ed25519_fingerprint(material_b64):
    """AWS's fingerprint of an imported ed25519 key: base64 of the SHA-256 of the
    key's wire form (what `ssh-keygen -l` prints after SHA256:), with padding."""
    try:
        text = base64.b64decode(material_b64).decode()
        kind, blob = text.split()[:2]
    except Exception:
        return None
    if kind != "ssh-ed25519":
        return None
    return base64.b64encode(hashlib.sha256(base64.b64decode(blob)).digest()).decode()


def request_tags(svc, params):
    """The tags a create request carries: {resource type: {key: value}} for EC2
    TagSpecifications, {"*": {...}} for ELB Tags."""
    out = {}
    if svc == "ec2":
        for k, v in params.items():
            m = re.match(r"TagSpecification\.(\d+)\.ResourceType$", k)
            if m:
                n = m.group(1)
                tags = {}
                for k2, v2 in params.items():
                    m2 = re.match(rf"TagSpecification\.{n}\.Tag\.(\d+)\.Key$", k2)
                    if m2:
                        tags[v2[0]] = (params.get(f"TagSpecification.{n}.Tag.{m2.group(1)}.Value") or [""])[0]
                out.setdefault(v[0], {}).update(tags)
    else:
        tags = {}
        for k, v in params.items():
            m = re.match(r"Tags\.member\.(\d+)\.Key$", k)
            if m:
                tags[v[0]] = (params.get(f"Tags.member.{m.group(1)}.Value") or [""])[0]
        if tags:
            out["*"] = tags
    return out


def asg_tags(params):
    """The tags of a CreateAutoScalingGroup: {key: value}."""
    return request_tags("elb", params).get("*", {})


iam_tags = asg_tags  # IAM's Tags.member.N.Key / .Value: the same shape


def record_created(st, action, params, text, now):
    """Creation times (eventual_s) of what was created here."""
    with st.lock:
        if action == "CreateSecurityGroup":
            for gid in re.findall(r"<groupId>(sg-[0-9a-f]+)</groupId>", text):
                st.created.setdefault(gid, now)
        elif action == "ImportKeyPair":
            name = (params.get("KeyName") or [""])[0]
            st.created.setdefault("key:" + name, now)
        elif action == "RunInstances":
            for iid in re.findall(r"<instanceId>(i-[0-9a-f]+)</instanceId>", text):
                st.created.setdefault(iid, now)
        elif action == "CreateLaunchTemplate":
            for ltid in re.findall(r"<launchTemplateId>(lt-[0-9a-f]+)</launchTemplateId>", text):
                st.created.setdefault(ltid, now)


def token_params(req):
    """What a RunInstances retry with the same client token must repeat: every
    parameter but the token and the zone ("other than the Region or
    Availability Zone")."""
    skip = ("ClientToken", "Placement.AvailabilityZone", "Placement.AvailabilityZoneId", "DryRun")
    return sorted((k, tuple(v)) for k, v in req.params.items() if k not in skip)


# --- ELB: "the same settings" of an existing load balancer, target group, listener

def members_of(xml, tag):
    m = re.search(rf"<{tag}>(.*?)</{tag}>", xml, re.S)
    return top_members(m.group(1)) if m else []


def same_load_balancer(req, member):
    """Subnets, security groups, scheme, type and IP address type, as the
    request gives them (scheme, type and IP address type: their defaults
    when it does not)."""
    subnets = req.listed("Subnets.member") + [v[0] for k, v in req.params.items()
                                              if re.fullmatch(r"SubnetMappings\.member\.\d+\.SubnetId", k)]
    if subnets:
        have = set(re.findall(r"<SubnetId>([^<]+)</SubnetId>", member))
        if set(subnets) != have:
            return False
    groups = req.listed("SecurityGroups.member")
    if groups:
        have = {re.sub(r"</?member>", "", m) for m in members_of(member, "SecurityGroups")}
        if set(groups) != have:
            return False
    for param, default in (("Scheme", "internet-facing"), ("Type", "application"), ("IpAddressType", "ipv4")):
        # moto leaves out what was not asked for (its Scheme): the default.
        have = own_text(member, param) or default
        if req.p(param, default) != have:
            return False
    return True


TG_SETTINGS = ("Protocol", "Port", "VpcId", "HealthCheckProtocol", "HealthCheckPort", "HealthCheckPath",
               "HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount",
               "UnhealthyThresholdCount", "HealthCheckEnabled", "ProtocolVersion", "IpAddressType")


def same_target_group(req, member):
    """Protocol, port, VPC, target type (default instance) and the health-check
    settings the request gives."""
    for param in TG_SETTINGS:
        want = req.p(param)
        if want is None:
            continue
        have = own_text(member, param)
        if have is not None and want.lower() != have.lower():
            return False
    have = own_text(member, "TargetType")
    if have is not None and req.p("TargetType", "instance") != have:
        return False
    want = req.p("Matcher.HttpCode")
    if want is not None:
        m = re.search(r"<Matcher>\s*<HttpCode>([^<]*)</HttpCode>", member)
        if m and m.group(1) != want:
            return False
    return True


def same_listener(req, member):
    """Protocol and default actions (type and target groups)."""
    if req.p("Protocol") is not None and own_text(member, "Protocol") not in (None, req.p("Protocol")):
        return False
    want = []
    for k, v in req.params.items():
        m = re.fullmatch(r"DefaultActions\.member\.(\d+)\.Type", k)
        if m:
            n = m.group(1)
            tgs = {vv[0] for kk, vv in req.params.items()
                   if kk == f"DefaultActions.member.{n}.TargetGroupArn"
                   or re.fullmatch(rf"DefaultActions\.member\.{n}\.ForwardConfig\.TargetGroups\.member\.\d+\.TargetGroupArn", kk)}
            want.append((v[0], tuple(sorted(tgs))))
    have = []
    for a in members_of(member, "DefaultActions"):
        tgs = set(re.findall(r"<TargetGroupArn>([^<]+)</TargetGroupArn>", a))
        have.append((own_text(a, "Type"), tuple(sorted(tgs))))
    return sorted(want) == sorted(have)


def tag_params(params, prefix):
    """The tags of a CreateTags / DeleteTags (prefix "Tag") or AddTags /
    RemoveTags (prefix "Tags.member" / "TagKeys.member") request: {key: value}."""
    out = {}
    for k, v in params.items():
        m = re.match(rf"{re.escape(prefix)}\.(\d+)(\.Key)?$", k)
        if m and (m.group(2) or prefix.startswith("TagKeys")):
            out[v[0]] = (params.get(f"{prefix}.{m.group(1)}.Value") or [""])[0]
    return out


# The "Elastic Load Balancing API permissions" page: EC2 (and IAM) actions the
# *caller* needs for these ELB calls, checked by ELB on the caller's behalf.
ELB_IMPLICIT = {
    "CreateLoadBalancer": ["ec2:DescribeAccountAttributes", "ec2:DescribeAddresses",
                           "ec2:DescribeInternetGateways", "ec2:DescribeSecurityGroups",
                           "ec2:DescribeSubnets", "ec2:DescribeVpcs", "iam:CreateServiceLinkedRole"],
    "CreateTargetGroup": ["ec2:DescribeInternetGateways", "ec2:DescribeVpcs"],
    "RegisterTargets": ["ec2:DescribeInstances", "ec2:DescribeInternetGateways",
                        "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
    "SetSecurityGroups": ["ec2:DescribeSecurityGroups"],
    "SetSubnets": ["ec2:DescribeSubnets"],
}


def fallback_evaluate(policy, action, resource, ctx):
    """Used only without iam_eval.py (a trust policy's check): Allow/Deny with
    String*/Arn* conditions; anything else fails closed."""
    import fnmatch

    def listify(x):
        return [x] if isinstance(x, str) else list(x or [])
    decision = "ImplicitDeny"
    for s in policy.get("Statement", []):
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in listify(s.get("Action"))):
            continue
        ok = True
        for op, conds in (s.get("Condition") or {}).items():
            for key, want in conds.items():
                have = ctx.get(key)
                if op in ("StringEquals", "ArnEquals"):
                    ok = ok and have in listify(want)
                elif op in ("StringLike", "ArnLike"):
                    ok = ok and have is not None and any(fnmatch.fnmatchcase(have, w) for w in listify(want))
                else:
                    ok = False
        if ok and s.get("Effect") == "Deny":
            return "ExplicitDeny"
        if ok and s.get("Effect") == "Allow":
            decision = "Allow"
    return decision


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # The tool opens a dozen connections at once (its look-ups run together).
    # socketserver's default listen backlog of 5 drops the extra SYNs, which the
    # client's kernel resends after 1 s: a stall AWS's endpoints never cause.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that hung up (a killed deploy, an abandoned call) is normal here.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--config", default="{}")
    args = ap.parse_args()
    config = json.loads(args.config)
    evaluator = None
    if config.get("iam_policy") is not None:
        import iam_eval as evaluator
        problems = evaluator.validate(config["iam_policy"])
        if problems:
            print("awsproxy.py: iam_policy is not a policy AWS would accept:", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            return 1
    Handler.state = State(config, evaluator)
    Handler.upstream = urllib.parse.urlparse(args.upstream)
    server = Server(("127.0.0.1", args.port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
