#!/usr/bin/env python3
"""Tests of schema/output.schema.json and tests/support/check_json.py.

    /work/main/.venv/bin/python tests/support/check_json_test.py

The samples in tests/support/json_samples/ are real `--json` outputs of every
command (and of a failure), as the binaries print them. Each must validate;
each mutation below must be refused, at the path it broke. (The Rust tests
validate every output they parse, too: tests/common's `Run::json`.)
"""

import copy
import json
import subprocess
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import check_json  # noqa: E402

SAMPLES = HERE / "json_samples"
COMMANDS = {
    "deploy", "deploy-plan", "cleanup", "cleanup-plan",
    "status", "status-all-regions", "logs",
}


def sample(name):
    """A fresh copy of tests/support/json_samples/<name>.json."""
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


class SchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.schema = check_json.load_schema(check_json.SCHEMA)
        cls.v = check_json.validator(cls.schema)

    def errors(self, doc):
        return check_json.errors_of(self.v, doc)

    def assertValid(self, doc):
        self.assertEqual(self.errors(doc), [], json.dumps(doc)[:300])

    def assertRefused(self, doc, path):
        """`doc` is invalid, with an error at JSON path `path`."""
        errs = self.errors(doc)
        self.assertTrue(errs, "accepted, but should be refused")
        self.assertIn(path, [p for p, _ in errs], errs)

    # -- the schema and the samples --

    def test_schema_is_a_2020_12_schema_with_its_id(self):
        self.assertEqual(
            self.schema["$schema"], "https://json-schema.org/draft/2020-12/schema"
        )
        self.assertEqual(
            self.schema["$id"], "https://sitedeploy.example/schema/output.schema.json"
        )
        self.assertTrue(self.schema["title"] and self.schema["description"])

    def test_every_object_is_closed_and_every_property_described(self):
        def walk(node, where):
            if isinstance(node, dict):
                if node.get("type") == "object" and "properties" in node:
                    self.assertIs(node.get("additionalProperties"), False, where)
                    for name, prop in node["properties"].items():
                        self.assertIn("description", prop, f"{where}.{name}")
                for k, child in node.items():
                    walk(child, f"{where}/{k}")
            elif isinstance(node, list):
                for i, child in enumerate(node):
                    walk(child, f"{where}/{i}")

        for name, d in self.schema["$defs"].items():
            walk(d, f"$defs/{name}")

    def test_the_samples_cover_every_command_and_a_failure(self):
        docs = [sample(p.stem) for p in sorted(SAMPLES.glob("*.json"))]
        self.assertEqual({d["command"] for d in docs if d["ok"]}, COMMANDS)
        self.assertTrue(any(not d["ok"] for d in docs))

    def test_every_sample_validates(self):
        files = sorted(SAMPLES.glob("*.json"))
        self.assertEqual(len(files), 8)
        for f in files:
            with self.subTest(sample=f.name):
                self.assertValid(sample(f.stem))

    # -- the mutations the brief names --

    def test_an_unknown_field_is_refused_anywhere(self):
        for name in ["deploy", "deploy-plan", "cleanup", "cleanup-plan",
                     "status", "status-all-regions", "logs", "failure"]:
            with self.subTest(sample=name):
                d = sample(name)
                d["extra"] = 1
                self.assertRefused(d, "$")
        d = sample("deploy")
        d["resources"][0]["state"] = "new"
        self.assertRefused(d, "$.resources[0]")
        d = sample("status-all-regions")
        d["deployments"][0]["cost"]["dollars"] = 1.0
        self.assertRefused(d, "$.deployments[0].cost")
        d = sample("failure")
        d["error"]["hint"] = "try again"
        self.assertRefused(d, "$.error")
        d = sample("deploy")
        d["caller"]["user_id"] = "AIDA..."
        self.assertRefused(d, "$.caller")

    def test_a_wrong_action_is_refused(self):
        for name, value in [("deploy", "created"), ("deploy-plan", "Create"),
                            ("cleanup", "deleted"), ("cleanup-plan", "remove")]:
            with self.subTest(sample=name, action=value):
                d = sample(name)
                d["resources"][0]["action"] = value
                self.assertRefused(d, "$.resources[0].action")

    def test_a_time_without_z_is_refused(self):
        for t in ["2026-12-01T06:12:41", "2026-12-01T06:12:41+00:00",
                  "2026-12-01 06:12:41Z", "2026-12-01T06:12Z",
                  "2026-12-01T06:12:41.5Z", "2026-13-01T06:12:41Z"]:
            with self.subTest(time=t):
                d = sample("deploy")
                d["expires_at"] = t
                self.assertRefused(d, "$.expires_at")
        d = sample("status-all-regions")
        d["deployments"][0]["expires_at"] = "2026-12-01T06:12:41"
        self.assertRefused(d, "$.deployments[0].expires_at")

    def test_format_version_2_is_refused(self):
        for name in ["deploy", "status", "failure"]:
            with self.subTest(sample=name):
                d = sample(name)
                d["format_version"] = 2
                self.assertRefused(d, "$.format_version")

    def test_a_deploy_body_labelled_status_is_refused(self):
        d = sample("deploy")
        d["command"] = "status"
        self.assertRefused(d, "$")
        # ...and every other body under every other command's name.
        bodies = {name: sample(name) for name in COMMANDS}
        for body, doc in bodies.items():
            for label in COMMANDS - {body}:
                with self.subTest(body=body, command=label):
                    d = copy.deepcopy(doc)
                    d["command"] = label
                    self.assertTrue(self.errors(d))

    def test_a_failure_without_error_kind_is_refused(self):
        d = sample("failure")
        del d["error"]["kind"]
        self.assertRefused(d, "$.error")

    # -- more of the same strictness --

    def test_the_unpatched_shapes_are_refused(self):
        d = sample("deploy")
        d["cost"]["parts"] = [[p["item"], p["per_hour"]] for p in d["cost"]["parts"]]
        self.assertRefused(d, "$.cost.parts[0]")
        d = sample("status")
        del d["caller"]["credentials"]
        self.assertRefused(d, "$.caller")

    def test_caller_is_required_on_success_and_refused_on_failure(self):
        d = sample("logs")
        del d["caller"]
        self.assertRefused(d, "$")
        d = sample("failure")
        d["caller"] = sample("logs")["caller"]
        self.assertRefused(d, "$")

    def test_a_failure_has_no_command_fields_and_a_success_no_error(self):
        d = sample("failure")
        d["deployment"] = "halfway"
        self.assertRefused(d, "$")
        d = sample("status")
        d["error"] = sample("failure")["error"]
        self.assertRefused(d, "$")

    def test_failure_kind_and_exit_code_go_together(self):
        for kind, code in [("usage", 2), ("interrupted", 130), ("failed", 1)]:
            d = sample("failure")
            d["error"].update(kind=kind, exit_code=code, aws_code="Throttling")
            self.assertValid(d)
        d = sample("failure")
        d["error"]["exit_code"] = 1
        self.assertRefused(d, "$.error.exit_code")
        d = sample("failure")
        d["error"]["kind"] = "error"
        self.assertRefused(d, "$.error.kind")

    def test_option_fields_are_present_as_null_not_absent(self):
        d = sample("deploy")
        del d["ssh_cidr"]
        self.assertRefused(d, "$")
        d = sample("deploy")
        d["ssh_cidr"] = None
        d["expires_at"] = None
        d["cost"]["per_hour"] = None
        d["cost"]["note"] = "x9.huge is not in config/pricing.toml"
        self.assertValid(d)
        d = sample("status")
        d["cost_so_far"] = None
        d["url"] = d["load_balancer_state"] = d["age_hours"] = None
        self.assertValid(d)
        d = sample("status")
        del d["targets"][0]["reason"]
        self.assertRefused(d, "$.targets[0]")

    def test_types_are_exact(self):
        d = sample("deploy")
        d["totals"]["create"] = 12.5
        self.assertRefused(d, "$.totals.create")
        d = sample("deploy")
        d["totals"]["keep"] = -1
        self.assertRefused(d, "$.totals.keep")
        d = sample("deploy")
        d["site"]["status"] = "200"
        self.assertRefused(d, "$.site.status")
        d = sample("deploy")
        d["cost"]["per_hour"] = "0.057"
        self.assertRefused(d, "$.cost.per_hour")
        d = sample("deploy-plan")
        d["cost"]["per_hour"] = -0.1
        self.assertRefused(d, "$.cost.per_hour")
        d = sample("deploy")
        d["cost"]["prices_of"] = "2026-11-01T00:00:00Z"
        self.assertRefused(d, "$.cost.prices_of")
        d = sample("failure")
        d["ok"] = "false"
        self.assertRefused(d, "$.ok")

    def test_row_kinds_are_the_label_set(self):
        d = sample("status")
        d["resources"][0]["kind"] = "keypair"
        self.assertRefused(d, "$.resources[0].kind")
        d = sample("status")
        d["resources"][0]["kind"] = "look-up"
        self.assertRefused(d, "$.resources[0].kind")
        d = sample("deploy")
        d["resources"][0]["kind"] = "Auto Scaling group"
        self.assertValid(d)

    def test_cleanup_rows_may_fail_and_report_look_ups(self):
        d = sample("cleanup")
        d["resources"][0]["error"] = "AccessDenied: no"
        d["resources"].append({"kind": "look-up", "name": "halfway", "id": "",
                               "detail": "", "action": "keep",
                               "error": "could not list instances"})
        d["complete"] = False
        self.assertValid(d)
        d = sample("cleanup")
        d["resources"][0]["error"] = 5
        self.assertRefused(d, "$.resources[0].error")
        d = sample("cleanup")
        d["resources"][0]["action"] = "create"
        self.assertRefused(d, "$.resources[0].action")
        # Only cleanup's report has errors on rows; its plan only deletes.
        d = sample("deploy")
        d["resources"][0]["error"] = "boom"
        self.assertRefused(d, "$.resources[0].error")
        d = sample("cleanup-plan")
        d["resources"][0]["action"] = "keep"
        self.assertRefused(d, "$.resources[0].action")
        d = sample("deploy")
        d["resources"][0]["action"] = "stop"
        self.assertRefused(d, "$.resources[0].action")
        d = sample("deploy-plan")
        d["resources"][0]["action"] = "stop"
        self.assertValid(d)

    def test_an_unknown_command_is_refused(self):
        d = sample("failure")
        d["command"] = "destroy"
        self.assertRefused(d, "$.command")


class CliTest(unittest.TestCase):
    SCRIPT = HERE / "check_json.py"

    def run_script(self, *args, stdin=""):
        return subprocess.run(
            [sys.executable, str(self.SCRIPT), *args],
            input=stdin, capture_output=True, text=True, timeout=60,
        )

    def test_valid_files_pass_silently(self):
        r = self.run_script(*map(str, sorted(SAMPLES.glob("*.json"))))
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))

    def test_check_schema_only(self):
        r = self.run_script("--check-schema")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))

    def test_stdin_errors_are_printed_with_their_path(self):
        d = sample("deploy")
        d["resources"][2]["action"] = "created"
        d["expires_at"] = "2026-12-01T06:12:41"
        r = self.run_script(stdin=json.dumps(d))
        self.assertEqual(r.returncode, 1)
        self.assertIn("<stdin>: $.resources[2].action: 'created' is not one of", r.stderr)
        self.assertIn("<stdin>: $.expires_at: ", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 2, r.stderr)

    def test_two_documents_or_no_json_are_refused(self):
        one = (SAMPLES / "failure.json").read_text()
        r = self.run_script(stdin=one + one)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not one JSON document", r.stderr)
        r = self.run_script("-", stdin="error: no config\n")
        self.assertEqual(r.returncode, 1)

    def test_a_missing_file_fails(self):
        r = self.run_script(str(SAMPLES / "nothere.json"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot read", r.stderr)

    def test_an_invalid_schema_fails(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"type": "nonsense"}, f)
        try:
            r = self.run_script("--schema", f.name, "--check-schema")
        finally:
            Path(f.name).unlink()
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a valid 2020-12 schema", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
