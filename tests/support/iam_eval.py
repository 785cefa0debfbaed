#!/usr/bin/env python3
"""IAM policy evaluation as AWS documents it, for the tests (standard library only).

API (used by tests/support/awsproxy.py, run_schedule.py and fakesite.py's `aws` stub):

    evaluate(policy, action, resource, context) -> (decision, reason)
        decision: "Allow" | "ExplicitDeny" | "ImplicitDeny"
    validate(policy) -> [problem, ...]
    authorize(policy, checks) -> None | "<action> on <resource>[ (explicit deny by <sid>)]"

`policy` is one policy document (dict) or a list of documents evaluated together as one
identity's policies (allowed when some statement allows and none denies). `context` maps
condition keys to a string or a list of strings (bools and numbers are accepted and written
as IAM does: "true"/"false", "10"); a key absent from it is missing from the request.
evaluate/validate take an optional `principal` / `kind` for trust policies (see below).

CLI:
    iam_eval.py validate FILE.json [--kind identity|trust]      problems, exit 1 if any
    iam_eval.py mutations FILE.json [--recorded RECORDED.json]  uncaught misspellings, exit 1
    iam_eval.py eval FILE.json ACTION RESOURCE ['{"key": "value"}']

Sources (AWS documentation; "IAM UG" = https://docs.aws.amazon.com/IAM/latest/UserGuide/):
- IAM UG reference_policies_evaluation-logic.html: an explicit deny in any policy overrides
  any allow; without an allow the request is implicitly denied.
- IAM UG reference_policies_elements_condition.html: "Context key names are not
  case-sensitive"; for key-value keys (aws:RequestTag/tag-key, aws:ResourceTag/tag-key)
  "Key names are not case-sensitive ... the condition matches a resource tag key named
  either TagKey1 or tagkey1, but not both" (both present: "the key name matches both tags,
  but only one value matches. This can result in unexpected condition failures").
- IAM UG reference_policies_elements_condition_operators.html: "If the key that you specify
  in a policy condition is not present in the request context, the values do not match and
  the condition is false. If the policy condition requires that the key is not matched,
  such as StringNotLike or ArnNotLike, and the right key is not present, the condition is
  true. This logic applies to all condition operators except ...IfExists and Null check."
  IfExists: "If the key is not present, evaluate the condition element as true." Null:
  true = "the key doesn't exist", false = "the key exists and its value is not null".
  ArnEquals/ArnLike (identical): "Each of the six colon-delimited components of the ARN is
  checked separately". IP: "If you specify an IP address without the associated routing
  prefix, IAM uses the default prefix value of /32".
- IAM UG reference_policies_multi-value-conditions.html: operators AND, keys AND, values of
  one key OR; "When multiple values are listed in a policy for negated matching condition
  operators such as StringNotEquals ... the string cannot match any of the ... values";
  ForAllValues "returns true if every key value in the request matches at least one value
  in the policy. It also returns true if there are no keys in the request, or if the key
  values resolve to a null data set, such as an empty string"; ForAnyValue "For no matching
  key or a null dataset, the condition returns false".
- IAM UG reference_policies_elements_action.html ("The prefix and the action name are case
  insensitive") and reference_policies_elements_resource.html (wildcards * and ? "within
  ARN segments"; "*" in the resource part also spans "/").
- IAM UG reference_policies_variables.html: variables only with Version 2012-10-17, else
  literal; a variable whose key is missing matches nothing (unless `${key, 'default'}`).
- IAM UG access-analyzer-reference-policy-checks.html: the wording of validate's problems
  (invalid condition operator, "The condition key K does not exist", "... does not exist in
  the service S", "Unsupported action for condition key", "Null with if exists", "Null with
  qualifier" (ForAllValues:Null always true, ForAnyValue:Null always false), "Missing tag key
  in condition", "ForAllValues with single valued key", "Unsupported Sid", ...).
- Service Authorization Reference (SAR), per-service pages cited at the tables at the end.

Choices where AWS documents nothing (NOT CONFIRMED, by design fail-closed):
- Unknown operator (or Null...IfExists): IAM refuses to store such a policy; here the
  condition is "not evaluable": an Allow statement with it never applies, a Deny statement
  with it always applies (so it can never let a request through).
- A single-valued operator (no ForAllValues/ForAnyValue) given several values for one key
  (a multivalued key such as aws:TagKeys, or two tags whose keys differ only by case): AWS
  says multivalued keys "require" a set operator but not what happens without one; treated
  as not evaluable, as above. One value in a list is the single value.
- A structurally malformed statement (no/invalid Effect, no Action, no Resource...) can
  never allow; a malformed Deny statement denies everything it could match.
- Condition operator names and the ForAllValues:/ForAnyValue: qualifiers are matched
  case-sensitively (AWS writes them so everywhere; whether IAM accepts other cases is not
  documented), so "stringequals" is reported by validate.
- Principal: for identity policies the Principal element is ignored by evaluate (validate
  reports it). With evaluate(..., principal={"Service": "scheduler.amazonaws.com"}) the
  policy is read as a trust/resource policy: statements must name the principal and need
  no Resource element.

Mutation check (`mutations`): every condition key occurrence is misspelled by dropping one
character of its prefix ("aws"), of its name ("RequestTag" -> "RequestTg") and, for keys with
a tag-key part, of that part ("ManagedBy" -> "ManagedB"). A variant is caught when validate
reports a problem the original policy does not have, or (with --recorded) when one of the
recorded authorization checks gets another decision under the mutated policy.
- Misspelled prefixes and names are caught by validate (the key does not exist), except
  when the misspelling is itself a real key (rare; then only the replay can catch it).
- A misspelled tag-key part is a valid key, so only the replay catches it. What evidence
  catches it depends on what the condition becomes when its key is missing from every
  request (that is what a misspelled tag key does):
  * condition then always false (StringEquals, ArnLike, ForAnyValue..., Null "false"):
    - in an Allow statement the mutation removes permissions: caught by a recorded ALLOWED
      check that this statement allowed (and no other statement allows);
    - in a Deny statement it removes a deny: caught only by a recorded DENIED check that
      this statement denied.
  * condition then always true (StringNotEquals..., ...IfExists, ForAllValues..., Null
    "true"): the condition stops restricting:
    - in an Allow statement the policy gets WEAKER: allowed requests stay allowed, so only a
      recorded DENIED check that failed this very condition (e.g. a retag of ManagedBy that
      a ForAllValues:StringNotEquals aws:TagKeys guard refused) catches it;
    - in a Deny statement the deny widens: caught by a recorded ALLOWED check in the
      statement's scope for which the condition was false.
  Each uncaught variant is printed with the kind of evidence it needs and how many recorded
  checks fall in the statement's scope, rather than counted as caught.
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import decimal
import functools
import ipaddress
import json
import re
import sys

__all__ = ["evaluate", "validate", "authorize", "mutations", "SERVICES", "GLOBAL_KEYS"]

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "Allow", "ExplicitDeny", "ImplicitDeny"
VERSIONS = ("2012-10-17", "2008-10-17")

# --------------------------------------------------------------------------------------
# Condition operators (IAM UG reference_policies_elements_condition_operators.html)
# name -> (family, comparison, negated)
OPERATORS = {
    "StringEquals": ("string", "eq", False),
    "StringNotEquals": ("string", "eq", True),
    "StringEqualsIgnoreCase": ("string", "eqi", False),
    "StringNotEqualsIgnoreCase": ("string", "eqi", True),
    "StringLike": ("string", "like", False),
    "StringNotLike": ("string", "like", True),
    "NumericEquals": ("numeric", "eq", False),
    "NumericNotEquals": ("numeric", "eq", True),
    "NumericLessThan": ("numeric", "lt", False),
    "NumericLessThanEquals": ("numeric", "le", False),
    "NumericGreaterThan": ("numeric", "gt", False),
    "NumericGreaterThanEquals": ("numeric", "ge", False),
    "DateEquals": ("date", "eq", False),
    "DateNotEquals": ("date", "eq", True),
    "DateLessThan": ("date", "lt", False),
    "DateLessThanEquals": ("date", "le", False),
    "DateGreaterThan": ("date", "gt", False),
    "DateGreaterThanEquals": ("date", "ge", False),
    "Bool": ("bool", "eq", False),
    "BinaryEquals": ("binary", "eq", False),
    "IpAddress": ("ip", "in", False),
    "NotIpAddress": ("ip", "in", True),
    "ArnEquals": ("arn", "like", False),
    "ArnLike": ("arn", "like", False),
    "ArnNotEquals": ("arn", "like", True),
    "ArnNotLike": ("arn", "like", True),
    "Null": ("null", "null", False),
}
QUALIFIERS = ("ForAllValues", "ForAnyValue")
# Families whose values may hold policy variables (IAM UG reference_policies_variables.html).
VARIABLE_FAMILIES = ("string", "arn", "bool")


class Operator:
    """A parsed condition operator: [qualifier:]base[IfExists]."""

    __slots__ = ("text", "qualifier", "base", "if_exists", "family", "cmp", "negated", "error")

    def __init__(self, text: str):
        self.text = text
        self.qualifier = None
        self.if_exists = False
        self.error = None
        rest = text
        if ":" in rest:
            q, rest = rest.split(":", 1)
            if q not in QUALIFIERS:
                self.error = f"The condition operator {text} is not valid (unknown qualifier {q})."
            self.qualifier = q
        if rest.endswith("IfExists") and rest[:-8] in OPERATORS:
            rest, self.if_exists = rest[:-8], True
        self.base = rest
        spec = OPERATORS.get(rest)
        if spec is None:
            self.family = self.cmp = None
            self.negated = False
            self.error = self.error or f"The condition operator {text} is not valid."
        else:
            self.family, self.cmp, self.negated = spec
            if self.family == "null" and self.if_exists:
                self.error = ("The Null condition operator cannot be used with the IfExists "
                              "suffix (operator " + text + ").")

    @property
    def ok(self):
        return self.error is None


# --------------------------------------------------------------------------------------
# Values

def _str(v):
    """A JSON scalar as IAM reads it in policies and request contexts."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, decimal.Decimal)):
        return str(v)
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, str):
        return v
    raise TypeError(f"not a scalar: {v!r}")


def _as_list(v):
    if v is None:
        return []
    return list(v) if isinstance(v, (list, tuple)) else [v]


class Context:
    """Request context with case-insensitive key names."""

    def __init__(self, context):
        self.values = {}
        for k, v in (context or {}).items():
            if v is None:
                continue
            vals = [x for x in (_str(e) for e in _as_list(v))]
            self.values.setdefault(k.lower(), []).extend(vals)
        # A scalar given for a key stays one value; a key given twice (two tags whose
        # keys differ only by case) holds every value.

    def get(self, key):
        """The values of `key`, or None when the key is missing."""
        return self.values.get(key.lower())


_VAR = re.compile(r"\$\{([^}]*)\}")


# In patterns, characters that came from ${*}, ${?} or a variable's value are literal:
# they are carried as these two placeholders until _glob.
_LIT_STAR, _LIT_QMARK = "\x00", "\x01"


def _substitute(text, ctx, version, pattern=False):
    """Policy variables in `text`; None when a variable's key is missing (no match).
    pattern=True: for a Like/ARN match, where substituted * and ? are literal."""
    if version != "2012-10-17" or "${" not in text:
        return text
    missing = False

    def lit(x):
        return x.replace("*", _LIT_STAR).replace("?", _LIT_QMARK) if pattern else x

    def repl(m):
        nonlocal missing
        inner = m.group(1)
        if inner in ("*", "?", "$"):
            return lit(inner)
        name, default = inner, None
        dm = re.fullmatch(r"\s*([^,]+?)\s*,\s*'([^']*)'\s*", inner)
        if dm:
            name, default = dm.group(1), dm.group(2)
        vals = ctx.get(name.strip())
        if vals and len(vals) == 1:
            return lit(vals[0])
        if default is not None:
            return lit(default)
        missing = True
        return ""

    out = _VAR.sub(repl, text)
    return None if missing else out


@functools.lru_cache(maxsize=4096)
def _glob_rx(pattern, ignore_case):
    rx = "".join(".*" if c == "*" else "." if c == "?" else
                 re.escape("*" if c == _LIT_STAR else "?" if c == _LIT_QMARK else c)
                 for c in pattern)
    return re.compile(rx, re.S | (re.I if ignore_case else 0))


def _glob(pattern, value, ignore_case=False):
    """Whole-string match with * (any run) and ? (one character)."""
    return _glob_rx(pattern, ignore_case).fullmatch(value) is not None


def arn_like(pattern, value):
    """ArnLike: the six colon-separated parts compared one by one (the resource part,
    everything after the fifth colon, may hold colons and slashes)."""
    if pattern == "*":
        return True
    p, v = pattern.split(":", 5), value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return False
    return all(_glob(a, b) for a, b in zip(p, v))


def _parse_number(s):
    try:
        d = decimal.Decimal(s.strip())
    except (decimal.InvalidOperation, AttributeError):
        return None
    return d if d.is_finite() else None


def _parse_date(s):
    """ISO 8601 (W3C profile: 2020-01-01, 2020-01-01T00:00:01Z, with offsets) or epoch
    seconds; naive times are UTC."""
    s = s.strip()
    if re.fullmatch(r"-?\d+", s):
        try:
            return _dt.datetime.fromtimestamp(int(s), _dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    t = s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s
    d = None
    try:
        d = _dt.datetime.fromisoformat(t)
    except ValueError:
        for fmt in ("%Y%m%dT%H%M%S%z", "%Y-%m", "%Y"):
            try:
                d = _dt.datetime.strptime(t, fmt)
                break
            except ValueError:
                pass
    if d is None:
        return None
    return d if d.tzinfo else d.replace(tzinfo=_dt.timezone.utc)


def _parse_net(s):
    try:
        return ipaddress.ip_network(s.strip(), strict=False)
    except ValueError:
        return None


def _b64(s):
    try:
        return base64.b64decode(s, validate=True)
    except (ValueError, TypeError):
        return None


def _compare(cmp, a, b):
    return {"eq": a == b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[cmp]


def _match_one(op, value, pvalue):
    """Does the request value match one policy value (before negation)? pvalue is already
    variable-substituted (None: its variable is missing, matches nothing)."""
    if pvalue is None:
        return False
    fam, cmp = op.family, op.cmp
    if fam == "string":
        if cmp == "eq":
            return value == pvalue
        if cmp == "eqi":
            return value.casefold() == pvalue.casefold()
        return _glob(pvalue, value)
    if fam == "arn":
        return arn_like(pvalue, value)
    if fam in ("numeric", "date"):
        parse = _parse_number if fam == "numeric" else _parse_date
        a, b = parse(value), parse(pvalue)
        if a is None or b is None:
            return False
        return _compare(cmp, a, b)
    if fam == "bool":
        return value.strip().lower() == pvalue.strip().lower()
    if fam == "binary":
        a, b = _b64(value), _b64(pvalue)
        return a is not None and a == b
    if fam == "ip":
        net = _parse_net(pvalue)
        try:
            addr = ipaddress.ip_address(value.strip())
        except ValueError:
            return False
        return net is not None and addr.version == net.version and addr in net
    return False


def _base_holds(op, value, pvalues):
    """The base operator (negation included) for one request value: the policy's values OR
    together; a negated operator holds when no value matches."""
    hit = any(_match_one(op, value, p) for p in pvalues)
    return not hit if op.negated else hit


def _is_null(vals):
    return vals is None or all(v == "" for v in vals)


def eval_condition(op: Operator, key: str, policy_values, ctx: Context, version="2012-10-17"):
    """One (operator, key, values) entry: True, False, or None (not evaluable)."""
    if not op.ok:
        return None
    try:
        raw = [_str(v) for v in _as_list(policy_values)]
    except TypeError:
        return None  # an object or null as a condition value: validate reports it
    vals = ctx.get(key)
    if op.family == "null":
        if op.qualifier == "ForAllValues":   # Access Analyzer "Null with qualifier"
            return True
        if op.qualifier == "ForAnyValue":
            return False
        null = _is_null(vals)
        return any((p.strip().lower() == "true") == null for p in raw
                   if p.strip().lower() in ("true", "false"))
    if op.family in VARIABLE_FAMILIES:
        like = op.cmp == "like"
        pvalues = [_substitute(p, ctx, version, pattern=like) for p in raw]
    else:
        pvalues = raw
    if op.qualifier:
        present = [v for v in (vals or []) if v != ""]
        if not present:
            if vals is None and op.if_exists:
                return True
            return op.qualifier == "ForAllValues"
        test = all if op.qualifier == "ForAllValues" else any
        return test(_base_holds(op, v, pvalues) for v in present)
    if vals is None or vals == []:
        return True if op.if_exists else op.negated
    if len(vals) > 1:
        return None  # several values for a single-valued operator: see the module doc
    return _base_holds(op, vals[0], pvalues)


# --------------------------------------------------------------------------------------
# Statements

def _statements(policy):
    st = policy.get("Statement") if isinstance(policy, dict) else None
    if isinstance(st, dict):
        return [st]
    if isinstance(st, list):
        return st
    return []


def _label(st, index, pindex=None, npolicies=1):
    sid = st.get("Sid") if isinstance(st, dict) else None
    name = f'"{sid}"' if isinstance(sid, str) and sid else f"#{index}"
    if npolicies > 1:
        name = f"policy {pindex} statement {name}"
    return name


def _sid_or_index(st, index):
    sid = st.get("Sid") if isinstance(st, dict) else None
    return sid if isinstance(sid, str) and sid else f"#{index}"


def action_matches(pattern, action):
    """Action patterns: prefix and name case-insensitive, * and ? wildcards."""
    if not isinstance(pattern, str):
        return False
    if pattern == "*":
        return True
    if ":" not in pattern or ":" not in action:
        return False
    ps, pa = pattern.split(":", 1)
    s, a = action.split(":", 1)
    return ps.lower() == s.lower() and _glob(pa, a, ignore_case=True)


def resource_matches(pattern, resource, ctx, version):
    if not isinstance(pattern, str):
        return False
    pattern = _substitute(pattern, ctx, version, pattern=True)
    if pattern is None:
        return False
    if pattern == "*":
        return True
    if resource == "*":
        return False
    return arn_like(pattern, resource)  # a pattern that is no 6-part ARN matches nothing


def _principal_matches(element, principal):
    """Principal element vs {"Service"|"AWS"|"Federated": name}."""
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    for kind, names in element.items():
        for n in _as_list(names):
            if kind == "AWS" and n == "*":
                return True
            for pk, pv in principal.items():
                if pk == kind and isinstance(n, str) and any(
                        n == x for x in _as_list(pv)):
                    return True
    return False


def _malformed(st, trust):
    if not isinstance(st, dict):
        return "statement is not an object"
    if st.get("Effect") not in ("Allow", "Deny"):
        return "no valid Effect"
    if ("Action" in st) == ("NotAction" in st):
        return "needs exactly one of Action and NotAction"
    has_res = ("Resource" in st) or ("NotResource" in st)
    if "Resource" in st and "NotResource" in st:
        return "has both Resource and NotResource"
    if not has_res and not trust:
        return "has no Resource"
    if trust and "Principal" not in st and "NotPrincipal" not in st:
        return "has no Principal"
    cond = st.get("Condition", {})
    if not isinstance(cond, dict) or not all(isinstance(v, dict) for v in cond.values()):
        return "Condition is not an object of objects"
    return None


def _statement_scope(st, action, resource, ctx, version, principal):
    """Do Action/Resource/Principal select this request?"""
    if "Action" in st:
        if not any(action_matches(p, action) for p in _as_list(st["Action"])):
            return False
    if "NotAction" in st:
        if any(action_matches(p, action) for p in _as_list(st["NotAction"])):
            return False
    if "Resource" in st:
        if not any(resource_matches(p, resource, ctx, version) for p in _as_list(st["Resource"])):
            return False
    elif "NotResource" in st:
        if any(resource_matches(p, resource, ctx, version) for p in _as_list(st["NotResource"])):
            return False
    if principal is not None:
        if "Principal" in st and not _principal_matches(st["Principal"], principal):
            return False
        if "NotPrincipal" in st and _principal_matches(st["NotPrincipal"], principal):
            return False
    return True


def _conditions(st, ctx, version):
    """(result, detail): result True/False/None over the whole Condition block."""
    result, detail = True, ""
    for optext, block in (st.get("Condition") or {}).items():
        op = Operator(optext)
        for key, pvalues in block.items():
            r = eval_condition(op, key, pvalues, ctx, version)
            if r is False:
                return False, f"{optext} {key} does not hold"
            if r is None:
                result = None
                detail = (op.error or f"{optext} {key}: several request values for a "
                          "single-valued operator")
    return result, detail


def _decide(policies, action, resource, context, principal=None):
    ctx = Context(context)
    n = len(policies)
    allowed_by = None
    for pi, pol in enumerate(policies):
        version = pol.get("Version") if isinstance(pol, dict) else None
        for si, st in enumerate(_statements(pol)):
            label = _label(st, si, pi, n)
            bad = _malformed(st, principal is not None)
            if bad:
                # A malformed statement never allows; a malformed Deny denies whatever its
                # present elements select (its conditions, when readable, still apply).
                if not (isinstance(st, dict) and st.get("Effect") == "Deny"):
                    continue
                if not _statement_scope(st, action, resource, ctx, version, principal):
                    continue
                cond = st.get("Condition") or {}
                if isinstance(cond, dict) and all(isinstance(b, dict) for b in cond.values()):
                    if _conditions(st, ctx, version)[0] is False:
                        continue
                return EXPLICIT_DENY, f"explicit deny by {label} (malformed: {bad})", \
                    _sid_or_index(st, si)
            if not _statement_scope(st, action, resource, ctx, version, principal):
                continue
            holds, detail = _conditions(st, ctx, version)
            if st["Effect"] == "Deny":
                if holds is None:
                    return EXPLICIT_DENY, (f"explicit deny by {label} (condition not "
                                           f"evaluable: {detail})"), _sid_or_index(st, si)
                if holds:
                    return EXPLICIT_DENY, f"explicit deny by {label}", _sid_or_index(st, si)
            elif holds and allowed_by is None:
                allowed_by = label
    if allowed_by:
        return ALLOW, f"allowed by {allowed_by}", None
    return IMPLICIT_DENY, f"no statement allows {action} on {resource}", None


def _policies(policy):
    if isinstance(policy, (list, tuple)):
        return list(policy)
    return [policy]


def evaluate(policy: dict, action: str, resource: str, context: dict, *,
             principal: dict | None = None) -> tuple[str, str]:
    """AWS's evaluation of one identity-based policy (or a list of them) for one request:
    ("Allow"|"ExplicitDeny"|"ImplicitDeny", reason naming the deciding statement).

    With `principal` (e.g. {"Service": "scheduler.amazonaws.com"}) the policy is read as a
    role trust (resource-based) policy: statements apply only to that principal and need
    no Resource element."""
    decision, reason, _ = _decide(_policies(policy), action, resource, context, principal)
    return decision, reason


def authorize(policy: dict, checks: list[tuple[str, str, dict]], *,
              principal: dict | None = None) -> str | None:
    """The first check (action, resource, context) the policy does not allow, as
    "<action> on <resource>" (+ " (explicit deny by <sid>)"), or None when all are allowed."""
    pols = _policies(policy)
    for action, resource, context in checks:
        decision, _, sid = _decide(pols, action, resource, context, principal)
        if decision == ALLOW:
            continue
        msg = f"{action} on {resource}"
        if decision == EXPLICIT_DENY:
            msg += f" (explicit deny by {sid})"
        return msg
    return None


# --------------------------------------------------------------------------------------
# Validation

STATEMENT_ELEMENTS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                      "Condition", "Principal", "NotPrincipal"}


def _expand_action(pattern):
    """(prefix, [matching actions]) of a pattern; actions None if the service is unknown."""
    prefix, name = pattern.split(":", 1)
    svc = _SERVICE_INDEX.get(prefix.lower())
    if svc is None:
        return prefix.lower(), None
    if "*" not in name and "?" not in name:
        exact = svc["by_lower"].get(name.lower())
        return prefix.lower(), [exact] if exact else []
    return prefix.lower(), [a for a in svc["actions"] if _glob(name, a, ignore_case=True)]


def _split_key(key):
    """"aws:RequestTag/ManagedBy" -> ("aws", "RequestTag", "ManagedBy");
    "ec2:CreateAction" -> ("ec2", "CreateAction", None)."""
    prefix, _, rest = key.partition(":")
    name, slash, tail = rest.partition("/")
    return prefix, name, (tail if slash else None)


def _key_family(key):
    """The table form of a key: "aws:RequestTag/" for "aws:RequestTag/x" if that family
    exists, else the key itself; matched case-insensitively."""
    prefix, name, tail = _split_key(key)
    base = f"{prefix}:{name}"
    if tail is not None:
        return (base + "/").lower()
    return base.lower()


def known_global_key(key):
    fam = _key_family(key)
    return fam in _GLOBAL_INDEX


def _service_key_known(key):
    """True/False if the key's service is in the tables, None if it is not."""
    prefix = key.partition(":")[0].lower()
    svc = _SERVICE_INDEX.get(prefix)
    if svc is None:
        return None
    fam = _key_family(key)
    if fam in svc["keys"]:
        return True
    # "ec2:Add/group" is a literal key with a slash
    return key.lower() in svc["keys"]


def _is_single_valued(key):
    fam = _key_family(key)
    if fam in _MULTI_INDEX:
        return False
    if fam in _GLOBAL_INDEX or fam.endswith(":resourcetag/"):
        return True
    return False


def _value_problem(op, v):
    if op.family == "numeric" and _parse_number(v) is None:
        return f"{op.text} value {v!r} is not a number"
    if op.family == "date" and _parse_date(v) is None:
        return f"{op.text} value {v!r} is not an ISO 8601 date or epoch time"
    if op.family in ("bool", "null") and v.strip().lower() not in ("true", "false") \
            and "${" not in v:
        return f"{op.text} value {v!r} is not true or false"
    if op.family == "ip" and _parse_net(v) is None:
        return f"{op.text} value {v!r} is not an IP address or CIDR range"
    if op.family == "binary" and _b64(v) is None:
        return f"{op.text} value {v!r} is not base-64"
    return None


def validate(policy: dict, *, kind: str = "identity") -> list[str]:
    """Problems AWS (IAM on write, or IAM Access Analyzer's policy validation) reports,
    one string each. kind: "identity" (default) or "trust" (a role trust policy)."""
    problems = []
    add = problems.append
    trust = kind == "trust"
    if not isinstance(policy, dict):
        return ["policy is not a JSON object"]
    for k in policy:
        if k not in ("Version", "Id", "Statement"):
            add(f"Invalid policy element {k!r} at the top level")
    version = policy.get("Version")
    if version is None:
        add("Missing version: add \"Version\": \"2012-10-17\" (without it policy "
            "variables are literal text)")
    elif version not in VERSIONS:
        add(f"Invalid version {version!r}: use 2012-10-17")
    st_el = policy.get("Statement")
    if st_el is None:
        add("Missing statement: the policy has no Statement")
        return problems
    if not isinstance(st_el, (dict, list)):
        add("Statement is neither an object nor a list")
        return problems
    sids = {}
    for si, st in enumerate(_statements(policy)):
        where = f"statement {_label(st, si)}"
        if not isinstance(st, dict):
            add(f"{where}: not a JSON object")
            continue
        for k in st:
            if k not in STATEMENT_ELEMENTS:
                add(f"{where}: Invalid policy element {k!r}")
        sid = st.get("Sid")
        if sid is not None:
            if not isinstance(sid, str) or not re.fullmatch(r"[A-Za-z0-9]*", sid):
                add(f"{where}: Unsupported Sid: use only [a-z, A-Z, 0-9]")
            elif sid in sids:
                add(f"{where}: Unique Sids required: duplicate Sid {sid!r}")
            sids[sid] = si
        eff = st.get("Effect")
        if eff is None:
            add(f"{where}: Missing effect: add an Effect element with Allow or Deny")
        elif eff not in ("Allow", "Deny"):
            add(f"{where}: Invalid effect: the effect {eff!r} is not valid. Use Allow or Deny.")
        # Actions
        if ("Action" in st) == ("NotAction" in st):
            add(f"{where}: needs exactly one of Action and NotAction")
        act_el = "Action" if "Action" in st else "NotAction"
        patterns = _as_list(st.get(act_el))
        if act_el in st and not patterns:
            add(f"{where}: Empty array action")
        services, exact, wildcard_any, star = set(), [], False, False
        for p in patterns:
            if not isinstance(p, str):
                add(f"{where}: {act_el} value {p!r} is not a string")
                continue
            if p == "*":
                star = True
                continue
            if not re.fullmatch(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+", p):
                add(f"{where}: Invalid action format {p!r}: use service:ActionName")
                continue
            prefix, matched = _expand_action(p)
            services.add(prefix)
            if matched is None:
                add(f"{where}: the service {prefix} of {p} is not in iam_eval's tables "
                    "(cannot check its actions and keys)")
            elif not matched:
                add(f"{where}: Invalid action: the action {p} does not exist")
            elif "*" in p or "?" in p:
                wildcard_any = True
            else:
                exact.append(f"{prefix}:{matched[0]}")
        open_scope = star or act_el == "NotAction"
        # Resources / principals
        if trust:
            if "Resource" in st or "NotResource" in st:
                add(f"{where}: a role trust policy has no Resource element")
            if "Principal" not in st and "NotPrincipal" not in st:
                add(f"{where}: Missing principal")
        else:
            if "Principal" in st or "NotPrincipal" in st:
                add(f"{where}: an identity-based policy has no Principal element")
            if "Resource" in st and "NotResource" in st:
                add(f"{where}: has both Resource and NotResource")
            elif "Resource" not in st and "NotResource" not in st:
                add(f"{where}: Missing resource: add Resource or NotResource")
            for r in _as_list(st.get("Resource", st.get("NotResource"))):
                if not isinstance(r, str):
                    add(f"{where}: resource {r!r} is not a string")
                elif r != "*" and (not r.startswith("arn:") or len(r.split(":", 5)) != 6):
                    add(f"{where}: Invalid ARN {r!r}: use arn:partition:service:region:"
                        "account:resource or *")
        # Conditions
        cond = st.get("Condition")
        if cond is None:
            continue
        if not isinstance(cond, dict):
            add(f"{where}: Condition is not an object")
            continue
        if not cond:
            add(f"{where}: Empty object condition")
        for optext, block in cond.items():
            op = Operator(optext)
            if not op.ok:
                add(f"{where}: Invalid condition operator: {op.error}")
            if op.ok and op.family == "null" and op.qualifier:
                add(f"{where}: Null with qualifier: {optext} always returns "
                    f"{'true' if op.qualifier == 'ForAllValues' else 'false'}")
            if not isinstance(block, dict):
                add(f"{where}: {optext} is not an object of keys")
                continue
            seen = {}
            for key, pvals in block.items():
                what = f"{where}: {optext} {key}"
                low = key.lower()
                if low in seen:
                    add(f"{what}: Duplicate keys with different case: {seen[low]!r} and "
                        f"{key!r} in one condition block")
                seen[low] = key
                vals = _as_list(pvals)
                if not vals:
                    add(f"{what}: Empty array condition (never matches)")
                for v in vals:
                    if isinstance(v, (dict, list)) or v is None:
                        add(f"{what}: value {v!r} is not a string, number or boolean")
                    elif op.ok:
                        vp = _value_problem(op, _str(v))
                        if vp:
                            add(f"{what}: Type mismatch: {vp}")
                problems.extend(f"{what}: {p}" for p in
                                _key_problems(key, op, services, exact, open_scope, trust))
    return problems


def _key_problems(key, op, services, exact, open_scope, trust):
    out = []
    if not re.fullmatch(r"[^:\s]+:[^\s]+", key):
        return ["Invalid condition key format: use service:keyname"]
    prefix, name, tail = _split_key(key)
    p = prefix.lower()
    fam = _key_family(key)
    if tail == "" and fam in _TAG_FAMILIES:
        out.append(f"Missing tag key in condition: {key} must name a tag key "
                   f"({prefix}:{name}/tag-key)")
    if p == "aws":
        if not known_global_key(key):
            return out + [f"Invalid global condition key: the condition key {key} does not exist."]
    elif fam in _CROSS_INDEX:
        pass
    elif trust and p not in _SERVICE_INDEX and ("." in p or p == "saml"):
        pass  # identity provider keys (accounts.google.com:aud, saml:aud...) in trust policies
    else:
        known = _service_key_known(key)
        if known is None:
            return out + [f"the service {prefix} of condition key {key} is not in iam_eval's "
                          "tables (cannot check the key)"]
        if not known:
            return out + [f"Invalid service condition key: the condition key {key} does not "
                          f"exist in the service {prefix}."]
        if not open_scope and p not in services:
            return out + [f"Unsupported action for condition key: no action of this statement "
                          f"({', '.join(sorted(services)) or 'none'}) is of the service {prefix}, "
                          f"so {key} is never in its request context."]
    # Per-action precision (SAR "Condition keys" column), where the tables have it.
    unsupported = []
    for a in exact:
        aprefix = a.split(":", 1)[0]
        narrow = _NARROW_INDEX.get(fam)
        if narrow is not None:
            if a.lower() not in narrow:
                unsupported.append(a)
        elif fam in _TAG_FAMILIES or (fam.endswith(":resourcetag/") and p == aprefix):
            tk = _ACTION_TAG_INDEX.get(a.lower())
            if tk is not None and fam not in tk:
                unsupported.append(a)
    if unsupported:
        out.append(f"Unsupported action for condition key: the actions {', '.join(unsupported)} "
                   f"are not supported by the condition key {key} (SAR): it is never in "
                   "their request context.")
    if op.ok and op.qualifier == "ForAllValues" and _is_single_valued(key):
        out.append(f"ForAllValues with single valued key: using ForAllValues with the "
                   f"single-valued condition key {key} can be overly permissive.")
    return out


# --------------------------------------------------------------------------------------
# Mutation check

def _decision_kind(d):
    """Normalise a recorded decision: (tri-state or None, allowed bool)."""
    if isinstance(d, bool):
        return None, d
    s = str(d)
    low = s.lower()
    if s in (ALLOW, EXPLICIT_DENY, IMPLICIT_DENY):
        return s, s == ALLOW
    if low in ("allow", "allowed", "true"):
        return None, True
    return None, False


def _same_decision(recorded, now):
    tri, allowed = _decision_kind(recorded)
    if tri is not None:
        return tri == now
    return allowed == (now == ALLOW)


def _occurrences(policy):
    """(statement index, operator text, key) of every condition key."""
    for si, st in enumerate(_statements(policy)):
        if not isinstance(st, dict) or not isinstance(st.get("Condition"), dict):
            continue
        for optext, block in st["Condition"].items():
            if isinstance(block, dict):
                for key in block:
                    yield si, optext, key


def _drops(s):
    return sorted({s[:i] + s[i + 1:] for i in range(len(s))} - {s})


def key_variants(key):
    """Misspellings of `key`: (part, variant) with one character dropped from the prefix,
    the name, or the tag-key part."""
    prefix, name, tail = _split_key(key)
    suffix = "" if tail is None else "/" + tail
    out = []
    for v in _drops(prefix):
        if v:
            out.append(("prefix", f"{v}:{name}{suffix}"))
    for v in _drops(name):
        out.append(("name", f"{prefix}:{v}{suffix}"))
    if tail:
        for v in _drops(tail):
            if v:
                out.append(("tag key", f"{prefix}:{name}/{v}"))
    seen, uniq = set(), []
    for part, v in out:
        if v.lower() != key.lower() and v not in seen:
            seen.add(v)
            uniq.append((part, v))
    return uniq


def _mutate(policy, si, optext, key, new_key):
    pol = copy.deepcopy(policy)
    st = pol["Statement"] if isinstance(pol["Statement"], dict) else pol["Statement"][si]
    block = st["Condition"][optext]
    st["Condition"][optext] = {(new_key if k == key else k): v for k, v in block.items()}
    return pol


def _evidence_needed(policy, si, optext, key, records):
    """What recorded evidence would catch a misspelling of this key whose result is the
    key's "missing" value, and how much of it there is."""
    st = _statements(policy)[si]
    op = Operator(optext)
    version = policy.get("Version")
    missing = eval_condition(op, "\x00missing", st["Condition"][optext][key], Context({}),
                             version)
    effect = st.get("Effect")
    label = _label(st, si)
    in_scope = [r for r in records if _statement_scope(
        st, r["action"], r["resource"], Context(r.get("context")), version, None)]
    n_allow = sum(1 for r in in_scope if _decision_kind(r.get("decision"))[1])
    n_deny = len(in_scope) - n_allow
    acts = ", ".join(str(a) for a in _as_list(st.get("Action", st.get("NotAction"))))
    scope = f"recorded checks in its scope: {n_allow} allowed, {n_deny} denied"
    if missing is None:
        need = "the condition is not evaluable"
    elif effect == "Allow" and missing is False:
        need = (f"it makes statement {label} allow nothing (only narrows the policy); needs "
                f"a recorded ALLOWED check that {label} allows ({acts})")
    elif effect == "Allow":
        need = (f"it drops the guard {optext} {key} from {label} (WIDENS the policy); "
                f"needs a recorded DENIED check of {acts} that failed this guard")
    elif missing is False:
        need = (f"it removes the deny of {label} (WIDENS the policy); needs a recorded "
                f"DENIED check that {label} denied")
    else:
        need = (f"it makes {label} deny regardless of {key}; needs a recorded ALLOWED "
                f"check of {acts} for which the condition was false")
    return f"{need}; {scope}"


def mutations(policy, records=None, *, kind="identity"):
    """(total, uncaught lines, warnings) of the misspelled-key check."""
    base_problems = set(validate(policy, kind=kind))
    usable, warnings = [], []
    for i, r in enumerate(records or []):
        try:
            now = evaluate(policy, r["action"], r["resource"], r.get("context") or {})[0]
        except (KeyError, TypeError) as e:
            warnings.append(f"recorded check #{i} is malformed ({e}); ignored")
            continue
        if not _same_decision(r.get("decision"), now):
            warnings.append(f"recorded check #{i} ({r['action']} on {r['resource']}) was "
                            f"{r.get('decision')} but this policy gives {now}; ignored as "
                            "evidence (recorded against another policy?)")
            continue
        usable.append(r)
    total, uncaught = 0, []
    for si, optext, key in _occurrences(policy):
        st = _statements(policy)[si]
        for part, variant in key_variants(key):
            total += 1
            mutated = _mutate(policy, si, optext, key, variant)
            if set(validate(mutated, kind=kind)) - base_problems:
                continue
            if any(not _same_decision(r.get("decision"), evaluate(
                    mutated, r["action"], r["resource"], r.get("context") or {})[0])
                    for r in usable):
                continue
            why = ("validate accepts it (the tag key is free text)" if part == "tag key"
                   else "validate accepts it (the misspelling is itself a known key)")
            uncaught.append(
                f"uncaught: statement {_label(st, si)} {optext} {key!r} -> {variant!r} "
                f"({part}): {why}; "
                + _evidence_needed(policy, si, optext, key, usable))
    return total, uncaught, warnings


# --------------------------------------------------------------------------------------
# CLI

def _load(path):
    with open(path) as f:
        return json.load(f)


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(prog="iam_eval.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate", help="report policy problems (exit 1 if any)")
    v.add_argument("file")
    v.add_argument("--kind", choices=("identity", "trust"), default="identity")
    m = sub.add_parser("mutations", help="misspell every condition key, report the uncaught")
    m.add_argument("file")
    m.add_argument("--recorded", help="JSON list of {action, resource, context, decision} "
                   "(or the proxy's stats with an 'authorized' list)")
    m.add_argument("--kind", choices=("identity", "trust"), default="identity")
    e = sub.add_parser("eval", help="evaluate one request")
    e.add_argument("file")
    e.add_argument("action")
    e.add_argument("resource")
    e.add_argument("context", nargs="?", default="{}")
    args = ap.parse_args(argv)
    policy = _load(args.file)
    if args.cmd == "validate":
        problems = validate(policy, kind=args.kind)
        for p in problems:
            print(p)
        return 1 if problems else 0
    if args.cmd == "eval":
        decision, reason = evaluate(policy, args.action, args.resource, json.loads(args.context))
        print(f"{decision}: {reason}")
        return 0 if decision == ALLOW else 2
    records = []
    if args.recorded:
        rec = _load(args.recorded)
        records = rec.get("authorized", []) if isinstance(rec, dict) else rec
    total, uncaught, warnings = mutations(policy, records, kind=args.kind)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    for line in uncaught:
        print(line)
    if uncaught:
        print(f"{len(uncaught)} of {total} mutations not caught", file=sys.stderr)
        return 1
    print(f"{total} mutations, all caught")
    return 0


# --------------------------------------------------------------------------------------
# Tables
#
# Global condition keys: IAM UG reference_policies_condition-keys.html ("AWS global
# condition context keys"; "Value type - Multivalued" marks the multivalued ones). Keys
# ending in "/" take a tag key. The last line holds keys added to that page after its
# 2023 copy read here (aws:SourceOrgID ... aws:AssumedRoot): from AWS's current page
# index, wording not re-read.
GLOBAL_KEYS = """
    CalledVia CalledViaFirst CalledViaLast CurrentTime Ec2InstanceSourcePrivateIPv4
    Ec2InstanceSourceVpc EpochTime FederatedProvider MultiFactorAuthAge
    MultiFactorAuthPresent PrincipalAccount PrincipalArn PrincipalIsAWSService PrincipalOrgID
    PrincipalOrgPaths PrincipalServiceName PrincipalServiceNamesList PrincipalTag/
    PrincipalType referer RequestedRegion RequestTag/ ResourceAccount ResourceOrgID
    ResourceOrgPaths ResourceTag/ SecureTransport SourceAccount SourceArn SourceIdentity
    SourceIp SourceVpc SourceVpce TagKeys TokenIssueTime UserAgent userid username
    ViaAWSService VpcSourceIp
    SourceOrgID SourceOrgPaths SourceVpcArn VpceAccount VpceOrgID VpceOrgPaths AssumedRoot
"""
MULTIVALUED_GLOBAL_KEYS = """
    CalledVia PrincipalOrgPaths PrincipalServiceNamesList ResourceOrgPaths TagKeys
    SourceOrgPaths VpceOrgPaths
"""
# Cross-service keys (global, with a service prefix; same page, "cross-service condition
# keys"), usable in a statement of any service.
CROSS_SERVICE_KEYS = """
    ec2:SourceInstanceARN ec2:RoleDelivery glue:RoleAssumedBy glue:CredentialIssuingService
    lambda:SourceFunctionArn ssm:SourceInstanceARN identitystore:UserId
"""

# Per service: (actions grouped by their first word, "Verb: Rest Rest ..." with "=" for the
# verb alone; service-specific condition keys without the prefix, "/" = takes a sub-key).
# From the Service Authorization Reference pages cited per service (the "Actions defined
# by" and "Condition keys for" tables), as of AWS's 2026 pages (read through iam-floyd's
# generated copy of the SAR, udondan/iam-floyd lib/generated/policy-statements/*.ts).
SERVICES = {
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
    "ec2": (
        """
        Accept: AddressTransfer CapacityReservationBillingOwnership ReservedInstancesExchangeQuote
                TransitGatewayClientVpnAttachment TransitGatewayMulticastDomainAssociations
                TransitGatewayPeeringAttachment TransitGatewayVpcAttachment VpcEndpointConnections
                VpcPeeringConnection
        Advertise: ByoipCidr
        Allocate: Address Hosts IpamPoolCidr
        Apply: SecurityGroupsToClientVpnTargetNetwork
        Assign: Ipv6Addresses PrivateIpAddresses PrivateNatGatewayAddress
        Associate: Address ApplicationStatusCheck CapacityReservationBillingOwner ClientVpnTargetNetwork
                   DhcpOptions EnclaveCertificateIamRole IamInstanceProfile InstanceEventWindow
                   IpamByoasn IpamResourceDiscovery NatGatewayAddress RouteServer RouteTable
                   SecurityGroupVpc SubnetCidrBlock TransitGatewayMulticastDomain
                   TransitGatewayPolicyTable TransitGatewayRouteTable TrunkInterface
                   VerifiedAccessInstanceWebAcl VpcCidrBlock
        Attach: ApplianceToNatGateway ClassicLinkVpc ImageWatermark InternetGateway NetworkInterface
                ResourcesToPlacementGroup VerifiedAccessTrustProvider Volume VpnGateway
        Authorize: ClientVpnIngress SecurityGroupEgress SecurityGroupIngress
        Bundle: Instance
        Cancel: BundleTask CapacityReservation CapacityReservationFleets ConversionTask
                DeclarativePoliciesReport ExportTask ImageLaunchPermission ImportTask
                ReservedInstancesListing SpotFleetRequests SpotInstanceRequests
        Confirm: ProductInstance
        Copy: FpgaImage Image Snapshot Volumes
        Create: ApplicationStatusCheck CapacityManagerDataExport CapacityReservation
                CapacityReservationBySplitting CapacityReservationCancellationQuote
                CapacityReservationFleet CarrierGateway ClientVpnEndpoint ClientVpnRoute CoipCidr
                CoipPool CoipPoolPermission CustomerGateway DefaultSubnet DefaultVpc
                DelegateMacVolumeOwnershipTask DhcpOptions EgressOnlyInternetGateway Fleet FlowLogs
                FpgaImage Image ImageUsageReport InstanceConnectEndpoint InstanceEventWindow
                InstanceExportTask InternetGateway InterruptibleCapacityReservationAllocation Ipam
                IpamExternalResourceVerificationToken IpamPolicy IpamPool IpamPrefixListResolver
                IpamPrefixListResolverTarget IpamResourceDiscovery IpamScope KeyPair LaunchTemplate
                LaunchTemplateVersion LocalGatewayRoute LocalGatewayRouteTable
                LocalGatewayRouteTablePermission LocalGatewayRouteTableVirtualInterfaceGroupAssociation
                LocalGatewayRouteTableVpcAssociation LocalGatewayVirtualInterface
                LocalGatewayVirtualInterfaceGroup MacSystemIntegrityProtectionModificationTask
                ManagedPrefixList NatGateway NetworkAcl NetworkAclEntry NetworkInsightsAccessScope
                NetworkInsightsPath NetworkInterface NetworkInterfacePermission OdbNetworkPeering
                PlacementGroup PublicIpv4Pool ReplaceRootVolumeTask ReservedInstancesListing
                RestoreImageTask Route RouteServer RouteServerEndpoint RouteServerPeer RouteTable
                SecondaryNetwork SecondarySubnet SecurityGroup Snapshot Snapshots
                SpotDatafeedSubscription StoreImageTask Subnet SubnetCidrReservation Tags
                TrafficMirrorFilter TrafficMirrorFilterRule TrafficMirrorSession TrafficMirrorTarget
                TransitGateway TransitGatewayConnect TransitGatewayConnectPeer
                TransitGatewayMeteringPolicy TransitGatewayMeteringPolicyEntry
                TransitGatewayMulticastDomain TransitGatewayPeeringAttachment TransitGatewayPolicyTable
                TransitGatewayPolicyTableEntry TransitGatewayPrefixListReference TransitGatewayRoute
                TransitGatewayRouteTable TransitGatewayRouteTableAnnouncement
                TransitGatewayVpcAttachment VerifiedAccessEndpoint VerifiedAccessGroup
                VerifiedAccessInstance VerifiedAccessTrustProvider Volume Vpc
                VpcBlockPublicAccessExclusion VpcEncryptionControl VpcEndpoint
                VpcEndpointConnectionNotification VpcEndpointServiceConfiguration VpcPeeringConnection
                VpnConcentrator VpnConnection VpnConnectionRoute VpnGateway
        Delete: ApplicationStatusCheck CapacityManagerDataExport CarrierGateway ClientVpnEndpoint
                ClientVpnRoute CoipCidr CoipPool CoipPoolPermission CustomerGateway DhcpOptions
                EgressOnlyInternetGateway Fleets FlowLogs FpgaImage ImageUsageReport
                InstanceConnectEndpoint InstanceEventWindow InternetGateway Ipam
                IpamExternalResourceVerificationToken IpamPolicy IpamPool IpamPrefixListResolver
                IpamPrefixListResolverTarget IpamResourceDiscovery IpamScope KeyPair LaunchTemplate
                LaunchTemplateVersions LocalGatewayRoute LocalGatewayRouteTable
                LocalGatewayRouteTablePermission LocalGatewayRouteTableVirtualInterfaceGroupAssociation
                LocalGatewayRouteTableVpcAssociation LocalGatewayVirtualInterface
                LocalGatewayVirtualInterfaceGroup ManagedPrefixList NatGateway NetworkAcl
                NetworkAclEntry NetworkInsightsAccessScope NetworkInsightsAccessScopeAnalysis
                NetworkInsightsAnalysis NetworkInsightsPath NetworkInterface NetworkInterfacePermission
                OdbNetworkPeering PlacementGroup PublicIpv4Pool QueuedReservedInstances ResourcePolicy
                Route RouteServer RouteServerEndpoint RouteServerPeer RouteTable SecondaryNetwork
                SecondarySubnet SecurityGroup Snapshot SpotDatafeedSubscription Subnet
                SubnetCidrReservation Tags TrafficMirrorFilter TrafficMirrorFilterRule
                TrafficMirrorSession TrafficMirrorTarget TransitGateway
                TransitGatewayClientVpnAttachment TransitGatewayConnect TransitGatewayConnectPeer
                TransitGatewayMeteringPolicy TransitGatewayMeteringPolicyEntry
                TransitGatewayMulticastDomain TransitGatewayPeeringAttachment TransitGatewayPolicyTable
                TransitGatewayPolicyTableEntry TransitGatewayPrefixListReference TransitGatewayRoute
                TransitGatewayRouteTable TransitGatewayRouteTableAnnouncement
                TransitGatewayVpcAttachment VerifiedAccessEndpoint VerifiedAccessGroup
                VerifiedAccessInstance VerifiedAccessTrustProvider Volume Vpc
                VpcBlockPublicAccessExclusion VpcEncryptionControl VpcEndpointConnectionNotifications
                VpcEndpointServiceConfigurations VpcEndpoints VpcPeeringConnection VpnConcentrator
                VpnConnection VpnConnectionRoute VpnGateway
        Deprovision: ByoipCidr IpamByoasn IpamPoolCidr PublicIpv4PoolCidr
        Deregister: Image InstanceEventNotificationAttributes TransitGatewayMulticastGroupMembers
                    TransitGatewayMulticastGroupSources
        Describe: AccountAttributes AddressTransfers Addresses AddressesAttribute AggregateIdFormat
                  ApplicationStatus ApplicationStatusCheckAssociations ApplicationStatusChecks
                  AvailabilityZones AwsNetworkPerformanceMetricSubscriptions BundleTasks ByoipCidrs
                  CapacityBlockExtensionHistory CapacityBlockExtensionOfferings CapacityBlockOfferings
                  CapacityBlockStatus CapacityBlocks CapacityManagerDataExports
                  CapacityReservationBillingRequests CapacityReservationCancellationQuotes
                  CapacityReservationFleets CapacityReservationTopology CapacityReservations
                  CarrierGateways ClassicLinkInstances ClientVpnAuthorizationRules ClientVpnConnections
                  ClientVpnEndpoints ClientVpnRoutes ClientVpnTargetNetworks CoipPools ConversionTasks
                  CustomerGateways DeclarativePoliciesReports DhcpOptions EgressOnlyInternetGateways
                  ElasticGpus ExportImageTasks ExportTasks FastLaunchImages FastSnapshotRestores
                  FleetHistory FleetInstances Fleets FlowLogs FpgaImageAttribute FpgaImages
                  HostReservationOfferings HostReservations Hosts IamInstanceProfileAssociations
                  IdFormat IdentityIdFormat ImageAttribute ImageReferences ImageUsageReportEntries
                  ImageUsageReports Images ImportImageTasks ImportSnapshotTasks InstanceAttribute
                  InstanceConnectEndpoints InstanceCreditSpecifications
                  InstanceEventNotificationAttributes InstanceEventWindows InstanceImageMetadata
                  InstanceSqlHaHistoryStates InstanceSqlHaStates InstanceStatus InstanceTopology
                  InstanceTypeOfferings InstanceTypes Instances InternetGateways IpamByoasn
                  IpamExternalResourceVerificationTokens IpamPolicies IpamPoolAllocations IpamPools
                  IpamPrefixListResolverTargets IpamPrefixListResolvers IpamResourceDiscoveries
                  IpamResourceDiscoveryAssociations IpamScopes Ipams Ipv6Pools KeyPairs
                  LaunchTemplateVersions LaunchTemplates LocalGatewayRouteTablePermissions
                  LocalGatewayRouteTableVirtualInterfaceGroupAssociations
                  LocalGatewayRouteTableVpcAssociations LocalGatewayRouteTables
                  LocalGatewayVirtualInterfaceGroups LocalGatewayVirtualInterfaces LocalGateways
                  LockedSnapshots MacHosts MacModificationTasks ManagedPrefixLists MovingAddresses
                  NatGateways NetworkAcls NetworkInsightsAccessScopeAnalyses NetworkInsightsAccessScopes
                  NetworkInsightsAnalyses NetworkInsightsPaths NetworkInterfaceAttribute
                  NetworkInterfacePermissions NetworkInterfaces OutpostLags PlacementGroups PrefixLists
                  PrincipalIdFormat PublicIpv4Pools Regions ReplaceRootVolumeTasks ReservedInstances
                  ReservedInstancesListings ReservedInstancesModifications ReservedInstancesOfferings
                  RouteServerEndpoints RouteServerPeers RouteServers RouteTables
                  ScheduledInstanceAvailability ScheduledInstances SecondaryInterfaces SecondaryNetworks
                  SecondarySubnets SecurityGroupReferences SecurityGroupRules
                  SecurityGroupVpcAssociations SecurityGroups ServiceLinkVirtualInterfaces
                  SnapshotAttribute SnapshotTierStatus Snapshots SpotDatafeedSubscription
                  SpotFleetInstances SpotFleetRequestHistory SpotFleetRequests SpotInstanceRequests
                  SpotPriceHistory StaleSecurityGroups StoreImageTasks Subnets Tags
                  TrafficMirrorFilterRules TrafficMirrorFilters TrafficMirrorSessions
                  TrafficMirrorTargets TransitGatewayAttachments TransitGatewayConnectPeers
                  TransitGatewayConnects TransitGatewayMeteringPolicies TransitGatewayMulticastDomains
                  TransitGatewayPeeringAttachments TransitGatewayPolicyTables
                  TransitGatewayRouteTableAnnouncements TransitGatewayRouteTables
                  TransitGatewayVpcAttachments TransitGateways TrunkInterfaceAssociations
                  VerifiedAccessEndpoints VerifiedAccessGroups
                  VerifiedAccessInstanceLoggingConfigurations VerifiedAccessInstanceWebAclAssociations
                  VerifiedAccessInstances VerifiedAccessTrustProviders VolumeAttribute VolumeStatus
                  Volumes VolumesModifications VpcAttribute VpcBlockPublicAccessExclusions
                  VpcBlockPublicAccessOptions VpcClassicLink VpcClassicLinkDnsSupport
                  VpcEncryptionControls VpcEndpointAssociations VpcEndpointConnectionNotifications
                  VpcEndpointConnections VpcEndpointServiceConfigurations VpcEndpointServicePermissions
                  VpcEndpointServices VpcEndpoints VpcPeeringConnections Vpcs VpnConcentrators
                  VpnConnections VpnGateways
        Detach: ApplianceFromNatGateway ClassicLinkVpc ImageWatermark InternetGateway NetworkInterface
                ResourcesFromPlacementGroup VerifiedAccessTrustProvider Volume VpnGateway
        Disable: AddressTransfer AllowedImagesSettings ApplicationStatusCheckSuppression
                 AwsNetworkPerformanceMetricSubscription CapacityManager EbsEncryptionByDefault
                 FastLaunch FastSnapshotRestores Image ImageBlockPublicAccess ImageDeprecation
                 ImageDeregistrationProtection InstanceSqlHaStandbyDetections
                 IpamOrganizationAdminAccount IpamPolicy RouteServerPropagation SerialConsoleAccess
                 SnapshotBlockPublicAccess TransitGatewayRouteTablePropagation VgwRoutePropagation
                 VpcClassicLink VpcClassicLinkDnsSupport
        Disassociate: Address ApplicationStatusCheck CapacityReservationBillingOwner
                      ClientVpnTargetNetwork EnclaveCertificateIamRole IamInstanceProfile
                      InstanceEventWindow IpamByoasn IpamResourceDiscovery NatGatewayAddress RouteServer
                      RouteTable SecurityGroupVpc SubnetCidrBlock TransitGatewayMulticastDomain
                      TransitGatewayPolicyTable TransitGatewayRouteTable TrunkInterface
                      VerifiedAccessInstanceWebAcl VpcCidrBlock
        Enable: AddressTransfer AllowedImagesSettings ApplicationStatusCheckSuppression
                AwsNetworkPerformanceMetricSubscription CapacityManager EbsEncryptionByDefault
                FastLaunch FastSnapshotRestores Image ImageBlockPublicAccess ImageDeprecation
                ImageDeregistrationProtection InstanceSqlHaStandbyDetections
                IpamOrganizationAdminAccount IpamPolicy ReachabilityAnalyzerOrganizationSharing
                RouteServerPropagation SerialConsoleAccess SnapshotBlockPublicAccess
                TransitGatewayRouteTablePropagation VgwRoutePropagation VolumeIO VpcClassicLink
                VpcClassicLinkDnsSupport
        Export: ClientVpnClientCertificateRevocationList ClientVpnClientConfiguration Image
                TransitGatewayRoutes VerifiedAccessInstanceClientConfiguration
        Get: ActiveVpnTunnelStatus AllowedImagesSettings AssociatedEnclaveCertificateIamRoles
             AssociatedIpv6PoolCidrs AwsNetworkPerformanceData CapacityManagerAttributes
             CapacityManagerMetricData CapacityManagerMetricDimensions CapacityManagerMonitoredTagKeys
             CapacityReservationUsage CoipPoolUsage ConsoleOutput ConsoleScreenshot
             DeclarativePoliciesReportSummary DefaultCreditSpecification EbsDefaultKmsKeyId
             EbsEncryptionByDefault EnabledIpamPolicy FlowLogsIntegrationTemplate
             GroupsForCapacityReservation HostReservationPurchasePreview ImageAncestry
             ImageBlockPublicAccessState InstanceMetadataDefaults InstanceTpmEkPub
             InstanceTypesFromInstanceRequirements InstanceUefiData IpamAddressHistory
             IpamDiscoveredAccounts IpamDiscoveredPublicAddresses IpamDiscoveredResourceCidrs
             IpamPolicyAllocationRules IpamPolicyOrganizationTargets IpamPoolAllocations IpamPoolCidrs
             IpamPrefixListResolverRules IpamPrefixListResolverVersionEntries
             IpamPrefixListResolverVersions IpamResourceCidrs LaunchTemplateData
             ManagedPrefixListAssociations ManagedPrefixListEntries ManagedResourceVisibility
             NetworkInsightsAccessScopeAnalysisFindings NetworkInsightsAccessScopeContent PasswordData
             ReservedInstancesExchangeQuote ResourcePolicy RouteServerAssociations
             RouteServerPropagations RouteServerRoutingDatabase SecurityGroupsForVpc
             SerialConsoleAccessStatus SnapshotBlockPublicAccessState SpotPlacementScores
             SubnetCidrReservations TransitGatewayAttachmentPropagations
             TransitGatewayMeteringPolicyEntries TransitGatewayMulticastDomainAssociations
             TransitGatewayPolicyTableAssociations TransitGatewayPolicyTableEntries
             TransitGatewayPrefixListReferences TransitGatewayRouteTableAssociations
             TransitGatewayRouteTablePropagations VerifiedAccessEndpointPolicy
             VerifiedAccessEndpointTargets VerifiedAccessGroupPolicy VerifiedAccessInstanceWebAcl
             VpcResourcesBlockingEncryptionEnforcement VpnConnectionDeviceSampleConfiguration
             VpnConnectionDeviceTypes VpnTunnelReplacementStatus
        Import: ByoipCidrToIpam ClientVpnClientCertificateRevocationList Image Instance KeyPair Snapshot
                Volume
        Inject: ApiError VolumeIOLatency
        List: ImagesInRecycleBin SnapshotsInRecycleBin VolumesInRecycleBin
        Lock: Snapshot
        Modify: AddressAttribute ApplicationStatusCheck AvailabilityZoneGroup CapacityReservation
                CapacityReservationFleet ClientVpnEndpoint DefaultCreditSpecification EbsDefaultKmsKeyId
                Fleet FpgaImageAttribute Hosts IdFormat IdentityIdFormat ImageAttribute
                InstanceAttribute InstanceCapacityReservationAttributes InstanceConnectEndpoint
                InstanceCpuOptions InstanceCreditSpecification InstanceEventStartTime
                InstanceEventWindow InstanceMaintenanceOptions InstanceMetadataDefaults
                InstanceMetadataOptions InstanceNetworkPerformanceOptions InstancePlacement Ipam
                IpamPolicyAllocationRules IpamPool IpamPoolAllocation IpamPrefixListResolver
                IpamPrefixListResolverTarget IpamResourceCidr IpamResourceDiscovery IpamScope
                LaunchTemplate LocalGatewayRoute ManagedPrefixList ManagedResourceVisibility
                NetworkInterfaceAttribute OdbNetworkPeering PrivateDnsNameOptions PublicIpDnsNameOptions
                ReservedInstances RouteServer SecurityGroupRules SnapshotAttribute SnapshotTier
                SpotFleetRequest SubnetAttribute TrafficMirrorFilterNetworkServices
                TrafficMirrorFilterRule TrafficMirrorSession TransitGateway TransitGatewayMeteringPolicy
                TransitGatewayPolicyTableEntry TransitGatewayPrefixListReference
                TransitGatewayVpcAttachment VerifiedAccessEndpoint VerifiedAccessEndpointPolicy
                VerifiedAccessGroup VerifiedAccessGroupPolicy VerifiedAccessInstance
                VerifiedAccessInstanceLoggingConfiguration VerifiedAccessTrustProvider Volume
                VolumeAttribute VpcAttribute VpcBlockPublicAccessExclusion VpcBlockPublicAccessOptions
                VpcEncryptionControl VpcEndpoint VpcEndpointConnectionNotification
                VpcEndpointPayerResponsibility VpcEndpointServiceConfiguration
                VpcEndpointServicePayerResponsibility VpcEndpointServicePermissions
                VpcPeeringConnectionOptions VpcTenancy VpnConnection VpnConnectionOptions
                VpnTunnelCertificate VpnTunnelOptions
        Monitor: Instances
        Move: AddressToVpc ByoipCidrToIpam CapacityReservationInstances
        Pause: VolumeIO
        Provision: ByoipCidr IpamByoasn IpamPoolCidr PublicIpv4PoolCidr
        Purchase: CapacityBlock CapacityBlockExtension HostReservation ReservedInstancesOffering
                  ScheduledInstances
        Put: ResourcePolicy
        Reboot: Instances
        Register: Image InstanceEventNotificationAttributes TransitGatewayMulticastGroupMembers
                  TransitGatewayMulticastGroupSources
        Reject: CapacityReservationBillingOwnership TransitGatewayClientVpnAttachment
                TransitGatewayMulticastDomainAssociations TransitGatewayPeeringAttachment
                TransitGatewayVpcAttachment VpcEndpointConnections VpcPeeringConnection
        Release: Address Hosts IpamPoolAllocation
        Replace: IamInstanceProfileAssociation ImageCriteriaInAllowedImagesSettings
                 NetworkAclAssociation NetworkAclEntry Route RouteTableAssociation TransitGatewayRoute
                 VpnTunnel
        Report: InstanceStatus
        Request: SpotFleet SpotInstances
        Reset: AddressAttribute EbsDefaultKmsKeyId FpgaImageAttribute ImageAttribute InstanceAttribute
               NetworkInterfaceAttribute SnapshotAttribute
        Restore: AddressToClassic ImageFromRecycleBin ManagedPrefixListVersion SnapshotFromRecycleBin
                 SnapshotTier VolumeFromRecycleBin
        Revoke: ClientVpnIngress SecurityGroupEgress SecurityGroupIngress
        Run: Instances ScheduledInstances
        Search: LocalGatewayRoutes TransitGatewayMulticastGroups TransitGatewayRoutes
        Send: DiagnosticInterrupt SpotInstanceInterruptions
        Start: DeclarativePoliciesReport Instances NetworkInsightsAccessScopeAnalysis
               NetworkInsightsAnalysis VpcEndpointServicePrivateDnsVerification
        Stop: Instances
        Terminate: ClientVpnConnections Instances
        Unassign: Ipv6Addresses PrivateIpAddresses PrivateNatGatewayAddress
        Unlock: Snapshot
        Unmonitor: Instances
        Update: CapacityManagerMonitoredTagKeys CapacityManagerOrganizationsAccess
                InterruptibleCapacityReservationAllocation SecurityGroupRuleDescriptionsEgress
                SecurityGroupRuleDescriptionsIngress
        Withdraw: ByoipCidr
        """,
        """
        AccepterVpc Add/group Add/userId AllocationId AssociatePublicIpAddress Attribute
        Attribute/ AuthenticationType AuthorizedService AuthorizedUser AutoPlacement
        AvailabilityZone AvailabilityZoneId CapacityReservationFleet
        ClientRootCertificateChainArn CloudwatchLogGroupArn CloudwatchLogStreamArn
        CommitmentDuration CpuOptionsAmdSevSnp CreateAction DestinationCapacityReservationId
        DhcpOptionsID DirectoryArn Domain DPDTimeoutSeconds EbsOptimized ElasticGpuType
        Encrypted EndDateType EphemeralStorage FisActionId FisTargetArns GatewayType
        HostRecovery IKEVersions ImageID ImageType InsideTunnelCidr InsideTunnelIpv6Cidr
        InstanceAutoRecovery InstanceBandwidthWeighting InstanceCount InstanceID
        InstanceMarketType InstanceMatchCriteria InstanceMetadataTags InstancePlatform
        InstanceProfile InstanceType InternetGatewayID InterruptibleCapacityReservationId
        InterruptionType IpamPrefixListResolverTargetId Ipv4IpamPoolId Ipv6IpamPoolId
        IsInterruptible IsLaunchTemplateResource KeyPairName KeyPairType KmsKeyId LaunchTemplate
        Location ManagedResourceOperator MetadataHttpEndpoint MetadataHttpPutResponseHopLimit
        MetadataHttpTokens NetworkAclID NetworkInterfaceID NewInstanceProfile OutpostArn Owner
        ParentSnapshot ParentVolume Permission Phase1DHGroup Phase1EncryptionAlgorithms
        Phase1IntegrityAlgorithms Phase1LifetimeSeconds Phase2DHGroup Phase2EncryptionAlgorithms
        Phase2IntegrityAlgorithms Phase2LifetimeSeconds PlacementGroup PlacementGroupName
        PlacementGroupStrategy ProductCode Public PublicIpAddress Quantity Region
        RekeyFuzzPercentage RekeyMarginTimeSeconds Remove/group Remove/userId
        ReplayWindowSizePackets RequesterVpc ReservedInstancesOfferingType ResourceTag/
        RoleDelivery RootDeviceType RouteTableID RoutingType SamlProviderArn SecurityGroupID
        ServerCertificateArn SnapshotCoolOffPeriod SnapshotID SnapshotLockDuration
        SourceAvailabilityZone SourceCapacityReservationId SourceInstanceARN SourceOutpostArn
        Subnet SubnetID TargetInstanceCount Tenancy transitGatewayAttachmentId
        transitGatewayConnectPeerId transitGatewayId transitGatewayMeteringPolicyId
        transitGatewayMulticastDomainId transitGatewayPolicyTableId
        transitGatewayRouteTableAnnouncementId transitGatewayRouteTableId VolumeID
        VolumeInitializationRate VolumeIops VolumeSize VolumeThroughput VolumeType Vpc
        VpceMultiRegion VpcePrivateDnsPreference VpcePrivateDnsSpecifiedDomains VpceServiceName
        VpceServiceOwner VpceServicePrivateDnsName VpceServiceRegion VpceSupportedRegion VpcID
        VpcPeeringConnectionID
        """,
    ),
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_elasticloadbalancingv2.html (+ list_elasticloadbalancing.html, same prefix)
    "elasticloadbalancing": (
        """
        Add: ListenerCertificates Tags TrustStoreRevocations
        Allow: VendedLogDeliveryForResource
        Apply: SecurityGroupsToLoadBalancer
        Attach: LoadBalancerToSubnets
        Configure: HealthCheck
        Create: AppCookieStickinessPolicy LBCookieStickinessPolicy Listener LoadBalancer
                LoadBalancerListeners LoadBalancerPolicy Rule TargetGroup TrustStore WebACLAssociation
        Delete: Listener LoadBalancer LoadBalancerListeners LoadBalancerPolicy Rule
                SharedTrustStoreAssociation TargetGroup TrustStore WebACLAssociation
        Deregister: InstancesFromLoadBalancer Targets
        Describe: AccountLimits CapacityReservation InstanceHealth ListenerAttributes
                  ListenerCertificates Listeners LoadBalancerAttributes LoadBalancerPolicies
                  LoadBalancerPolicyTypes LoadBalancers Rules SSLPolicies Tags TargetGroupAttributes
                  TargetGroups TargetHealth TrustStoreAssociations TrustStoreRevocations TrustStores
                  WebACLAssociation
        Detach: LoadBalancerFromSubnets
        Disable: AvailabilityZonesForLoadBalancer
        Enable: AvailabilityZonesForLoadBalancer
        Get: LoadBalancerWebACL ResourcePolicy TrustStoreCaCertificatesBundle
             TrustStoreRevocationContent
        Modify: CapacityReservation IpPools Listener ListenerAttributes LoadBalancerAttributes Rule
                TargetGroup TargetGroupAttributes TrustStore
        Register: InstancesWithLoadBalancer Targets
        Remove: ListenerCertificates Tags TrustStoreRevocations
        Set: IpAddressType LoadBalancerListenerSSLCertificate LoadBalancerPoliciesForBackendServer
             LoadBalancerPoliciesOfListener RulePriorities SecurityGroups Subnets WebAcl
        """,
        """
        CreateAction ListenerProtocol ResourceTag/ Scheme SecurityGroup SecurityPolicy Subnet
        """,
    ),
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html
    "autoscaling": (
        """
        Attach: Instances LoadBalancerTargetGroups LoadBalancers TrafficSources
        Batch: DeleteScheduledAction PutScheduledUpdateGroupAction
        Cancel: InstanceRefresh
        Complete: LifecycleAction
        Create: AutoScalingGroup LaunchConfiguration OrUpdateTags
        Delete: AutoScalingGroup LaunchConfiguration LifecycleHook NotificationConfiguration Policy
                ScheduledAction Tags WarmPool
        Describe: AccountLimits AccountSettings AdjustmentTypes AutoScalingGroups AutoScalingInstances
                  AutoScalingNotificationTypes InstanceRefreshes LaunchConfigurations LifecycleHookTypes
                  LifecycleHooks LoadBalancerTargetGroups LoadBalancers MetricCollectionTypes
                  NotificationConfigurations Policies ScalingActivities ScalingProcessTypes
                  ScheduledActions Tags TerminationPolicyTypes TrafficSources WarmPool
        Detach: Instances LoadBalancerTargetGroups LoadBalancers TrafficSources
        Disable: MetricsCollection
        Enable: MetricsCollection
        Enter: Standby
        Execute: Policy
        Exit: Standby
        Get: PredictiveScalingForecast
        Launch: Instances
        Put: AccountSetting LifecycleHook NotificationConfiguration ScalingPolicy
             ScheduledUpdateGroupAction WarmPool
        Record: LifecycleActionHeartbeat
        Resume: Processes
        Rollback: InstanceRefresh
        Set: DesiredCapacity InstanceHealth InstanceProtection
        Start: InstanceRefresh
        Suspend: Processes
        Terminate: InstanceInAutoScalingGroup
        Update: AutoScalingGroup
        """,
        """
        CapacityReservationIds CapacityReservationResourceGroupArns ForceDelete ImageId
        InstanceType InstanceTypes LaunchConfigurationName LaunchTemplateVersionSpecified
        LoadBalancerNames MaxSize MetadataHttpEndpoint MetadataHttpPutResponseHopLimit
        MetadataHttpTokens MinSize OperatorPrincipal ResourceTag/ SpotPrice TargetGroupARNs
        TrafficSourceIdentifiers VPCZoneIdentifiers
        """,
    ),
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridgescheduler.html
    "scheduler": (
        """
        Create: Schedule ScheduleGroup
        Delete: Schedule ScheduleGroup
        Get: Schedule ScheduleGroup
        List: ScheduleGroups Schedules SchedulesByTarget TagsForResource
        Tag: Resource
        Untag: Resource
        Update: Schedule
        """,
        """
        
        """,
    ),
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
    "iam": (
        """
        Accept: DelegationRequest
        Add: ClientIDToOpenIDConnectProvider RoleToInstanceProfile UserToGroup
        Associate: DelegationRequest
        Attach: GroupPolicy RolePolicy UserPolicy
        Change: Password
        Create: AccessKey AccountAlias DelegationRequest Group InstanceProfile LoginProfile
                OpenIDConnectProvider Policy PolicyVersion Role SAMLProvider ServiceLinkedRole
                ServiceSpecificCredential User VirtualMFADevice
        Deactivate: MFADevice
        Delete: AccessKey AccountAlias AccountPasswordPolicy CloudFrontPublicKey Group GroupPolicy
                InstanceProfile LoginProfile OpenIDConnectProvider Policy PolicyVersion Role
                RolePermissionsBoundary RolePolicy SAMLProvider SSHPublicKey ServerCertificate
                ServiceLinkedRole ServiceSpecificCredential SigningCertificate User
                UserPermissionsBoundary UserPolicy VirtualMFADevice
        Detach: GroupPolicy RolePolicy UserPolicy
        Disable: OrganizationsRootCredentialsManagement OrganizationsRootSessions
                 OutboundWebIdentityFederation
        Enable: MFADevice OrganizationsRootCredentialsManagement OrganizationsRootSessions
                OutboundWebIdentityFederation
        Generate: CredentialReport OrganizationsAccessReport ServiceLastAccessedDetails
        Get: AccessKeyLastUsed AccountAuthorizationDetails AccountEmailAddress AccountName
             AccountPasswordPolicy AccountProperties AccountSummary CloudFrontPublicKey
             ContextKeysForCustomPolicy ContextKeysForPrincipalPolicy CredentialReport DelegationRequest
             Group GroupPolicy HumanReadableSummary InstanceProfile LoginProfile MFADevice
             OpenIDConnectProvider OrganizationsAccessReport OutboundWebIdentityFederationInfo Policy
             PolicyVersion Role RolePolicy RoleTemplateVersion SAMLProvider SSHPublicKey
             ServerCertificate ServiceLastAccessedDetails ServiceLastAccessedDetailsWithEntities
             ServiceLinkedRoleDeletionStatus User UserPolicy
        List: AccessKeys AccountAliases AttachedGroupPolicies AttachedRolePolicies AttachedUserPolicies
              CloudFrontPublicKeys DelegationRequests EntitiesForPolicy GroupPolicies Groups
              GroupsForUser InstanceProfileTags InstanceProfiles InstanceProfilesForRole MFADeviceTags
              MFADevices OpenIDConnectProviderTags OpenIDConnectProviders OrganizationsFeatures Policies
              PoliciesGrantingServiceAccess PolicyTags PolicyVersions RolePolicies RoleTags Roles
              SAMLProviderTags SAMLProviders SSHPublicKeys STSRegionalEndpointsStatus
              ServerCertificateTags ServerCertificates ServiceSpecificCredentials SigningCertificates
              UserPolicies UserTags Users VirtualMFADevices
        Pass: Role
        Put: AccountProperties GroupPolicy RolePermissionsBoundary RolePolicy UserPermissionsBoundary
             UserPolicy
        Reject: DelegationRequest
        Remove: ClientIDFromOpenIDConnectProvider RoleFromInstanceProfile UserFromGroup
        Reset: ServiceSpecificCredential
        Resync: MFADevice
        Send: DelegationToken
        Set: DefaultPolicyVersion STSRegionalEndpointStatus SecurityTokenServicePreferences
        Simulate: CustomPolicy PrincipalPolicy
        Tag: InstanceProfile MFADevice OpenIDConnectProvider Policy Role SAMLProvider ServerCertificate
             User
        Untag: InstanceProfile MFADevice OpenIDConnectProvider Policy Role SAMLProvider
               ServerCertificate User
        Update: AccessKey AccountEmailAddress AccountName AccountPasswordPolicy AssumeRolePolicy
                CloudFrontPublicKey Group LoginProfile OpenIDConnectProviderThumbprint Role
                RoleDescription SAMLProvider SSHPublicKey ServerCertificate ServiceSpecificCredential
                SigningCertificate User
        Upload: CloudFrontPublicKey SSHPublicKey ServerCertificate SigningCertificate
        """,
        """
        AccountPropertyNamespaces AssociatedResourceArn AWSServiceName DelegationDuration
        DelegationRequestOwner FIDO-certification FIDO-FIPS-140-2-certification
        FIDO-FIPS-140-3-certification NotificationChannel OrganizationsPolicyId PassedToService
        PermissionsBoundary PolicyARN RegisterSecurityKey ResourceTag/ RoleTemplateARN
        ServiceSpecificCredentialAgeDays ServiceSpecificCredentialServiceName TemplateArn
        """,
    ),
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html
    "sts": (
        """
        Assume: Role RoleWithSAML RoleWithWebIdentity Root
        Decode: AuthorizationMessage
        Get: AccessKeyInfo CallerIdentity DelegatedAccessToken FederationToken ServiceBearerToken
             SessionToken WebIdentityToken
        Set: Context SourceIdentity
        Tag: GetWebIdentityToken Session
        """,
        """
        AWSServiceName DurationSeconds ExternalId IdentityTokenAudience RequestContext/
        RequestContextProviders RoleAuthorizedByIdp RoleSessionName SigningAlgorithm
        SourceIdentity TaskPolicyArn TransitiveTagKeys
        """,
    ),
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html
    # (no service-specific condition keys: only aws:RequestTag/, aws:ResourceTag/, aws:TagKeys)
    "cloudfront": (
        """
        Allow: VendedLogDeliveryForResource
        Associate: Alias DistributionTenantWebACL DistributionWebACL
        Copy: Distribution
        Create: AnycastIpList CachePolicy CloudFrontOriginAccessIdentity ConnectionFunction
                ConnectionGroup ContinuousDeploymentPolicy Distribution DistributionTenant
                FieldLevelEncryptionConfig FieldLevelEncryptionProfile Function Invalidation
                InvalidationForDistributionTenant KeyGroup KeyValueStore MonitoringSubscription
                OriginAccessControl OriginRequestPolicy PublicKey RealtimeLogConfig
                ResponseHeadersPolicy SavingsPlan StreamingDistribution StreamingDistributionWithTags
                TrustStore VpcOrigin
        Delete: AnycastIpList CachePolicy CloudFrontOriginAccessIdentity ConnectionFunction
                ConnectionGroup ContinuousDeploymentPolicy Distribution DistributionTenant
                FieldLevelEncryptionConfig FieldLevelEncryptionProfile Function KeyGroup KeyValueStore
                MonitoringSubscription OriginAccessControl OriginRequestPolicy PublicKey
                RealtimeLogConfig ResourcePolicy ResponseHeadersPolicy StreamingDistribution TrustStore
                VpcOrigin
        Describe: ConnectionFunction Function KeyValueStore
        Disassociate: DistributionTenantWebACL DistributionWebACL
        Get: AnycastIpList CachePolicy CachePolicyConfig CloudFrontOriginAccessIdentity
             CloudFrontOriginAccessIdentityConfig ConnectionFunction ConnectionGroup
             ConnectionGroupByRoutingEndpoint ContinuousDeploymentPolicy
             ContinuousDeploymentPolicyConfig Distribution DistributionConfig DistributionTenant
             DistributionTenantByDomain FieldLevelEncryption FieldLevelEncryptionConfig
             FieldLevelEncryptionProfile FieldLevelEncryptionProfileConfig Function Invalidation
             InvalidationForDistributionTenant KeyGroup KeyGroupConfig ManagedCertificateDetails
             MonitoringSubscription OriginAccessControl OriginAccessControlConfig OriginRequestPolicy
             OriginRequestPolicyConfig PublicKey PublicKeyConfig RealtimeLogConfig ResourcePolicy
             ResponseHeadersPolicy ResponseHeadersPolicyConfig SavingsPlan StreamingDistribution
             StreamingDistributionConfig TrustStore VpcOrigin
        List: AnycastIpLists CachePolicies CloudFrontOriginAccessIdentities ConflictingAliases
              ConnectionFunctions ConnectionGroups ContinuousDeploymentPolicies DistributionTenants
              DistributionTenantsByCustomization Distributions DistributionsByAnycastIpListId
              DistributionsByCachePolicyId DistributionsByConnectionFunction
              DistributionsByConnectionMode DistributionsByKeyGroup DistributionsByLambdaFunction
              DistributionsByOriginRequestPolicyId DistributionsByRealtimeLogConfig
              DistributionsByResponseHeadersPolicyId DistributionsByTrustStore
              DistributionsByVpcOriginId DistributionsByWebACLId DomainConflicts
              FieldLevelEncryptionConfigs FieldLevelEncryptionProfiles Functions Invalidations
              InvalidationsForDistributionTenant KeyGroups KeyValueStores OriginAccessControls
              OriginRequestPolicies PublicKeys RateCards RealtimeLogConfigs ResponseHeadersPolicies
              SavingsPlans StreamingDistributions TagsForResource TrustStores Usages VpcOrigins
        Publish: ConnectionFunction Function
        Put: ResourcePolicy
        Tag: Resource
        Test: ConnectionFunction Function
        Untag: Resource
        Update: AnycastIpList CachePolicy CloudFrontOriginAccessIdentity ConnectionFunction
                ConnectionGroup ContinuousDeploymentPolicy Distribution DistributionTenant
                DistributionWithStagingConfig DomainAssociation FieldLevelEncryptionConfig
                FieldLevelEncryptionProfile Function KeyGroup KeyValueStore OriginAccessControl
                OriginRequestPolicy PublicKey RealtimeLogConfig ResponseHeadersPolicy SavingsPlan
                StreamingDistribution TrustStore VpcOrigin
        Verify: DnsConfiguration
        """,
        """
        
        """,
    ),
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscertificatemanager.html
    "acm": (
        """
        Add: TagsToCertificate
        Create: AcmeDomainValidation AcmeEndpoint AcmeExternalAccountBinding
        Delete: AcmeDomainValidation AcmeEndpoint AcmeExternalAccountBinding Certificate
        Describe: AcmeAccount AcmeDomainValidation AcmeEndpoint AcmeExternalAccountBinding Certificate
        Export: Certificate
        Get: AccountConfiguration AcmeExternalAccountBindingCredentials Certificate
        Import: Certificate
        List: AcmeAccounts AcmeDomainValidations AcmeEndpoints AcmeExternalAccountBindings
              CertificateDomainValidations Certificates TagsForCertificate TagsForResource
        Put: AccountConfiguration
        Remove: TagsFromCertificate
        Renew: Certificate
        Request: Certificate
        Resend: ValidationEmail
        Revoke: AcmeAccount AcmeExternalAccountBinding Certificate
        Search: Certificates
        Tag: Resource
        Untag: Resource
        Update: AcmeDomainValidation AcmeEndpoint Certificate CertificateOptions
        """,
        """
        CertificateAuthority CertificateKeyPairOrigin CertificateTransparencyLogging DomainNames
        Export KeyAlgorithm ValidationMethod
        """,
    ),
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonroute53.html
    "route53": (
        """
        Activate: KeySigningKey
        Associate: VPCWithHostedZone
        Change: CidrCollection ResourceRecordSets TagsForResource
        Create: CidrCollection HealthCheck HostedZone KeySigningKey QueryLoggingConfig
                ReusableDelegationSet TrafficPolicy TrafficPolicyInstance TrafficPolicyVersion
                VPCAssociationAuthorization
        Deactivate: KeySigningKey
        Delete: CidrCollection HealthCheck HostedZone KeySigningKey QueryLoggingConfig
                ReusableDelegationSet TrafficPolicy TrafficPolicyInstance VPCAssociationAuthorization
        Disable: HostedZoneDNSSEC
        Disassociate: VPCFromHostedZone
        Enable: HostedZoneDNSSEC
        Get: AccountLimit Change CheckerIpRanges DNSSEC GeoLocation HealthCheck HealthCheckCount
             HealthCheckLastFailureReason HealthCheckStatus HostedZone HostedZoneCount HostedZoneLimit
             QueryLoggingConfig ReusableDelegationSet ReusableDelegationSetLimit TrafficPolicy
             TrafficPolicyInstance TrafficPolicyInstanceCount
        List: CidrBlocks CidrCollections CidrLocations GeoLocations HealthChecks HostedZones
              HostedZonesByName HostedZonesByVPC QueryLoggingConfigs ResourceRecordSets
              ReusableDelegationSets TagsForResource TagsForResources TrafficPolicies
              TrafficPolicyInstances TrafficPolicyInstancesByHostedZone TrafficPolicyInstancesByPolicy
              TrafficPolicyVersions VPCAssociationAuthorizations
        Test: DNSAnswer
        Update: HealthCheck HostedZoneComment HostedZoneFeatures TrafficPolicyComment
                TrafficPolicyInstance
        """,
        """
        ChangeResourceRecordSetsActions ChangeResourceRecordSetsNormalizedRecordNames
        ChangeResourceRecordSetsRecordTypes VPCs
        """,
    ),
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
    # (read through iam-floyd's lib/generated/policy-statements/s3.ts, commit 50d8b534, 2026-08)
    "s3": (
        """
        Abort: MultipartUpload
        Allow: VendedLogDeliveryForResource
        Associate: AccessGrantsIdentityCenter
        Bypass: GovernanceRetention
        Create: AccessGrant AccessGrantsInstance AccessGrantsLocation AccessPoint
                AccessPointForObjectLambda Bucket BucketMetadataTableConfiguration Job
                MultiRegionAccessPoint StorageLensGroup
        Delete: AccessGrant AccessGrantsInstance AccessGrantsInstanceResourcePolicy
                AccessGrantsLocation AccessPoint AccessPointForObjectLambda AccessPointPolicy
                AccessPointPolicyForObjectLambda Bucket BucketMetadataTableConfiguration
                BucketPolicy BucketWebsite JobTagging MultiRegionAccessPoint Object ObjectAnnotation
                ObjectTagging ObjectVersion ObjectVersionAnnotation ObjectVersionTagging
                StorageLensConfiguration StorageLensConfigurationTagging StorageLensGroup
        Describe: Job MultiRegionAccessPointOperation
        Dissociate: AccessGrantsIdentityCenter
        Get: AccelerateConfiguration AccessGrant AccessGrantsInstance AccessGrantsInstanceForPrefix
             AccessGrantsInstanceResourcePolicy AccessGrantsLocation AccessPoint
             AccessPointConfigurationForObjectLambda AccessPointForObjectLambda AccessPointPolicy
             AccessPointPolicyForObjectLambda AccessPointPolicyStatus
             AccessPointPolicyStatusForObjectLambda AccountPublicAccessBlock AnalyticsConfiguration
             BucketAbac BucketAcl BucketCORS BucketLocation BucketLogging
             BucketMetadataTableConfiguration BucketNotification BucketObjectLockConfiguration
             BucketOwnershipControls BucketPolicy BucketPolicyStatus BucketPublicAccessBlock
             BucketRequestPayment BucketTagging BucketVersioning BucketWebsite DataAccess
             EncryptionConfiguration IntelligentTieringConfiguration InventoryConfiguration
             JobTagging LifecycleConfiguration MetricsConfiguration MultiRegionAccessPoint
             MultiRegionAccessPointPolicy MultiRegionAccessPointPolicyStatus
             MultiRegionAccessPointRoutes Object ObjectAcl ObjectAnnotation ObjectAttributes
             ObjectLegalHold ObjectRetention ObjectTagging ObjectTorrent ObjectVersion
             ObjectVersionAcl ObjectVersionAnnotation ObjectVersionAnnotationForReplication
             ObjectVersionAttributes ObjectVersionForReplication ObjectVersionTagging
             ObjectVersionTorrent ReplicationConfiguration StorageLensConfiguration
             StorageLensConfigurationTagging StorageLensDashboard StorageLensGroup
        Initiate: Replication
        List: AccessGrants AccessGrantsInstances AccessGrantsLocations AccessPoints
              AccessPointsForObjectLambda AllMyBuckets Bucket BucketMultipartUploads BucketVersions
              CallerAccessGrants Jobs MultiRegionAccessPoints MultipartUploadParts ObjectAnnotations
              ObjectVersionAnnotations StorageLensConfigurations StorageLensGroups TagsForResource
        Object: OwnerOverrideToBucketOwner
        Pause: Replication
        Put: AccelerateConfiguration AccessGrantsInstanceResourcePolicy
             AccessPointConfigurationForObjectLambda AccessPointPolicy
             AccessPointPolicyForObjectLambda AccessPointPublicAccessBlock AccountPublicAccessBlock
             AnalyticsConfiguration BucketAbac BucketAcl BucketCORS BucketLogging BucketNotification
             BucketObjectLockConfiguration BucketOwnershipControls BucketPolicy
             BucketPublicAccessBlock BucketRequestPayment BucketTagging BucketVersioning
             BucketWebsite EncryptionConfiguration IntelligentTieringConfiguration
             InventoryConfiguration JobTagging LifecycleConfiguration MetricsConfiguration
             MultiRegionAccessPointPolicy Object ObjectAcl ObjectAnnotation ObjectLegalHold
             ObjectRetention ObjectTagging ObjectVersionAcl ObjectVersionAnnotation
             ObjectVersionTagging ReplicationConfiguration StorageLensConfiguration
             StorageLensConfigurationTagging
        Replicate: Delete Object ObjectAnnotation Tags
        Restore: Object
        Submit: MultiRegionAccessPointRoutes
        Tag: Resource
        Untag: Resource
        Update: AccessGrantsLocation BucketMetadataAnnotationTableConfiguration
                BucketMetadataInventoryTableConfiguration BucketMetadataJournalTableConfiguration
                JobPriority JobStatus ObjectEncryption StorageLensGroup
        """,
        """
        AccessGrantScope AccessGrantsInstanceArn AccessGrantsLocationScope AccessPointNetworkOrigin
        AccessPointTag/ annotation-prefix authType BucketTag/ DataAccessPointAccount
        DataAccessPointArn delimiter deliverySourceArn destinationRegion ExistingJobOperation
        ExistingJobPriority ExistingObjectTag/ if-match if-none-match
        InventoryAccessibleOptionalFields isReplicationPauseRequest JobSuspendedCause
        locationconstraint logType max-annotation-results max-keys object-lock-legal-hold
        object-lock-mode object-lock-remaining-retention-days object-lock-retain-until-date
        ObjectCreationOperation prefix RequestJobOperation RequestJobPriority RequestObjectTag/
        RequestObjectTagKeys ResourceAccount resourceArnBeingAuthorized signatureAge
        signatureversion TlsVersion versionid x-amz-acl x-amz-bucket-namespace x-amz-content-sha256
        x-amz-copy-source x-amz-grant-full-control x-amz-grant-read x-amz-grant-read-acp
        x-amz-grant-write x-amz-grant-write-acp x-amz-metadata-directive
        x-amz-object-annotation-directive x-amz-object-if-match x-amz-object-ownership
        x-amz-server-side-encryption x-amz-server-side-encryption-aws-kms-key-id
        x-amz-server-side-encryption-customer-algorithm x-amz-storage-class
        x-amz-website-redirect-location
        """,
    ),
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsresourcegroupstaggingapi.html
    "tag": (
        """
        Describe: ReportCreation
        Get: ComplianceSummary Resources TagKeys TagValues
        List: RequiredTags
        Start: ReportCreation
        Tag: Resources
        Untag: Resources
        """,
        """
        
        """,
    ),
}

# Tag keys each action supports (SAR, actions table with its resource types' keys), for
# the actions this tool's policies use; other actions are checked per service only.
ACTION_TAG_KEYS = {
    "acm:AddTagsToCertificate": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys",
    "acm:DeleteCertificate": "aws:ResourceTag/",
    "acm:DescribeCertificate": "aws:ResourceTag/",
    "acm:ListCertificates": "",
    "acm:ListTagsForCertificate": "aws:ResourceTag/",
    "acm:RemoveTagsFromCertificate": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys",
    "acm:RequestCertificate": "aws:RequestTag/ aws:TagKeys",
    "autoscaling:AttachLoadBalancerTargetGroups": "autoscaling:ResourceTag/ aws:ResourceTag/",
    "autoscaling:CreateAutoScalingGroup": "autoscaling:ResourceTag/ aws:RequestTag/ aws:ResourceTag/ aws:TagKeys",
    "autoscaling:CreateOrUpdateTags": "autoscaling:ResourceTag/ aws:RequestTag/ aws:ResourceTag/ aws:TagKeys",
    "autoscaling:DeleteAutoScalingGroup": "autoscaling:ResourceTag/ aws:ResourceTag/",
    "autoscaling:DeletePolicy": "autoscaling:ResourceTag/ aws:ResourceTag/",
    "autoscaling:DeleteTags": "autoscaling:ResourceTag/ aws:RequestTag/ aws:ResourceTag/ aws:TagKeys",
    "autoscaling:DescribeAutoScalingGroups": "",
    "autoscaling:DescribeScalingActivities": "",
    "autoscaling:PutScalingPolicy": "autoscaling:ResourceTag/ aws:ResourceTag/",
    "autoscaling:ResumeProcesses": "autoscaling:ResourceTag/ aws:ResourceTag/",
    "autoscaling:SetDesiredCapacity": "autoscaling:ResourceTag/ aws:ResourceTag/",
    "autoscaling:SuspendProcesses": "autoscaling:ResourceTag/ aws:ResourceTag/",
    "autoscaling:TerminateInstanceInAutoScalingGroup": "autoscaling:ResourceTag/ aws:ResourceTag/",
    "autoscaling:UpdateAutoScalingGroup": "autoscaling:ResourceTag/ aws:ResourceTag/",
    "cloudfront:CreateDistribution": "aws:RequestTag/ aws:TagKeys",
    "cloudfront:DeleteDistribution": "aws:ResourceTag/",
    "cloudfront:GetDistribution": "aws:ResourceTag/",
    "cloudfront:GetDistributionConfig": "aws:ResourceTag/",
    "cloudfront:ListDistributions": "",
    "cloudfront:ListTagsForResource": "aws:ResourceTag/",
    "cloudfront:TagResource": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys",
    "cloudfront:UntagResource": "aws:ResourceTag/ aws:TagKeys",
    "cloudfront:UpdateDistribution": "aws:ResourceTag/",
    "ec2:AuthorizeSecurityGroupIngress": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys ec2:ResourceTag/",
    "ec2:CreateLaunchTemplate": "aws:RequestTag/ aws:TagKeys",
    "ec2:CreateLaunchTemplateVersion": "aws:ResourceTag/ ec2:ResourceTag/",
    "ec2:CreateSecurityGroup": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys ec2:ResourceTag/",
    "ec2:CreateTags": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys ec2:ResourceTag/",
    "ec2:DeleteKeyPair": "aws:ResourceTag/ ec2:ResourceTag/",
    "ec2:DeleteLaunchTemplate": "aws:ResourceTag/ ec2:ResourceTag/",
    "ec2:DeleteSecurityGroup": "aws:ResourceTag/ ec2:ResourceTag/",
    "ec2:DeleteTags": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys ec2:ResourceTag/",
    "ec2:DescribeAccountAttributes": "",
    "ec2:DescribeAddresses": "",
    "ec2:DescribeImages": "",
    "ec2:DescribeInstanceStatus": "",
    "ec2:DescribeInstanceTypeOfferings": "",
    "ec2:DescribeInstances": "",
    "ec2:DescribeInternetGateways": "",
    "ec2:DescribeManagedPrefixLists": "",
    "ec2:DescribeKeyPairs": "",
    "ec2:DescribeLaunchTemplateVersions": "",
    "ec2:DescribeLaunchTemplates": "",
    "ec2:DescribeNetworkInterfaces": "",
    "ec2:DescribeRegions": "",
    "ec2:DescribeRouteTables": "",
    "ec2:DescribeSecurityGroups": "",
    "ec2:DescribeSubnets": "",
    "ec2:DescribeVpcs": "",
    "ec2:GetConsoleOutput": "aws:ResourceTag/ ec2:ResourceTag/",
    "ec2:ImportKeyPair": "aws:RequestTag/ aws:TagKeys",
    "ec2:ModifyLaunchTemplate": "aws:ResourceTag/ ec2:ResourceTag/",
    "ec2:RevokeSecurityGroupIngress": "aws:ResourceTag/ ec2:ResourceTag/",
    "ec2:RunInstances": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys ec2:ResourceTag/",
    "ec2:StartInstances": "aws:ResourceTag/ ec2:ResourceTag/",
    "ec2:StopInstances": "aws:ResourceTag/ ec2:ResourceTag/",
    "ec2:TerminateInstances": "aws:ResourceTag/ ec2:ResourceTag/",
    "elasticloadbalancing:AddTags": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:CreateListener": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:CreateLoadBalancer": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:CreateRule": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:CreateTargetGroup": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:DeleteListener": "aws:ResourceTag/ elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:DeleteLoadBalancer": "aws:ResourceTag/ elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:DeleteRule": "aws:ResourceTag/ elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:DeleteTargetGroup": "aws:ResourceTag/ elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:DeregisterTargets": "aws:ResourceTag/ elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:DescribeListeners": "",
    "elasticloadbalancing:DescribeLoadBalancers": "",
    "elasticloadbalancing:DescribeRules": "",
    "elasticloadbalancing:DescribeTags": "",
    "elasticloadbalancing:DescribeTargetGroups": "",
    "elasticloadbalancing:DescribeTargetHealth": "",
    "elasticloadbalancing:ModifyListener": "aws:ResourceTag/ elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:ModifyRule": "aws:ResourceTag/ elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:ModifyTargetGroup": "aws:ResourceTag/ elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:ModifyTargetGroupAttributes": "aws:ResourceTag/ elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:RegisterTargets": "aws:ResourceTag/ elasticloadbalancing:ResourceTag/",
    "elasticloadbalancing:RemoveTags": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys elasticloadbalancing:ResourceTag/",
    "iam:AddRoleToInstanceProfile": "aws:ResourceTag/",
    "iam:CreateInstanceProfile": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys",
    "iam:CreateRole": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys iam:ResourceTag/",
    "iam:CreateServiceLinkedRole": "aws:ResourceTag/ iam:ResourceTag/",
    "iam:DeleteInstanceProfile": "aws:ResourceTag/",
    "iam:DeleteRole": "aws:ResourceTag/ iam:ResourceTag/",
    "iam:DeleteRolePolicy": "aws:ResourceTag/ iam:ResourceTag/",
    "iam:GetInstanceProfile": "aws:ResourceTag/",
    "iam:GetRole": "aws:ResourceTag/ iam:ResourceTag/",
    "iam:GetRolePolicy": "aws:ResourceTag/ iam:ResourceTag/",
    "iam:ListAttachedRolePolicies": "aws:ResourceTag/ iam:ResourceTag/",
    "iam:ListRolePolicies": "aws:ResourceTag/ iam:ResourceTag/",
    "iam:PassRole": "aws:ResourceTag/ iam:ResourceTag/",
    "iam:PutRolePolicy": "aws:ResourceTag/ iam:ResourceTag/",
    "iam:RemoveRoleFromInstanceProfile": "aws:ResourceTag/",
    "iam:TagInstanceProfile": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys",
    "iam:TagRole": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys iam:ResourceTag/",
    "iam:UntagInstanceProfile": "aws:ResourceTag/ aws:TagKeys",
    "iam:UntagRole": "aws:ResourceTag/ aws:TagKeys iam:ResourceTag/",
    # Route 53's hosted zones and changes take no tag condition keys.
    "route53:ChangeResourceRecordSets": "",
    "route53:GetChange": "",
    "route53:ListHostedZonesByName": "",
    "route53:ListResourceRecordSets": "",
    # S3 (SAR list_amazons3.html): aws:ResourceTag/ is in the table for buckets and
    # objects, but "By default, ABAC is disabled for all Amazon S3 general purpose
    # buckets" (S3 User Guide, buckets-tagging-enable-abac.html): awsproxy.py puts no
    # aws:ResourceTag in an S3 request's context (this tool never enables ABAC).
    "s3:AbortMultipartUpload": "aws:ResourceTag/",
    "s3:CreateBucket": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys",
    "s3:DeleteBucket": "aws:ResourceTag/",
    "s3:DeleteObject": "aws:ResourceTag/",
    "s3:DeleteObjectTagging": "aws:ResourceTag/",
    "s3:GetBucketLocation": "aws:ResourceTag/",
    "s3:GetBucketOwnershipControls": "aws:ResourceTag/",
    "s3:GetBucketPublicAccessBlock": "aws:ResourceTag/",
    "s3:GetBucketTagging": "aws:ResourceTag/",
    "s3:GetEncryptionConfiguration": "aws:ResourceTag/",
    "s3:GetLifecycleConfiguration": "aws:ResourceTag/",
    "s3:GetObject": "aws:ResourceTag/",
    "s3:GetObjectTagging": "aws:ResourceTag/",
    "s3:ListAllMyBuckets": "",
    "s3:ListBucket": "aws:ResourceTag/",
    "s3:PutBucketOwnershipControls": "aws:ResourceTag/",
    "s3:PutBucketPublicAccessBlock": "aws:ResourceTag/",
    "s3:PutBucketTagging": "aws:ResourceTag/",
    "s3:PutEncryptionConfiguration": "aws:ResourceTag/",
    "s3:PutLifecycleConfiguration": "aws:ResourceTag/",
    "s3:PutObject": "aws:ResourceTag/",
    "s3:PutObjectTagging": "aws:ResourceTag/",
    "scheduler:CreateSchedule": "aws:ResourceTag/",
    "scheduler:CreateScheduleGroup": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys",
    "scheduler:DeleteSchedule": "aws:ResourceTag/",
    "scheduler:DeleteScheduleGroup": "aws:ResourceTag/",
    "scheduler:GetSchedule": "aws:ResourceTag/",
    "scheduler:GetScheduleGroup": "aws:ResourceTag/",
    "scheduler:ListScheduleGroups": "",
    "scheduler:ListSchedules": "",
    "scheduler:ListTagsForResource": "aws:ResourceTag/",
    "scheduler:TagResource": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys",
    "scheduler:UntagResource": "aws:ResourceTag/ aws:TagKeys",
    "scheduler:UpdateSchedule": "aws:ResourceTag/",
    "sts:AssumeRole": "aws:RequestTag/ aws:ResourceTag/ aws:TagKeys iam:ResourceTag/",
    "tag:GetResources": "",
}

# Service keys that only a few actions support (SAR), e.g. ec2:CreateAction (CreateTags)
# or iam:PassedToService (PassRole): a statement using one with any other action is
# reported ("Unsupported action for condition key").
NARROW_KEYS = {
    "acm:CertificateAuthority": "RequestCertificate",
    "acm:CertificateKeyPairOrigin": "AddTagsToCertificate DeleteCertificate RequestCertificate RevokeCertificate UpdateCertificate",
    "acm:CertificateTransparencyLogging": "RequestCertificate",
    "acm:DomainNames": "ExportCertificate RequestCertificate RevokeCertificate",
    "acm:Export": "RequestCertificate",
    "acm:KeyAlgorithm": "RequestCertificate",
    "acm:ValidationMethod": "RequestCertificate UpdateCertificateOptions",
    "autoscaling:CapacityReservationIds": "CreateAutoScalingGroup UpdateAutoScalingGroup",
    "autoscaling:CapacityReservationResourceGroupArns": "CreateAutoScalingGroup UpdateAutoScalingGroup",
    "autoscaling:ForceDelete": "DeleteAutoScalingGroup",
    "autoscaling:InstanceType": "CreateLaunchConfiguration",
    "autoscaling:InstanceTypes": "CreateAutoScalingGroup UpdateAutoScalingGroup",
    "autoscaling:LaunchConfigurationName": "CreateAutoScalingGroup UpdateAutoScalingGroup",
    "autoscaling:LaunchTemplateVersionSpecified": "CreateAutoScalingGroup UpdateAutoScalingGroup",
    "autoscaling:LoadBalancerNames": "AttachLoadBalancers CreateAutoScalingGroup DetachLoadBalancers",
    "autoscaling:MaxSize": "CreateAutoScalingGroup PutScheduledUpdateGroupAction UpdateAutoScalingGroup",
    "autoscaling:MetadataHttpEndpoint": "CreateLaunchConfiguration",
    "autoscaling:MetadataHttpPutResponseHopLimit": "CreateLaunchConfiguration",
    "autoscaling:MetadataHttpTokens": "CreateLaunchConfiguration",
    "autoscaling:MinSize": "CreateAutoScalingGroup PutScheduledUpdateGroupAction UpdateAutoScalingGroup",
    "autoscaling:OperatorPrincipal": "CreateAutoScalingGroup",
    "autoscaling:SpotPrice": "CreateLaunchConfiguration",
    "autoscaling:TargetGroupARNs": "AttachLoadBalancerTargetGroups CreateAutoScalingGroup DetachLoadBalancerTargetGroups",
    "autoscaling:TrafficSourceIdentifiers": "AttachTrafficSources CreateAutoScalingGroup DetachTrafficSources",
    "autoscaling:VPCZoneIdentifiers": "CreateAutoScalingGroup UpdateAutoScalingGroup",
    "ec2:Add/group": "ModifySnapshotAttribute",
    "ec2:Add/userId": "ModifySnapshotAttribute",
    "ec2:AssociatePublicIpAddress": "RunInstances",
    "ec2:AuthorizedService": "CreateNetworkInterfacePermission RunInstances",
    "ec2:AutoPlacement": "AllocateHosts CreateTags",
    "ec2:CreateAction": "CreateTags",
    "ec2:ElasticGpuType": "CreateTags RunInstances",
    "ec2:EphemeralStorage": "CreateCapacityReservation",
    "ec2:FisActionId": "InjectApiError",
    "ec2:FisTargetArns": "InjectApiError",
    "ec2:HostRecovery": "AllocateHosts CreateTags",
    "ec2:InterruptibleCapacityReservationId": "CreateInterruptibleCapacityReservationAllocation UpdateInterruptibleCapacityReservationAllocation",
    "ec2:InterruptionType": "CreateInterruptibleCapacityReservationAllocation UpdateInterruptibleCapacityReservationAllocation",
    "ec2:IsInterruptible": "CreateInterruptibleCapacityReservationAllocation UpdateInterruptibleCapacityReservationAllocation",
    "ec2:IsLaunchTemplateResource": "RunInstances",
    "ec2:KmsKeyId": "CreateFleet CreateVolume",
    "ec2:LaunchTemplate": "RunInstances",
    "ec2:Location": "CreateSnapshot CreateSnapshots",
    "ec2:Quantity": "AllocateHosts CreateTags",
    "ec2:Remove/group": "ModifySnapshotAttribute",
    "ec2:Remove/userId": "ModifySnapshotAttribute",
    "ec2:SnapshotCoolOffPeriod": "LockSnapshot UnlockSnapshot",
    "ec2:SnapshotLockDuration": "LockSnapshot UnlockSnapshot",
    "ec2:TargetInstanceCount": "CreateInterruptibleCapacityReservationAllocation UpdateInterruptibleCapacityReservationAllocation",
    "ec2:VpcePrivateDnsPreference": "CreateVpcEndpoint",
    "ec2:VpcePrivateDnsSpecifiedDomains": "CreateVpcEndpoint",
    "ec2:VpceServiceOwner": "CreateTrafficMirrorTarget CreateVpcEndpoint",
    "ec2:VpceServicePrivateDnsName": "CreateVpcEndpointServiceConfiguration ModifyVpcEndpointServiceConfiguration",
    "elasticloadbalancing:CreateAction": "AddTags",
    "elasticloadbalancing:Scheme": "CreateLoadBalancer",
    "elasticloadbalancing:SecurityGroup": "ApplySecurityGroupsToLoadBalancer CreateLoadBalancer SetSecurityGroups",
    "elasticloadbalancing:Subnet": "AttachLoadBalancerToSubnets CreateLoadBalancer SetSubnets",
    "iam:AccountPropertyNamespaces": "GetAccountProperties PutAccountProperties",
    "iam:AssociatedResourceArn": "PassRole",
    "iam:AWSServiceName": "CreateServiceLinkedRole",
    "iam:DelegationDuration": "CreateDelegationRequest",
    "iam:FIDO-certification": "EnableMFADevice",
    "iam:FIDO-FIPS-140-2-certification": "EnableMFADevice",
    "iam:FIDO-FIPS-140-3-certification": "EnableMFADevice",
    "iam:NotificationChannel": "CreateDelegationRequest",
    "iam:OrganizationsPolicyId": "GenerateOrganizationsAccessReport",
    "iam:PassedToService": "PassRole",
    "iam:RegisterSecurityKey": "EnableMFADevice",
    "iam:ServiceSpecificCredentialAgeDays": "CreateServiceSpecificCredential",
    "iam:TemplateArn": "CreateDelegationRequest",
    "route53:ChangeResourceRecordSetsActions": "ChangeResourceRecordSets",
    "route53:ChangeResourceRecordSetsNormalizedRecordNames": "ChangeResourceRecordSets",
    "route53:ChangeResourceRecordSetsRecordTypes": "ChangeResourceRecordSets",
    "route53:VPCs": "AssociateVPCWithHostedZone CreateHostedZone CreateVPCAssociationAuthorization DeleteVPCAssociationAuthorization DisassociateVPCFromHostedZone ListHostedZonesByVPC",
    "s3:AccessGrantScope": "CreateAccessGrant DeleteAccessGrant GetAccessGrant",
    "s3:AccessGrantsInstanceArn": "AbortMultipartUpload DeleteObject DeleteObjectVersion GetObject GetObjectAcl GetObjectVersion GetObjectVersionAcl ListBucket ListBucketMultipartUploads ListBucketVersions ListMultipartUploadParts PutObject PutObjectAcl PutObjectVersionAcl",
    "s3:AccessGrantsLocationScope": "CreateAccessGrantsLocation DeleteAccessGrantsLocation GetAccessGrantsLocation UpdateAccessGrantsLocation",
    "s3:annotation-prefix": "ListObjectAnnotations ListObjectVersionAnnotations",
    "s3:delimiter": "ListBucket ListBucketVersions",
    "s3:deliverySourceArn": "AllowVendedLogDeliveryForResource",
    "s3:destinationRegion": "PauseReplication",
    "s3:ExistingJobOperation": "DeleteJobTagging PutJobTagging UpdateJobPriority UpdateJobStatus",
    "s3:ExistingJobPriority": "DeleteJobTagging PutJobTagging UpdateJobPriority UpdateJobStatus",
    "s3:ExistingObjectTag/": "DeleteObjectAnnotation DeleteObjectTagging DeleteObjectVersionAnnotation DeleteObjectVersionTagging GetObject GetObjectAcl GetObjectAnnotation GetObjectAttributes GetObjectTagging GetObjectVersion GetObjectVersionAcl GetObjectVersionAnnotation GetObjectVersionAttributes GetObjectVersionTagging ListObjectAnnotations ListObjectVersionAnnotations PutObjectAcl PutObjectAnnotation PutObjectTagging PutObjectVersionAcl PutObjectVersionAnnotation PutObjectVersionTagging UpdateObjectEncryption",
    "s3:if-match": "DeleteObject PutObject",
    "s3:if-none-match": "PutObject",
    "s3:InventoryAccessibleOptionalFields": "PutInventoryConfiguration",
    "s3:isReplicationPauseRequest": "PutReplicationConfiguration",
    "s3:JobSuspendedCause": "UpdateJobStatus",
    "s3:locationconstraint": "CreateAccessPoint CreateBucket",
    "s3:logType": "AllowVendedLogDeliveryForResource",
    "s3:max-annotation-results": "ListObjectAnnotations ListObjectVersionAnnotations",
    "s3:max-keys": "ListBucket ListBucketVersions",
    "s3:object-lock-legal-hold": "PutObject PutObjectLegalHold",
    "s3:object-lock-mode": "PutObject PutObjectRetention",
    "s3:object-lock-remaining-retention-days": "PutObject PutObjectRetention",
    "s3:object-lock-retain-until-date": "PutObject PutObjectRetention",
    "s3:ObjectCreationOperation": "PutObject",
    "s3:prefix": "ListBucket ListBucketVersions",
    "s3:RequestJobOperation": "CreateJob",
    "s3:RequestJobPriority": "CreateJob UpdateJobPriority",
    "s3:RequestObjectTag/": "BypassGovernanceRetention PutObject PutObjectTagging PutObjectVersionTagging",
    "s3:RequestObjectTagKeys": "BypassGovernanceRetention PutObject PutObjectTagging PutObjectVersionTagging",
    "s3:resourceArnBeingAuthorized": "AllowVendedLogDeliveryForResource",
    "s3:versionid": "DeleteObjectVersion DeleteObjectVersionAnnotation DeleteObjectVersionTagging GetObjectVersion GetObjectVersionAcl GetObjectVersionAnnotation GetObjectVersionAttributes GetObjectVersionTagging GetObjectVersionTorrent ListObjectVersionAnnotations PutObjectVersionAcl PutObjectVersionAnnotation PutObjectVersionTagging",
    "s3:x-amz-acl": "BypassGovernanceRetention CreateAccessPoint CreateBucket PutBucketAcl PutObject PutObjectAcl PutObjectVersionAcl",
    "s3:x-amz-bucket-namespace": "CreateBucket",
    "s3:x-amz-copy-source": "BypassGovernanceRetention PutObject",
    "s3:x-amz-grant-full-control": "BypassGovernanceRetention CreateBucket PutBucketAcl PutObject PutObjectAcl PutObjectVersionAcl",
    "s3:x-amz-grant-read": "BypassGovernanceRetention CreateBucket PutBucketAcl PutObject PutObjectAcl PutObjectVersionAcl",
    "s3:x-amz-grant-read-acp": "BypassGovernanceRetention CreateBucket PutBucketAcl PutObject PutObjectAcl PutObjectVersionAcl",
    "s3:x-amz-grant-write": "BypassGovernanceRetention CreateBucket PutBucketAcl PutObject PutObjectAcl PutObjectVersionAcl",
    "s3:x-amz-grant-write-acp": "BypassGovernanceRetention CreateBucket PutBucketAcl PutObject PutObjectAcl PutObjectVersionAcl",
    "s3:x-amz-metadata-directive": "BypassGovernanceRetention PutObject",
    "s3:x-amz-object-annotation-directive": "PutObject",
    "s3:x-amz-object-if-match": "DeleteObjectAnnotation DeleteObjectVersionAnnotation PutObjectAnnotation PutObjectVersionAnnotation",
    "s3:x-amz-object-ownership": "CreateBucket",
    "s3:x-amz-server-side-encryption": "BypassGovernanceRetention PutObject ReplicateObject UpdateObjectEncryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id": "BypassGovernanceRetention PutObject ReplicateObject UpdateObjectEncryption",
    "s3:x-amz-server-side-encryption-customer-algorithm": "BypassGovernanceRetention PutObject ReplicateObject",
    "s3:x-amz-storage-class": "BypassGovernanceRetention PutObject PutObjectAcl PutObjectVersionAcl",
    "s3:x-amz-website-redirect-location": "BypassGovernanceRetention PutObject",
    "sts:AWSServiceName": "GetServiceBearerToken",
    "sts:DurationSeconds": "GetServiceBearerToken GetWebIdentityToken",
    "sts:ExternalId": "AssumeRole",
    "sts:IdentityTokenAudience": "GetWebIdentityToken",
    "sts:RequestContext/": "SetContext",
    "sts:RequestContextProviders": "SetContext",
    "sts:RoleAuthorizedByIdp": "AssumeRoleWithWebIdentity",
    "sts:RoleSessionName": "AssumeRole AssumeRoleWithSAML AssumeRoleWithWebIdentity",
    "sts:SigningAlgorithm": "GetWebIdentityToken",
    "sts:TaskPolicyArn": "AssumeRoot",
}


def _parse_actions(text):
    out, verb = [], None
    for tok in text.split():
        if tok.endswith(":"):
            verb = tok[:-1]
        else:
            out.append(verb if tok == "=" else verb + tok)
    return out


_SERVICE_INDEX = {
    prefix: {"actions": _parse_actions(acts),
             "keys": {f"{prefix}:{k}".lower() for k in keys.split()}}
    for prefix, (acts, keys) in SERVICES.items()
}
for _svc in _SERVICE_INDEX.values():
    _svc["by_lower"] = {a.lower(): a for a in _svc["actions"]}
_GLOBAL_INDEX = {f"aws:{k}".lower() for k in GLOBAL_KEYS.split()}
_MULTI_INDEX = {f"aws:{k}".lower() for k in MULTIVALUED_GLOBAL_KEYS.split()}
_CROSS_INDEX = {k.lower() for k in CROSS_SERVICE_KEYS.split()}
_TAG_FAMILIES = {"aws:requesttag/", "aws:resourcetag/", "aws:tagkeys"}
_ACTION_TAG_INDEX = {a.lower(): {k.lower() for k in v.split()} for a, v in ACTION_TAG_KEYS.items()}
_NARROW_INDEX = {k.lower(): {f"{k.split(':')[0]}:{a}".lower() for a in v.split()}
                 for k, v in NARROW_KEYS.items()}


if __name__ == "__main__":
    sys.exit(main())
