"""Run moto's server for the nhi-governor local stack.

Usage: python3 moto_launcher.py PORT   (MOTO_PORT must name the gateway port in front of it,
so that moto's own Lambda calls from Step Functions reach the gateway.)

Patches, each with its measured reason next to it. First: moto < 5.2.3 deep-copies a state machine, executions included, on every
StartExecution, and the copy fails from the second execution on with
"cannot pickle '_thread.RLock' object" (getmoto/moto#10077, fixed by #10093 in 5.2.3).
We backport that fix: the copy leaves `executions` out and shares `backend`.
"""
import copy
import functools
import sys
import threading

try:
    import moto
    from moto.server import main as moto_main
    from moto.stepfunctions.models import StateMachineInstance
    from moto.dynamodb.models import DynamoDBBackend
except ImportError as missing:  # pragma: no cover - reported to the user by the CLI
    sys.stderr.write(
        f"nhigov: moto is not importable ({missing}); install it with: pip install 'moto[server]'\n"
    )
    sys.exit(3)


def _version_tuple(text):
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _deepcopy_without_executions(self, memo):
    cls = self.__class__
    clone = cls.__new__(cls)
    memo[id(self)] = clone
    for key, value in self.__dict__.items():
        if key == "executions":
            setattr(clone, key, [])
        elif key == "backend":
            setattr(clone, key, value)
        else:
            setattr(clone, key, copy.deepcopy(value, memo))
    return clone


if _version_tuple(moto.__version__) < (5, 2, 3):
    StateMachineInstance.__deepcopy__ = _deepcopy_without_executions

# moto checks a write's ConditionExpression and then stores the item without a lock, so two
# concurrent conditional puts on one key can both succeed and the second silently replaces the
# first (measured: 20 writers x 5 evidence appends through the gateway lost 3 of 600 events;
# with the GIL switch interval at 1 us, 12 of 400 unpatched, 0 of 400 with this lock). DynamoDB
# evaluates a condition and writes atomically; serializing moto's item writes restores that.
_DYNAMODB_WRITE_LOCK = threading.RLock()


def _serialized(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _DYNAMODB_WRITE_LOCK:
            return method(*args, **kwargs)

    return wrapper


# moto's TransactWriteItems deep-copies every table it touches before it starts, to roll back a
# cancelled transaction: its cost grows with the whole table. Measured in the local stack: one
# transaction of 10 conditional puts took 185 ms of moto's CPU (10 single puts: 20 ms) with a few
# hundred events in the evidence table, where the evidence writer puts each batch of a change's
# events in one transaction. The snapshot below copies the table's item map (the items shared) and
# deep-copies only the items the transaction names: a rollback puts back exactly what it changed.
import moto.dynamodb.models as _dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType as _DynamoType

_transaction = threading.local()


def _touched_keys(table, transact_items):
    keys = set()
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        if op.get("TableName") != table.name:
            continue
        attrs = op.get("Item") or op.get("Key") or {}
        if table.hash_key_attr not in attrs:
            continue
        range_value = attrs.get(table.range_key_attr) if table.range_key_attr else None
        keys.add((_DynamoType(attrs[table.hash_key_attr]), _DynamoType(range_value) if range_value is not None else None))
    return keys


def _table_snapshot(table, transact_items):
    snapshot = copy.copy(table)
    items = type(table.items)(dict) if isinstance(table.items, dict) else copy.copy(table.items)
    for hash_value, stored in table.items.items():
        items[hash_value] = dict(stored) if isinstance(stored, dict) else stored
    for hash_value, range_value in _touched_keys(table, transact_items):
        if hash_value not in items:
            continue
        if table.range_key_attr:
            if range_value in items[hash_value]:
                items[hash_value][range_value] = copy.deepcopy(items[hash_value][range_value])
        else:
            items[hash_value] = copy.deepcopy(items[hash_value])
    snapshot.items = items
    return snapshot


class _CopyForTransactions:
    """What moto.dynamodb.models sees as `copy`: the same, but a table copied during a transaction is a snapshot."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        transact_items = getattr(_transaction, "items", None)
        if transact_items is not None and isinstance(value, _DynamoTable):
            return _table_snapshot(value, transact_items)
        return copy.deepcopy(value, memo)


_dynamodb_models.copy = _CopyForTransactions()
_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_with_snapshots(self, transact_items):
    _transaction.items = transact_items
    try:
        return _transact_write_items(self, transact_items)
    finally:
        _transaction.items = None


DynamoDBBackend.transact_write_items = _transact_with_snapshots

for _name in ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items", "execute_transaction", "batch_execute_statement"):
    setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))



# Throughput. Sampling moto's busy threads under load (NHIGOV_MOTO_PROFILE below; a 10-event load
# run, bench/load.ts) showed requests queueing on work that never changes or grows with the data:
# - every request lists moto's ~200 package directories (os.listdir + isdir each) while holding
#   the one lock that routes all requests: 64k of 70k busy samples were threads waiting on it;
# - a Query on a table's key scans and sorts every item of the table, not of the partition, so
#   each evidence read grew with the whole trail;
# - Step Functions re-builds a PLY parser (yacc tables) for every JSONPath it evaluates;
# - Step Functions builds a new boto3 client (SSL context, service model) for every Lambda task;
# - werkzeug logs every request through colorama.
# Each patch below keeps moto's answers the same and removes one of these.
import inspect
import logging

from moto import backends as _backends
from moto.dynamodb.models.table import Table as _DynamoTable

_MOTO_MODULES = tuple(_backends.list_of_moto_modules())
_backends.list_of_moto_modules = lambda: _MOTO_MODULES

_partition_hint = threading.local()
_all_items = _DynamoTable.all_items


def _query_one_partition(query):
    signature = inspect.signature(query)

    @functools.wraps(query)
    def wrapper(self, hash_key, *args, **kwargs):
        if signature.bind(self, hash_key, *args, **kwargs).arguments.get("index_name") or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        _partition_hint.key = hash_key
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _partition_hint.key = None

    return wrapper


def _items_of_hinted_partition(self):
    # Only inside a key query: moto filters the result by hash key, so the partition is enough.
    key = getattr(_partition_hint, "key", None)
    if key is None or not self.range_key_attr:
        return _all_items(self)
    return list(self.items.get(key, {}).values())


_DynamoTable.query = _query_one_partition(_DynamoTable.query)
_DynamoTable.all_items = _items_of_hinted_partition

try:
    import moto.stepfunctions.parser.asl.component.common.path.result_path as _result_path
    import moto.stepfunctions.parser.asl.utils.json_path as _json_path

    _json_path.parse = functools.lru_cache(maxsize=4096)(_json_path.parse)
    _result_path.parse = functools.lru_cache(maxsize=4096)(_result_path.parse)
    import jsonpath_ng.ext as _jsonpath_ext

    # EventBridge imports jsonpath_ng.ext.parse inside each delivery to a target (moto/events/utils.py)
    # and so rebuilt the parser per event: 19% of moto's busy samples (lex/yacc) in a 40-change load
    # run whose IAM writes come back as CloudTrail events.
    _jsonpath_ext.parse = functools.lru_cache(maxsize=4096)(_jsonpath_ext.parse)
except (ImportError, AttributeError):  # pragma: no cover - a moto without these modules parses as it likes
    pass

try:
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils as _lambda_eval

    _new_client = _lambda_eval.boto_client_for
    _clients = {}
    _clients_lock = threading.Lock()

    def _shared_client(region, service, state_credentials=None):
        # Botocore clients are thread-safe; building one (an SSL context, the service model) for
        # every Lambda task was among the busiest stacks. moto's boto_client_for ignores
        # state_credentials (fixed test keys), so one client per region and service is the same.
        with _clients_lock:
            client = _clients.get((region, service))
            if client is None:
                client = _clients[(region, service)] = _new_client(region, service)
            return client

    _lambda_eval.boto_client_for = _shared_client
except (ImportError, AttributeError):  # pragma: no cover
    pass

try:
    from moto.events.models import EventsBackend as _EventsBackend

    def _event_bus_name(self, event_bus_arn):
        # moto takes whatever follows the last "/" of a bus name or ARN, so a partner bus, whose
        # name is its event source's (aws.partner/okta.com/org/name), cannot be addressed: PutRule
        # on it fails "Event bus name does not exist". AWS takes the name as given, or the ARN
        # after ":event-bus/".
        if event_bus_arn is None:
            return "default"
        if event_bus_arn.startswith("arn:"):
            return event_bus_arn.split(":event-bus/", 1)[-1]
        return event_bus_arn

    _EventsBackend._normalize_event_bus_arn = _event_bus_name
except (ImportError, AttributeError):  # pragma: no cover
    pass

try:
    from moto.events.models import EventPattern as _EventPattern

    def _merge_leaf(result, key, value):
        if key not in result:
            result[key] = value
            return
        merged = result[key] if isinstance(result[key], list) else [result[key]]
        result[key] = merged + (value if isinstance(value, list) else [value])

    def _flatten_through_arrays(node, prefix="", result=None):
        # moto stops at arrays, so a pattern on a field inside an array of objects never matches
        # (Security Hub's detail.findings[].Resources[].Type); EventBridge matches such a field if
        # any element's value does. Arrays of objects are walked, their leaves gathered in a list.
        if result is None:
            result = {}
        items = node.items() if isinstance(node, dict) else []
        for k, v in items:
            key = f"{prefix}.{k}" if prefix else k
            if isinstance(v, dict) and v:
                _flatten_through_arrays(v, key, result)
            elif isinstance(v, list) and any(isinstance(x, dict) for x in v):
                for x in v:
                    if isinstance(x, dict):
                        nested = _flatten_through_arrays(x, key, {})
                        for nk, nv in nested.items():
                            _merge_leaf(result, nk, nv)
                    else:
                        _merge_leaf(result, key, x)
            else:
                _merge_leaf(result, key, v)
        return result

    _EventPattern._flatten_dict = staticmethod(_flatten_through_arrays)
except (ImportError, AttributeError):  # pragma: no cover
    pass

from moto.core.base_backend import BackendDict as _BackendDict

_create_account_backend = _BackendDict._create_account_specific_backend


def _create_account_backend_once(self, account_id):
    # Every backend lookup (several per IAM user while serializing GetAccountAuthorizationDetails)
    # took one global lock and copied the account list; a 2,494-user estate spent most of its
    # busy samples there. Creation stays under moto's lock; a lookup of an existing account skips it.
    if account_id in self:
        return
    _create_account_backend(self, account_id)


_BackendDict._create_account_specific_backend = _create_account_backend_once


try:
    import secrets as _secrets

    from moto.core.responses import ActionResult as _ActionResult, EmptyResult as _EmptyResult
    from moto.core.utils import utcnow as _utcnow
    from moto.iam.exceptions import NotFoundException as _NotFoundException
    from moto.iam.responses import IamResponse as _IamResponse

    # Service-specific credentials (CodeCommit HTTPS, Bedrock API keys): moto 5.2.1 has no handler
    # for them (measured: CreateServiceSpecificCredential answers 500 "The
    # create_service_specific_credential action has not been implemented"), so the connector that
    # disables them could not be tested against the emulator. Only the calls nhi-governor makes:
    # Create (test setup), List (per user, or AllUsers for the bulk read), Update (Active/Inactive).
    # Kept per account backend, keyed by user name; a missing user is NoSuchEntity, as in IAM.
    def _service_credentials(backend):
        store = getattr(backend, "_nhigov_service_credentials", None)
        if store is None:
            store = backend._nhigov_service_credentials = {}
        return store

    def _credential_metadata(credential):
        return {key: value for key, value in credential.items() if key not in ("ServicePassword", "ServiceCredentialSecret")}

    def _create_service_specific_credential(self):
        user_name = self._get_param("UserName")
        service_name = self._get_param("ServiceName")
        self.backend.get_user(user_name)
        credential = {
            "UserName": user_name,
            "ServiceName": service_name,
            "ServiceUserName": f"{user_name}-at-{_secrets.token_hex(4)}",
            "ServicePassword": _secrets.token_urlsafe(30),
            "ServiceSpecificCredentialId": "ACCA" + _secrets.token_hex(8).upper(),
            "CreateDate": _utcnow(),
            "Status": "Active",
        }
        _service_credentials(self.backend).setdefault(user_name, []).append(credential)
        return _ActionResult({"ServiceSpecificCredential": credential})

    def _list_service_specific_credentials(self):
        user_name = self._get_param("UserName")
        service_name = self._get_param("ServiceName")
        store = _service_credentials(self.backend)
        if self._get_param("AllUsers") in (True, "true"):
            listed = [c for credentials in store.values() for c in credentials]
        else:
            self.backend.get_user(user_name)
            listed = list(store.get(user_name, []))
        listed = [_credential_metadata(c) for c in listed if not service_name or c["ServiceName"] == service_name]
        return _ActionResult({"ServiceSpecificCredentials": listed, "IsTruncated": False})

    def _update_service_specific_credential(self):
        user_name = self._get_param("UserName")
        credential_id = self._get_param("ServiceSpecificCredentialId")
        self.backend.get_user(user_name)
        for credential in _service_credentials(self.backend).get(user_name, []):
            if credential["ServiceSpecificCredentialId"] == credential_id:
                credential["Status"] = self._get_param("Status")
                return _EmptyResult()
        raise _NotFoundException(f"No such credential {credential_id} for user {user_name}")

    _IamResponse.create_service_specific_credential = _create_service_specific_credential
    _IamResponse.list_service_specific_credentials = _list_service_specific_credentials
    _IamResponse.update_service_specific_credential = _update_service_specific_credential
except (ImportError, AttributeError):  # pragma: no cover
    pass

import time as _time

from moto.sqs.models import Message as _SqsMessage, Queue as _SqsQueue, SQSBackend as _SqsBackend

# SQS: every SendMessage builds the queue's whole attribute map to read ContentBasedDeduplication
# (up to four times per message on a FIFO queue), and each map counts the queue's messages three
# times, with two clock reads per message: a send costs O(messages waiting). On the evidence queue
# (FIFO) under load that was 13% of moto's busy samples (40-change load run, NHIGOV_MOTO_PROFILE),
# and grew with the backlog it slowed. The counts are never read on the send path: skip them there.
_sqs_sending = threading.local()


def _count_unless_sending(prop):
    def getter(self):
        return 0 if getattr(_sqs_sending, "active", False) else prop.fget(self)

    return property(getter)


def _sending(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        outer = getattr(_sqs_sending, "active", False)
        _sqs_sending.active = True
        try:
            return method(*args, **kwargs)
        finally:
            _sqs_sending.active = outer

    return wrapper


for _name in ("approximate_number_of_messages", "approximate_number_of_messages_delayed", "approximate_number_of_messages_not_visible"):
    setattr(_SqsQueue, _name, _count_unless_sending(getattr(_SqsQueue, _name)))
for _name in ("send_message", "send_message_batch"):
    setattr(_SqsBackend, _name, _sending(getattr(_SqsBackend, _name)))

# SQS: ReceiveMessage asks every waiting message whether it is visible and not delayed, and each
# asks the clock through moto's unix_time (a datetime subtraction, about 13 us): one receive walks
# the whole backlog twice. Measured in-process with moto 5.2.1, one FIFO group: 1.8 s per receive
# with 1,500 messages waiting, so the evidence writer of a 2,000-action change (6,000 drafts
# waiting) fell to about one event per second and the change's COMPLETED never came. The same
# wall clock in milliseconds, read with time.time(): 0.08 s at 1,500 waiting, 0.24 s at 6,000.
_SqsMessage.visible = property(lambda self: _time.time() * 1000.0 > self.visible_at)
_SqsMessage.delayed = property(lambda self: _time.time() * 1000.0 < self.delayed_until)

# SQS: ReceiveMessage checks each message it hands out against the queue's retention period, and
# reads that period by building the queue's whole attribute map, whose three message counts walk
# every waiting message: a receive of 10 costs 30 walks of the backlog. Measured in-process (FIFO
# queue, 1,500 messages in 200 groups, receives of 10): 27.8 ms per receive; the period read from
# the queue itself: 3.6 ms.
def _retained(self, queue_name, message):
    return self.get_queue(queue_name).message_retention_period + message.sent_timestamp / 1000 > _time.time()


_SqsBackend.is_message_valid_based_on_retention_period = _retained

# DynamoDB: moto 5.2 serializes every response through its generic model-driven serializer, which
# walks the operation's output shape for each attribute value of each item. Under a load run
# (40 changes, bench/load.ts, NHIGOV_MOTO_PROFILE) that was 17% of moto's busy samples, the largest
# single cost. The data-plane answers are already DynamoDB's wire format once moto has turned its
# types into dicts (binary values as bytes, no timestamps): they are written as JSON directly, the
# output shape's members only (as the serializer does), the same bytes for every data-plane call
# we checked. The same load run: 548 actions per minute before, 604 after.
import base64 as _base64
import json as _json

from moto.dynamodb.responses import DynamoResult as _DynamoResult

_DYNAMODB_WIRE_FORMAT_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems"})
_serialize_dynamodb_result = _DynamoResult.execute_result


def _wire_json(value):
    if isinstance(value, (bytes, bytearray)):
        return _base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} has no DynamoDB wire form")


def _execute_as_wire_json(self, context):
    if context.operation_model.name not in _DYNAMODB_WIRE_FORMAT_OPERATIONS:
        return _serialize_dynamodb_result(self, context)
    members = context.operation_model.output_shape.members
    result = {key: value for key, value in self.result.items() if key in members}
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, _json.dumps(result, default=_wire_json, separators=(",", ":"))


_DynamoResult.execute_result = _execute_as_wire_json

# IAM: GetAccountAuthorizationDetails answers with every user of the account in one page, and
# moto's model-driven serializer walks the output shape for each member of each user, then
# xmltodict writes the XML: 463 ms of moto's one core per call at 2,500 users (in-process,
# machine idle). A 200-change load run (bench/load.ts, 2,537 users) makes such a call for each
# plan's and each intent check's bulk read, 258 in its first ten minutes, so throughput fell as
# the estate grew. The user members are written here directly: 53 ms per call, the same bytes
# as the serializer writes (local/check_moto_patches.py compares them for users with and without
# tags, inline and attached policies, groups, empty values and characters to escape); roles,
# groups and policies, a handful each, still go through the serializer. moto 5.2.1 keeps no
# permissions boundary on a user (the check creates one with it: the same bytes); a moto that adds
# a member to UserDetail makes the check, and so CI, fail. With the SQS retention patch above, the
# default load run went from 338-363 to 522 actions per minute.
from xml.sax.saxutils import escape as _xml_escape

from moto.core.responses import ActionResult as _ActionResult
from moto.core.serialize import TimestampSerializer as _TimestampSerializer
from moto.iam.responses import IamResponse as _IamResponse


def _xml_element(name, text):
    return f"<{name}>{_xml_escape(text)}</{name}>" if text else f"<{name}/>"


def _xml_list(name, members):
    return f"<{name}>{''.join(members)}</{name}>" if members else f"<{name}/>"


def _user_detail_member(user, timestamp):
    policies = [f"<member>{_xml_element('PolicyName', p['PolicyName'])}{_xml_element('PolicyDocument', p['PolicyDocument'])}</member>" for p in user.user_policy_list]
    groups = [f"<member>{_xml_escape(name)}</member>" if name else "<member/>" for name in user.group_list]
    attached = [f"<member>{_xml_element('PolicyName', p['PolicyName'])}{_xml_element('PolicyArn', p['PolicyArn'])}</member>" for p in user.attached_managed_policies]
    tags = user.tags
    return "".join(
        (
            "<member>",
            _xml_element("Path", user.path),
            _xml_element("UserName", user.name),
            _xml_element("UserId", user.id),
            _xml_element("Arn", user.arn),
            _xml_element("CreateDate", timestamp(user.create_date)),
            _xml_list("UserPolicyList", policies),
            _xml_list("GroupList", groups),
            _xml_list("AttachedManagedPolicies", attached),
            "" if tags is None else _xml_list("Tags", [f"<member>{_xml_element('Key', t['Key'])}{_xml_element('Value', t['Value'])}</member>" for t in tags]),
            "</member>",
        )
    )


class _AuthorizationDetailsResult(_ActionResult):
    def __init__(self, result, users):
        super().__init__({**result, "UserDetailList": []})
        self._users = users

    def execute_result(self, context):
        status, headers, body = super().execute_result(context)
        create_date = context.operation_model.output_shape.members["UserDetailList"].member.members["CreateDate"]
        timestamps = _TimestampSerializer(context.serializer_class.DEFAULT_TIMESTAMP_FORMAT)
        timestamp_format = create_date.serialization.get("timestampFormat", timestamps.default_format)

        def timestamp(value):
            return timestamps._convert_timestamp_to_str(value, timestamp_format)

        members = "".join(_user_detail_member(user, timestamp) for user in self._users)
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        if text.count("<UserDetailList/>") != 1:
            raise RuntimeError("GetAccountAuthorizationDetails: the serializer wrote no single empty UserDetailList to fill")
        text = text.replace("<UserDetailList/>", _xml_list("UserDetailList", [members] if members else []), 1)
        return status, headers, text.encode("utf-8") if isinstance(body, bytes) else text


_serialized_authorization_details = _IamResponse.get_account_authorization_details


def _authorization_details_users_written_directly(self):
    generic = _serialized_authorization_details(self)
    users = list(generic.result["UserDetailList"])
    return _AuthorizationDetailsResult(generic.result, users) if users else generic


_IamResponse.get_account_authorization_details = _authorization_details_users_written_directly

# camelcase_to_underscores (a pure function of its string) runs for every request's action name
# and, in SQS, for every queue attribute each time a queue's attribute map is built: 73 times per
# map, four maps per SendMessage on a FIFO queue. Measured in-process (300 FIFO SendMessage): 46%
# of the send's time. Cached, in every module that imported it.
import moto.core.utils as _moto_utils
import moto.sqs.models  # noqa: F401 - imported so that its name for the function is replaced too
import moto.sqs.responses  # noqa: F401

_uncached_camelcase = _moto_utils.camelcase_to_underscores
_cached_camelcase = functools.lru_cache(maxsize=8192)(_uncached_camelcase)
for _module in list(sys.modules.values()):
    if getattr(_module, "camelcase_to_underscores", None) is _uncached_camelcase:
        _module.camelcase_to_underscores = _cached_camelcase

# Every request lists its response class's methods (inspect.getmembers over some hundred members)
# to find the method of its action. Measured in-process (600 GetItem and ListAccessKeys through
# moto's WSGI app): 14% of a request's time. A class's method names are fixed once the patches
# above are applied, before the server takes a request: listed once per class.
import moto.core.responses as _moto_responses

_uncached_method_names = _moto_utils.method_names_from_class
_method_names_by_class = {}


def _method_names_once(clazz):
    names = _method_names_by_class.get(clazz)
    if names is None:
        names = _method_names_by_class[clazz] = frozenset(_uncached_method_names(clazz))
    return names


_moto_utils.method_names_from_class = _method_names_once
_moto_responses.method_names_from_class = _method_names_once

# SQS: moto stamps every message with one constant SenderId, whoever sent it (measured, moto
# 5.2.1: a SendMessage signed with an assumed role's key, one with an IAM user's key and a
# SendMessageBatch with the account's root key all came back as "AIDAIT2UOQQY3AUEKVGXU",
# moto/sqs/models.py DEFAULT_SENDER_ID), so the evidence writer, which accepts a draft only
# from the functions that may hand its type over, could not tell who sent one. As SQS does: a
# role session's key is `<RoleId>:<session name>` (moto's STS knows its assumed-role keys), an
# IAM user's key is the user's id, the account's root key (the emulator's own) is the account id.
# Messages moto sends itself (no SQS request: SNS, EventBridge targets) keep moto's constant.
from moto.iam.models import iam_backends as _iam_backends
from moto.sqs.responses import SQSResponse as _SqsResponse
from moto.sts.models import sts_backends as _sts_backends
from moto.utilities.utils import get_partition as _get_partition

_sqs_sender = threading.local()


def _sender_id(access_key, account_id, region):
    partition = _get_partition(region)
    assumed = _sts_backends[account_id][partition].get_assumed_role_from_access_key(access_key)
    if assumed is not None:
        return assumed.user_id
    user = _iam_backends[account_id][partition].get_user_from_access_key_id(access_key)
    if user is not None:
        return user.id
    return account_id


def _sent_by_caller(respond):
    @functools.wraps(respond)
    def wrapper(self):
        _sqs_sender.id = _sender_id(self.get_access_key(), self.current_account, self.region)
        try:
            return respond(self)
        finally:
            _sqs_sender.id = None

    return wrapper


def _stamped_with_sender(send):
    @functools.wraps(send)
    def wrapper(*args, **kwargs):
        message = send(*args, **kwargs)
        sender = getattr(_sqs_sender, "id", None)
        if sender is not None:
            message.sender_id = sender
        return message

    return wrapper


_SqsResponse.send_message = _sent_by_caller(_SqsResponse.send_message)
_SqsResponse.send_message_batch = _sent_by_caller(_SqsResponse.send_message_batch)
_SqsBackend.send_message = _stamped_with_sender(_SqsBackend.send_message)

logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _sample_busy_stacks(path, interval=0.005):
    """NHIGOV_MOTO_PROFILE=FILE: samples every thread's stack, skips those parked in a wait, and
    rewrites FILE every 10 s with the most frequent busy stacks (what is using moto's one core)."""
    import collections
    import os
    import time
    import traceback

    parked = {"wait", "sleep", "select", "accept", "readinto", "recv_into", "_recv_into", "get", "acquire", "_wait_for_tstate_lock", "poll", "serve_forever", "handle_one_request", "readline"}
    counts = collections.Counter()
    samples = 0
    me = threading.get_ident()
    last = time.monotonic()
    while True:
        time.sleep(interval)
        samples += 1
        for ident, frame in sys._current_frames().items():
            if ident == me or frame.f_code.co_name in parked:
                continue
            stack = traceback.extract_stack(frame)[-8:]
            counts[" <- ".join(f"{os.path.basename(f.filename)}:{f.lineno}:{f.name}" for f in reversed(stack))] += 1
        if time.monotonic() - last > 10:
            last = time.monotonic()
            with open(path, "w") as out:
                out.write(f"{samples} samples\n")
                for stack, n in counts.most_common(40):
                    out.write(f"{n:7d} {stack}\n")


if __name__ == "__main__":
    import os as _os

    if _os.environ.get("NHIGOV_MOTO_PROFILE"):
        threading.Thread(target=_sample_busy_stacks, args=(_os.environ["NHIGOV_MOTO_PROFILE"],), daemon=True).start()
    if len(sys.argv) != 2:
        sys.stderr.write("usage: moto_launcher.py PORT\n")
        sys.exit(2)
    moto_main(["-p", sys.argv[1]])
