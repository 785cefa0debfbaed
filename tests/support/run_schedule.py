#!/usr/bin/env python3
"""Runs the schedules of a group the way EventBridge Scheduler would: for each
schedule, the service and API action come from its universal target ARN
(arn:aws:scheduler:::aws-sdk:<service>:<apiAction>) and its Input JSON is sent
as that API's request, here to moto.

Usage: run_schedule.py --endpoint URL --group NAME
Prints one JSON line per schedule run: {"name", "service", "action", "input"}.
"""

import argparse
import json
import re

import boto3

# SDK service identifiers (as in universal targets) -> boto3 client names.
CLIENTS = {"elasticloadbalancingv2": "elbv2"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--group", required=True)
    args = ap.parse_args()
    kw = dict(endpoint_url=args.endpoint, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    scheduler = boto3.client("scheduler", **kw)
    for summary in scheduler.list_schedules(GroupName=args.group)["Schedules"]:
        s = scheduler.get_schedule(Name=summary["Name"], GroupName=args.group)
        arn = s["Target"]["Arn"]
        m = re.fullmatch(r"arn:aws:scheduler:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)", arn)
        if not m:
            raise SystemExit(f"not a universal target: {arn}")
        service, action = m.groups()
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()
        payload = json.loads(s["Target"]["Input"])
        client = boto3.client(CLIENTS.get(service, service), **kw)
        getattr(client, method)(**payload)
        print(json.dumps({"name": s["Name"], "service": service, "action": action,
                          "input": payload}))


if __name__ == "__main__":
    main()
