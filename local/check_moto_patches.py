"""Checks that a launcher patch which writes a response itself answers the same bytes as moto's
own serializer: run with `python3 local/check_moto_patches.py` (test/integration/moto-patches.test.ts
runs it). Exit 0 when every compared answer is identical, 1 otherwise, naming the first difference."""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")

import moto_launcher as launcher  # noqa: E402 - applies the patches
from moto import mock_aws  # noqa: E402
from moto.iam.responses import IamResponse  # noqa: E402
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.test import Client  # noqa: E402

import boto3  # noqa: E402

AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x"
FILTERS = "Filter.member.1=User&Filter.member.2=Role&Filter.member.3=Group&Filter.member.4=LocalManagedPolicy"
DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}}}]})


def authorization_details(client, query):
    reply = client.post("/", data=f"Action=GetAccountAuthorizationDetails&Version=2010-05-08&{query}", headers={"Host": "iam.amazonaws.com", "Content-Type": "application/x-www-form-urlencoded", "Authorization": AUTH})
    body = reply.get_data(as_text=True)
    return reply.status_code, re.sub(r"<RequestId>[^<]*</RequestId>", "<RequestId/>", body)


def both_ways(client, query):
    """The answer through the patch, then through moto's serializer alone (and the time of each)."""
    started = time.perf_counter()
    patched = authorization_details(client, query)
    patched_s = time.perf_counter() - started
    IamResponse.get_account_authorization_details = launcher._serialized_authorization_details
    try:
        started = time.perf_counter()
        generic = authorization_details(client, query)
        generic_s = time.perf_counter() - started
    finally:
        IamResponse.get_account_authorization_details = launcher._authorization_details_users_written_directly
    return patched, generic, patched_s, generic_s


def first_difference(a, b):
    index = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"at byte {index}: patched …{a[max(0, index - 80):index + 80]!r}… moto …{b[max(0, index - 80):index + 80]!r}…"


def main():
    failures = []

    def compare(case, query=FILTERS):
        (status_a, body_a), (status_b, body_b), patched_s, generic_s = both_ways(client, query)
        if (status_a, body_a) != (status_b, body_b):
            failures.append(f"{case}: {first_difference(body_a, body_b) if body_a != body_b else f'status {status_a} against {status_b}'}")
        print(f"{case}: {'same bytes' if body_a == body_b else 'DIFFERENT'} ({len(body_a)} bytes; patched {patched_s * 1000:.1f} ms, moto's serializer {generic_s * 1000:.1f} ms)")

    with mock_aws():
        client = Client(DomainDispatcherApplication(create_backend_app))
        iam = boto3.client("iam", region_name="us-east-1")
        compare("no users")
        iam.create_user(UserName="plain")
        iam.create_user(UserName="tagged", Path="/svc/team/", Tags=[{"Key": "nhi-governed", "Value": "true"}, {"Key": "owner", "Value": "a&b<c>\"q\"'s ]]> é@example.com"}, {"Key": "empty", "Value": ""}])
        iam.put_user_policy(UserName="tagged", PolicyName="nhigov-revoke-older-sessions", PolicyDocument=DOCUMENT)
        iam.put_user_policy(UserName="tagged", PolicyName="second", PolicyDocument=DOCUMENT.replace("Deny", "Allow"))
        arn = iam.create_policy(PolicyName="quarantine", PolicyDocument=DOCUMENT)["Policy"]["Arn"]
        iam.attach_user_policy(UserName="tagged", PolicyArn=arn)
        for group in ("g1", "g2"):
            iam.create_group(GroupName=group)
            iam.add_user_to_group(GroupName=group, UserName="tagged")
        iam.put_group_policy(GroupName="g1", PolicyName="gp", PolicyDocument=DOCUMENT)
        iam.create_role(RoleName="role", AssumeRolePolicyDocument=DOCUMENT, Tags=[{"Key": "k", "Value": "v"}])
        iam.put_role_policy(RoleName="role", PolicyName="rp", PolicyDocument=DOCUMENT)
        compare("users with and without tags, inline and attached policies, groups, empty values, characters to escape")
        compare("users only", "Filter.member.1=User")
        compare("no filter", "")
        iam.create_user(UserName="bounded", PermissionsBoundary=arn)
        compare("a user created with a permissions boundary")
        for i in range(2500):
            iam.create_user(UserName=f"estate-{i}", Tags=[{"Key": "nhi-governed", "Value": "true"}, {"Key": "owner", "Value": f"owner-{i % 200}@example.com"}])
        compare("2,500 more users (the load bench's estate)")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
