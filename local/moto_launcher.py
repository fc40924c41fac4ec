"""Run moto's server for the nhi-governor local stack.

Usage: python3 moto_launcher.py PORT   (MOTO_PORT must name the gateway port in front of it,
so that moto's own Lambda calls from Step Functions reach the gateway.)

Two patches, each with its measured reason next to it. First: moto < 5.2.3 deep-copies a state machine, executions included, on every
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


for _name in ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items", "execute_transaction", "batch_execute_statement"):
    setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: moto_launcher.py PORT\n")
        sys.exit(2)
    moto_main(["-p", sys.argv[1]])
